// PortalKit form drafts (core/experience/drafts). Any <form data-draft="module.key">
// saves its named fields on the server as the person types (debounced) and,
// when a saved draft exists, offers "Continue where you left off" or "Start over".
// Every named field is saved, visible or not (a multi-step form keeps the
// answers of earlier steps), except passwords, files and the CSRF token.
(function () {
  "use strict";
  var DELAY = 800;
  var defaults = {
    offer: "You have an unfinished version of this form.",
    "continue": "Continue where you left off",
    restart: "Start over",
    saved: "Draft saved",
    failed: "Your draft could not be saved."
  };

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function url(key) { return "/api/v1/drafts/" + encodeURIComponent(key); }

  function skipped(el) {
    if (!el.name || el.disabled || el.name === "_csrf") { return true; }
    var t = (el.type || "").toLowerCase();
    return t === "password" || t === "file" || t === "submit" || t === "button" || t === "reset" || t === "image";
  }

  function collect(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (skipped(el)) { return; }
      var t = (el.type || "").toLowerCase();
      if (t === "checkbox" || t === "radio") {
        if (!(el.name in data)) { data[el.name] = []; }
        if (el.checked) { data[el.name].push(el.value); }
        return;
      }
      if (el.tagName === "SELECT" && el.multiple) {
        data[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
        return;
      }
      data[el.name] = el.value;
    });
    return data;
  }

  function fill(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (skipped(el) || !(el.name in data)) { return; }
      var v = data[el.name];
      var list = Array.isArray(v) ? v.map(String) : [String(v)];
      var t = (el.type || "").toLowerCase();
      if (t === "checkbox" || t === "radio") {
        el.checked = list.indexOf(el.value) >= 0;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = list.indexOf(o.value) >= 0; });
      } else {
        el.value = list[0] || "";
      }
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function request(method, key, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json", "X-CSRF-Token": csrf() } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url(key), opts);
  }

  function setup(form) {
    var key = form.getAttribute("data-draft");
    var labels = {};
    try { labels = JSON.parse(form.getAttribute("data-draft-labels") || "{}"); } catch (e) { labels = {}; }
    function L(k) { return labels[k] || defaults[k]; }
    var status = document.createElement("p");
    status.className = "draft-status muted";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    form.appendChild(status);

    var timer = null;
    var submitted = false;
    var offer = null;
    var last = JSON.stringify(collect(form));

    function save() {
      timer = null;
      if (submitted) { return; }
      var data = collect(form);
      var now = JSON.stringify(data);
      if (now === last) { return; }
      last = now;
      request("PUT", key, { data: data }).then(function (res) {
        status.textContent = res.ok ? L("saved") : L("failed");
        form.setAttribute("data-draft-state", res.ok ? "saved" : "failed");
      }, function () {
        status.textContent = L("failed");
        form.setAttribute("data-draft-state", "failed");
      });
    }
    function changed() {
      if (offer) { offer.remove(); offer = null; }
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, DELAY);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", function (e) { if (e.isTrusted) { changed(); } });
    form.addEventListener("submit", function () {
      submitted = true;
      if (timer) { clearTimeout(timer); timer = null; }
    });

    function show(saved) {
      offer = document.createElement("div");
      offer.className = "draft-offer flash";
      offer.setAttribute("role", "status");
      var text = document.createElement("span");
      text.textContent = L("offer") + " ";
      var resume = document.createElement("button");
      resume.type = "button";
      resume.className = "draft-continue";
      resume.textContent = L("continue");
      var restart = document.createElement("button");
      restart.type = "button";
      restart.className = "draft-restart secondary";
      restart.textContent = L("restart");
      resume.addEventListener("click", function () {
        fill(form, saved.data || {});
        last = JSON.stringify(collect(form));
        offer.remove(); offer = null;
        form.setAttribute("data-draft-state", "resumed");
        form.dispatchEvent(new CustomEvent("draft:resumed", { bubbles: true }));
      });
      restart.addEventListener("click", function () {
        request("DELETE", key).then(function () {
          if (offer) { offer.remove(); offer = null; }
          form.setAttribute("data-draft-state", "discarded");
        });
      });
      offer.appendChild(text);
      offer.appendChild(resume);
      offer.appendChild(restart);
      form.parentNode.insertBefore(offer, form);
      form.setAttribute("data-draft-state", "offered");
    }

    var savedAttr = form.getAttribute("data-draft-saved");
    if (savedAttr === "0") { form.setAttribute("data-draft-state", "none"); return; }
    // Without the page's hint, ask the list first: a missing draft is then
    // not a failed request in the console.
    var probe = savedAttr === "1" ? Promise.resolve(true) :
      fetch("/api/v1/drafts", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { drafts: [] }; })
        .then(function (b) { return (b.drafts || []).some(function (d) { return d.key === key; }); });
    probe.then(function (exists) {
      if (!exists) { form.setAttribute("data-draft-state", "none"); return null; }
      return request("GET", key).then(function (r) { return r.ok ? r.json() : null; });
    }).then(function (saved) {
      if (saved && saved.data && Object.keys(saved.data).length > 0) { show(saved); }
      else if (form.getAttribute("data-draft-state") !== "none") { form.setAttribute("data-draft-state", "none"); }
    }, function () { form.setAttribute("data-draft-state", "none"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-draft]").forEach(setup);
  });
})();
