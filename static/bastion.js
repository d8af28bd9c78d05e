/* Bastion: progressive enhancement only; every page works without this file. */
(function () {
  "use strict";
  var T = window.bastionText || function (text) { return text; };

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  onReady(function () {
    /* list pages: "select all" checkbox, and the action button needs a selection */
    var form = document.getElementById("changelist-form");
    if (form) {
      var toggle = form.querySelector(".select-all");
      var boxes = form.querySelectorAll("input.action-select");
      var sync = function () {
        var checked = 0;
        boxes.forEach(function (box) {
          if (box.checked) { checked += 1; }
          var row = box.closest("tr");
          if (row) { row.classList.toggle("selected", box.checked); }
        });
        if (toggle) {
          toggle.checked = checked > 0 && checked === boxes.length;
          toggle.indeterminate = checked > 0 && checked < boxes.length;
        }
      };
      if (toggle) {
        toggle.addEventListener("change", function () {
          boxes.forEach(function (box) { box.checked = toggle.checked; });
          sync();
        });
      }
      boxes.forEach(function (box) { box.addEventListener("change", sync); });
      form.addEventListener("submit", function (event) {
        if (event.submitter && event.submitter.name === "_save_list") { return; }
        var any = Array.prototype.some.call(boxes, function (box) { return box.checked; });
        if (!any) {
          event.preventDefault();
          window.alert(T("Select some items first."));
        }
      });
      sync();
    }

    /* anything marked data-confirm asks before it submits or follows */
    document.querySelectorAll("[data-confirm]").forEach(function (el) {
      var ask = function (event) {
        if (!window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
      };
      el.addEventListener(el.tagName === "FORM" ? "submit" : "click", ask);
    });
  });
})();
