// The timetable editor (templates/organiser/timetable.html, organiser/timetable_views.py).
//
// The page is a table per day: time slots down (<tr data-slot="2027-03-18T09:15">), rooms
// across (<th data-room="3">), sessions in cells (.te-session). Without this script it is a
// read-only table whose sessions link to their edit form. With it:
// - mouse and touch: drag a session (interact.js, static/vendor/interact.min.js from npm,
//   copied by `make static-vendor`) to another slot or room; on touch screens the handle
//   drags (the rest of the card scrolls the page, CSS touch-action);
// - keyboard: the handle button picks a session up (Enter or Space), the arrow keys move it
//   a slot or a room, Page Up / Page Down another day, Enter or Space drops it, Escape
//   cancels; every step is announced in the aria-live region #te-live.
// A drop asks the server what the move would do (POST data-preview-url, JSON, CSRF token in
// X-CSRFToken) and shows it in a dialog; only "Move the session" saves it (data-move-url),
// sending the preview's fingerprint: when the programme changed in between, the server
// answers 409 `preview_changed` with the new preview, and the dialog shows it and asks again.
// A refusal (409 conflict, 422 bad input such as a time the clocks skip) is shown next to
// the session, which stays where it was. After a save the grid is read again from the page.
(function () {
  "use strict";
  var root = document.getElementById("timetable");
  if (!root) return;

  var texts = document.getElementById("te-texts").dataset;
  var live = document.getElementById("te-live");
  var result = document.getElementById("te-result");
  var dialog = document.getElementById("te-confirm");
  var days = [];
  var carrying = null; // {card, handle, origin, target, mode: "keys" | "drag", dx, dy, busy}
  var justDragged = false;
  var overlay = document.createElement("div");
  overlay.className = "te-target";
  overlay.setAttribute("aria-hidden", "true");
  overlay.hidden = true;
  document.body.appendChild(overlay);
  document.documentElement.classList.add("te-js");

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return values[name] !== undefined ? values[name] : whole;
    });
  }

  function announce(text) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function toArray(list) { return Array.prototype.slice.call(list); }

  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }

  // The grid as the table says it is: per day its slots and its rooms.
  function readGrid() {
    days = toArray(root.querySelectorAll("table.te-grid")).map(function (table) {
      var section = table.closest(".te-day");
      return {
        table: table,
        label: section.querySelector("h2").textContent.trim(),
        step: Number(table.dataset.step) || 15,
        columns: toArray(table.tHead.rows[0].cells).slice(1).map(function (th) {
          return { th: th, room: th.dataset.room, name: th.dataset.name };
        }),
        slots: toArray(table.tBodies[0].rows).map(function (row) {
          return { row: row, at: row.dataset.slot };
        })
      };
    });
  }

  function positionOf(card) {
    for (var d = 0; d < days.length; d++) {
      if (!days[d].table.contains(card)) continue;
      var slot = days[d].slots.findIndex(function (s) { return s.at === card.dataset.starts; });
      var column = days[d].columns.findIndex(function (c) { return c.room === card.dataset.room; });
      return { day: d, slot: Math.max(slot, 0), column: Math.max(column, 0) };
    }
    return { day: 0, slot: 0, column: 0 };
  }

  function span(card, day) {
    return Math.max(1, Math.ceil(Number(card.dataset.minutes) / days[day].step));
  }

  function clock(at, addMinutes) {
    var parts = at.slice(11, 16).split(":");
    var total = (Number(parts[0]) * 60 + Number(parts[1]) + addMinutes) % (24 * 60);
    var hours = Math.floor(total / 60), minutes = total % 60;
    return (hours < 10 ? "0" : "") + hours + ":" + (minutes < 10 ? "0" : "") + minutes;
  }

  function where(card, target) {
    var day = days[target.day];
    var at = day.slots[target.slot].at;
    var text = clock(at, 0) + "–" + clock(at, Number(card.dataset.minutes)) + ", " +
      day.columns[target.column].name;
    return days.length > 1 ? day.label + ", " + text : text;
  }

  function same(a, b) {
    return a.day === b.day && a.slot === b.slot && a.column === b.column;
  }

  function showTarget(card, target) {
    var day = days[target.day];
    var column = day.columns[target.column].th.getBoundingClientRect();
    var first = day.slots[target.slot].row.getBoundingClientRect();
    var lastIndex = Math.min(day.slots.length - 1, target.slot + span(card, target.day) - 1);
    var last = day.slots[lastIndex].row.getBoundingClientRect();
    overlay.style.left = (column.left + window.scrollX) + "px";
    overlay.style.top = (first.top + window.scrollY) + "px";
    overlay.style.width = column.width + "px";
    overlay.style.height = (last.bottom - first.top) + "px";
    overlay.textContent = where(card, target);
    overlay.hidden = false;
  }

  function hideTarget() { overlay.hidden = true; }

  // The slot and room under a point of the screen, or null outside every grid.
  function targetAt(x, y) {
    for (var d = 0; d < days.length; d++) {
      var column = days[d].columns.findIndex(function (c) {
        var box = c.th.getBoundingClientRect();
        return x >= box.left && x < box.right;
      });
      var slot = days[d].slots.findIndex(function (s) {
        var box = s.row.getBoundingClientRect();
        return y >= box.top && y < box.bottom;
      });
      if (column >= 0 && slot >= 0) return { day: d, slot: slot, column: column };
    }
    return null;
  }

  function pickUp(card, mode) {
    clearError(card);
    var origin = positionOf(card);
    carrying = {
      card: card, handle: card.querySelector(".te-handle"), origin: origin, target: origin,
      mode: mode, dx: 0, dy: 0, busy: false
    };
    card.classList.add("is-carried");
    showTarget(card, origin);
    announce(fill(texts.picked, { title: card.dataset.title, where: where(card, origin) }));
  }

  function putBack() {
    if (!carrying) return;
    carrying.card.classList.remove("is-carried", "is-busy");
    carrying.card.style.transform = "";
    hideTarget();
    var handle = carrying.handle;
    carrying = null;
    return handle;
  }

  function cancel() {
    if (!carrying || carrying.busy) return;
    var card = carrying.card, origin = carrying.origin;
    putBack();
    announce(fill(texts.cancelled, { title: card.dataset.title, where: where(card, origin) }));
  }

  function moveBy(columns, slots, dayStep) {
    var card = carrying.card, target = carrying.target;
    if (dayStep) {
      var dayIndex = clamp(target.day + dayStep, 0, days.length - 1);
      if (dayIndex !== target.day) {
        var time = days[target.day].slots[target.slot].at.slice(11);
        var match = days[dayIndex].slots.findIndex(function (s) { return s.at.slice(11) === time; });
        target = {
          day: dayIndex,
          slot: match >= 0 ? match : clamp(target.slot, 0, days[dayIndex].slots.length - 1),
          column: clamp(target.column, 0, days[dayIndex].columns.length - 1)
        };
      }
    }
    var day = days[target.day];
    target = {
      day: target.day,
      slot: clamp(target.slot + slots, 0, day.slots.length - 1),
      column: clamp(target.column + columns, 0, day.columns.length - 1)
    };
    carrying.target = target;
    showTarget(card, target);
    day.slots[target.slot].row.scrollIntoView({ block: "nearest" });
    announce(where(card, target));
  }

  // static/fetch_json.js. No answer, or one that is not JSON (a login page after the sign-in
  // expired, a proxy's error page): "could not be sent", status 0.
  function post(url, body) {
    var failed = { status: 0, body: { message: texts.failed } };
    return window.eventappPostJson(url, body, root.dataset.csrf).then(function (answer) {
      return answer.body ? answer : failed;
    }, function () {
      return failed;
    });
  }

  function drop() {
    var move = carrying;
    if (!move || move.busy) return;
    var card = move.card;
    if (same(move.target, move.origin)) {
      putBack();
      announce(fill(texts.samePlace, { title: card.dataset.title }));
      return;
    }
    var day = days[move.target.day];
    var room = day.columns[move.target.column].room;
    var body = {
      session_id: Number(card.dataset.sessionId),
      starts_at: day.slots[move.target.slot].at,
      room_id: room ? Number(room) : null
    };
    move.busy = true;
    card.classList.add("is-busy");
    announce(fill(texts.checking, { title: card.dataset.title }));
    post(root.dataset.previewUrl, body).then(function (answer) {
      if (answer.status === 200) {
        confirmMove(move, body, answer.body);
      } else {
        refuse(move, answer.body);
      }
    });
  }

  function listItems(list, lines) {
    list.textContent = "";
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
  }

  // `changed`: why the dialog asks again (the programme changed since the last preview).
  function confirmMove(move, body, impact, changed) {
    var card = move.card;
    document.getElementById("te-confirm-title").textContent =
      fill(texts.confirmTitle, { title: card.dataset.title });
    var notice = document.getElementById("te-confirm-changed");
    notice.textContent = changed || "";
    notice.hidden = !changed;
    document.getElementById("te-confirm-where").textContent = impact.where;
    listItems(document.getElementById("te-confirm-lines"), impact.lines);
    var warnings = document.getElementById("te-confirm-warnings");
    listItems(document.getElementById("te-confirm-warning-list"),
      impact.conflicts.map(function (c) { return c.message; }));
    warnings.hidden = impact.conflicts.length === 0;
    dialog.onclose = function () {
      if (dialog.returnValue === "yes") {
        save(move, body, impact);
      } else {
        move.busy = false;
        cancel();
        if (card.querySelector(".te-handle")) card.querySelector(".te-handle").focus();
      }
    };
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("te-confirm-yes").focus();
  }

  document.getElementById("te-confirm-yes").addEventListener("click", function () {
    dialog.close("yes");
  });
  document.getElementById("te-confirm-no").addEventListener("click", function () {
    dialog.close("no");
  });

  function save(move, body, impact) {
    body.confirm = Boolean(impact.confirm_required);
    body.fingerprint = impact.fingerprint;
    post(root.dataset.moveUrl, body).then(function (answer) {
      if (answer.status === 409 && answer.body.error === "preview_changed") {
        confirmMove(move, body, answer.body.impact, answer.body.message);
        return;
      }
      if (answer.status !== 200) {
        refuse(move, answer.body);
        return;
      }
      var title = move.card.dataset.title;
      putBack();
      result.textContent = answer.body.message + " " +
        fill(texts.saved, { title: title, where: answer.body.where });
      result.hidden = false;
      reload(body.session_id, fill(texts.saved, { title: title, where: answer.body.where }));
    });
  }

  // Read the grid again from the page, as the server now has it.
  function reload(sessionId, message) {
    window.fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new window.DOMParser().parseFromString(html, "text/html").getElementById("timetable");
        if (fresh) root.innerHTML = fresh.innerHTML;
        enhance();
        var card = document.getElementById("te-session-" + sessionId);
        if (card) card.querySelector(".te-handle").focus();
        announce(message);
      });
  }

  function clearError(card) {
    var old = document.getElementById("te-error-" + card.dataset.sessionId);
    if (old) old.remove();
  }

  function refuse(move, answer) {
    var card = move.card;
    move.busy = false;
    var handle = putBack();
    clearError(card);
    var box = document.createElement("div");
    box.className = "te-error";
    box.id = "te-error-" + card.dataset.sessionId;
    var message = document.createElement("p");
    message.textContent = answer.message || texts.failed;
    box.appendChild(message);
    var reasons = (answer.conflicts || []).map(function (c) { return c.message; });
    Object.keys(answer.fields || {}).forEach(function (name) {
      reasons = reasons.concat(answer.fields[name]);
    });
    if (answer.impact) reasons = reasons.concat(answer.impact.lines);
    reasons = reasons.filter(function (line) { return line !== answer.message; });
    if (reasons.length) {
      var list = document.createElement("ul");
      listItems(list, reasons);
      box.appendChild(list);
    }
    card.insertAdjacentElement("afterend", box);
    if (handle) {
      handle.setAttribute("aria-describedby", "te-help " + box.id);
      handle.focus();
    }
    announce(fill(texts.refused, { title: card.dataset.title }) + " " + (answer.message || ""));
  }

  function addHandle(card) {
    if (card.querySelector(".te-handle")) return;
    var handle = document.createElement("button");
    handle.type = "button";
    handle.className = "te-handle";
    var origin = positionOf(card);
    handle.setAttribute("aria-label", fill(texts.handle, { title: card.dataset.title, where: where(card, origin) }));
    handle.setAttribute("aria-describedby", "te-help");
    var grip = document.createElement("span");
    grip.setAttribute("aria-hidden", "true");
    grip.textContent = "⠿";
    handle.appendChild(grip);
    card.insertBefore(handle, card.firstChild);
  }

  function enhance() {
    readGrid();
    toArray(root.querySelectorAll(".te-session")).forEach(addHandle);
  }

  // The handle: a click (Enter and Space on a button are clicks) picks up or drops.
  root.addEventListener("click", function (event) {
    var handle = event.target.closest(".te-handle");
    if (!handle) return;
    var card = handle.closest(".te-session");
    if (carrying && carrying.card === card && carrying.mode === "keys") {
      drop();
    } else if (!carrying) {
      pickUp(card, "keys");
    }
  });

  var KEYS = {
    ArrowUp: [0, -1, 0], ArrowDown: [0, 1, 0], ArrowLeft: [-1, 0, 0], ArrowRight: [1, 0, 0],
    PageUp: [0, 0, -1], PageDown: [0, 0, 1]
  };

  root.addEventListener("keydown", function (event) {
    if (!carrying || carrying.mode !== "keys" || carrying.busy) return;
    if (!event.target.closest(".te-handle")) return;
    if (event.key === "Escape") {
      event.preventDefault();
      cancel();
    } else if (KEYS[event.key]) {
      event.preventDefault();
      moveBy.apply(null, KEYS[event.key]);
    }
  });

  root.addEventListener("focusout", function (event) {
    if (!carrying || carrying.mode !== "keys" || carrying.busy) return;
    if (event.target === carrying.handle && event.relatedTarget !== carrying.handle) cancel();
  });

  // A drag that ends over a link must not follow it (only in the grid: the dialog that
  // opens right after a drop takes its clicks at once).
  document.addEventListener("click", function (event) {
    if (!justDragged || !root.contains(event.target)) return;
    justDragged = false;
    event.preventDefault();
    event.stopPropagation();
  }, true);

  window.addEventListener("resize", function () {
    if (carrying) showTarget(carrying.card, carrying.target);
  });

  enhance();

  if (typeof window.interact !== "function") return; // the keyboard still works
  window.interact(".te-session").draggable({
    autoScroll: true,
    listeners: {
      start: function (event) {
        if (carrying) putBack();
        pickUp(event.target, "drag");
      },
      move: function (event) {
        if (!carrying || carrying.mode !== "drag") return;
        carrying.dx += event.dx;
        carrying.dy += event.dy;
        carrying.card.style.transform = "translate(" + carrying.dx + "px, " + carrying.dy + "px)";
        var target = targetAt(event.client.x, event.client.y);
        carrying.outside = !target;
        if (target) {
          carrying.target = target;
          showTarget(carrying.card, target);
        }
      },
      end: function () {
        if (!carrying || carrying.mode !== "drag") return;
        justDragged = true;
        window.setTimeout(function () { justDragged = false; }, 400);
        carrying.card.style.transform = "";
        if (carrying.outside) {
          cancel();
        } else {
          drop();
        }
      }
    }
  });
  // Set up: the browser tests wait for this before they press keys or drag.
  root.dataset.ready = "true";
})();
