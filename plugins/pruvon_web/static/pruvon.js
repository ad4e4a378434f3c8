/* Pruvon web UI: theme choice and confirmations. No inline script anywhere (CSP). */
(function () {
  "use strict";
  /* Shown by every page whose WebSocket closed before it ever opened (terminals,
   * live logs, import/create progress) instead of spinning: the usual cause is a
   * reverse proxy that does not pass the Upgrade and Connection headers. */
  window.PRUVON_WS_HINT = "Could not open a WebSocket. If Pruvon is behind a reverse proxy, " +
    "it must pass the Upgrade and Connection headers (see docs/reverse-proxy.md; " +
    "`pruvon check --url URL` names what is missing).";
  var root = document.documentElement;
  var stored = null;
  try { stored = window.localStorage.getItem("pruvon-theme"); } catch (e) { stored = null; }
  if (stored === "light" || stored === "dark") { root.dataset.theme = stored; }

  function currentTheme() {
    if (root.dataset.theme) { return root.dataset.theme; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-theme-toggle]");
    if (!button) { return; }
    var next = currentTheme() === "dark" ? "light" : "dark";
    root.dataset.theme = next;
    try { window.localStorage.setItem("pruvon-theme", next); } catch (e) { /* private mode */ }
  });

  /* <div data-qr="otpauth://…">: draw the QR code (vendored qrcode-generator) as an image. */
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-qr]");
    for (var i = 0; i < boxes.length; i++) {
      if (typeof window.qrcode !== "function") { return; }
      var qr = window.qrcode(0, "M");
      qr.addData(boxes[i].getAttribute("data-qr"));
      qr.make();
      var img = document.createElement("img");
      img.src = qr.createDataURL(5, 4);
      img.alt = "QR code for your authenticator app";
      boxes[i].appendChild(img);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
