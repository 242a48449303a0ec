/* The deployment page, live: its logs (the build log and, for a server-rendered
   deployment, the runtime log) and its status follow the realtime feed.

   Each log (<pre data-log>) arrives with its text up to character `data-log-end` and
   names its channel (`data-log-channel`) and its text's URL (`data-log-url`). One
   LogFollower per log does the catch-up: the script opens /v1/realtime on the
   deployment's channels, then each follower fetches its log from its offset
   (GET ...?offset=N), so nothing written in between is lost. A log event is appended
   only for the part past what the page already has (no repeats); an event that starts
   beyond it means some were missed, and the log is fetched again from the current
   offset (no gaps). The feed reconnects with backoff and every follower catches up the
   same way. Offsets count Unicode code points, as the server's do.

   The build log is complete once the status is final; the runtime log goes on while
   the server may run (a ready deployment), as long as the page is open. The runtime
   log is bounded: when its oldest part was dropped past the requested offset, the
   answer's X-Log-Offset says where its text begins, and the follower goes on from
   there. The feed closes once no log can grow any more. */
(function () {
  "use strict";

  var FINAL = ["ready", "failed", "canceled"];
  var REFUSED = [4400, 4401, 4403];

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function json(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function codePoints(text) { return Array.from(text).length; }
  function dropCodePoints(text, count) { return Array.from(text).slice(count).join(""); }

  /* ANSI SGR colours to spans (the same classes as config/dashboard/ansi.py). */
  function AnsiRenderer(target, state) {
    this.target = target;
    this.fg = state && state.fg != null ? state.fg : null;
    this.bold = !!(state && state.bold);
    this.carry = "";
  }
  AnsiRenderer.prototype.sgr = function (params) {
    var codes = params ? params.split(";").map(function (p) { return parseInt(p, 10) || 0; }) : [0];
    for (var i = 0; i < codes.length; i++) {
      var code = codes[i];
      if (code === 0) { this.fg = null; this.bold = false; }
      else if (code === 1) this.bold = true;
      else if (code === 22) this.bold = false;
      else if (code === 39) this.fg = null;
      else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) this.fg = code;
      else if (code === 38 || code === 48) i += codes[i + 1] === 5 ? 2 : 4;
    }
  };
  AnsiRenderer.prototype.emit = function (fragment, piece) {
    piece = piece.replace(/\r\n/g, "\n").replace(/\r/g, "\n")
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/g, "");
    if (!piece) return;
    var classes = [];
    if (this.fg !== null) classes.push("ansi-" + this.fg);
    if (this.bold) classes.push("ansi-bold");
    if (!classes.length) { fragment.appendChild(document.createTextNode(piece)); return; }
    var span = document.createElement("span");
    span.className = classes.join(" ");
    span.textContent = piece;
    fragment.appendChild(span);
  };
  AnsiRenderer.prototype.write = function (text) {
    text = this.carry + text;
    this.carry = "";
    // An escape sequence (or a CR) cut at the end waits for the rest.
    var cut = /(\x1b(\[[0-9;?]*)?|\r)$/.exec(text);
    if (cut) { this.carry = text.slice(cut.index); text = text.slice(0, cut.index); }
    var pattern = /\x1b\[([0-9;?]*)([@-~])|\x1b[^\[]?/g;
    var fragment = document.createDocumentFragment();
    var position = 0;
    var match;
    while ((match = pattern.exec(text))) {
      this.emit(fragment, text.slice(position, match.index));
      if (match[2] === "m") this.sgr(match[1] || "");
      position = pattern.lastIndex;
    }
    this.emit(fragment, text.slice(position));
    this.target.appendChild(fragment);
  };

  function duration(seconds) {
    if (seconds == null) return "—";
    seconds = Math.round(seconds);
    if (seconds < 60) return seconds + "s";
    var minutes = Math.floor(seconds / 60);
    seconds = seconds % 60;
    if (minutes < 60) return minutes + "m " + String(seconds).padStart(2, "0") + "s";
    return Math.floor(minutes / 60) + "h " + String(minutes % 60).padStart(2, "0") + "m";
  }

  function fileSize(bytes) {
    if (!bytes) return "—";
    if (bytes < 1024) return bytes + "\u00a0bytes";
    var units = ["KB", "MB", "GB", "TB"];
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return value.toFixed(1) + "\u00a0" + units[unit];
  }

  function utc(iso) {
    if (!iso) return "—";
    var date = new Date(iso);
    if (isNaN(date)) return iso;
    return date.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  /* One log on the page, following its channel: `follows()` says whether more of it
     can still come (once it says no, the next completed catch-up is the last). */
  function LogFollower(pre, follows, settled) {
    var card = pre.closest("[data-log-card]") || pre.parentNode;
    this.pre = pre;
    this.url = pre.getAttribute("data-log-url");
    this.channel = pre.getAttribute("data-log-channel");
    this.have = parseInt(pre.getAttribute("data-log-end"), 10) || 0;
    this.empty = card.querySelector("[data-log-empty]");
    this.indicator = card.querySelector("[data-live-indicator]");
    this.renderer = new AnsiRenderer(pre, JSON.parse(pre.getAttribute("data-ansi-state") || "{}"));
    this.follows = follows;
    this.settled = settled; // the page's: called when this log is complete
    this.done = false;
    this.fetching = false;
    this.fetchAgain = false;
    this.queued = [];
    pre.scrollTop = pre.scrollHeight;
  }

  LogFollower.prototype.nearBottom = function () {
    var pre = this.pre;
    return pre.scrollHeight - pre.scrollTop - pre.clientHeight < 48;
  };

  LogFollower.prototype.append = function (text) {
    if (!text) return;
    var follow = this.nearBottom();
    this.renderer.write(text);
    if (this.empty) this.empty.hidden = true;
    if (follow) this.pre.scrollTop = this.pre.scrollHeight;
  };

  /* Output that is no longer kept between what the page has and what follows. */
  LogFollower.prototype.markDropped = function () {
    var mark = document.createElement("span");
    mark.className = "log-dropped";
    mark.textContent = "\n[older output is no longer kept]\n";
    this.pre.appendChild(mark);
  };

  /* A log event: keep only what lies past `have`; a gap means fetch from `have`. */
  LogFollower.prototype.apply = function (payload) {
    var length = codePoints(payload.text);
    if (payload.offset + length <= this.have) return;
    if (payload.offset > this.have) { this.catchUp(); return; }
    this.append(payload.offset < this.have ? dropCodePoints(payload.text, this.have - payload.offset) : payload.text);
    this.have = payload.offset + length;
  };

  LogFollower.prototype.onEvent = function (payload) {
    if (this.fetching) this.queued.push(payload);
    else this.apply(payload);
  };

  LogFollower.prototype.catchUp = function () {
    var self = this;
    if (self.fetching) { self.fetchAgain = true; return; }
    self.fetching = true;
    var from = self.have;
    var url = new URL(self.url, window.location.href);
    url.searchParams.set("offset", String(from));
    // No Accept header: the API negotiates JSON renderers and would refuse text/plain.
    fetch(url.toString(), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        var begins = parseInt(response.headers.get("X-Log-Offset"), 10);
        return response.text().then(function (text) {
          return { text: text, begins: begins > from ? begins : from };
        });
      })
      .then(function (answer) {
        if (self.have !== from) return; // an event moved on meanwhile; the queue has it
        if (answer.begins > from && self.have > 0) self.markDropped();
        self.append(answer.text);
        self.have = answer.begins + codePoints(answer.text);
      })
      .catch(function () { /* the next event or reconnect tries again */ })
      .then(function () {
        self.fetching = false;
        var pending = self.queued.sort(function (a, b) { return a.offset - b.offset; });
        self.queued = [];
        pending.forEach(function (payload) { self.apply(payload); });
        if (self.fetchAgain) { self.fetchAgain = false; self.catchUp(); }
        else if (!self.done && !self.follows()) { self.done = true; self.settled(); }
      });
  };

  LogFollower.prototype.setIndicator = function (state) {
    var indicator = this.indicator;
    if (!indicator) return;
    if (this.done) state = "off";
    indicator.hidden = state === "off";
    indicator.classList.toggle("is-offline", state === "offline");
    indicator.textContent = state === "offline" ? "Reconnecting" : "Live";
  };

  ready(function () {
    var root = document.querySelector("[data-deployment]");
    var buildPre = document.querySelector('[data-log="build"]');
    var runtimePre = document.querySelector('[data-log="runtime"]');
    if (!root || !buildPre || !window.fetch) return;

    var deploymentId = root.getAttribute("data-deployment-id");
    var status = root.getAttribute("data-status");
    var active = root.getAttribute("data-active") === "true";
    var deploymentUrl = root.getAttribute("data-api-url");
    var channels = json("realtime-channels") || [];
    var sentences = json("error-sentences") || {};

    var socket = null;
    var attempts = 0;
    var stopped = false;
    var feedState = "off";
    var pingTimer = null;

    function isFinal() { return FINAL.indexOf(status) !== -1; }

    // The build log grows until the status is final; a server runs only for a ready
    // deployment, and may print while the page is open.
    var followers = [new LogFollower(buildPre, function () { return !isFinal(); }, settled)];
    if (runtimePre) {
      followers.push(new LogFollower(runtimePre, function () {
        return status !== "failed" && status !== "canceled";
      }, settled));
    }

    function everyDone() {
      return followers.every(function (f) { return f.done; });
    }

    function catchUpAll() {
      followers.forEach(function (f) { if (!f.done) f.catchUp(); });
    }

    /* A log is complete: its indicator goes off, and the feed closes once all are. */
    function settled() {
      setIndicator(feedState);
      if (everyDone()) stop();
    }

    function show(selector, visible) {
      document.querySelectorAll('[data-show-if="' + selector + '"]').forEach(function (el) { el.hidden = !visible; });
    }

    /* 3 -> "3rd in line", as the page's template tag line_place writes it. */
    function inLine(position) {
      if (!position) return "";
      var tens = position % 100, ones = position % 10;
      var suffix = tens >= 11 && tens <= 13 ? "th" : ["th", "st", "nd", "rd"][ones] || "th";
      return position + suffix + " in line";
    }

    function setField(name, text) {
      document.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) { el.textContent = text; });
    }

    function setBadges(selector, state) {
      document.querySelectorAll(selector).forEach(function (badge) {
        badge.className = "badge badge-" + state;
        badge.textContent = state.charAt(0).toUpperCase() + state.slice(1);
      });
    }

    /* The server of an ssr deployment: `{state, startedAt, lastRequestAt, error}`. */
    function onRuntime(runtime) {
      if (!runtime || !runtime.state) return;
      setBadges("[data-runtime-badge]", runtime.state);
      setField("runtimeStartedAt", utc(runtime.startedAt));
      setField("runtimeLastRequestAt", utc(runtime.lastRequestAt));
      var error = runtime.state === "failed" ? runtime.error || "" : "";
      setField("runtimeError", error);
      document.querySelectorAll('[data-field="runtimeError"]').forEach(function (el) { el.hidden = !error; });
    }

    /* The deployment as the REST API shows it now: after a reconnect (a status event
       may have been missed), and once it is final (its status event is sent before a
       ready deployment is made active, so `active` is read again). */
    function refresh() {
      fetch(deploymentUrl, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (d) { if (d) onDeployment(d, true); })
        .catch(function () { /* the page keeps what it has */ });
    }

    function onDeployment(d, fromRest) {
      if (d.id !== deploymentId) return;
      var wasFinal = isFinal();
      status = d.status;
      active = !!d.active;
      root.setAttribute("data-status", status);
      setBadges("[data-status-badge]", status);
      setField("buildStartedAt", utc(d.buildStartedAt));
      setField("buildEndedAt", utc(d.buildEndedAt));
      setField("buildDuration", duration(d.buildDuration));
      setField("outputSize", fileSize(d.outputSize));
      setField("queuePosition", inLine(d.queuePosition));
      show("queuePosition", !!d.queuePosition);
      setField("errorCode", d.errorCode || "");
      setField("errorText", d.errorCode ? sentences[d.errorCode] || "" : "");
      var box = document.querySelector("[data-error-box]");
      if (box) box.hidden = !d.errorCode;
      onRuntime(d.runtime);
      var running = !isFinal();
      show("running", running);
      show("ready", status === "ready");
      show("not-ready", status !== "ready");
      show("active", active);
      show("not-active", !active);
      show("activatable", status === "ready" && !active);
      show("deletable", !running && !active);
      if (!running) {
        if (!fromRest && !wasFinal) refresh();
        // A log that can no longer grow: its last lines, then it is complete.
        followers.forEach(function (f) { if (!f.done && !f.follows()) f.catchUp(); });
      }
    }

    function setIndicator(state) {
      feedState = state;
      followers.forEach(function (f) { f.setIndicator(state); });
    }

    function stop() {
      stopped = true;
      setIndicator("off");
      clearInterval(pingTimer);
      if (socket && socket.readyState <= 1) socket.close(1000);
    }

    function followerOf(channelNames) {
      for (var i = 0; i < followers.length; i++) {
        if (channelNames.indexOf(followers[i].channel) !== -1) return followers[i];
      }
      return null;
    }

    function connect() {
      if (stopped) return;
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var query = channels.map(function (c) { return "channels=" + encodeURIComponent(c); }).join("&");
      try {
        socket = new WebSocket(scheme + window.location.host + "/v1/realtime?" + query);
      } catch (e) {
        retry();
        return;
      }
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        if (message.type === "connected") {
          attempts = 0;
          setIndicator("live");
          catchUpAll(); // whatever was written before the feed was open
          refresh(); // and a status change missed while it was down
        } else if (message.type === "event" && message.data) {
          var payload = message.data.payload || {};
          var follower = followerOf(message.data.channels || []);
          if (follower && typeof payload.offset === "number") follower.onEvent(payload);
          else if (payload.id) onDeployment(payload);
        }
      };
      socket.onclose = function (event) {
        clearInterval(pingTimer);
        if (stopped) return;
        if (REFUSED.indexOf(event.code) !== -1) {
          setIndicator("off");
          stopped = true;
          return;
        }
        setIndicator("offline");
        retry();
      };
      socket.onopen = function () {
        clearInterval(pingTimer);
        pingTimer = setInterval(function () {
          if (socket.readyState === 1) socket.send(JSON.stringify({ type: "ping" }));
        }, 25000);
      };
    }

    function retry() {
      attempts += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempts - 1)) * (0.75 + Math.random() * 0.5);
      setTimeout(connect, delay);
    }

    if (followers.every(function (f) { return !f.follows(); })) {
      catchUpAll(); // anything written between the page and now; nothing follows
    } else {
      connect();
    }
  });
})();
