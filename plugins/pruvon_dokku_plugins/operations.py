"""Plugin changes, declared once: install and the per-plugin actions, as background operations.

They share one lock target (``host:plugins``): Dokku's plugin directory is one
place, so two installs never interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruvon_core.dokku import DokkuClient
from pruvon_core.guard import Guard
from pruvon_core.operations import Context
from pruvon_core.opspecs import Call, OperationSpec, Runner
from pruvon_dokku_plugins import service

RESOURCE = "host"
TARGET = "plugins"


@dataclass
class PluginsDeps:
    client: DokkuClient
    state_dir: Path


def runner(guard: Guard, deps: PluginsDeps) -> Runner:
    return Runner(guard.for_kind(RESOURCE), deps.state_dir, deps)


def _check_install(call: Call) -> None:
    call.params["args"] = service.install_args(call.deps.client, call.params.get("url"),
                                               call.params.get("name"))


def _check_action(call: Call) -> None:
    call.params["args"] = service.action_args(call.deps.client, call.params.get("action"),
                                              call.params.get("name"),
                                              call.params.get("committish"))
    service.check_not_core(call.deps.client, call.params["args"][1])


def _run(call: Call, ctx: Context | None) -> dict[str, Any]:
    lines = service.run_plugin_command(call.deps.client, call.params["args"], ctx)
    return {"argv": call.params["args"], "lines": len(lines)}


INSTALL = OperationSpec(
    kind="plugins.install", action="plugins.write", resource=RESOURCE, check=_check_install,
    scoped=False, title=lambda c: " ".join(c.params["args"]),
    details=lambda c: {"argv": c.params["args"]}, run=_run,
)
ACTION = OperationSpec(
    kind="plugins.change", action="plugins.write", resource=RESOURCE, check=_check_action,
    scoped=False, title=lambda c: " ".join(c.params["args"]),
    details=lambda c: {"argv": c.params["args"]}, run=_run,
)


def _check_letsencrypt(call: Call) -> None:
    call.params["values"] = service.check_letsencrypt(call.params.get("values"))


LETSENCRYPT = OperationSpec(
    kind="plugins.letsencrypt", action="plugins.letsencrypt.write", resource=RESOURCE,
    check=_check_letsencrypt, scoped=False, background=False,
    title=lambda c: "Let's Encrypt global settings", details=lambda c: dict(c.params["values"]),
    run=lambda c, ctx: service.set_letsencrypt(c.deps.client, c.params["values"]),
)
