/* The deployment page, live: the build log and the status follow the realtime feed.

   The page arrives with the log up to character `data-log-end`. The script opens
   /v1/realtime on the deployment's log and status channels, then fetches the log from
   that offset (GET .../logs?offset=N), so nothing written in between is lost. A log
   event is appended only for the part past what the page already has (no repeats); an
   event that starts beyond it means some were missed, and the log is fetched again from
   the current offset (no gaps). The feed reconnects with backoff and catches up the same
   way. Offsets count Unicode code points, as the server's do. */
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

  ready(function () {
    var root = document.querySelector("[data-deployment]");
    var pre = document.querySelector("[data-log]");
    if (!root || !pre || !window.fetch) return;

    var deploymentId = root.getAttribute("data-deployment-id");
    var status = root.getAttribute("data-status");
    var active = root.getAttribute("data-active") === "true";
    var logUrl = pre.getAttribute("data-log-url");
    var deploymentUrl = root.getAttribute("data-api-url");
    var have = parseInt(pre.getAttribute("data-log-end"), 10) || 0;
    var channels = json("realtime-channels") || [];
    var sentences = json("error-sentences") || {};
    var logChannel = channels[0]; // the view names the log's channel first (core/channels.py)
    var empty = document.querySelector("[data-log-empty]");
    var indicator = document.querySelector("[data-live-indicator]");
    var renderer = new AnsiRenderer(pre, JSON.parse(pre.getAttribute("data-ansi-state") || "{}"));

    var socket = null;
    var attempts = 0;
    var stopped = false;
    var fetching = false;
    var fetchAgain = false;
    var queued = [];
    var pingTimer = null;

    function isFinal() { return FINAL.indexOf(status) !== -1; }

    function nearBottom() { return pre.scrollHeight - pre.scrollTop - pre.clientHeight < 48; }

    function append(text) {
      if (!text) return;
      var follow = nearBottom();
      renderer.write(text);
      if (empty) empty.hidden = true;
      if (follow) pre.scrollTop = pre.scrollHeight;
    }

    /* A log event: keep only what lies past `have`; a gap means fetch from `have`. */
    function applyLog(payload) {
      var length = codePoints(payload.text);
      if (payload.offset + length <= have) return;
      if (payload.offset > have) { catchUp(); return; }
      append(payload.offset < have ? dropCodePoints(payload.text, have - payload.offset) : payload.text);
      have = payload.offset + length;
    }

    function catchUp() {
      if (fetching) { fetchAgain = true; return; }
      fetching = true;
      var from = have;
      // No Accept header: the API negotiates JSON renderers and would refuse text/plain.
      fetch(logUrl + "?offset=" + from, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (text) {
          if (have === from) { append(text); have = from + codePoints(text); }
        })
        .catch(function () { /* the next event or reconnect tries again */ })
        .then(function () {
          fetching = false;
          var pending = queued.sort(function (a, b) { return a.offset - b.offset; });
          queued = [];
          pending.forEach(applyLog);
          if (fetchAgain) { fetchAgain = false; catchUp(); }
          else if (isFinal()) stop();
        });
    }

    function onLog(payload) {
      if (fetching) queued.push(payload);
      else applyLog(payload);
    }

    function show(selector, visible) {
      document.querySelectorAll('[data-show-if="' + selector + '"]').forEach(function (el) { el.hidden = !visible; });
    }

    function setField(name, text) {
      document.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) { el.textContent = text; });
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
      status = d.status;
      active = !!d.active;
      root.setAttribute("data-status", status);
      document.querySelectorAll("[data-status-badge]").forEach(function (badge) {
        badge.className = "badge badge-" + status;
        badge.textContent = status.charAt(0).toUpperCase() + status.slice(1);
      });
      setField("buildStartedAt", utc(d.buildStartedAt));
      setField("buildEndedAt", utc(d.buildEndedAt));
      setField("buildDuration", duration(d.buildDuration));
      setField("outputSize", fileSize(d.outputSize));
      setField("errorCode", d.errorCode || "");
      setField("errorText", d.errorCode ? sentences[d.errorCode] || "" : "");
      var box = document.querySelector("[data-error-box]");
      if (box) box.hidden = !d.errorCode;
      var running = !isFinal();
      show("running", running);
      show("ready", status === "ready");
      show("not-ready", status !== "ready");
      show("active", active);
      show("not-active", !active);
      show("activatable", status === "ready" && !active);
      show("deletable", !running && !active);
      if (!running) {
        if (!fromRest) refresh();
        catchUp(); // the last lines, then stop
      }
    }

    function setIndicator(state) {
      if (!indicator) return;
      indicator.hidden = state === "off";
      indicator.classList.toggle("is-offline", state === "offline");
      indicator.textContent = state === "offline" ? "Reconnecting" : "Live";
    }

    function stop() {
      stopped = true;
      setIndicator("off");
      clearInterval(pingTimer);
      if (socket && socket.readyState <= 1) socket.close(1000);
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
          catchUp(); // whatever was written before the feed was open
          refresh(); // and a status change missed while it was down
        } else if (message.type === "event" && message.data) {
          var payload = message.data.payload || {};
          var forLog = (message.data.channels || []).indexOf(logChannel) !== -1;
          if (forLog && typeof payload.offset === "number") onLog(payload);
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

    pre.scrollTop = pre.scrollHeight;
    if (isFinal()) {
      catchUp(); // anything written between the page and now; nothing follows
    } else {
      connect();
    }
  });
})();
