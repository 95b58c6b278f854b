/* The registration form: show schedule clashes before submitting.
   Every session option carries data-starts / data-ends (ISO 8601 with offset) and data-title.
   A chosen option that overlaps another chosen one is marked and named in a live region, and
   the form is not sent until the clash is resolved; options that would clash with a choice
   are marked too. The server checks again: this only saves a round trip. */
(function () {
  "use strict";

  var form = document.querySelector("form.registration-form");
  if (!form) {
    return;
  }
  var summary = document.getElementById("clash-summary");
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input[data-starts]"));
  var sessions = inputs.map(function (input) {
    return {
      input: input,
      option: input.closest(".option"),
      note: document.getElementById(input.id + "-note"),
      serverNote: (document.getElementById(input.id + "-note") || {}).textContent || "",
      starts: Date.parse(input.getAttribute("data-starts")),
      ends: Date.parse(input.getAttribute("data-ends")),
      title: input.getAttribute("data-title") || ""
    };
  });

  function message(name, values) {
    var text = form.getAttribute("data-msg-" + name) || "";
    Object.keys(values).forEach(function (key) {
      text = text.split("{" + key + "}").join(values[key]);
    });
    return text;
  }

  function overlap(a, b) {
    return a.starts < b.ends && b.starts < a.ends;
  }

  // Radio buttons of one round replace each other, so they never clash among themselves.
  function exclusive(a, b) {
    return a.input.type === "radio" && b.input.type === "radio" && a.input.name === b.input.name;
  }

  function clashesOf(session, chosen) {
    return chosen.filter(function (other) {
      return other !== session && !exclusive(session, other) && overlap(session, other);
    });
  }

  function setText(element, text) {
    if (element && element.textContent !== text) {
      element.textContent = text;
    }
  }

  function update() {
    var chosen = sessions.filter(function (s) {
      return s.input.checked;
    });
    var pairs = [];
    sessions.forEach(function (session) {
      var clashes = clashesOf(session, chosen);
      var isChosen = session.input.checked;
      var option = session.option;
      option.classList.toggle("is-clash-chosen", isChosen && clashes.length > 0);
      option.classList.toggle("is-clash", !isChosen && clashes.length > 0);
      if (clashes.length) {
        var titles = clashes.map(function (c) {
          return c.title;
        }).join("”, “");
        setText(session.note, message(isChosen ? "clash-chosen" : "clash", { title: titles }));
      } else {
        // Keep what the server said (a full session) until the visitor changes something.
        setText(session.note, session.input.dataset.touched ? "" : session.serverNote);
      }
      if (isChosen) {
        clashes.forEach(function (other) {
          if (sessions.indexOf(other) > sessions.indexOf(session)) {
            pairs.push([session, other]);
          }
        });
      }
    });
    var lines = pairs.map(function (pair) {
      return message("summary", { first: pair[0].title, second: pair[1].title });
    });
    setText(summary, lines.join(" "));
    return pairs.length;
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.matches("input[type=radio], input[type=checkbox]")) {
      // A new choice in a group clears the server's remark on that group's options.
      sessions.forEach(function (s) {
        if (s.input.name === event.target.name) {
          s.input.dataset.touched = "1";
          s.option.classList.remove("is-problem");
        }
      });
      update();
    }
  });

  form.addEventListener("submit", function (event) {
    if (update() > 0) {
      event.preventDefault();
      summary.focus();
    }
  });

  update();
})();

/* "While you wait" (a fallback workshop): shown only while the round's choice is a full
   workshop. Without JavaScript it is always there, and the server ignores it when the choice
   has a seat. */
(function () {
  "use strict";

  var fields = Array.prototype.slice.call(document.querySelectorAll(".fallback-choice"));
  fields.forEach(function (field) {
    var round = field.closest("fieldset");
    var select = field.querySelector("select");
    if (!round || !select) {
      return;
    }
    function update() {
      var chosen = round.querySelector("input[type=radio]:checked");
      var waiting = Boolean(chosen && chosen.closest(".option.is-full"));
      field.hidden = !waiting;
      if (!waiting) {
        select.value = "";
      }
    }
    round.addEventListener("change", function (event) {
      if (event.target.type === "radio") {
        update();
      }
    });
    update();
  });
})();
