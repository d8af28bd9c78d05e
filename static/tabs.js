/* Bastion: fieldsets marked "tab" (ModelAdmin.fieldsets, "classes": ["tab"]) become tabs.
   Without this file every group shows, each under its own title. A tab whose group holds
   an error is marked, and the first such tab is the one shown. */
(function () {
  "use strict";
  var T = window.bastionText || function (text) { return text; };

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function build(panels) {
    var bar = document.createElement("div");
    bar.className = "tab-bar";
    bar.setAttribute("role", "tablist");
    var tabs = [];
    function select(index, focus) {
      tabs.forEach(function (tab, i) {
        var on = i === index;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        tab.classList.toggle("current", on);
        panels[i].hidden = !on;
      });
      if (focus) { tabs[index].focus(); }
    }
    panels.forEach(function (panel, i) {
      var tab = document.createElement("button");
      tab.type = "button";
      tab.className = "tab";
      tab.id = panel.id + "-tab";
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      tab.textContent = panel.getAttribute("data-tab-title");
      if (panel.classList.contains("has-errors")) {
        tab.classList.add("has-errors");
        var note = document.createElement("span");
        note.className = "tab-error-mark";
        note.textContent = " (" + T("has errors") + ")";
        tab.appendChild(note);
      }
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.classList.add("tabbed");
      tab.addEventListener("click", function () { select(i, false); });
      tab.addEventListener("keydown", function (event) {
        if (event.key === "ArrowRight") { select((i + 1) % tabs.length, true); }
        else if (event.key === "ArrowLeft") { select((i + tabs.length - 1) % tabs.length, true); }
      });
      tabs.push(tab);
      bar.appendChild(tab);
    });
    panels[0].parentNode.insertBefore(bar, panels[0]);
    var first = panels.findIndex(function (panel) { return panel.classList.contains("has-errors"); });
    select(first < 0 ? 0 : first, false);
  }

  onReady(function () {
    /* each run of adjacent tab groups is one set of tabs */
    var run = [];
    document.querySelectorAll(".model-form > fieldset, .model-form > details, .model-form > div")
      .forEach(function (node) {
        if (node.classList.contains("tab-panel")) { run.push(node); return; }
        if (run.length) { build(run); run = []; }
      });
    if (run.length) { build(run); }
  });
})();
