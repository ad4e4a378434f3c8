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

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
