// Scan a check-in QR code with the phone's camera, where the browser can (BarcodeDetector,
// in Chrome on Android and others). Without it the page works as is: type the code, or use
// a hand scanner, which types the code and presses Enter. No library, nothing from a CDN.
(function () {
  "use strict";
  var button = document.getElementById("scan-button");
  var video = document.getElementById("scan-video");
  var input = document.getElementById("code");
  var form = document.getElementById("code-form");
  var status = document.getElementById("scan-status");
  if (!button || !video || !input || !form) return;
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;

  var stream = null;
  var detector = null;
  button.hidden = false;

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }

  function scan() {
    if (!stream) return;
    detector.detect(video).then(function (codes) {
      if (codes.length && codes[0].rawValue) {
        input.value = codes[0].rawValue;
        stop();
        form.submit();
      } else {
        window.requestAnimationFrame(scan);
      }
    }).catch(function () { window.requestAnimationFrame(scan); });
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        return video.play();
      })
      .then(scan)
      .catch(function (error) {
        stop();
        if (status) status.textContent = button.dataset.failed || String(error);
      });
  });
})();
