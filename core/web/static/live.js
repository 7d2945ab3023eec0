// PortalKit live updates: one stream per browser, an addition to pages that
// work without it. A SharedWorker (live-worker.js) holds the browser's one
// EventSource for every tab; without SharedWorker, the tabs elect a leader
// with Web Locks that shares its stream over a BroadcastChannel; without
// those, each tab holds its own. Page scripts listen with
//   portal.live.on("module", function (data, id) { ... })
// and regions marked data-live="<type>[:<name>][@<subject>] ..." are
// refreshed from the server when a matching event arrives (see
// docs/notifications.md, "Live events").
(function () {
  "use strict";
  var body = document.body;
  var portal = window.portal = window.portal || {};
  var handlers = {};
  portal.live = {
    on: function (type, fn) { (handlers[type] = handlers[type] || []).push(fn); },
    mode: "off"
  };
  if (!body || !body.hasAttribute("data-live-position") || !window.EventSource) { return; }
  var URL_ = "/api/v1/live";
  var pos = Number(body.getAttribute("data-live-position")) || 0;
  var region = document.getElementById("live-region");

  function announce(text) {
    if (!region || !text) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }
  portal.live.announce = announce;

  function handle(msg) {
    if (msg.type === "status") { body.setAttribute("data-live", msg.data === "connecting" ? "reconnecting" : msg.data); return; }
    var id = Number(msg.id);
    if (msg.type === "reset") {
      pos = id;
      refreshAll();
    } else if (msg.type === "ready") {
      if (id > pos) { pos = id; }
      body.setAttribute("data-live", "open");
    } else {
      if (!(id > pos)) { return; } // seen already (another tab's replay)
      pos = id;
    }
    var data = {};
    try { data = JSON.parse(msg.data || "{}"); } catch (e) { return; }
    (handlers[msg.type] || []).forEach(function (fn) { fn(data, id); });
    if (msg.type !== "ready" && msg.type !== "reset") { refreshMatching(msg.type, data); }
  }

  // Regions: data-live="notification unread module:automotive.reading@vehicle:12 message@conversation:5"
  function matches(spec, type, data) {
    return spec.split(/\s+/).some(function (s) {
      if (!s) { return false; }
      var at = s.split("@"), head = at[0].split(":");
      if (head[0] !== type) { return false; }
      if (head[1] && data.name !== head[1]) { return false; }
      if (at[1]) {
        var subject = type === "message" ? "conversation:" + data.conversation_id : data.subject;
        if (subject !== at[1]) { return false; }
      }
      return true;
    });
  }
  var pending = {}, timer = null;
  function refreshMatching(type, data) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      if (el.id && el !== body && matches(el.getAttribute("data-live"), type, data)) { pending[el.id] = true; }
    });
    schedule();
  }
  function refreshAll() {
    document.querySelectorAll("[data-live]").forEach(function (el) { if (el.id && el !== body) { pending[el.id] = true; } });
    schedule();
  }
  function schedule() {
    if (timer || !Object.keys(pending).length) { return; }
    // Bursts (an import, a stream of readings) become one fetch.
    timer = window.setTimeout(refresh, 250);
  }
  function refresh() {
    var ids = Object.keys(pending);
    pending = {};
    timer = null;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Portal-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var changed = 0;
        ids.forEach(function (id) {
          var now = document.getElementById(id), next = doc.getElementById(id);
          if (!now || !next || now.innerHTML === next.innerHTML) { return; }
          // Keep focus and typing: a region holding the focused field waits.
          if (now.contains(document.activeElement) && document.activeElement.matches("input,textarea,select")) { return; }
          now.innerHTML = next.innerHTML;
          now.classList.remove("live-updated");
          void now.offsetWidth;
          now.classList.add("live-updated");
          changed++;
        });
        if (changed && region) { announce(region.getAttribute("data-updated")); }
        document.dispatchEvent(new CustomEvent("portal:live-refreshed", { detail: { ids: ids } }));
      })
      .catch(function () { /* the next event or a reload brings it */ });
  }

  // The unread badge in the header, on every page.
  function setUnread(n) {
    var b = document.querySelector(".site-header .unread");
    if (!b || typeof n !== "number" || n < 0) { return; }
    b.textContent = n.toLocaleString(document.documentElement.lang || "en");
    var tpl = b.getAttribute("data-label");
    if (tpl) { b.setAttribute("aria-label", tpl.replace("%d", String(n))); }
    b.hidden = n === 0;
  }
  portal.live.on("ready", function (d) { setUnread(d.unread); });
  portal.live.on("unread", function (d) { setUnread(d.unread); });
  portal.live.on("notification", function (d) {
    setUnread(d.unread);
    if (region) { announce((region.getAttribute("data-new-notification") || "") + " " + (d.title || "")); }
  });
  portal.live.on("message", function () { if (region) { announce(region.getAttribute("data-new-message")); } });

  function connectShared() {
    var w = new SharedWorker("/static/live-worker.js", { name: "portal-live" });
    w.port.onmessage = function (e) { handle(e.data); };
    w.port.start();
    w.port.postMessage({ hello: String(pos), url: URL_ });
    window.addEventListener("pagehide", function () { w.port.postMessage({ bye: true }); });
    portal.live.mode = "shared-worker";
  }
  function connectLeader() {
    var bc = new BroadcastChannel("portal-live");
    bc.onmessage = function (e) {
      if (e.data && e.data.sync !== undefined) { return; }
      handle(e.data);
    };
    portal.live.mode = "follower";
    // Followers that join ask the leader for what they may have missed.
    bc.postMessage({ sync: pos });
    navigator.locks.request("portal-live-leader", function () {
      portal.live.mode = "leader";
      var recent = [];
      var es = open(function (msg) {
        if (msg.type !== "ready" && msg.type !== "status") { recent.push(msg); if (recent.length > 200) { recent.shift(); } }
        handle(msg);
        bc.postMessage(msg);
      });
      bc.onmessage = function (e) {
        var d = e.data || {};
        if (d.sync !== undefined) {
          recent.forEach(function (m) { if (Number(m.id) > Number(d.sync)) { bc.postMessage(m); } });
          return;
        }
        handle(d);
      };
      // Hold the lock while the page lives; the next tab takes over after.
      return new Promise(function (resolve) { window.addEventListener("pagehide", function () { es.close(); resolve(); }); });
    });
  }
  function open(deliver) {
    var es = new EventSource(URL_ + "?last_event_id=" + pos);
    ["ready", "reset", "notification", "unread", "message", "module"].forEach(function (t) {
      es.addEventListener(t, function (e) { deliver({ type: t, id: e.lastEventId, data: e.data }); });
    });
    es.onerror = function () { deliver({ type: "status", data: es.readyState === 2 ? "closed" : "reconnecting" }); };
    return es;
  }

  try {
    if (window.SharedWorker) { connectShared(); return; }
  } catch (e) { /* blocked (private mode): fall through */ }
  if (window.BroadcastChannel && navigator.locks) { connectLeader(); return; }
  portal.live.mode = "tab";
  open(handle);
})();
