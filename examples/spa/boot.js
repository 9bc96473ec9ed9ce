// A classic script, run before the app's module: if the module (or one it imports) fails to
// load or to start, the page says so instead of showing "Loading…" for ever. Separate from
// app.js because a module that fails to load runs none of its code; a file, not an inline
// script, so the Content-Security-Policy can keep script-src 'self'.
"use strict";
(function () {
  var shown = false;
  function fail() {
    if (shown || document.body.dataset.state) return;
    shown = true;
    var box = document.getElementById("loading");
    var text = document.getElementById("loading-text");
    if (box) box.classList.add("failed");
    if (text) {
      text.textContent =
        "The app could not start: one of its scripts did not load or failed. Reload the page; " +
        "if this keeps happening, check that the server serves app.js, api.js and config.js.";
    }
  }
  // A script element that fails to load reports on itself (captured here); an exception while
  // a module starts reports on window.
  window.addEventListener("error", function (event) {
    var target = event.target;
    if ((target && target.tagName === "SCRIPT") || event instanceof ErrorEvent) fail();
  }, true);
  window.addEventListener("load", function () {
    // Give the app's first requests time; then a page still without a state has not started.
    setTimeout(function () {
      if (!document.body.dataset.state && !document.body.dataset.starting) fail();
    }, 3000);
  });
})();
