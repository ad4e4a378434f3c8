"""Simulated ``scheduler-k3s:cluster-list`` (Dokku's scheduler-k3s plugin, read-only part).

Faithful to ``plugins/scheduler-k3s`` (``CommandClusterList``): ``--format``
is ``stdout`` (default) or ``json``, anything else fails with ``Invalid
format: X``.  ``stdout`` is ryanuber/columnize of ``name|ready|roles|version``
(columns padded to their widest cell, glued with two spaces, the last column
unpadded); ``json`` is Go's marshalling of its ``Node`` struct, which has no
json tags: ``[{"Name":…,"Roles":[…],"Ready":true,"RemoteHost":…,"Version":…}]``.
Without a cluster (no k3s kubeconfig) the Kubernetes client cannot be created
and the command fails.

The simulated cluster is ``<root>/k3s/nodes.json``, written by
:func:`set_nodes` (tests, the demo): a list of ``{name, roles, ready,
remote_host, version}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pruvon_testing.sim.core import Ctx, Flag, SimState, command, parse_flags, write_atomic

NO_CLUSTER = ("Unable to create kubernetes client: stat /etc/rancher/k3s/k3s.yaml: "
              "no such file or directory")


def _nodes_file(state: SimState) -> Path:
    return state.root / "k3s" / "nodes.json"


def set_nodes(state: SimState, nodes: list[dict[str, Any]]) -> None:
    """Make the host a k3s cluster with these nodes (``[]`` removes the cluster)."""
    path = _nodes_file(state)
    if not nodes:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(nodes))


def _columnize(lines: list[str]) -> str:
    rows = [line.split("|") for line in lines]
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        out.append("  ".join(cells))
    return "\n".join(out)


@command("scheduler-k3s:cluster-list")
def cluster_list(ctx: Ctx) -> int:
    values, _rest = parse_flags(ctx, "scheduler-k3s:cluster-list", ctx.args,
                                [Flag("format", "string", "stdout", "format: [ stdout | json ]")])
    fmt = str(values["format"])
    if fmt not in ("stdout", "json"):
        ctx.fail(f"Invalid format: {fmt}")
    try:
        nodes = json.loads(_nodes_file(ctx.state).read_text())
    except FileNotFoundError:
        ctx.fail(NO_CLUSTER)
    if fmt == "json":
        ctx.out(json.dumps([{"Name": n["name"], "Roles": sorted(n.get("roles") or []),
                             "Ready": bool(n.get("ready")), "RemoteHost": n.get("remote_host", ""),
                             "Version": n.get("version", "")} for n in nodes],
                           separators=(",", ":")))
        return 0
    lines = ["name|ready|roles|version"] + [
        f"{n['name']}|{'true' if n.get('ready') else 'false'}|"
        f"{','.join(sorted(n.get('roles') or []))}|{n.get('version', '')}" for n in nodes]
    ctx.out(_columnize(lines))
    return 0
