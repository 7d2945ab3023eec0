// PortalKit live stream, shared by every tab of one browser (SharedWorker).
// It holds the one EventSource of the browser and hands every event to every
// tab; a tab that joins later gets the recent events it has not seen.
// Tabs ignore events at or before their own position, so resending is safe.
"use strict";
var ports = [];
var es = null;
var recent = [];        // the last events, for tabs that join
var started = null;     // the position the stream started from
var TYPES = ["ready", "reset", "notification", "unread", "message", "module"];
var KEEP = 200;
var closing = null;     // closes the stream a moment after the last tab left
var GRACE = 5000;       // a tab moving to the next page keeps the stream

function send(msg, only) {
  (only ? [only] : ports).forEach(function (p) { p.postMessage(msg); });
}

function open(url, from) {
  started = from;
  es = new EventSource(url + (from !== "" ? "?last_event_id=" + encodeURIComponent(from) : ""));
  TYPES.forEach(function (t) {
    es.addEventListener(t, function (e) {
      var msg = { type: t, id: e.lastEventId, data: e.data };
      if (t !== "ready") {
        recent.push(msg);
        if (recent.length > KEEP) { recent.shift(); }
      }
      send(msg);
    });
  });
  es.onerror = function () { send({ type: "status", data: es.readyState === 2 ? "closed" : "reconnecting" }); };
  es.onopen = function () { send({ type: "status", data: "open" }); };
}

self.onconnect = function (e) {
  var port = e.ports[0];
  port.onmessage = function (m) {
    var d = m.data || {};
    if (d.hello !== undefined) {
      if (closing) { clearTimeout(closing); closing = null; }
      ports.push(port);
      var from = Number(d.hello);
      if (!es) {
        open(d.url, d.hello);
        return;
      }
      // The stream started after this page was rendered and the events in
      // between are no longer here: the page must refetch.
      var oldest = recent.length ? Number(recent[0].id) : Infinity;
      if ((started !== "" && Number(started) > from && oldest > from + 1)) {
        port.postMessage({ type: "reset", id: recent.length ? recent[recent.length - 1].id : started, data: "{\"reason\":\"joined late\"}" });
        return;
      }
      recent.forEach(function (msg) { if (Number(msg.id) > from) { port.postMessage(msg); } });
      port.postMessage({ type: "status", data: ["connecting", "open", "closed"][es.readyState] });
    } else if (d.bye) {
      ports = ports.filter(function (p) { return p !== port; });
      if (ports.length === 0 && es && !closing) {
        closing = setTimeout(function () {
          closing = null;
          if (ports.length === 0 && es) { es.close(); es = null; recent = []; }
        }, GRACE);
      }
    }
  };
  port.start();
};
