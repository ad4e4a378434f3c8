/* Backups pages: restore/run progress over a WebSocket, confirmations, the "into" field. */
(function () {
  "use strict";

  function wsUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  function follow(section) {
    if (!window.WebSocket || section.getAttribute("data-active") !== "1") { return; }
    var bar = document.getElementById("op-progress");
    var socket = new WebSocket(wsUrl(section.getAttribute("data-ws")));
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (typeof frame.percent === "number") {
        bar.value = frame.percent;
        text("op-percent", String(frame.percent));
        text("op-bytes", String(frame.bytes));
        if (frame.total) {
          text("op-total", String(frame.total));
          document.getElementById("op-of").hidden = false;
        }
      }
      if (frame.status) {
        var status = frame.status === "done" ? "succeeded" : "failed";
        var label = document.getElementById("op-status");
        label.textContent = status;
        label.className = "op-" + status;
        document.querySelectorAll("#op-steps li.step-running").forEach(function (step) {
          step.className = status === "succeeded" ? "step-done" : "step-failed";
          var state = step.querySelector(".step-state");
          if (state) { state.textContent = status === "succeeded" ? "done" : "failed"; }
        });
        if (frame.status === "done") {
          bar.value = 100;
          text("op-percent", "100");
          document.getElementById("op-done").hidden = false;
        } else {
          var error = document.getElementById("op-error");
          error.textContent = frame.error || "failed";
          error.hidden = false;
        }
        section.setAttribute("data-active", "0");
      }
      if (frame.type === "error") {
        var err = document.getElementById("op-error");
        err.textContent = frame.error;
        err.hidden = false;
      }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("backup-operation");
    if (section) { follow(section); }
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    var into = document.getElementById("restore-into");
    var radio = document.getElementById("restore-new");
    if (into && radio) {
      into.addEventListener("input", function () { if (into.value) { radio.checked = true; } });
    }
  });
}());
