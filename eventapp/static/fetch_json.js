// One JSON POST with the page's CSRF token (X-CSRFToken, Flask-WTF's header): how door mode
// (door.js) and the timetable editor (timetable.js) talk to the server.
// Resolves to {status, body}: body is the answer's JSON, or null when the answer is not JSON
// (a login page after the sign-in expired, a proxy's error page). Rejects when no answer came
// (no connection): each page decides what that means to it.
window.eventappPostJson = function (url, body, csrfToken) {
  "use strict";
  return window.fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      "Accept": "application/json",
      "X-CSRFToken": csrfToken
    },
    body: JSON.stringify(body)
  }).then(function (response) {
    return response.json().then(function (json) {
      return { status: response.status, body: json };
    }, function () {
      return { status: response.status, body: null };
    });
  });
};
