// Door mode (templates/organiser/checkin/door.html): check people in without reloading the
// page, scan with the camera, and keep working through a Wi-Fi drop.
//
// - Each entry is one POST of JSON to data-scan-url (static/fetch_json.js); the answer fills
//   the result panel.
// - No connection (or a gateway error while the venue's uplink is down): the entry is kept in
//   localStorage with the time it was scanned, and sent, in order, when the connection
//   returns. The server records that time and answers as it would have then; answers that
//   are not a plain "checked in" (someone else checked them in, cancelled, unknown code) are
//   marked as conflicts in the list of entries sent late.
// - Signed out (the organiser's sign-in ended: 401 `signed_out`, or the page's CSRF token
//   refused because its session is gone): the entry is kept the same way, and the panel
//   offers "Sign in again", which leads back to this page (same session); the kept entries
//   are sent from there.
// - Camera: BarcodeDetector where the browser has it, else jsQR (static/vendor/jsQR.js, from
//   npm, copied by `make static-vendor`), which Safari and Firefox need.
(function () {
  "use strict";
  var root = document.getElementById("door");
  if (!root) return;

  var form = document.getElementById("door-form");
  var input = document.getElementById("door-code");
  var panel = document.getElementById("door-result");
  var title = document.getElementById("door-result-title");
  var detail = document.getElementById("door-result-detail");
  var matches = document.getElementById("door-matches");
  var count = document.getElementById("door-count");
  var queueBox = document.getElementById("door-queue");
  var queueStatus = document.getElementById("door-queue-status");
  var queueList = document.getElementById("door-queue-list");
  var texts = document.getElementById("door-texts").dataset;
  var key = root.dataset.queueKey;
  var session = root.dataset.session || null;
  var flushing = false;
  var idleText = title.textContent;  // "Scan a QR code or type a code or a name."
  var signIn = document.getElementById("door-signin");

  function show(state, heading, text) {
    panel.dataset.state = state;
    title.textContent = heading;
    detail.textContent = text || "";
    signIn.hidden = state !== "signed_out";
  }

  function loadQueue() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(key) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (error) {
      return [];
    }
  }

  function saveQueue(entries) {
    window.localStorage.setItem(key, JSON.stringify(entries));
    renderQueue(entries);
  }

  function renderQueue(entries) {
    var waiting = entries.length;
    var text = waiting === 1 ? texts.waitingOne : texts.waiting;  // ngettext's two forms
    queueStatus.textContent = waiting ? text.replace("{count}", String(waiting)) : "";
    if (waiting || queueList.children.length) queueBox.hidden = false;
  }

  function offline() {
    var error = new Error("offline");
    error.offline = true;
    return error;
  }

  function signedOut() {
    var error = offline();  // kept on the device like an entry made without a connection
    error.signedOut = true;
    return error;
  }

  // static/fetch_json.js; a gateway error counts as no connection (the venue's uplink).
  function post(body) {
    return window.eventappPostJson(root.dataset.scanUrl, body, root.dataset.csrf).then(
      function (answer) {
        if (answer.status >= 502) throw offline();
        if (answer.status === 401 || (answer.body && answer.body.error === "csrf_failed")) {
          throw signedOut();
        }
        if (!answer.body) throw new Error("not JSON");
        answer.body.httpStatus = answer.status;
        return answer.body;
      },
      function () {
        throw offline();
      }
    );
  }

  function updateCount(answer) {
    if (!answer.attendance) return;
    count.innerHTML = "";
    var strong = document.createElement("strong");
    strong.textContent = String(answer.attendance.arrived);
    count.appendChild(strong);
    count.appendChild(document.createTextNode(" / " + answer.attendance.expected));
  }

  function personLine(person) {
    return [person.organisation, person.code].filter(Boolean).join(" · ");
  }

  function showMatches(people) {
    matches.innerHTML = "";
    people.forEach(function (person) {
      var item = document.createElement("li");
      var who = document.createElement("span");
      who.textContent = person.name + (person.organisation ? " · " + person.organisation : "");
      item.appendChild(who);
      if (person.checked_in_at) {
        var done = document.createElement("span");
        done.className = "checked-in";
        done.textContent = "✓ " + person.checked_in_at;
        item.appendChild(done);
      } else if (!person.cancelled) {
        var pick = document.createElement("button");
        pick.type = "button";
        pick.className = "button button-primary";
        pick.textContent = texts.pick;
        pick.addEventListener("click", function () { enter({ attendee_id: person.id }); });
        item.appendChild(pick);
      }
      matches.appendChild(item);
    });
    matches.hidden = people.length === 0;
  }

  function answered(answer) {
    updateCount(answer);
    matches.hidden = true;
    if (answer.httpStatus === 422) {
      var reasons = Object.keys(answer.fields || {}).map(function (k) { return answer.fields[k]; });
      show("unknown", answer.message, reasons.join(" "));
    } else if (answer.state === "search") {
      show("search", answer.message, "");
      showMatches(answer.matches || []);
    } else if (answer.attendee) {
      var heading = answer.state === "checked_in" ? answer.attendee.name : answer.message;
      var text = answer.state === "checked_in"
        ? [answer.message, personLine(answer.attendee)].filter(Boolean).join(" · ")
        : answer.attendee.name + " · " + personLine(answer.attendee);
      show(answer.state, heading, text);
    } else {
      show(answer.state || "unknown", answer.message || texts.error, "");
    }
  }

  function keep(body, signedOutNow) {
    body.scanned_at = body.scanned_at || new Date().toISOString();
    var entries = loadQueue();
    entries.push(body);
    saveQueue(entries);
    showKept(signedOutNow, body.code || "");
  }

  function showKept(signedOutNow, code) {
    if (signedOutNow) show("signed_out", texts.signedOut, code);
    else show("queued", texts.offline, code);
  }

  function enter(body) {
    body.session = session;
    if (loadQueue().length) { keep(body, panel.dataset.state === "signed_out"); flush(); return; }
    post(body).then(answered, function (error) {
      if (error && error.offline) keep(body, error.signedOut);
      else show("unknown", texts.error, "");
    });
  }

  function noteSent(body, answer) {
    var item = document.createElement("li");
    var who = answer.attendee ? answer.attendee.name : (body.code || "");
    item.textContent = who + ": " + (answer.message || "");
    if (answer.state !== "checked_in") item.className = "conflict";
    if (!queueList.children.length) {
      var heading = document.createElement("li");
      heading.innerHTML = "<strong></strong>";
      heading.firstChild.textContent = texts.sent;
      queueList.appendChild(heading);
    }
    queueList.appendChild(item);
  }

  function flush() {
    if (flushing) return;
    var entries = loadQueue();
    if (!entries.length) return;
    flushing = true;
    post(entries[0]).then(function (answer) {
      flushing = false;
      var left = loadQueue().slice(1);
      saveQueue(left);
      noteSent(entries[0], answer);
      updateCount(answer);
      if (answer.state === "search" && (answer.matches || []).length) {
        // A name typed while offline: the people it fits, to pick now the door is online.
        show("search", answer.message, entries[0].code || "");
        showMatches(answer.matches);
      } else if (!left.length && panel.dataset.state === "queued") {
        show("idle", idleText, "");  // no longer "no connection": everything was sent
      }
      flush();
    }, function (error) {
      flushing = false;
      if (error && error.signedOut) showKept(true, "");
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    if (!code) return;
    input.value = "";
    enter({ code: code });
    input.focus();
  });

  window.addEventListener("online", flush);
  window.setInterval(flush, 5000);
  renderQueue(loadQueue());
  flush();

  // Full screen where the browser allows it (not on iPhone Safari, which has no API for it).
  var fullscreen = document.getElementById("door-fullscreen");
  if (fullscreen && document.documentElement.requestFullscreen) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", function () {
      document.documentElement.requestFullscreen().catch(function () {});
    });
  }

  // The camera.
  var scanButton = document.getElementById("door-scan");
  var video = document.getElementById("door-video");
  var canvas = document.getElementById("door-canvas");
  var hasDetector = "BarcodeDetector" in window;
  var hasJsQR = typeof window.jsQR === "function";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  if (!hasDetector && !hasJsQR) return;
  scanButton.hidden = false;
  var stream = null;
  var detector = null;
  var lastCode = "";
  var lastAt = 0;

  function stop() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true;
    scanButton.textContent = scanButton.dataset.start;
  }

  // A ticket held in front of the camera is read in frame after frame: it is entered once,
  // and again only after it has been out of view for a moment (SAME_TICKET_GAP), so the
  // person who just checked in never sees their green result turn into "already".
  var SAME_TICKET_GAP = 2000;
  function found(code) {
    var now = Date.now();
    var stillInView = code === lastCode && now - lastAt < SAME_TICKET_GAP;
    lastCode = code;
    lastAt = now;
    if (!stillInView) enter({ code: code });
  }

  function tick() {
    if (!stream) return;
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length && codes[0].rawValue) found(codes[0].rawValue);
        window.setTimeout(tick, 150);
      }).catch(function () { window.setTimeout(tick, 300); });
      return;
    }
    var code = window.eventappQrFromVideo(video, canvas);
    if (code) found(code);
    window.setTimeout(tick, 150);
  }

  scanButton.addEventListener("click", function () {
    if (stream) { stop(); return; }
    detector = hasDetector ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        scanButton.textContent = scanButton.dataset.stop;
        return video.play();
      })
      .then(tick)
      .catch(function () {
        stop();
        show("unknown", texts.cameraFailed, "");
      });
  });
})();
