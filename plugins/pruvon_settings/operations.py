"""Every settings change, declared once for the CLI, the API and the page.

All are quick changes (``background=False``): validated, permitted (the
actions are global and admin-only), run in the caller and audited ``ok`` or
``failed`` by :class:`~pruvon_core.opspecs.Runner`.  The GitHub sync is a
change too: it adds and removes keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruvon_core.dokku import DokkuClient
from pruvon_core.guard import Guard
from pruvon_core.opspecs import Call, OperationSpec, Runner
from pruvon_settings import service

RESOURCE = "host"  # the lock/audit target kind of host-wide settings


@dataclass
class SettingsDeps:
    """What the settings operations need, built by each front end."""

    client: DokkuClient
    state_dir: Path
    config: Any = None


def runner(guard: Guard, deps: SettingsDeps) -> Runner:
    return Runner(guard.for_kind(RESOURCE), deps.state_dir, deps)


def _check_key(call: Call) -> None:
    call.params["name"], call.params["key"] = service.check_key(
        call.params.get("name"), call.params.get("key"))


SSH_KEY_ADD = OperationSpec(
    kind="settings.ssh_keys.add", action="settings.ssh_keys.write", resource=RESOURCE,
    check=_check_key, scoped=False, background=False,
    title=lambda c: f"add SSH key {c.params['name']}",
    details=lambda c: {"ssh_name": c.params["name"], "fingerprint": c.params["key"].fingerprint,
                       "type": c.params["key"].kind, "bits": c.params["key"].bits},
    run=lambda c, ctx: service.add_key(c.deps.client, c.params["name"], c.params["key"]),
)


def _check_remove(call: Call) -> None:
    from pruvon_core.dokku.sshkeys import key_name

    call.params["name"] = key_name(call.params.get("name"))


SSH_KEY_REMOVE = OperationSpec(
    kind="settings.ssh_keys.remove", action="settings.ssh_keys.write", resource=RESOURCE,
    check=_check_remove, scoped=False, background=False,
    title=lambda c: f"remove SSH key {c.params['name']}",
    details=lambda c: {"ssh_name": c.params["name"]},
    run=lambda c, ctx: service.remove_key(c.deps.client, c.params["name"]),
)


def _check_sync(call: Call) -> None:
    only = call.params.get("user")
    if only is not None and not isinstance(only, str):
        raise service.SettingsError("user must be a user name")


def _sync(call: Call, ctx: Any) -> dict[str, Any]:
    results = service.sync_github(call.deps.client, call.deps.config, call.params.get("user"))
    return {"results": [r.as_dict() for r in results]}


GITHUB_SYNC = OperationSpec(
    kind="settings.github_sync", action="settings.ssh_keys.write", resource=RESOURCE,
    check=_check_sync, scoped=False, background=False,
    title=lambda c: "sync SSH keys from GitHub",
    details=lambda c: {"user": c.params.get("user") or "*"},
    run=_sync,
)


def _check_domains(call: Call) -> None:
    call.params["change"], call.params["domains"] = service.check_domains(
        call.params.get("change"), call.params.get("domains", []))


GLOBAL_DOMAINS = OperationSpec(
    kind="settings.domains", action="settings.domains.write", resource=RESOURCE,
    check=_check_domains, scoped=False, background=False,
    title=lambda c: f"global domains {c.params['change']}",
    details=lambda c: {"change": c.params["change"], "domains": c.params["domains"]},
    run=lambda c, ctx: c.deps.client.domains_global_change(c.params["change"],
                                                           c.params["domains"]),
)


def _check_cron(call: Call) -> None:
    call.params["values"] = service.check_cron(call.params.get("values"))


CRON_MAIL = OperationSpec(
    kind="settings.cron", action="settings.cron.write", resource=RESOURCE,
    check=_check_cron, scoped=False, background=False,
    title=lambda c: "global cron mail",
    details=lambda c: dict(c.params["values"]),
    run=lambda c, ctx: service.set_cron(c.deps.client, c.params["values"]),
)
