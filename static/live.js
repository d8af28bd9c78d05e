/* Bastion live updates: list and detail pages follow changes over /admin/live.
 *
 * A page opts in with an element carrying data-live-model="app.model" and
 * data-live-page="list" or "detail" (plus data-live-id on a detail page), and a
 * polite status region #live-status. Progressive enhancement only: without this
 * file, or without WebSocket, the page is exactly as rendered. Protocol: docs/live.md.
 */
(function () {
  "use strict";
  var T = window.bastionText || function (text) { return text; };
  if (!T.n) { T.n = function (singular, plural, count) { return count === 1 ? singular : plural; }; }

  var SESSION_ENDED = 4001;
  var MAX_DELAY = 30000;

  function onReady(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  onReady(function () {
    var root = document.querySelector("[data-live-model]");
    if (!root || !("WebSocket" in window) || !window.JSON) { return; }
    var model = root.getAttribute("data-live-model");
    var page = root.getAttribute("data-live-page") || "list";
    var objectId = root.getAttribute("data-live-id");
    var singular = root.getAttribute("data-live-label") || "object";
    var plural = root.getAttribute("data-live-label-plural") || singular + "s";
    var status = document.getElementById("live-status");
    var attempt = 0;
    var stopped = false;
    var socket = null;
    var created = {};
    var createdCount = 0;

    /* -- what the user sees and hears ------------------------------------------------- */
    function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }

    /* two slots in the status region: "new" (the running count of new objects) and
       "last" (the latest change), so a change does not hide the count */
    function notice(text, linkText, kind) {
      if (!status) { return; }
      var slot = kind === "new" ? "new" : "last";
      var box = status.querySelector('[data-slot="' + slot + '"]');
      if (!box) {
        box = document.createElement("p");
        box.setAttribute("data-slot", slot);
        if (slot === "new") { status.insertBefore(box, status.firstChild); } else { status.appendChild(box); }
      }
      clear(box);
      box.className = "live-notice" + (kind ? " live-" + kind : "");
      box.appendChild(document.createTextNode(text));
      if (linkText) {
        box.appendChild(document.createTextNode(" — "));
        var link = document.createElement("a");
        link.href = window.location.href;
        link.textContent = linkText;
        box.appendChild(link);
      }
    }

    function who(message) { return message.mine ? T("you") : (message.actor || T("someone")); }

    function rowFor(id) {
      var rows = root.querySelectorAll("tr[data-id]");
      for (var i = 0; i < rows.length; i += 1) {
        if (rows[i].getAttribute("data-id") === id) { return rows[i]; }
      }
      return null;
    }

    function columnIndex(name) {
      var head = root.querySelector("thead tr");
      if (!head) { return -1; }
      for (var i = 0; i < head.cells.length; i += 1) {
        if (head.cells[i].classList.contains("column-" + name)) { return i; }
      }
      return -1;
    }

    function shownIds() {
      var ids = [];
      root.querySelectorAll("tr[data-id]").forEach(function (row) { ids.push(row.getAttribute("data-id")); });
      return ids.slice(0, 500);
    }

    /* -- events ------------------------------------------------------------------------- */
    function onListEvent(message) {
      var row = rowFor(message.id);
      if (message.event === "created") {
        if (row || created[message.id]) { return; }
        created[message.id] = true;
        createdCount += 1;
        notice(T.n("%(count)s new %(name)s", "%(count)s new %(name)s", createdCount,
                   {count: createdCount, name: createdCount === 1 ? singular : plural}), T("show"), "new");
      } else if (message.event === "updated" && row) {
        row.classList.add("live-changed");
        row.title = T("Changed by %(who)s", {who: who(message)});
        (message.fields || []).forEach(function (name) {
          var index = columnIndex(name);
          if (index >= 0 && row.cells[index]) { row.cells[index].classList.add("live-changed-cell"); }
        });
        notice(T("“%(label)s” was changed by %(who)s.", {label: message.label, who: who(message)}), T("reload"), "changed");
      } else if (message.event === "deleted" && row) {
        row.classList.remove("live-changed");
        row.classList.add("live-deleted");
        row.title = T("Deleted by %(who)s", {who: who(message)});
        row.querySelectorAll("input, a").forEach(function (el) {
          if (el.tagName === "INPUT") { el.checked = false; el.disabled = true; } else { el.setAttribute("aria-disabled", "true"); }
        });
        notice(T("“%(label)s” was deleted by %(who)s.", {label: message.label, who: who(message)}), null, "deleted");
      }
    }

    function onDetailEvent(message) {
      if (message.id !== objectId) { return; }
      if (message.event === "updated") {
        root.classList.add("live-changed");
        notice(T("This %(name)s was changed by %(who)s.", {name: singular, who: who(message)}), T("reload"), "changed");
      } else if (message.event === "deleted") {
        root.classList.add("live-deleted");
        notice(T("This %(name)s was deleted by %(who)s.", {name: singular, who: who(message)}), null, "deleted");
        stopped = true;
        if (socket) { socket.close(1000, "object deleted"); }
      }
    }

    /* -- the socket, reconnecting with exponential backoff and jitter ---------------------- */
    function subscribe() {
      var message = { type: "subscribe", model: model };
      if (page === "detail" && objectId) { message.id = objectId; } else { message.ids = shownIds(); }
      socket.send(JSON.stringify(message));
    }

    function retry() {
      if (stopped) { return; }
      var ceiling = Math.min(MAX_DELAY, 1000 * Math.pow(2, attempt));
      var delay = ceiling / 2 + Math.random() * ceiling / 2;
      attempt += 1;
      root.classList.remove("live-on");
      window.setTimeout(connect, delay);
    }

    function connect() {
      if (stopped) { return; }
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      try {
        socket = new WebSocket(scheme + window.location.host + "/admin/live");
      } catch (err) {
        retry();
        return;
      }
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (err) { return; }
        if (message.type === "hello") {
          subscribe();
        } else if (message.type === "subscribed") {
          attempt = 0;
          root.classList.add("live-on");
        } else if (message.type === "event") {
          if (page === "detail") { onDetailEvent(message); } else { onListEvent(message); }
        } else if (message.type === "overflow") {
          notice(T("Too many changes to follow here."), T("reload"), "changed");
        } else if (message.type === "error" && message.model) {
          stopped = true;                          /* not allowed: do not keep asking */
          socket.close(1000, "not subscribed");
        }
      };
      socket.onclose = function (event) {
        socket = null;
        if (event.code === SESSION_ENDED) {
          stopped = true;
          root.classList.remove("live-on");
          notice(T("Live updates stopped: your session ended."), T("log in again"), "ended");
          return;
        }
        retry();
      };
    }

    window.addEventListener("pagehide", function () {
      stopped = true;
      if (socket) { socket.close(1000, "page closed"); }
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && !socket) { stopped = false; attempt = 0; connect(); }
    });
    connect();
  });
})();
