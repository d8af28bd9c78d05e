/* Bastion: the page's language for our scripts. base.html puts the translations of the
   scripts' texts in <body data-i18n='{"plural": rule, "messages": {...}}'> (core.i18n.
   js_catalog, which finds every call of T and T.n with literal texts in these files).
     bastionText(msgid, values)                     the translation (else msgid)
     bastionText.n(singular, plural, count, values) the form the language's plural rule
                                                    picks for count (else English's)
   %(name)s is filled from values. The plural rule is the catalog's own gettext C
   expression, read here by a small parser: pages forbid eval (Content-Security-Policy). */
(function () {
  "use strict";
  var catalog = null, rule = null;

  function english(n) { return n === 1 ? 0 : 1; }

  /* "(n == 0 || n == 1) ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2" → function (n) */
  function pluralRule(source) {
    var tokens = String(source).match(/\d+|n|&&|\|\||[=!<>]=|[-+*\/%<>!?:()]|\S/g) || [];
    var at = 0;
    var levels = [["||"], ["&&"], ["==", "!="], ["<", ">", "<=", ">="], ["+", "-"], ["*", "/", "%"]];
    function fail() { throw new Error("plural rule"); }
    function expect(token) { if (tokens[at] !== token) { fail(); } at += 1; }
    function apply(op, x, y) {
      switch (op) {
        case "||": return x || y ? 1 : 0;
        case "&&": return x && y ? 1 : 0;
        case "==": return x === y ? 1 : 0;
        case "!=": return x !== y ? 1 : 0;
        case "<": return x < y ? 1 : 0;
        case ">": return x > y ? 1 : 0;
        case "<=": return x <= y ? 1 : 0;
        case ">=": return x >= y ? 1 : 0;
        case "+": return x + y;
        case "-": return x - y;
        case "*": return x * y;
        case "/": return y ? Math.floor(x / y) : 0;
        default: return y ? x % y : 0;
      }
    }
    function primary() {
      var token = tokens[at];
      at += 1;
      if (token === "(") { var inner = ternary(); expect(")"); return inner; }
      if (token === "!") { var operand = primary(); return function (n) { return operand(n) ? 0 : 1; }; }
      if (token === "n") { return function (n) { return n; }; }
      if (!/^\d+$/.test(token || "")) { fail(); }
      var value = parseInt(token, 10);
      return function () { return value; };
    }
    function binary(level) {
      if (level === levels.length) { return primary(); }
      var left = binary(level + 1);
      while (levels[level].indexOf(tokens[at]) >= 0) {
        left = (function (op, a, b) {
          return function (n) { return apply(op, a(n), b(n)); };
        }(tokens[at++], left, binary(level + 1)));
      }
      return left;
    }
    function ternary() {
      var test = binary(0);
      if (tokens[at] !== "?") { return test; }
      at += 1;
      var yes = ternary();
      expect(":");
      var no = ternary();
      return function (n) { return test(n) ? yes(n) : no(n); };
    }
    try {
      var parsed = ternary();
      if (at !== tokens.length) { fail(); }
      return function (n) { return Number(parsed(n)); };
    } catch (err) {
      return english;
    }
  }

  function load() {
    if (catalog !== null) { return; }
    var data = {};
    try { data = JSON.parse(document.body.getAttribute("data-i18n") || "{}"); } catch (err) { data = {}; }
    catalog = data && typeof data.messages === "object" && data.messages ? data.messages : {};
    rule = data && data.plural ? pluralRule(data.plural) : english;
  }

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function found(msgid) {
    return Object.prototype.hasOwnProperty.call(catalog, msgid) ? catalog[msgid] : null;
  }

  window.bastionText = function (msgid, values) {
    load();
    var text = found(msgid);
    return fill(typeof text === "string" ? text : msgid, values);
  };

  window.bastionText.n = function (singular, plural, count, values) {
    load();
    var forms = found(singular);
    var text = english(count) ? plural : singular;
    if (Array.isArray(forms) && forms.length) {
      var form = forms[rule(count)];
      text = typeof form === "string" ? form : forms[forms.length - 1];
    }
    return fill(text, values);
  };

  window.bastionText.pluralRule = pluralRule;
}());
