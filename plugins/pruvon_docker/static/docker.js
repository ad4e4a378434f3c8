/* The container log viewer: one WebSocket frame per line, bounded buffer, pause. */
(function () {
  "use strict";
  function wsUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }
  function append(output, lines, max) {
    if (!lines.length) { return; }
    output.textContent += lines.join("\n") + "\n";
    var all = output.textContent.split("\n");
    if (all.length > max + 1) { output.textContent = all.slice(all.length - max - 1).join("\n"); }
    output.scrollTop = output.scrollHeight;
  }
  function setup() {
    var box = document.getElementById("docker-logs");
    if (!box) { return; }
    var output = document.getElementById("logs-output");
    var status = document.getElementById("logs-status");
    var lines = document.getElementById("logs-lines");
    var max = parseInt(output.getAttribute("data-max-lines"), 10) || 2000;
    var paused = false, held = [], socket = null;
    function connect() {
      if (socket) { socket.close(); }
      output.textContent = "";
      socket = new WebSocket(wsUrl(box.getAttribute("data-ws") + "?lines=" + encodeURIComponent(lines.value)));
      var opened = false;
      socket.onopen = function () { opened = true; status.textContent = "live"; };
      socket.onclose = function () { status.textContent = opened ? "disconnected" : (window.PRUVON_WS_HINT || "disconnected"); };
      socket.onmessage = function (event) {
        var line = event.data;
        if (line.charAt(0) === "{") {
          try { var msg = JSON.parse(line); if (msg.type === "error") { status.textContent = msg.error; return; } } catch (e) { /* a log line */ }
        }
        if (paused) { held.push(line); if (held.length > max) { held.shift(); } return; }
        append(output, [line], max);
      };
    }
    lines.addEventListener("change", connect);
    document.getElementById("logs-pause").addEventListener("click", function (event) {
      paused = !paused;
      event.target.textContent = paused ? "Resume" : "Pause";
      if (!paused) { append(output, held, max); held = []; }
    });
    document.getElementById("logs-clear").addEventListener("click", function () { output.textContent = ""; });
    window.addEventListener("pagehide", function () { if (socket) { socket.close(); } });
    connect();
  }
  document.addEventListener("DOMContentLoaded", setup);
}());
