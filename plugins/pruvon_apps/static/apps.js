/* Apps plugin: list filter, operation progress, log tail, create wizard.
   Progressive enhancement only: every page works without it. No eval, no inline code. */
(function () {
  "use strict";

  function csrf() {
    var field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  function wsUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function appendLines(pre, lines, max) {
    lines.forEach(function (line) { pre.appendChild(document.createTextNode(line + "\n")); });
    while (max && pre.childNodes.length > max) { pre.removeChild(pre.firstChild); }
    pre.scrollTop = pre.scrollHeight;
  }

  function renderSteps(list, steps) {
    list.textContent = "";
    steps.forEach(function (step) {
      var li = document.createElement("li");
      li.className = "step-" + step.status;
      li.textContent = step.name + " — " + step.status + (step.detail ? " · " + step.detail : "");
      list.appendChild(li);
    });
  }

  /* Live filter on the app list (the server-side ?q= works without JS). */
  function setupFilter() {
    var input = document.querySelector("[data-filter-table]");
    if (!input) { return; }
    var table = document.getElementById(input.getAttribute("data-filter-table"));
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr[data-search]").forEach(function (row) {
        row.hidden = needle !== "" && row.getAttribute("data-search").toLowerCase().indexOf(needle) < 0;
      });
    });
  }

  /* An operation page polls the JSON API (works whichever worker runs it). */
  function setupOperation() {
    var box = document.getElementById("operation");
    if (!box) { return; }
    var url = box.getAttribute("data-operation-url");
    var seen = parseInt(box.getAttribute("data-lines"), 10) || 0;
    var output = document.getElementById("op-output");
    function poll() {
      fetch(url + "?after=" + seen, { credentials: "same-origin" }).then(function (r) {
        return r.json();
      }).then(function (op) {
        if (op.error && !op.status) { return; }
        seen += op.output.length;
        appendLines(output, op.output, 5000);
        document.getElementById("op-status").textContent = op.status;
        document.getElementById("op-status").className = "op-" + op.status;
        document.getElementById("op-percent").textContent = Math.round(op.percent);
        document.getElementById("op-progress").value = op.percent;
        renderSteps(document.getElementById("op-steps"), op.steps);
        var err = document.getElementById("op-error");
        err.hidden = !op.error;
        err.textContent = op.error || "";
        if (op.status === "queued" || op.status === "running") {
          setTimeout(poll, 1000);
        } else {
          var cancel = document.getElementById("op-cancel");
          if (cancel) { cancel.hidden = true; }
        }
      }).catch(function () { setTimeout(poll, 3000); });
    }
    poll();
  }

  /* Logs tab: one WebSocket frame per line, bounded buffer, pause, type filter. */
  function setupLogs() {
    var box = document.getElementById("logs");
    if (!box) { return; }
    var output = document.getElementById("logs-output");
    var status = document.getElementById("logs-status");
    var max = parseInt(output.getAttribute("data-max-lines"), 10) || 2000;
    var paused = false, held = [], socket = null;
    function connect() {
      if (socket) { socket.close(); }
      var process = document.getElementById("logs-process").value;
      var source = document.getElementById("logs-source").value;
      var query = source !== "app" ? "?source=" + encodeURIComponent(source)
        : (process ? "?process=" + encodeURIComponent(process) : "");
      var path = box.getAttribute("data-ws") + query;
      socket = new WebSocket(wsUrl(path));
      var opened = false;
      socket.onopen = function () { opened = true; status.textContent = "live"; };
      socket.onclose = function () {
        status.textContent = opened ? "disconnected" : window.PRUVON_WS_HINT;
      };
      socket.onmessage = function (event) {
        var line = event.data;
        if (line.charAt(0) === "{") {
          try { var msg = JSON.parse(line); if (msg.type === "error") { status.textContent = msg.error; return; } } catch (e) { /* a log line */ }
        }
        if (paused) { held.push(line); if (held.length > max) { held.shift(); } return; }
        appendLines(output, [line], max);
      };
    }
    document.getElementById("logs-process").addEventListener("change", connect);
    document.getElementById("logs-source").addEventListener("change", connect);
    document.getElementById("logs-pause").addEventListener("click", function (event) {
      paused = !paused;
      event.target.textContent = paused ? "Resume" : "Pause";
      if (!paused) { appendLines(output, held, max); held = []; }
    });
    document.getElementById("logs-clear").addEventListener("click", function () { output.textContent = ""; });
    window.addEventListener("pagehide", function () { if (socket) { socket.close(); } });
    connect();
  }

  /* Config tab: more key/value rows. */
  function setupConfigRows() {
    var button = document.getElementById("add-row");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var rows = document.getElementById("config-rows");
      var copy = rows.querySelector(".config-row").cloneNode(true);
      copy.querySelectorAll("input, textarea").forEach(function (f) { f.value = ""; });
      rows.appendChild(copy);
    });
  }

  /* Create wizard: live name check, then progress over a WebSocket, rollback on failure. */
  function setupCreate() {
    var form = document.getElementById("create-form");
    if (!form || !window.WebSocket) { return; }
    var name = form.querySelector("[data-check-name]");
    var hint = document.getElementById("name-check");
    var timer = null;
    name.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!name.value) { hint.textContent = ""; return; }
        fetch(name.getAttribute("data-check-name") + "?name=" + encodeURIComponent(name.value),
              { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (res) {
          hint.textContent = res.ok ? "✓ available" : (res.error || "");
          hint.className = res.ok ? "ok" : "bad";
        });
      }, 250);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = { type: "create" };
      new FormData(form).forEach(function (value, key) { if (key !== "csrf_token") { data[key] = value; } });
      var panel = document.getElementById("create-progress");
      var errorBox = document.getElementById("create-error");
      var rollback = document.getElementById("create-rollback");
      var output = document.getElementById("create-output");
      panel.hidden = false;
      errorBox.hidden = true;
      rollback.hidden = true;
      var socket = new WebSocket(wsUrl(form.getAttribute("data-ws")));
      var opened = false;
      socket.onopen = function () { opened = true; socket.send(JSON.stringify(data)); };
      socket.onclose = function () {
        if (!opened) { errorBox.hidden = false; errorBox.textContent = window.PRUVON_WS_HINT; }
      };
      socket.onmessage = function (event) {
        var msg = JSON.parse(event.data);
        if (msg.type === "progress") {
          document.getElementById("create-percent").textContent = Math.round(msg.operation.percent);
          document.getElementById("create-bar").value = msg.operation.percent;
          renderSteps(document.getElementById("create-steps"), msg.operation.steps);
          appendLines(output, msg.output, 5000);
        } else if (msg.type === "error") {
          errorBox.hidden = false;
          errorBox.textContent = msg.error;
        } else if (msg.type === "done") {
          var done = document.getElementById("create-done");
          done.hidden = false;
          if (msg.status === "succeeded") {
            done.textContent = "";
            var link = document.createElement("a");
            link.href = (document.body.dataset.hostPrefix || "") + "/apps/" +
              encodeURIComponent(msg.app);
            link.textContent = "Open " + msg.app;
            done.appendChild(link);
            rollback.hidden = true;
          } else {
            errorBox.hidden = false;
            errorBox.textContent = msg.status + ": " + (msg.error || "");
            rollback.hidden = !msg.can_rollback;
          }
        }
      };
      rollback.onclick = function () {
        rollback.hidden = true;
        socket.send(JSON.stringify({ type: "rollback" }));
      };
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupFilter();
    setupOperation();
    setupLogs();
    setupConfigRows();
    setupCreate();
  });
  window.pruvonApps = { csrf: csrf };
}());
