/* Bastion: the page's language for our scripts. base.html puts the translations of the
   scripts' texts in <body data-i18n="{...}"> (core.i18n.JS_MESSAGES); bastionText(msgid,
   values) answers the translation (else msgid) with %(name)s filled from values. */
(function () {
  "use strict";
  var catalog = null;
  window.bastionText = function (msgid, values) {
    if (catalog === null) {
      try { catalog = JSON.parse(document.body.getAttribute("data-i18n") || "{}"); } catch (err) { catalog = {}; }
    }
    var text = Object.prototype.hasOwnProperty.call(catalog, msgid) ? catalog[msgid] : msgid;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  };
}());
