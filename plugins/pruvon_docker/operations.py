"""Every docker operation, declared once: what the CLI, pages and API run.

Each is a quick change (``background=False``): the core runner validates the
input (a bad container id or signal never reaches docker), checks the
operation's own permission action (global, not per app: a container is a
host object), runs it and audits ``ok`` or ``failed`` with docker's message,
the same way for every front end.  The audit target is the container
(``container:<ref>``), or the host for a prune.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruvon_core.dokku import validate
from pruvon_core.guard import Guard
from pruvon_core.operations import Context
from pruvon_core.opspecs import Call, OperationSpec, Runner
from pruvon_docker import host

RESOURCE = "container"
PRUNE_TARGET = "system"  # audited as docker:system


@dataclass
class DockerDeps:
    """What the docker operations need, built by each front end."""

    client: Any  # pruvon_core.dokku.DokkuClient
    state_dir: Path


def runner(guard: Guard, deps: DockerDeps) -> Runner:
    return Runner(guard, deps.state_dir, deps)


def _check_ref(call: Call) -> None:
    call.target = validate.container_ref(call.target)


def _check_kill(call: Call) -> None:
    _check_ref(call)
    call.params["signal"] = host.check_signal(call.params.get("signal"))


def _lifecycle(action: str) -> OperationSpec:
    def run(call: Call, ctx: Context | None) -> dict[str, Any]:
        host.act(call.deps.client, action, call.target, call.params.get("signal"))
        return {"container": call.target, "action": action}

    return OperationSpec(
        kind=f"docker.{action}", action=f"docker.{action}", resource=RESOURCE, scoped=False,
        background=False, check=_check_kill if action == "kill" else _check_ref,
        title=lambda c: f"docker {action} {c.target}",
        details=lambda c: {"docker": action, **({"signal": c.params["signal"]}
                                                if action == "kill" else {})},
        run=run,
    )


START, STOP, RESTART, KILL = (_lifecycle(a) for a in host.ACTIONS)
LIFECYCLE = {"start": START, "stop": STOP, "restart": RESTART, "kill": KILL}


def _check_remove(call: Call) -> None:
    _check_ref(call)
    for flag in ("force",):
        if not isinstance(call.params.get(flag, False), bool):
            raise host.DockerInputError(f"{flag}: must be true or false")
    confirm = call.params.get("confirm")
    if confirm is not None and not isinstance(confirm, str):
        raise host.DockerInputError("confirm: must be the owning app's or service's name")


def _remove(call: Call, ctx: Context | None) -> dict[str, Any]:
    host.remove(call.deps.client, call.target, call.params.get("force", False),
                call.params.get("confirm"))
    return {"container": call.target, "action": "remove"}


REMOVE = OperationSpec(
    kind="docker.remove", action="docker.remove", resource=RESOURCE, scoped=False,
    background=False, check=_check_remove, title=lambda c: f"docker rm {c.target}",
    details=lambda c: {"docker": "rm", "force": c.params.get("force", False),
                       "confirm": c.params.get("confirm")},
    run=_remove,
)

PRUNE_WORD = "prune"


def _check_prune(call: Call) -> None:
    for flag in ("all_images", "volumes"):
        if not isinstance(call.params.get(flag, False), bool):
            raise host.DockerInputError(f"{flag}: must be true or false")
    if call.params.get("confirm") != PRUNE_WORD:
        raise host.DockerInputError(
            f'type "{PRUNE_WORD}" to confirm: docker system prune cannot be undone')


def _prune(call: Call, ctx: Context | None) -> dict[str, Any]:
    output = host.prune(call.deps.client, call.params.get("all_images", False),
                        call.params.get("volumes", False))
    return {"output": output}


PRUNE = OperationSpec(
    kind="docker.prune", action="docker.prune", resource="docker", scoped=False,
    background=False, check=_check_prune, title=lambda c: "docker system prune",
    details=lambda c: {"docker": "system prune", "all_images": c.params.get("all_images", False),
                       "volumes": c.params.get("volumes", False)},
    run=_prune,
)
