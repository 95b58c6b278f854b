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
  var workerUrl = document.currentScript
    ? new URL("vendor/altcha/workers/sha.js", document.currentScript.src).href
    : "/static/vendor/altcha/workers/sha.js";
  ["SHA-256", "SHA-384", "SHA-512"].forEach(function (name) {
    window.$altcha.algorithms.set(name, function () {
      return new Worker(workerUrl);
    });
  });
})();
