/* Services plugin: operation progress, live logs, import upload with progress.
   No inline script (CSP); every socket is same-origin with the session cookie. */
(function () {
  "use strict";

  function wsUrl(path) {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + path;
  }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text; }
    return el;
  }

  function renderSteps(list, steps) {
    list.textContent = "";
    steps.forEach(function (step) {
      var li = document.createElement("li");
      li.className = "step-" + step.status;
      li.appendChild(document.createTextNode(step.name + " "));
      var small = document.createElement("small");
      small.className = "muted";
      small.textContent = step.status + (step.detail ? " · " + step.detail : "");
      li.appendChild(small);
      list.appendChild(li);
    });
  }

  /* An operation page follows its operation over a WebSocket. */
  function setupOperation() {
    var box = document.getElementById("operation");
    if (!box || box.getAttribute("data-active") !== "1") { return; }
    var output = document.getElementById("op-output");
    var socket = new WebSocket(wsUrl(box.getAttribute("data-ws")));
    socket.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "progress") {
        var op = msg.operation;
        setText("op-status", op.status).className = "op-" + op.status;
        setText("op-percent", Math.round(op.percent));
        document.getElementById("op-progress").value = op.percent;
        renderSteps(document.getElementById("op-steps"), op.steps);
        msg.output.forEach(function (line) { output.appendChild(document.createTextNode(line + "\n")); });
      } else if (msg.type === "done") {
        var error = document.getElementById("op-error");
        if (msg.error) { error.textContent = msg.error; error.hidden = false; }
        document.getElementById("op-next").hidden = false;
        var cancel = document.getElementById("op-cancel");
        if (cancel) { cancel.hidden = true; }
      } else if (msg.type === "error") {
        setText("op-status", msg.error);
      }
    };
  }

  function setupLogs() {
    var box = document.getElementById("logs");
    if (!box) { return; }
    var output = document.getElementById("logs-output");
    var max = parseInt(output.getAttribute("data-max-lines"), 10) || 2000;
    var paused = false;
    var socket = new WebSocket(wsUrl(box.getAttribute("data-ws") + "?lines=200"));
    socket.onopen = function () { setText("logs-status", "live"); };
    socket.onclose = function () { setText("logs-status", "closed"); };
    socket.onmessage = function (event) {
      if (event.data.charAt(0) === "{") {
        try {
          var msg = JSON.parse(event.data);
          if (msg.type === "error") { setText("logs-status", msg.error); return; }
        } catch (e) { /* a log line that looks like JSON */ }
      }
      if (paused) { return; }
      output.appendChild(document.createTextNode(event.data + "\n"));
      while (output.childNodes.length > max) { output.removeChild(output.firstChild); }
      output.scrollTop = output.scrollHeight;
    };
    document.getElementById("logs-pause").addEventListener("click", function (event) {
      paused = !paused;
      event.target.textContent = paused ? "Resume" : "Pause";
    });
    document.getElementById("logs-clear").addEventListener("click", function () { output.textContent = ""; });
    window.addEventListener("pagehide", function () { socket.close(); });
  }

  /* Import: the file is the request body (streamed to disk by the server), then the
     import's progress comes as JSON frames {percent, bytes, total} on its socket. */
  function setupImport() {
    var box = document.getElementById("import");
    if (!box) { return; }
    var form = document.getElementById("import-form");
    var bar = document.getElementById("import-progress");
    var state = document.getElementById("import-state");
    var error = document.getElementById("import-error");
    function fail(text) {
      error.textContent = text; error.hidden = false;
      form.querySelector("button").disabled = false;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = document.getElementById("import-file").files[0];
      if (!file) { return; }
      error.hidden = true; state.hidden = false; bar.hidden = false; bar.value = 0;
      form.querySelector("button").disabled = true;
      state.textContent = "uploading…";
      var xhr = new XMLHttpRequest();
      xhr.open("POST", box.getAttribute("data-url"));
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("X-CSRF-Token", box.getAttribute("data-csrf"));
      xhr.setRequestHeader("X-Filename", file.name);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { state.textContent = "uploading " + Math.round(100 * e.loaded / e.total) + "%"; }
      };
      xhr.onerror = function () { fail("the upload failed (connection lost)"); };
      xhr.onload = function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = { error: xhr.statusText }; }
        if (xhr.status !== 202) { fail(answer.error || ("HTTP " + xhr.status)); return; }
        follow(answer);
      };
      xhr.send(file);
    });
    function follow(task) {
      state.textContent = "importing…";
      var socket = new WebSocket(wsUrl(task.ws));
      var ended = false;
      socket.onmessage = function (event) {
        var msg = JSON.parse(event.data);
        if (msg.type === "error") { ended = true; fail(msg.error); return; }
        bar.value = msg.percent || 0;
        bar.setAttribute("data-percent", Math.round(msg.percent || 0));
        if (msg.status) {
          ended = true;
          if (msg.status === "done") {
            bar.value = 100;
            state.textContent = "imported " + msg.total + " bytes (100%)";
            form.querySelector("button").disabled = false;
          } else { fail(msg.error || "the import failed"); }
        } else {
          state.textContent = "importing " + Math.round(msg.percent) + "% (" + msg.bytes + " of " + msg.total + " bytes)";
        }
      };
      socket.onclose = function () { if (!ended) { fail("the progress connection closed; see the operation list"); } };
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupOperation();
    setupLogs();
    setupImport();
  });
})();
