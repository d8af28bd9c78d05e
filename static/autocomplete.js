/* Bastion: search-as-you-type for reference inputs marked data-autocomplete-url.
   Without this file the input takes an id and its "Look up" link opens the list. */
(function () {
  "use strict";
  var T = window.bastionText || function (text) { return text; };

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function enhance(input) {
    var url = input.getAttribute("data-autocomplete-url");
    var label = document.getElementById(input.id + "_label");
    var box = document.createElement("input");
    box.type = "search";
    box.className = "autocomplete-search";
    box.id = input.id + "_search";
    box.setAttribute("autocomplete", "off");
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-expanded", "false");
    box.setAttribute("aria-controls", input.id + "_results");
    box.setAttribute("aria-label", T("Search"));
    box.placeholder = T("Type to search");
    var list = document.createElement("ul");
    list.className = "autocomplete-results";
    list.id = input.id + "_results";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "autocomplete-clear btn-secondary";
    clear.textContent = T("Clear");
    input.type = "hidden";
    input.parentNode.insertBefore(box, input);
    input.parentNode.appendChild(clear);
    input.parentNode.appendChild(list);

    var timer = null;
    var asked = 0;
    function close() { list.hidden = true; box.setAttribute("aria-expanded", "false"); }
    function choose(id, text) {
      input.value = id;
      if (label) { label.textContent = text; }
      box.value = "";
      close();
    }
    function show(results) {
      list.textContent = "";
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "autocomplete-none";
        none.textContent = T("No match");
        list.appendChild(none);
      }
      results.forEach(function (item) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.setAttribute("data-id", item.id);
        li.tabIndex = -1;
        li.textContent = item.label;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(item.id, item.label); });
        li.addEventListener("keydown", function (event) {
          if (event.key === "Enter") { event.preventDefault(); choose(item.id, item.label); }
        });
        list.appendChild(li);
      });
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
    }
    function search() {
      var q = box.value.trim();
      if (!q) { close(); return; }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(q), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {results: []}; })
        .then(function (data) { if (mine === asked) { show(data.results || []); } })
        .catch(function () { close(); });
    }
    box.addEventListener("input", function () {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(search, 200);
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("[role=option]");
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter") { event.preventDefault(); }
    });
    box.addEventListener("blur", function () { window.setTimeout(close, 150); });
    clear.addEventListener("click", function () { choose("", ""); });
  }

  onReady(function () {
    document.querySelectorAll("input[data-autocomplete-url]").forEach(enhance);
  });
})();
