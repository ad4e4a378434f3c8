"""A small subset of Go's ``text/template`` for docker's ``--format`` flags.

Supported: ``{{json .}}``, ``{{.Field}}``, dotted paths ``{{.State.Status}}``,
``{{json .Config.Labels}}``, ``{{index .Config.Labels "key"}}``,
``{{.Label "key"}}`` (docker's ps context helper), ``{{.Field | json}}``, and the
``table`` prefix handled by the caller.  Anything else is a template error with
docker's wording, so callers get a clear message instead of wrong output.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}")


class TemplateError(ValueError):
    """The format cannot be executed (docker prints ``template: …`` and exits 1)."""


def go_value(value: Any) -> str:
    """How Go's template prints a value with ``{{.X}}`` (maps as ``map[k:v]``)."""
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = " ".join(f"{k}:{go_value(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    return str(value)


def go_json(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text


def _lookup(data: Any, path: str) -> Any:
    if path == ".":
        if isinstance(data, dict):  # "_"-keys are helpers (e.g. labels for .Label)
            return {k: v for k, v in data.items() if not k.startswith("_")}
        return data
    current = data
    for part in path.strip(".").split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        else:
            raise TemplateError(f'template: :1: executing "" at <{path}>: can\'t evaluate field {part}')
    return current


def _evaluate(expression: str, data: Any) -> str:
    pipeline = [part.strip() for part in expression.split("|")]
    try:
        words = shlex.split(pipeline[0])
    except ValueError as exc:
        raise TemplateError(f"template: :1: {exc}") from None
    if not words:
        raise TemplateError("template: :1: missing value for command")
    head = words[0]
    if head == "json" and len(words) == 2:
        result: Any = _lookup(data, words[1])
        as_json = True
    elif head == "index" and len(words) == 3:
        container = _lookup(data, words[1])
        result = container.get(words[2]) if isinstance(container, dict) else None
        as_json = False
    elif head == ".Label" and len(words) == 2:
        labels = data.get("_labels", {}) if isinstance(data, dict) else {}
        result = labels.get(words[1], "")
        as_json = False
    elif head.startswith(".") and len(words) == 1:
        result = _lookup(data, head)
        as_json = False
    else:
        raise TemplateError(f'template: :1: function "{head}" not defined')
    for stage in pipeline[1:]:
        if stage != "json":
            raise TemplateError(f'template: :1: function "{stage}" not defined')
        as_json = True
    return go_json(result) if as_json else go_value(result)


def render(template: str, data: Any) -> str:
    """Execute ``template`` against ``data``; ``\\t``/``\\n`` escapes are expanded as docker does."""
    template = template.replace("\\t", "\t").replace("\\n", "\n")
    return _ACTION.sub(lambda m: _evaluate(m.group(1), data), template)


def header(template: str) -> str:
    """The ``table`` header docker derives from the field names (``{{.ID}}`` -> ``CONTAINER ID``)."""
    names = {
        "ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
        "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE",
        "Status": "STATUS", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS",
        "Networks": "NETWORKS", "LocalVolumes": "LOCAL VOLUMES", "Name": "NAME",
        "Container": "CONTAINER", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT",
        "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS",
        "CreatedSince": "CREATED", "TotalCount": "TOTAL",
    }
    template = template.replace("\\t", "\t").replace("\\n", "\n")

    def title(match: re.Match[str]) -> str:
        words = [w for w in match.group(1).split() if w.startswith(".")]
        field = words[0].lstrip(".") if words else ""
        return names.get(field, field.upper())

    return _ACTION.sub(title, template)
