/* Pruvon web UI: theme choice and confirmations. No inline script anywhere (CSP). */
(function () {
  "use strict";
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
