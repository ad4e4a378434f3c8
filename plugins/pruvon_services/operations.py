"""Every service operation, declared once: what the CLI, pages, API and shim run.

Each :class:`~pruvon_core.opspecs.OperationSpec` names the operation's kind
(``services.create`` …), permission action (from this plugin's ACTIONS),
steps and audit details, and calls the Dokku client through the generic
driver.  The target is always ``<type>/<name>``, so the guard checks the
actor's ``services: {type: [names]}`` grant.  Front ends build :func:`runner`
with their actor and hand it a spec, the target and the parsed input;
:class:`~pruvon_core.opspecs.Runner` does the rest (validation, permission,
per-service lock, audit ``started`` and outcome, the creator grant).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pruvon_core import safeguards
from pruvon_core.dokku import validate
from pruvon_core.guard import Guard
from pruvon_core.operations import Context
from pruvon_core.opspecs import Call, OperationSpec, Runner, action_of, creator_grant
from pruvon_core.opspecs import done as _done
from pruvon_core.opspecs import step as _step
from pruvon_services.kinds import UPGRADE_FLAGS, ServiceKind, available_kinds
from pruvon_services.service import (
    ServicesError,
    check_name,
    import_stream,
    open_dump,
    require_kind,
    require_unlinked,
)

CONFIG_OPTIONS_REACH = ("--config-options passes raw docker options to the service container "
                        "(volumes, devices, privileges: the whole host); only an admin may set them")
HOST_ACCESS = "services.host_access"
LINK_APP_ACTION = "apps.config.write"
REVEAL_ACTION = "services.manage"  # the DSN's password: writers only, every reveal audited  # a link sets <ALIAS>_URL on the app and restarts it


@dataclass
class ServicesDeps:
    """What service operations need, built by each front end from its config."""

    client: Any
    state_dir: Path
    store: Any = None  # the ConfigStore the creator grant is written to
    pruvon: Any = None  # the context: plugin-declared kinds, the before-destroy safeguards
    kinds: list[ServiceKind] | None = field(default=None)

    def available(self) -> list[ServiceKind]:
        """The kinds on this host (asked once per front-end request)."""
        if self.kinds is None:
            self.kinds = available_kinds(self.client, self.pruvon)
        return self.kinds


def runner(guard: Guard, deps: ServicesDeps) -> Runner:
    """The one runner for this actor and front end (host access: ``services.host_access``)."""
    if guard.host_action is None:
        guard = dataclasses.replace(guard, host_action=HOST_ACCESS)
    return Runner(guard, deps.state_dir, deps)


def target(kind: str, name: str) -> str:
    """The operation target of a service: ``<type>/<name>``."""
    return f"{kind}/{name}"


def split_target(value: str) -> tuple[str, str]:
    """``<type>/<name>`` checked: the kind's name and the service name."""
    kind, slash, name = str(value).partition("/")
    if not slash:
        raise ServicesError(f"a service is TYPE/NAME, not {value!r}")
    try:
        return validate.service_type(kind), check_name(name)
    except validate.InvalidName as exc:
        raise ServicesError(str(exc)) from exc


def _kind(call: Call) -> ServiceKind:
    """The target's kind among those installed (ServicesError when the plugin is missing)."""
    kind_name, _ = split_target(call.target)
    return require_kind(call.deps.available(), kind_name)


def _name(call: Call) -> str:
    return split_target(call.target)[1]


def _flags(call: Call, allowed: tuple[str, ...]) -> list[str]:
    values = call.params.get("flags") or {}
    if not isinstance(values, dict):
        raise ServicesError("flags must be an object of --flag: value")
    try:
        return validate.service_flags(values, allowed)
    except (validate.InvalidValue, validate.InvalidName) as exc:
        raise ServicesError(str(exc)) from exc


def _config_reach(call: Call) -> str | None:
    return CONFIG_OPTIONS_REACH if "--config-options" in call.params["argv_flags"] else None


def _apps(values: object) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        raise ServicesError("link: give a list of app names")
    try:
        return list(dict.fromkeys(validate.app_name(app) for app in values))
    except (validate.InvalidName, validate.InvalidValue) as exc:
        raise ServicesError(str(exc)) from exc


def _require_apps(call: Call, apps: list[str]) -> None:
    """Linking writes ``<ALIAS>_URL`` into each app: the actor must be allowed to."""
    guard = call.guard.for_kind("app")
    for app in apps:
        guard.require(LINK_APP_ACTION, app)


def _grant_service(store: Any, username: str, created: str) -> None:
    """A scoped user who created a service may manage it (API keys: their owner)."""
    from pruvon_auth.public import grant_service

    kind, name = split_target(created)
    grant_service(store, username, kind, name)


grant_creator = creator_grant(_grant_service)


# --------------------------------------------------------------------------- create
def _check_create(call: Call) -> None:
    kind = _kind(call)
    call.params["argv_flags"] = _flags(call, kind.create_flags)
    call.params["link"] = _apps(call.params.get("link"))
    _require_apps(call, call.params["link"])


def _create(call: Call, ctx: Context | None) -> dict[str, Any]:
    kind, name = _kind(call), _name(call)
    _step(ctx, "create")
    call.deps.client.service_create(kind.name, name, call.params["argv_flags"], ctx=ctx)
    call.created(call.target)
    _done(ctx, call.target)
    for app in call.params["link"]:
        _step(ctx, f"link {app}")
        call.deps.client.service_link(kind.name, name, app, ctx=ctx)
        _done(ctx, app)
    return {"type": kind.name, "name": name, "linked": call.params["link"]}


CREATE = OperationSpec(
    kind="services.create", action="services.create", resource="service", scoped=False,
    check=_check_create,
    steps=lambda c: ["create", *(f"link {app}" for app in c.params["link"])],
    title=lambda c: f"create {c.target}",
    details=lambda c: {"flags": [f for f in c.params["argv_flags"] if f.startswith("--")],
                       "link": c.params["link"]},
    reach=_config_reach, run=_create, on_created=(grant_creator,),
)


# --------------------------------------------------------------------------- destroy
def _check_destroy(call: Call) -> None:
    _kind(call)
    name = _name(call)
    if call.params.get("confirm") != name:
        raise ServicesError(f"type the service name ({name}) exactly to confirm")


def _destroy(call: Call, ctx: Context | None) -> dict[str, Any]:
    kind, name = _kind(call), _name(call)
    client = call.deps.client
    _step(ctx, "check links")
    require_unlinked(client, kind, name)
    _done(ctx)
    _step(ctx, "safeguards")
    notes: list[str] = []
    if call.deps.pruvon is not None:
        notes = safeguards.before_destroy(call.deps.pruvon,
                                          {"kind": "service", "type": kind.name, "name": name})
    _done(ctx, "; ".join(notes))
    _step(ctx, "destroy")
    client.service_destroy(kind.name, name, ctx=ctx)
    _done(ctx, call.target)
    return {"type": kind.name, "name": name, "safeguards": notes}


DESTROY = OperationSpec(
    kind="services.destroy", action="services.destroy", resource="service",
    check=_check_destroy, steps=lambda c: ["check links", "safeguards", "destroy"],
    title=lambda c: f"destroy {c.target}", run=_destroy,
)


# --------------------------------------------------------------------------- link, unlink
def _check_link(call: Call) -> None:
    _kind(call)
    _name(call)
    if not call.params.get("app"):
        raise ServicesError("give the app to link")
    call.params["app"] = _apps([call.params["app"]])[0]
    try:
        for key, check in (("alias", validate.link_alias), ("querystring", validate.querystring)):
            if call.params.get(key):
                call.params[key] = check(call.params[key])
    except (validate.InvalidName, validate.InvalidValue) as exc:
        raise ServicesError(str(exc)) from exc
    _require_apps(call, [call.params["app"]])


def _link(call: Call, ctx: Context | None) -> dict[str, str]:
    app = call.params["app"]
    _step(ctx, f"link {app}")
    call.deps.client.service_link(_kind(call).name, _name(call), app,
                                  call.params.get("alias") or None,
                                  call.params.get("querystring") or None, ctx=ctx)
    _done(ctx, app)
    return {"service": call.target, "app": app}


def _unlink(call: Call, ctx: Context | None) -> dict[str, str]:
    app = call.params["app"]
    _step(ctx, f"unlink {app}")
    call.deps.client.service_unlink(_kind(call).name, _name(call), app, ctx=ctx)
    _done(ctx, app)
    return {"service": call.target, "app": app}


LINK = OperationSpec(
    kind="services.link", action="services.link", resource="service", check=_check_link,
    steps=lambda c: [f"link {c.params['app']}"],
    title=lambda c: f"link {c.target} to {c.params['app']}",
    details=lambda c: {"app": c.params["app"], "alias": c.params.get("alias") or None},
    run=_link,
)
UNLINK = OperationSpec(
    kind="services.unlink", action="services.link", resource="service", check=_check_link,
    steps=lambda c: [f"unlink {c.params['app']}"],
    title=lambda c: f"unlink {c.target} from {c.params['app']}",
    details=lambda c: {"app": c.params["app"]}, run=_unlink,
)


# --------------------------------------------------------------------------- lifecycle
def _check_target(call: Call) -> None:
    _kind(call)
    _name(call)


def _lifecycle(action: str) -> OperationSpec:
    def run(call: Call, ctx: Context | None) -> dict[str, str]:
        _step(ctx, action)
        call.deps.client.service_action(_kind(call).name, _name(call), action, ctx=ctx)
        _done(ctx)
        return {"service": call.target, "action": action}

    return OperationSpec(
        kind=f"services.{action}", action="services.manage", resource="service",
        check=_check_target, steps=lambda c: [action], title=lambda c: f"{action} {c.target}",
        run=run,
    )


START, STOP, RESTART = _lifecycle("start"), _lifecycle("stop"), _lifecycle("restart")


# --------------------------------------------------------------------------- expose
def _check_expose(call: Call) -> None:
    _check_target(call)
    ports = call.params.get("ports") or []
    if isinstance(ports, str):
        ports = ports.split()
    if not isinstance(ports, list):
        raise ServicesError("ports must be a list such as [\"15432\"]")
    try:
        call.params["ports"] = [validate.expose_port(p) for p in ports]
    except (validate.InvalidValue, validate.InvalidName) as exc:
        raise ServicesError(str(exc)) from exc
    kind = _kind(call)
    if kind.ports and len(call.params["ports"]) > len(kind.ports):
        raise ServicesError(f"{kind.name} has {len(kind.ports)} port(s) "
                            f"({' '.join(map(str, kind.ports))}): give at most that many")


def _expose(call: Call, ctx: Context | None) -> dict[str, Any]:
    _step(ctx, "expose")
    kind, name = _kind(call), _name(call)
    call.deps.client.service_expose(kind.name, name, call.params["ports"], ctx=ctx)
    _done(ctx, " ".join(call.params["ports"]) or "random ports")
    return {"service": call.target, "ports": call.params["ports"]}


def _unexpose(call: Call, ctx: Context | None) -> dict[str, str]:
    _step(ctx, "unexpose")
    call.deps.client.service_unexpose(_kind(call).name, _name(call), ctx=ctx)
    _done(ctx)
    return {"service": call.target}


EXPOSE = OperationSpec(
    kind="services.expose", action="services.manage", resource="service", check=_check_expose,
    steps=lambda c: ["expose"], title=lambda c: f"expose {c.target}",
    details=lambda c: {"ports": c.params["ports"]}, run=_expose,
)
UNEXPOSE = OperationSpec(
    kind="services.unexpose", action="services.manage", resource="service",
    check=_check_target, steps=lambda c: ["unexpose"], title=lambda c: f"unexpose {c.target}",
    run=_unexpose,
)


# --------------------------------------------------------------------------- clone, upgrade
def _check_clone(call: Call) -> None:
    kind = _kind(call)
    _name(call)
    if not kind.clonable:
        raise ServicesError(f"the {kind.name} plugin cannot clone services")
    call.params["new_name"] = check_name(call.params.get("new_name"))
    if call.params["new_name"] == _name(call):
        raise ServicesError("the clone needs a new name")
    call.params["argv_flags"] = _flags(call, kind.create_flags)
    # the clone is a new service: creating one is a global permission of its own
    call.guard.require("services.create")


def _clone(call: Call, ctx: Context | None) -> dict[str, str]:
    kind, new = _kind(call), call.params["new_name"]
    _step(ctx, "clone")
    call.deps.client.service_clone(kind.name, _name(call), new, call.params["argv_flags"],
                                   ctx=ctx)
    call.created(target(kind.name, new))
    _done(ctx, target(kind.name, new))
    return {"service": call.target, "clone": target(kind.name, new)}


CLONE = OperationSpec(
    kind="services.clone", action="services.export", resource="service", check=_check_clone,
    steps=lambda c: ["clone"], title=lambda c: f"clone {c.target} to {c.params['new_name']}",
    details=lambda c: {"new_name": c.params["new_name"]}, reach=_config_reach, run=_clone,
    on_created=(grant_creator,),
)


def _check_upgrade(call: Call) -> None:
    _check_target(call)
    call.params["argv_flags"] = _flags(call, UPGRADE_FLAGS)


def _upgrade(call: Call, ctx: Context | None) -> dict[str, Any]:
    _step(ctx, "upgrade")
    call.deps.client.service_upgrade(_kind(call).name, _name(call), call.params["argv_flags"],
                                     ctx=ctx)
    _done(ctx)
    return {"service": call.target, "flags": call.params["argv_flags"]}


UPGRADE = OperationSpec(
    kind="services.upgrade", action="services.manage", resource="service",
    check=_check_upgrade, steps=lambda c: ["upgrade"], title=lambda c: f"upgrade {c.target}",
    details=lambda c: {"flags": [f for f in c.params["argv_flags"] if f.startswith("--")]},
    reach=_config_reach, run=_upgrade,
)

# --------------------------------------------------------------------------- import
PROGRESS_EVERY = 0.5  # seconds between progress writes (a 1 GiB import is 16 k chunks)


def _check_import(call: Call) -> None:
    kind = _kind(call)
    _name(call)
    source, size = call.params.get("source"), call.params.get("size")
    if not hasattr(source, "read"):
        raise ServicesError("give the dump to import")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise ServicesError("size must be a number of bytes")
    # a bad file never starts an operation; a pipe is read ahead once (start() only)
    call.params["source"] = open_dump(kind, source)


def _progress(ctx: Context | None, size: int | None) -> Callable[[int], None]:
    """Bytes sent → the operation's percentage (and detail), at most every 0.5 s."""
    last = [0.0]

    def report(sent: int) -> None:
        now = time.monotonic()
        if ctx is None or now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        ctx.op.result = {"bytes": sent, "total": size}  # for /ws/services/import/<task>
        if size:
            ctx.fraction(min(sent / size, 1.0), f"{sent} of {size} bytes")
        else:
            ctx.fraction(0.0, f"{sent} bytes")

    return report


def _import(call: Call, ctx: Context | None) -> dict[str, Any]:
    kind, size = _kind(call), call.params.get("size")
    _step(ctx, "import")
    sent = [0]

    def progress(count: int) -> None:
        sent[0] = count
        report(count)

    report = _progress(ctx, size)
    import_stream(call.deps.client, kind, _name(call), call.params["source"], size, progress)
    _done(ctx, f"{sent[0]} bytes")
    return {"service": call.target, "bytes": sent[0], "total": size}


IMPORT = OperationSpec(
    kind="services.import", action="services.import", resource="service", check=_check_import,
    steps=lambda c: ["import"], title=lambda c: f"import into {c.target}",
    details=lambda c: {"size": c.params.get("size"),
                       "filename": c.params.get("filename") or None},
    run=_import,
)

SPECS = (CREATE, DESTROY, LINK, UNLINK, START, STOP, RESTART, EXPOSE, UNEXPOSE, CLONE, UPGRADE,
         IMPORT)
BY_NAME: dict[str, OperationSpec] = {spec.kind.split(".", 1)[1]: spec for spec in SPECS}


def cancel_action(kind: str) -> str:
    """The permission cancelling an operation of ``kind`` needs: the one that started it."""
    return action_of(SPECS, kind, "services.manage")

