/* Pruvon terminal page: xterm.js bridged to /ws/... (binary data, JSON control).
 * No inline script or style anywhere (CSP): what xterm would write into <style>
 * elements goes into constructed stylesheets, which the CSP allows. */
(function () {
  "use strict";
  var box = document.getElementById("terminal");
  if (!box || typeof Terminal === "undefined") { return; }

  var statusEl = document.getElementById("terminal-status");
  var reconnectBtn = document.getElementById("terminal-reconnect");
  var copyBtn = document.getElementById("terminal-copy");
  var pasteBtn = document.getElementById("terminal-paste");
  // one-off run: the command goes in the socket's first message, never in a URL
  // (proxies log URLs, browsers keep them in history; a command may hold a password)
  var runForm = box.dataset.mode === "run" ? document.getElementById("terminal-run") : null;
  var cmdInput = document.getElementById("terminal-cmd");
  var command = null;
  var encoder = new TextEncoder();
  var ws = null;
  var pingTimer = null;
  var finished = false;

  // --- CSP-compatible styles.  xterm.js writes its CSS into <style> elements,
  // which a CSP without 'unsafe-inline' blocks (even empty ones).  Here its
  // "style elements" are inert <template> placeholders whose textContent feeds
  // a constructed stylesheet instead (CSSOM, which the CSP allows).
  var createElement = document.createElement.bind(document);
  document.createElement = function (tag, options) {
    if (String(tag).toLowerCase() !== "style") { return createElement(tag, options); }
    var holder = createElement("template");
    var sheet = new CSSStyleSheet();
    var text = "";
    holder.dataset.xtermStyle = "";
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    Object.defineProperty(holder, "textContent", {
      get: function () { return text; },
      set: function (value) {
        text = String(value);
        try { sheet.replaceSync(text); } catch (e) { /* keep the previous rules */ }
      }
    });
    return holder;
  };
  // Its DOM renderer also colours single cells with setAttribute("style", ...),
  // which the CSP blocks as an inline style; the same declarations set through
  // CSSOM (element.style.cssText) are allowed.  Only scripts reach this path, and
  // the only scripts on this page are ours and the vendored xterm.js.
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (String(name).toLowerCase() === "style" && this.style) {
      this.style.cssText = String(value);
      return undefined;
    }
    return setAttribute.call(this, name, value);
  };

  var term = new Terminal({
    cursorBlink: true,
    scrollback: 5000,
    fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace",
    fontSize: 14,
    theme: { background: "#000000" }
  });
  var fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(box);
  fit.fit();

  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = "terminal-status" + (kind ? " " + kind : "");
  }

  function send(data) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(data); }
  }
  function sendControl(message) { send(JSON.stringify(message)); }

  function onStatus(message) {
    if (message.type === "ready") {
      setStatus("connected: " + message.target, "ok");
    } else if (message.type === "notice") {
      term.write("\r\n\x1b[33m" + message.message + "\x1b[0m\r\n");
    } else if (message.type === "exited") {
      finished = true;
      setStatus("exited with status " + (message.code === null ? "unknown" : message.code),
        message.code === 0 ? "ok" : "bad");
    } else if (message.type === "closed") {
      finished = true;
      setStatus("closed: " + message.message, "bad");
    } else if (message.type === "error") {
      setStatus("error: " + message.error, "bad");
    }
  }

  function url() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var query = box.dataset.query ? box.dataset.query + "&" : "";
    return scheme + window.location.host + box.dataset.ws + "?" + query +
      "cols=" + term.cols + "&rows=" + term.rows;
  }

  function connect() {
    finished = false;
    reconnectBtn.hidden = true;
    term.reset();
    setStatus("connecting…");
    ws = new WebSocket(url());
    ws.binaryType = "arraybuffer";
    var opened = false;
    ws.onopen = function () {
      opened = true;
      if (command !== null) { sendControl({ type: "start", cmd: command }); }
      pingTimer = window.setInterval(function () { sendControl({ type: "ping" }); }, 25000);
      term.focus();
    };
    ws.onmessage = function (event) {
      if (typeof event.data === "string") {
        try { onStatus(JSON.parse(event.data)); } catch (e) { /* not ours */ }
      } else {
        term.write(new Uint8Array(event.data));
      }
    };
    ws.onclose = function (event) {
      window.clearInterval(pingTimer);
      if (!opened) {
        setStatus(window.PRUVON_WS_HINT, "bad");
      } else if (!finished && statusEl.className.indexOf("bad") < 0) {
        setStatus("disconnected" + (event.reason ? ": " + event.reason : ""), "bad");
      }
      reconnectBtn.hidden = false;
    };
  }

  term.onData(function (data) { send(encoder.encode(data)); });
  term.onBinary(function (data) {
    var bytes = new Uint8Array(data.length);
    for (var i = 0; i < data.length; i++) { bytes[i] = data.charCodeAt(i) & 255; }
    send(bytes);
  });
  term.onResize(function (size) { sendControl({ type: "resize", cols: size.cols, rows: size.rows }); });

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () { fit.fit(); }, 100);
  });

  function copy() {
    var text = term.getSelection();
    if (text && navigator.clipboard) { navigator.clipboard.writeText(text); }
    term.focus();
  }
  function paste() {
    if (navigator.clipboard && navigator.clipboard.readText) {
      navigator.clipboard.readText().then(function (text) { term.paste(text); term.focus(); });
    }
  }
  term.attachCustomKeyEventHandler(function (event) {
    if (event.type === "keydown" && event.ctrlKey && event.shiftKey) {
      if (event.code === "KeyC") { copy(); event.preventDefault(); return false; }
      if (event.code === "KeyV") { paste(); event.preventDefault(); return false; }
    }
    return true;
  });
  copyBtn.addEventListener("click", copy);
  pasteBtn.addEventListener("click", paste);
  reconnectBtn.addEventListener("click", connect);

  if (runForm) {
    runForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ws) {  // a new command replaces the running one; its socket reports no more
        ws.onopen = ws.onmessage = ws.onclose = null;
        window.clearInterval(pingTimer);
        ws.close();
      }
      command = cmdInput.value;
      connect();
    });
    setStatus("type a command and press Run");
    cmdInput.focus();
  } else {
    connect();
  }
})();
