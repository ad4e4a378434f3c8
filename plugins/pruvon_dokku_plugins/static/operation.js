// Follows a plugin operation: appends new output lines and updates its status until it ends.
(function () {
  const card = document.getElementById("operation");
  if (!card) return;
  const url = card.dataset.operationUrl;
  let seen = parseInt(card.dataset.lines || "0", 10);
  const output = document.getElementById("op-output");
  const status = document.getElementById("op-status");
  const error = document.getElementById("op-error");
  async function poll() {
    const response = await fetch(url + "?after=" + seen, {credentials: "same-origin"});
    if (!response.ok) return;
    const op = await response.json();
    for (const line of op.output) output.textContent += line + "\n";
    seen += op.output.length;
    status.textContent = op.status;
    status.className = "op-" + op.status;
    if (op.error) { error.textContent = op.error; error.hidden = false; }
    if (["queued", "pending", "running"].includes(op.status)) setTimeout(poll, 500);
  }
  if (["queued", "pending", "running"].includes(status.textContent)) poll();
})();
