// The staff dashboard's live updates and staff actions. Plain JavaScript, no build step.
//
// The page is rendered on the server. This script listens to GET /api/stream and, for
// each event, fetches the server-rendered fragment of only what changed (one room card,
// one device row, the door feed, the evacuation list, the alerts) and swaps it in,
// keeping keyboard focus where it was. Each event names what it is about (docs/api.md):
// a room event its room (`id`), a booking event its `room_id`, a device event the device
// (`id`) and its `door`, an access event its `device`. Buttons call the JSON API with the
// session's CSRF token (the page's <meta name="csrf-token">) in the X-CSRF-Token header
// that cookie-authenticated requests must carry.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("dash-config").textContent);
  var words = config.strings;
  var live = document.getElementById("live-status");
  var announcer = document.getElementById("announcer");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var HEADERS = { "X-CSRF-Token": csrf ? csrf.getAttribute("content") : "", Accept: "application/json" };
  var DEBOUNCE_MS = 40;
  // Some changes come with time, not with an event (a booking's start, a device falling
  // silent): the rooms and devices are read again this often as well.
  var PERIODIC_MS = 15000;
  // The door path's health banner is read this often, stream or not (a stalled door path
  // sends no events about itself).
  var HEALTH_MS = 5000;

  function say(key, values) {
    var text = words[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function announce(text, failed) {
    announcer.textContent = text;
    announcer.classList.toggle("failed", Boolean(failed));
  }

  function setLive(state) {
    live.dataset.state = state;
    live.querySelector(".text").textContent = say("live." + state);
    live.querySelector(".icon").textContent =
      state === "on" ? "●" : state === "expired" ? "✕" : "◌";
    if (state === "expired") {
      var link = document.createElement("a");
      link.href = "/";
      link.textContent = say("signin.submit");
      live.querySelector(".text").append(" ", link);
    }
  }

  // -- fragments: fetch and swap, at most one request per fragment at a time ------------

  // A key is a whole fragment ("rooms", "devices", "feed"...) or one item of a list
  // ("room:<id>", "device:<id>"), fetched from the list's URL + "/<id>".
  var parts = {}; // key -> {url, id, running, again}
  var started = 0; // fetches started so far (`swap`)
  var timer = null;
  var due = new Set();
  var LISTS = { room: { url: "rooms", all: "rooms" }, device: { url: "devices", all: "devices" } };
  // The entrance's card is the building's, outside the rooms' list: it comes on its own.
  var ENTRANCES = config.entrances.map(function (id) { return "room:" + id; });

  function part(key) {
    if (!parts[key]) {
      var colon = key.indexOf(":");
      var list = colon > 0 ? LISTS[key.slice(0, colon)] : null;
      var item = list ? key.slice(colon + 1) : null;
      parts[key] = list
        ? { url: "/dashboard/fragments/" + list.url + "/" + encodeURIComponent(item), id: key.slice(0, colon) + "-" + item }
        : { url: "/dashboard/fragments/" + key, id: key === "rooms" ? "rooms-list" : key + "-body" };
    }
    return parts[key];
  }

  function refresh(key) {
    due.add(key);
    if (timer === null) {
      timer = setTimeout(flush, DEBOUNCE_MS);
    }
  }

  function flush() {
    timer = null;
    var keys = Array.from(due);
    due.clear();
    Object.keys(LISTS).forEach(function (kind) {
      if (keys.indexOf(LISTS[kind].all) >= 0) { // the whole list is due: its items come with it
        keys = keys.filter(function (k) { return k.indexOf(kind + ":") !== 0 || ENTRANCES.indexOf(k) >= 0; });
      }
    });
    keys.forEach(load);
  }

  function load(key) {
    var p = part(key);
    if (p.running) {
      p.again = true;
      return;
    }
    p.running = true;
    var seq = ++started;
    fetch(p.url + "?lang=" + encodeURIComponent(config.lang), { headers: HEADERS, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) {
          setLive("expired");
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) {
          swap(p.id, html, seq);
        }
      })
      .catch(function () { /* the stream's reconnect brings a fresh snapshot */ })
      .finally(function () {
        p.running = false;
        if (p.again) {
          p.again = false;
          load(key);
        }
      });
  }

  // What a fetch brings is stamped with the order in which the fetch started (data-seq),
  // and never replaces what a later fetch already showed: a list asked for before a change
  // and answered after its item's own newer fetch keeps that newer item.
  function seqOf(element) {
    for (var e = element; e; e = e.parentElement) {
      if (e.dataset && e.dataset.seq) {
        return Number(e.dataset.seq);
      }
    }
    return 0;
  }

  function swap(id, html, seq) {
    var old = document.getElementById(id);
    if (!old || seqOf(old) > seq) {
      return;
    }
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (!fresh) {
      return;
    }
    fresh.dataset.seq = String(seq);
    var focused = document.activeElement;
    var focusId = focused && old.contains(focused) ? focused.id : null;
    old.querySelectorAll("[data-seq]").forEach(function (newer) {
      var twin = Number(newer.dataset.seq) > seq && newer.id && fresh.querySelector("#" + CSS.escape(newer.id));
      if (twin) {
        twin.replaceWith(newer);
      }
    });
    old.replaceWith(fresh);
    if (focusId) {
      var again = document.getElementById(focusId);
      (again || fresh.querySelector("button") || document.getElementById("main")).focus();
    }
  }

  function refreshAll() {
    ["rooms", "alerts", "feed", "evacuation", "devices", "health"].concat(ENTRANCES).forEach(refresh);
  }

  // One room's card, or every room's when the event names none the page knows.
  function refreshRoom(room) {
    refresh(typeof room === "string" && config.rooms.indexOf(room) >= 0 ? "room:" + room : "rooms");
  }

  // -- the stream -------------------------------------------------------------------------

  var source = null;

  function parse(event) {
    try {
      return JSON.parse(event.data);
    } catch (e) {
      return {};
    }
  }

  function connect() {
    setLive("connecting");
    source = new EventSource("/api/stream");
    source.addEventListener("open", function () { setLive("on"); });
    source.addEventListener("snapshot", function () {
      setLive("on");
      refreshAll();
    });
    source.addEventListener("room", function (event) {
      var room = parse(event).id;
      refreshRoom(room);
      if (config.entrances.indexOf(room) >= 0) {
        refresh("evacuation"); // the building's people count is the entrance's
      }
    });
    source.addEventListener("booking", function (event) {
      refreshRoom(parse(event).room_id);
    });
    source.addEventListener("access", function () {
      // The feed, and who has entered; what a tap did to a booking comes as a booking event.
      refresh("feed");
      refresh("evacuation");
    });
    source.addEventListener("device", function (event) {
      var data = parse(event);
      refresh(typeof data.id === "string" && config.devices[data.id] ? "device:" + data.id : "devices");
      if (data.door && config.doors[data.door]) {
        refreshRoom(config.doors[data.door]); // its door's mode shows on the room card
      }
    });
    source.addEventListener("alert", function () { refresh("alerts"); });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (e.g. the session ended): find out which, and retry unless it is that.
        source = null;
        fetch("/dashboard/fragments/alerts", { headers: HEADERS, credentials: "same-origin" })
          .then(function (response) {
            if (response.status === 401) {
              setLive("expired");
            } else {
              setLive("lost");
              setTimeout(connect, 3000);
            }
          })
          .catch(function () {
            setLive("lost");
            setTimeout(connect, 3000);
          });
      } else {
        setLive("lost"); // the browser reconnects by itself
      }
    });
  }

  // -- staff actions ----------------------------------------------------------------------

  // What went wrong, in the reader's language: the API's `detail` is English, for
  // developers, so the page words the answer's status from its own catalogue instead.
  var ERRORS = { 401: "error.session", 403: "error.forbidden", 404: "error.not_found",
    409: "error.conflict", 400: "error.invalid", 422: "error.invalid", 429: "error.busy" };

  function failure(status) {
    if (status === 401) {
      setLive("expired");
    }
    return new Error(say(ERRORS[status] || (status >= 500 ? "error.server" : "error.invalid")));
  }

  function call(method, url, body) {
    var init = { method: method, headers: Object.assign({}, HEADERS), credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).catch(function () {
      throw new Error(say("error.network"));
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw failure(response.status);
        }
        return data;
      });
    });
  }

  var actions = {
    unlock: function (b) {
      return call("POST", "/api/doors/" + encodeURIComponent(b.dataset.door) + "/unlock").then(function () {
        return say("done.unlock", { door: b.dataset.name });
      });
    },
    mode: function (b) {
      var mode = b.dataset.mode;
      if (mode !== "normal" && !window.confirm(say("confirm." + mode, { door: b.dataset.name }))) {
        return null;
      }
      return call("PUT", "/api/doors/" + encodeURIComponent(b.dataset.door) + "/mode", { mode: mode }).then(function () {
        refreshRoom(config.doors[b.dataset.door]);
        return say("done.mode", { door: b.dataset.name });
      });
    },
    cancel: function (b) {
      if (!window.confirm(say("confirm.cancel", { title: b.dataset.title }))) {
        return null;
      }
      return call("POST", "/api/bookings/" + encodeURIComponent(b.dataset.booking) + "/cancel").then(function (booking) {
        refreshRoom(booking.room_id);
        return say("done.cancel");
      });
    },
    release: function (b) {
      if (!window.confirm(say("confirm.release", { title: b.dataset.title }))) {
        return null;
      }
      return call("POST", "/api/bookings/" + encodeURIComponent(b.dataset.booking) + "/release").then(function (booking) {
        refreshRoom(booking.room_id);
        return say("done.release");
      });
    },
    ack: function (b) {
      return call("POST", "/api/alerts/" + encodeURIComponent(b.dataset.alert) + "/ack").then(function () {
        refresh("alerts");
        return say("done.ack");
      });
    },
    print: function () {
      window.print();
      return null;
    },
  };

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button || button.disabled || button.getAttribute("aria-busy") === "true") {
      return;
    }
    var run = actions[button.dataset.action];
    var pending = run && run(button);
    if (!pending) {
      return;
    }
    button.setAttribute("aria-busy", "true");
    pending
      .then(function (message) { announce(message, false); })
      .catch(function (error) { announce(say("failed", { detail: error.message }), true); })
      .finally(function () { button.removeAttribute("aria-busy"); });
  });

  connect();
  setInterval(function () {
    if (source && source.readyState === EventSource.OPEN) {
      ENTRANCES.forEach(refresh);
      refresh("rooms");
      refresh("devices");
    }
  }, PERIODIC_MS);
  setInterval(function () { refresh("health"); }, HEALTH_MS);
})();
