/* Bastion: prepopulated_fields — fill a field (a slug) from others while it was not edited
   by hand. Inputs marked data-prepopulate-from="id_title id_other". */
(function () {
  "use strict";

  function slugify(text, max) {
    var slug = text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    return max ? slug.slice(0, max).replace(/-+$/, "") : slug;
  }

  function wire(target) {
    var sources = (target.getAttribute("data-prepopulate-from") || "").split(/\s+/)
      .map(function (id) { return document.getElementById(id); })
      .filter(function (el) { return el; });
    var touched = target.value !== "";
    var max = parseInt(target.getAttribute("maxlength") || "0", 10);
    target.addEventListener("input", function () { touched = target.value !== ""; });
    function fill() {
      if (touched) { return; }
      target.value = slugify(sources.map(function (el) { return el.value; }).join(" "), max);
    }
    sources.forEach(function (el) { el.addEventListener("input", fill); });
  }

  function ready() { document.querySelectorAll("[data-prepopulate-from]").forEach(wire); }
  if (document.readyState !== "loading") { ready(); } else { document.addEventListener("DOMContentLoaded", ready); }
})();
