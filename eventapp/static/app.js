/* Small enhancements shared by every page. Served from the app: no inline script (CSP).
   - After a failed submit, move focus to the error summary so it is read out first.
   - A link in the error summary moves focus to its field, not only the scroll position.
   - <form data-confirm="Question?"> asks before submitting (cancelling, deleting).
   - <button data-print> opens the browser's print dialog (the printable ticket). */
(function () {
  "use strict";

  function focusErrorSummary() {
    var summary = document.querySelector(".form-errors");
    if (summary && summary.textContent.trim()) {
      summary.focus();
    }
  }

  function focusFieldsFromErrorLinks() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest(".form-errors a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (field) {
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: "center" });
      }
    });
  }

  function confirmDangerousForms() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusErrorSummary);
  } else {
    focusErrorSummary();
  }
  // A form posted from a page#fragment comes back with the fragment, and the browser then
  // moves focus to that target (the skip link's #main): take it back to the errors.
  window.addEventListener("load", function () {
    var active = document.activeElement;
    if (!active || active === document.body || active.id === "main") {
      focusErrorSummary();
    }
  });
  function printButtons() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-print]");
      if (button) {
        window.print();
      }
    });
  }

  focusFieldsFromErrorLinks();
  confirmDangerousForms();
  printButtons();
})();
