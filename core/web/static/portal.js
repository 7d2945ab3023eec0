// PortalKit progressive enhancements. Pages work without this file; it only
// adds conveniences. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  // Without this script the phone menu is simply open (.no-js in the CSS).
  document.body.classList.remove("no-js");
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    // Navigation menus (<details>): one open at a time; a click elsewhere
    // or Escape closes them.
    var menus = document.querySelectorAll(".nav-group details");
    menus.forEach(function (d) {
      d.addEventListener("toggle", function () {
        if (d.open) { menus.forEach(function (o) { if (o !== d) { o.open = false; } }); }
      });
    });
    document.addEventListener("click", function (e) {
      menus.forEach(function (d) { if (d.open && !d.contains(e.target)) { d.open = false; } });
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") { return; }
      menus.forEach(function (d) {
        if (d.open) { d.open = false; d.querySelector("summary").focus(); }
      });
    });
    // Forms marked data-confirm ask before submitting.
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
  });
})();
