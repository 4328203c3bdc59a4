/* The pages' few behaviours, as a file the app serves (no inline scripts: the pages' CSP allows none).
   - [data-print]: a button that prints the page (person, case, certificate and register pages).
   - [data-keep-scroll]: a list whose forms post and come back to the same list (the verification inbox):
     the scroll position is kept across the round trip, so an officer does not lose her place. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) {
      event.preventDefault();
      window.print();
    }
  });

  var KEY = "liuguan.scroll:" + window.location.pathname;
  document.addEventListener("submit", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-keep-scroll]")) {
      try { window.sessionStorage.setItem(KEY, String(window.scrollY)); } catch (ignored) { /* private mode */ }
    }
  });
  window.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("[data-keep-scroll]")) { return; }
    var saved = null;
    try { saved = window.sessionStorage.getItem(KEY); window.sessionStorage.removeItem(KEY); } catch (ignored) { /* private mode */ }
    if (saved !== null) { window.scrollTo(0, parseInt(saved, 10) || 0); }
  });
})();
