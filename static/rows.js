/* Bastion: rows of sub-documents (lists like an order's lines) edited at once in the page.
   Without this script the same buttons submit the form and the server answers with the
   rows changed (nothing saved). Each list is a fieldset[data-rows="lines"]; each row a
   [data-row="lines-2"] whose inputs are named lines-2-sku...; after any change the rows
   are renumbered so the posted names follow the order on screen. */
(function () {
  "use strict";

  function rowsOf(list) {
    return Array.prototype.filter.call(list.children, function (el) {
      return el.hasAttribute("data-row");
    });
  }

  function renamed(text, from, to) {
    return text.split(" ").map(function (token) {
      if (token.indexOf(from + "-") === 0) { return to + "-" + token.slice(from.length + 1); }
      if (token.indexOf(from + ":") === 0) { return to + ":" + token.slice(from.length + 1); }
      return token;
    }).join(" ");
  }

  function rename(row, from, to) {
    if (from === to) { return; }
    var attrs = ["name", "id", "for", "aria-describedby"];
    Array.prototype.forEach.call(row.querySelectorAll("*"), function (el) {
      attrs.forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, renamed(value, from, to)); }
      });
      if (el.classList.contains("move-row")) { el.value = renamed(el.value, from, to); }
      if (el.hasAttribute("data-row")) {
        el.setAttribute("data-row", renamed(el.getAttribute("data-row"), from, to));
      }
    });
    row.setAttribute("data-row", to);
  }

  function renumber(list) {
    var name = list.getAttribute("data-rows");
    var label = list.getAttribute("data-item-label") || "";
    var rows = rowsOf(list);
    rows.forEach(function (row, position) {       // out of the way first, then in place
      rename(row, row.getAttribute("data-row"), name + "-tmp" + position);
    });
    var shown = rows.filter(function (row) { return !row.hidden; });
    rows.forEach(function (row, position) {
      rename(row, row.getAttribute("data-row"), name + "-" + position);
      var legend = row.querySelector("legend");
      if (legend) { legend.textContent = label + " " + (shown.indexOf(row) + 1); }
      var up = row.querySelector(":scope > .row-moves > [data-move=up]");
      var down = row.querySelector(":scope > .row-moves > [data-move=down]");
      if (up) { up.disabled = row === shown[0]; }
      if (down) { down.disabled = row === shown[shown.length - 1]; }
    });
  }

  function neighbour(row, way) {
    var el = way === "up" ? row.previousElementSibling : row.nextElementSibling;
    while (el && (!el.hasAttribute("data-row") || el.hidden)) {
      el = way === "up" ? el.previousElementSibling : el.nextElementSibling;
    }
    return el;
  }

  function move(list, row, way) {
    var other = neighbour(row, way);
    if (!other) { return; }
    list.insertBefore(way === "up" ? row : other, way === "up" ? other : row);
    renumber(list);
  }

  function blank(row) {
    Array.prototype.forEach.call(row.querySelectorAll("input, select, textarea"), function (el) {
      if (el.type === "checkbox" || el.type === "radio") { el.checked = false; }
      else if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      else if (el.type !== "submit" && el.type !== "button") { el.value = ""; }
    });
    Array.prototype.forEach.call(row.querySelectorAll(".readonly-value[data-default]"),
      function (el) { el.textContent = el.getAttribute("data-default"); });
    Array.prototype.forEach.call(row.querySelectorAll(".errorlist"), function (el) {
      el.remove();
    });
    Array.prototype.forEach.call(row.querySelectorAll(".has-errors"), function (el) {
      el.classList.remove("has-errors");
    });
  }

  function add(list) {
    var rows = rowsOf(list);
    if (!rows.length) { return false; }           // nothing to copy: let the form post
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    copy.hidden = false;
    blank(copy);
    last.parentNode.insertBefore(copy, last.nextSibling);
    renumber(list);
    var first = copy.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
    return true;
  }

  function wire(list) {
    var name = list.getAttribute("data-rows");
    list.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || button.closest("[data-rows]") !== list) { return; }
      if (button.classList.contains("move-row")) {
        event.preventDefault();
        move(list, button.closest("[data-row]"), button.getAttribute("data-move"));
      } else if (button.name === "_add_row" && button.value === name) {
        if (add(list)) { event.preventDefault(); }
      }
    });
    list.addEventListener("change", function (event) {
      var box = event.target;
      if (box.type !== "checkbox" || !/-REMOVE$/.test(box.name)) { return; }
      var row = box.closest("[data-row]");
      if (box.checked && row && row.parentNode === list) {
        row.hidden = true;                        // still posted: the server drops it
        renumber(list);
      }
    });
  }

  function ready() { document.querySelectorAll("fieldset[data-rows]").forEach(wire); }
  if (document.readyState !== "loading") { ready(); } else { document.addEventListener("DOMContentLoaded", ready); }
})();
