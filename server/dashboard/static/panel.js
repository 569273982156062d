// The door panel's live updates (/panel/{room}). Plain JavaScript, no build step.
//
// The page is rendered on the server. This script listens to the room's own stream
// (/panel/{room}/stream?key=...) and, on each `change`, fetches the state part again
// (/panel/{room}/state?key=...) and swaps it in. Time changes the panel without any event
// (a booking starts or ends, a new day): the state part says when (`data-refresh`), and it
// is fetched again then, and every half minute besides. While a booking waits for its
// holder, the countdown to its release ticks here every second, on the server's clock.
// A key replaced by staff makes the stream and the state answer 404: the page reloads and
// shows that there is no such panel. A server that restarts is reconnected to.
(function () {
  "use strict";

  var main = document.getElementById("main");
  var live = document.getElementById("panel-live");
  var announcer = document.getElementById("panel-announce");
  var key = new URLSearchParams(window.location.search).get("key") || "";
  var base = "/panel/" + encodeURIComponent(main.dataset.room);
  var stateUrl = base + "/state?key=" + encodeURIComponent(key) + "&lang=" + encodeURIComponent(main.dataset.lang);
  var streamUrl = base + "/stream?key=" + encodeURIComponent(key);
  var PERIODIC_MS = Number(main.dataset.periodic || 30) * 1000;
  var RECONNECT_MS = 3000;
  var skew = 0; // the server's clock minus this device's
  var running = false;
  var again = false;
  var dueTimer = null;
  var source = null;

  function current() {
    return document.getElementById("panel-now");
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // The countdown to the release, m:ss, on the server's clock.
  function tick() {
    var section = current();
    var left = section ? section.querySelector("[data-countdown]") : null;
    if (!left || !section.dataset.release) {
      return;
    }
    var ms = Math.max(0, Number(section.dataset.release) - (Date.now() + skew));
    var seconds = Math.ceil(ms / 1000);
    left.textContent = Math.floor(seconds / 60) + ":" + pad(seconds % 60);
  }

  // A fresh state part: the server's clock, and the next time it changes by itself.
  function adopt(section) {
    skew = Number(section.dataset.now) - Date.now();
    clearTimeout(dueTimer);
    var wait = Number(section.dataset.refresh) - (Date.now() + skew);
    if (wait < PERIODIC_MS) {
      dueTimer = setTimeout(load, Math.max(wait, 0) + 300);
    }
    tick();
  }

  function swap(html) {
    var old = current();
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (!old || !fresh) {
      return;
    }
    var changed = old.dataset.status !== fresh.dataset.status;
    old.replaceWith(fresh);
    if (changed) {
      announcer.textContent = fresh.querySelector(".state-word .word").textContent.trim();
    }
    adopt(fresh);
  }

  function gone() {
    window.location.reload(); // the server's page says there is no such panel
  }

  function load() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    fetch(stateUrl, { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) {
          gone();
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) {
          swap(html);
        }
      })
      .catch(function () { /* the stream's reconnect reads it again */ })
      .finally(function () {
        running = false;
        if (again) {
          again = false;
          load();
        }
      });
  }

  function connect() {
    source = new EventSource(streamUrl);
    source.addEventListener("open", function () {
      live.hidden = true;
      load(); // whatever changed while it was away
    });
    source.addEventListener("change", load);
    source.addEventListener("error", function () {
      live.hidden = false;
      if (source.readyState !== EventSource.CLOSED) {
        return; // the browser reconnects by itself
      }
      source = null;
      // Refused: a replaced key (404), or a server still starting; find out which.
      fetch(stateUrl, { credentials: "omit", cache: "no-store" })
        .then(function (response) {
          if (response.status === 404) {
            gone();
          } else {
            setTimeout(connect, RECONNECT_MS);
          }
        })
        .catch(function () { setTimeout(connect, RECONNECT_MS); });
    });
  }

  adopt(current());
  connect();
  setInterval(tick, 1000);
  setInterval(load, PERIODIC_MS);
})();
