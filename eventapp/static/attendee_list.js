/* The attendee list's selection (templates/organiser/attendees/list.html). Without this
   file the list works the same: each row's checkbox and the "ticked / all matching" choice
   are plain form fields. With it:
   - the heading's checkbox ticks or clears every row on the page (and shows "some");
   - the number of ticked rows is kept up to date;
   - once the whole page is ticked and more attendees match, a button selects all of them;
   - ticking a row by hand goes back to "the ticked attendees". */
(function () {
  "use strict";

  function setUp(form) {
    var pageBox = document.getElementById("select-page");
    var count = document.getElementById("ticked-count");
    var matching = document.getElementById("scope-matching");
    var ticked = form.querySelector("input[name='scope'][value='ticked']");
    var offer = document.getElementById("select-matching");
    var offerButton = document.getElementById("select-matching-button");
    var rows = Array.prototype.slice.call(form.querySelectorAll("input[name='attendee']"));
    var total = parseInt(form.getAttribute("data-total"), 10) || 0;

    function refresh() {
      var n = rows.filter(function (box) { return box.checked; }).length;
      count.textContent = String(n);
      pageBox.checked = n > 0 && n === rows.length;
      pageBox.indeterminate = n > 0 && n < rows.length;
      offer.hidden = !(pageBox.checked && total > rows.length && !matching.checked);
    }

    pageBox.hidden = false;
    pageBox.addEventListener("change", function () {
      rows.forEach(function (box) { box.checked = pageBox.checked; });
      if (!pageBox.checked) {
        ticked.checked = true;
      }
      refresh();
    });
    rows.forEach(function (box) {
      box.addEventListener("change", function () {
        ticked.checked = true;
        refresh();
      });
    });
    offerButton.addEventListener("click", function () {
      matching.checked = true;
      refresh();
      matching.focus();
    });
    matching.addEventListener("change", refresh);
    ticked.addEventListener("change", refresh);
    refresh();
  }

  function start() {
    var form = document.getElementById("bulk-form");
    if (form) {
      setUp(form);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
