// Live notifications on the inbox page: listens on the user's stream and
// prepends new notifications. EventSource reconnects by itself and sends
// Last-Event-ID, so nothing is missed across reconnects.
(function () {
  "use strict";
  var list = document.getElementById("notify-list");
  if (!list || !window.EventSource) { return; }
  var badge = document.getElementById("notify-unread");
  var es = new EventSource(list.getAttribute("data-stream"));
  var lang = document.documentElement.lang || "en";
  // The badge's words are the page's (translated); only the number changes.
  function setUnread(n) { if (badge && n >= 0) { badge.textContent = n.toLocaleString(lang); } }
  es.addEventListener("ready", function (e) { setUnread(JSON.parse(e.data).unread); });
  es.addEventListener("notification", function (e) {
    var n = JSON.parse(e.data);
    if (list.querySelector('[data-id="' + n.id + '"]')) { return; }
    var empty = list.querySelector(".notify-empty");
    if (empty) { empty.remove(); }
    var li = document.createElement("li");
    li.className = "card notify-item notify-unread";
    li.setAttribute("data-id", String(n.id));
    var h = document.createElement("h2");
    h.textContent = n.title;
    var p = document.createElement("p");
    p.textContent = n.body;
    li.appendChild(h);
    li.appendChild(p);
    list.insertBefore(li, list.firstChild);
    setUnread(n.unread);
  });
})();
