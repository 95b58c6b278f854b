// One frame of the camera read with jsQR (static/vendor/jsQR.js, from npm): how the check-in
// page and door mode scan where the browser has no BarcodeDetector (Safari, Firefox).
// Returns the code's text, or null when the frame holds none (or the video has no size yet).
window.eventappQrFromVideo = function (video, canvas) {
  "use strict";
  var width = video.videoWidth;
  var height = video.videoHeight;
  if (!width || !height || typeof window.jsQR !== "function") return null;
  canvas.width = width;
  canvas.height = height;
  var context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0, width, height);
  var image = context.getImageData(0, 0, width, height);
  var found = window.jsQR(image.data, width, height, { inversionAttempts: "dontInvert" });
  return found && found.data ? found.data : null;
};
