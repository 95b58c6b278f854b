// The ALTCHA widget's proof-of-work worker, from a file of our own origin (eventapp/bot_challenge.py):
// the "external" build bundles no worker, so the Content-Security-Policy needs no blob: or inline script.
(function () {
  "use strict";
  document.querySelectorAll("[data-needs-javascript]").forEach(function (notice) {
    notice.remove();
  });
  if (!window.$altcha || !window.$altcha.algorithms) {
    return;
  }
  // The widget's words in the page's language (eventapp/bot_challenge.py, widget_strings):
  // the library itself speaks English only.
  document.querySelectorAll("altcha-widget[data-strings]").forEach(function (widget) {
    var language = widget.getAttribute("language") || document.documentElement.lang;
    var english = window.$altcha.i18n.get("en") || {};
    window.$altcha.i18n.set(
      language,
      Object.assign({}, english, JSON.parse(widget.getAttribute("data-strings")))
    );
  });
  var workerUrl = document.currentScript
    ? new URL("vendor/altcha/workers/sha.js", document.currentScript.src).href
    : "/static/vendor/altcha/workers/sha.js";
  ["SHA-256", "SHA-384", "SHA-512"].forEach(function (name) {
    window.$altcha.algorithms.set(name, function () {
      return new Worker(workerUrl);
    });
  });
})();
