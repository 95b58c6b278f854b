// Scan a check-in QR code with the phone's camera: BarcodeDetector where the browser has it
// (Chrome on Android and others), else jsQR (static/vendor/jsQR.js, from npm, copied by
// `make static-vendor`; nothing from a CDN), which Safari and Firefox need. Without a camera
// the page works as is: type the code, or use a hand scanner, which types it and presses Enter.
(function () {
  "use strict";
  var button = document.getElementById("scan-button");
  var video = document.getElementById("scan-video");
  var input = document.getElementById("code");
  var form = document.getElementById("code-form");
  var status = document.getElementById("scan-status");
  if (!button || !video || !input || !form) return;
  var hasDetector = "BarcodeDetector" in window;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  if (!hasDetector && typeof window.jsQR !== "function") return;
  var canvas = document.createElement("canvas");

  var stream = null;
  var detector = null;
  button.hidden = false;

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }

  function submit(code) {
    input.value = code;
    stop();
    form.submit();
  }

  function scanWithJsQR() {
    if (!stream) return;
    var found = window.eventappQrFromVideo(video, canvas);
    if (found) { submit(found); return; }
    window.setTimeout(scanWithJsQR, 150);
  }

  function scan() {
    if (!stream) return;
    if (!detector) { scanWithJsQR(); return; }
    detector.detect(video).then(function (codes) {
      if (codes.length && codes[0].rawValue) {
        submit(codes[0].rawValue);
      } else {
        window.requestAnimationFrame(scan);
      }
    }).catch(function () { window.requestAnimationFrame(scan); });
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    detector = hasDetector ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
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
