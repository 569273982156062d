// The reception desk's card enrolment by a tap. Plain JavaScript, no build step.
//
// The page waits for a card to be tapped at the reader chosen: every 2 s it fetches the
// server-rendered fragment that says what was tapped there since the page was opened, and
// swaps it into the live region (#tap-status, announced politely). Once a card is offered
// (the fragment carries data-found) it stops, so the form is not replaced while in use.
// Without this script the page's "check again" link does the same by hand.
(function () {
  "use strict";

  var status = document.getElementById("tap-status");
  if (!status || !status.dataset.poll) {
    return;
  }
  var POLL_MS = 2000;
  var url = status.dataset.poll;

  function found() {
    return status.querySelector("[data-found]") !== null;
  }

  function poll() {
    if (found()) {
      return;
    }
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        status.innerHTML = html;
        if (!found()) {
          window.setTimeout(poll, POLL_MS);
        }
      })
      .catch(function () {
        window.setTimeout(poll, POLL_MS * 2);
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
