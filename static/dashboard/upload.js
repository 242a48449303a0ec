/* The upload box: drag and drop, then a chunked, resumable upload through the REST API
   (POST /v1/sites/{siteId}/deployments with Content-Range and X-Upload-Id), with a
   progress bar. Without this script the form posts the file to the dashboard. */
(function () {
  "use strict";

  var CHUNK = 4 * 1024 * 1024;
  var RETRIES = 5;
  var ARCHIVE = /\.(tar\.gz|tgz|zip)$/i;

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  ready(function () {
    var form = document.querySelector("form[data-upload]");
    if (!form || !window.FormData || !window.Blob || !Blob.prototype.slice) return;

    var input = form.querySelector('input[type="file"]');
    var zone = form.querySelector("[data-dropzone]");
    var nameLine = form.querySelector("[data-file-name]");
    var button = form.querySelector("[data-upload-button]");
    var progress = form.querySelector("[data-progress]");
    var bar = progress.querySelector(".progress-bar");
    var status = form.querySelector("[data-upload-status]");
    var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    var endpoint = form.getAttribute("data-endpoint");
    var deploymentUrl = form.getAttribute("data-deployment-url");
    var dropped = null;
    var busy = false;

    function chosen() { return dropped || (input.files && input.files[0]) || null; }

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("is-error", !!isError);
    }

    function showFile(file) {
      nameLine.hidden = !file;
      nameLine.textContent = file ? file.name + " (" + size(file.size) + ")" : "";
      if (file && !ARCHIVE.test(file.name)) say("Choose a .tar.gz, .tgz or .zip archive.", true);
      else say("");
    }

    input.addEventListener("change", function () { dropped = null; showFile(chosen()); });

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        if (!busy) zone.classList.add("is-dragging");
      });
    });
    ["dragleave", "dragend", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (busy) return;
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      dropped = files[0];
      try { input.files = files; dropped = null; } catch (e) { /* older browsers */ }
      showFile(chosen());
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      var file = chosen();
      if (!file) { say("Choose an archive first.", true); input.focus(); return; }
      if (!ARCHIVE.test(file.name)) { say("Choose a .tar.gz, .tgz or .zip archive.", true); return; }
      if (file.size === 0) { say("That file is empty.", true); return; }
      upload(file);
    });

    function setBusy(on) {
      busy = on;
      button.disabled = on;
      input.disabled = on;
      progress.hidden = false;
    }

    function setProgress(sent, total) {
      var percent = total ? Math.min(100, Math.floor((sent / total) * 100)) : 0;
      bar.style.width = percent + "%";
      bar.setAttribute("aria-valuenow", String(percent));
      say("Uploading… " + percent + "% of " + size(total));
    }

    function upload(file) {
      var activate = form.elements.namedItem("activate").checked;
      var uploadId = null;
      var offset = 0;
      var failures = 0;
      setBusy(true);
      setProgress(0, file.size);

      // An upload left open holds one of the site's few places (and its bytes) for a
      // day: give it back when this one fails or the page goes away mid-upload.
      function abandon() {
        if (!uploadId) return;
        var url = endpoint + "/uploads/" + encodeURIComponent(uploadId);
        uploadId = null;
        window.removeEventListener("pagehide", abandon);
        try {
          fetch(url, { method: "DELETE", keepalive: true, credentials: "same-origin",
                       headers: { "X-CSRFToken": csrf, "Accept": "application/json" } });
        } catch (e) { /* best effort: it lapses after a day anyway */ }
      }
      window.addEventListener("pagehide", abandon);
      function failed(text) { abandon(); fail(text); }

      function next() {
        var end = Math.min(offset + CHUNK, file.size);
        sendChunk(file, offset, end, uploadId, activate).then(function (reply) {
          failures = 0;
          if (reply.status === 202 && reply.body && reply.body.uploadId && reply.body.complete === false) {
            uploadId = reply.body.uploadId;
            offset = reply.body.sizeReceived;
            setProgress(offset, file.size);
            next();
          } else if (reply.status === 202 && reply.body && reply.body.id) {
            uploadId = null;  // complete: the server removed it
            window.removeEventListener("pagehide", abandon);
            setProgress(file.size, file.size);
            say("Uploaded. Opening the build…");
            window.location.assign(deploymentUrl.replace("__id__", encodeURIComponent(reply.body.id)));
          } else {
            failed(message(reply));
          }
        }, function () {
          // The connection dropped: ask how much arrived, then resume from there.
          failures += 1;
          if (failures > RETRIES) { failed("The connection keeps failing; try again later."); return; }
          say("Connection lost; retrying in " + failures * 2 + " s…");
          setTimeout(function () {
            if (!uploadId) { offset = 0; next(); return; }
            request("GET", endpoint + "/uploads/" + encodeURIComponent(uploadId)).then(function (reply) {
              if (reply.status === 200 && reply.body) { offset = reply.body.sizeReceived; next(); }
              else failed(message(reply));
            }, function () { next(); });
          }, failures * 2000);
        });
      }
      next();
    }

    function fail(text) {
      setBusy(false);
      progress.hidden = true;
      say(text || "The upload failed.", true);
    }

    function sendChunk(file, start, end, uploadId, activate) {
      var data = new FormData();
      data.append("code", file.slice(start, end), file.name);
      data.append("activate", activate ? "true" : "false");
      var headers = { "Content-Range": "bytes " + start + "-" + (end - 1) + "/" + file.size };
      if (uploadId) headers["X-Upload-Id"] = uploadId;
      return request("POST", endpoint, data, headers, function (loaded) {
        setProgress(start + loaded, file.size);
      });
    }

    function request(method, url, body, headers, onProgress) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        xhr.open(method, url);
        xhr.setRequestHeader("X-CSRFToken", csrf);
        xhr.setRequestHeader("Accept", "application/json");
        Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
        if (onProgress && xhr.upload) {
          xhr.upload.onprogress = function (event) { if (event.lengthComputable) onProgress(event.loaded); };
        }
        xhr.onload = function () {
          var parsed = null;
          try { parsed = JSON.parse(xhr.responseText); } catch (e) { parsed = null; }
          if (xhr.status >= 500) reject(new Error("server error " + xhr.status));
          else resolve({ status: xhr.status, body: parsed });
        };
        xhr.onerror = function () { reject(new Error("network")); };
        xhr.send(body || null);
      });
    }

    function message(reply) {
      if (reply.body && reply.body.message) return reply.body.message;
      if (reply.status === 403) return "Your role does not allow deploying this site.";
      if (reply.status === 413) return "The archive is too large for this server.";
      return "The upload failed (HTTP " + reply.status + ").";
    }
  });

  function size(bytes) {
    var units = ["bytes", "KB", "MB", "GB"];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }
})();
