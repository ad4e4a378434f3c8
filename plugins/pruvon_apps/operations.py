"""Every app operation, declared once: what the CLI, pages, API and WebSockets run.

Each :class:`~pruvon_core.opspecs.OperationSpec` names the operation's kind,
permission action, steps, audit details and host-access reach, and calls the
service functions (``service.py``, ``settings.py``) that do the work.  Front
ends build :func:`runner` with their actor and hand it a spec, the app and
the parsed input; :class:`~pruvon_core.opspecs.Runner` does the rest
(validation, permission, per-app lock, audit ``started`` and outcome, the
creator grant), the same way for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pruvon_apps import service, settings
from pruvon_core.dokku import DokkuClient, validate
from pruvon_core.guard import Guard
from pruvon_core.operations import Context
from pruvon_core.opspecs import Call, OperationSpec, Runner, action_of, creator_grant
from pruvon_core.opspecs import done as _done
from pruvon_core.opspecs import step as _step


@dataclass
class AppsDeps:
    """What the app operations need, built by each front end from its config."""

    client: DokkuClient
    state_dir: Path
    storage_dir: str = service.STORAGE_DIR
    index: service.DomainIndex | None = None
    store: Any = None  # the ConfigStore the creator grant is written to


def runner(guard: Guard, deps: AppsDeps) -> Runner:
    """The one runner for this actor and front end."""
    return Runner(guard, deps.state_dir, deps)


# --------------------------------------------------------------------------- processes
def _check_ps(call: Call) -> None:
    call.params["action"], call.params["process"] = service.check_ps(
        call.params.get("action"), call.params.get("process"))


PS = OperationSpec(
    kind="apps.ps", action="apps.ps.write", resource="app", check=_check_ps,
    steps=lambda call: ["run", "verify"],
    title=lambda c: f"{c.params['action']} {c.target}"
                    + (f" {c.params['process']}" if c.params["process"] else ""),
    details=lambda c: {"ps": c.params["action"], "process": c.params["process"]},
    run=lambda c, ctx: service.ps_action(
        c.deps.client, c.target, c.params["action"], c.params["process"], ctx,
        c.params.get("timeout", service.SETTLE_TIMEOUT)),
)


def _check_scale(call: Call) -> None:
    counts = call.params.get("counts")
    if not isinstance(counts, dict) or not counts:
        raise service.AppsError("give at least one TYPE=COUNT, e.g. web=2")
    service.parse_scale(f"{k}={v}" for k, v in counts.items())


SCALE = OperationSpec(
    kind="apps.scale", action="apps.ps.write", resource="app", check=_check_scale,
    steps=lambda call: ["run", "verify"], title=lambda c: f"scale {c.target}",
    details=lambda c: {"scale": c.params["counts"]},
    run=lambda c, ctx: service.scale(
        c.deps.client, c.target, c.params["counts"], ctx, c.params.get("skip_deploy", False),
        c.params.get("timeout", service.SETTLE_TIMEOUT)),
)


# --------------------------------------------------------------------------- config
def _check_config(call: Call) -> None:
    values, unset = call.params.get("set", {}), call.params.get("unset", [])
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise service.AppsError("set: must be an object of string values")
    if not isinstance(unset, list) or not all(isinstance(k, str) for k in unset):
        raise service.AppsError("unset: must be a list of keys")
    service.check_config_change(values, unset)


def _config_details(call: Call) -> dict[str, Any]:
    return {"set": sorted(call.params.get("set", {})),
            "unset": sorted(call.params.get("unset", [])), "restart": call.spec.background}


def _set_config(call: Call, ctx: Context | None) -> None:
    _step(ctx, "apply")
    service.set_config(call.deps.client, call.target, call.params.get("set", {}),
                       call.params.get("unset", []), call.spec.background, ctx)
    _done(ctx)


CONFIG = OperationSpec(
    kind="apps.config", action="apps.config.write", resource="app", check=_check_config,
    steps=lambda call: ["apply"], title=lambda c: f"config change on {c.target}",
    details=_config_details, run=_set_config,
)
CONFIG_NO_RESTART = OperationSpec(
    kind="apps.config", action="apps.config.write", resource="app", check=_check_config,
    title=CONFIG.title, details=_config_details, run=_set_config, background=False,
)


# --------------------------------------------------------------------------- domains, ports
def _check_domains(call: Call) -> None:
    call.params["change"], call.params["domains"] = service.check_domains(
        call.params.get("change"), call.params.get("domains", []))


def _change_domains(call: Call, ctx: Context | None) -> None:
    _step(ctx, "apply")
    after = service.change_domains(call.deps.client, call.target, call.params["change"],
                                   call.params["domains"], ctx, call.deps.index)
    _done(ctx, " ".join(after))


DOMAINS = OperationSpec(
    kind="apps.domains", action="apps.domains.write", resource="app", check=_check_domains,
    steps=lambda call: ["apply"], title=lambda c: f"domains {c.params['change']} on {c.target}",
    details=lambda c: {"change": c.params["change"], "domains": list(c.params["domains"])},
    run=_change_domains,
)


def _check_ports(call: Call) -> None:
    call.params["change"], call.params["ports"] = service.check_ports(
        call.params.get("change"), call.params.get("ports", []))


def _change_ports(call: Call, ctx: Context | None) -> None:
    _step(ctx, "apply")
    service.change_ports(call.deps.client, call.target, call.params["change"],
                         call.params["ports"], ctx)
    _done(ctx)


PORTS = OperationSpec(
    kind="apps.ports", action="apps.ports.write", resource="app", check=_check_ports,
    steps=lambda call: ["apply"], title=lambda c: f"ports {c.params['change']} on {c.target}",
    details=lambda c: {"change": c.params["change"], "ports": list(c.params["ports"])},
    run=_change_ports,
)


# --------------------------------------------------------------------------- storage
def _check_storage(call: Call) -> None:
    if call.params.get("change") not in ("mount", "unmount"):
        raise service.AppsError("storage action must be mount or unmount")


STORAGE = OperationSpec(
    kind="apps.storage", action="apps.storage.write", resource="app", check=_check_storage,
    background=False, title=lambda c: f"storage {c.params['change']} on {c.target}",
    details=lambda c: {k: c.params[k] for k in ("change", "host", "container")},
    reach=lambda c: (service.storage_reach(c.target, c.params["host"], c.deps.storage_dir)
                     if c.params["change"] == "mount" else None),
    run=lambda c, ctx: service.storage_change(
        c.deps.client, c.target, c.params["change"] == "mount", c.params["host"],
        c.params["container"], c.deps.storage_dir),
)


# --------------------------------------------------------------------------- deploy
def _check_image(call: Call) -> None:
    call.params["image"] = service.check_image(call.params.get("image"))


def _deploy_image(call: Call, ctx: Context | None) -> dict[str, str]:
    image = call.params["image"]
    _step(ctx, "deploy")
    result = service.deploy_image(call.deps.client, call.target, image, ctx)
    _done(ctx, image)
    return result


DEPLOY = OperationSpec(
    kind="apps.deploy", action="apps.deploy", resource="app", check=_check_image,
    steps=lambda call: ["deploy"], title=lambda c: f"deploy {c.params['image']} to {c.target}",
    details=lambda c: {"image": c.params["image"]}, run=_deploy_image,
)


def _check_git(call: Call) -> None:
    repo, ref = call.params.get("git_repo", ""), call.params.get("git_ref", "")
    if not isinstance(repo, str) or not isinstance(ref, str):
        raise service.AppsError("git_repo and git_ref must be text")
    repo, ref = repo.strip(), ref.strip()
    validate.git_repo(repo)
    if ref:
        validate.git_ref(ref)
    call.params.update(git_repo=repo, git_ref=ref)


def _deploy_git(call: Call, ctx: Context | None) -> dict[str, str]:
    repo, ref = call.params["git_repo"], call.params["git_ref"]
    _step(ctx, "deploy from git")
    result = service.deploy_git(call.deps.client, call.target, repo, ref or None, ctx)
    _done(ctx, repo)
    return result


DEPLOY_GIT = OperationSpec(
    kind="apps.deploy", action="apps.deploy", resource="app", check=_check_git,
    steps=lambda call: ["deploy from git"],
    title=lambda c: f"deploy {c.params['git_repo']}"
                    + (f"#{c.params['git_ref']}" if c.params["git_ref"] else "")
                    + f" to {c.target}",
    details=lambda c: {"git_repo": c.params["git_repo"], "git_ref": c.params["git_ref"]},
    reach=lambda c: service.git_reach(c.params["git_repo"]), run=_deploy_git,
)


# --------------------------------------------------------------------------- settings
def _setting_details(call: Call) -> dict[str, Any]:
    """The change's fields, prefixed so none shadows a record field (values are not secret)."""
    data = call.params["data"]
    return {"setting": call.params["data"].get("kind"),
            **{f"setting_{k}": v for k, v in data.items()
               if k != "kind" and v not in ("", None, [])}}


SETTING = OperationSpec(
    kind="apps.settings", action="apps.settings.write", resource="app", background=False,
    title=lambda c: f"{c.params['data'].get('kind')} on {c.target}", details=_setting_details,
    reach=lambda c: settings.host_reach(c.deps.client, c.target, str(c.params["data"].get(
        "kind", "")), c.params["data"], c.deps.storage_dir),
    run=lambda c, ctx: settings.change(c.deps.client, c.target,
                                       str(c.params["data"].get("kind", "")), c.params["data"]),
)


def _check_plugin(call: Call) -> None:
    data = call.params["data"]
    call.params["title"] = settings.check_plugin_change(call.deps.client, data["kind"], data)


def _plugin_change(call: Call, ctx: Context | None) -> Any:
    kind = call.params["data"]["kind"]
    _step(ctx, kind)
    result = settings.run_plugin_change(call.deps.client, call.target, kind,
                                        call.params["data"], ctx)
    _done(ctx)
    return result


def _plugin_spec(kind: str) -> OperationSpec:
    return OperationSpec(
        kind=f"apps.{kind}", action="apps.settings.write", resource="app", check=_check_plugin,
        steps=lambda call: [kind], title=lambda c: f"{c.params['title']} on {c.target}",
        details=_setting_details, run=_plugin_change,
    )


PLUGIN_SETTINGS = {kind: _plugin_spec(kind) for kind in settings.PLUGIN_KINDS}


def setting_spec(kind: object) -> OperationSpec:
    """A quick property write, or the background operation of a community plugin."""
    return PLUGIN_SETTINGS.get(kind, SETTING) if isinstance(kind, str) else SETTING


# --------------------------------------------------------------------------- one container
def _check_kill(call: Call) -> None:
    call.params["container"] = validate.container_ref(call.params.get("container"))


def _kill(call: Call, ctx: Context | None) -> dict[str, Any]:
    from pruvon_apps import extras

    return extras.kill_container(call.deps.client, call.target, call.params["container"])


KILL = OperationSpec(
    kind="apps.kill", action="apps.ps.write", resource="app", check=_check_kill,
    background=False, title=lambda c: f"kill {c.params['container']} of {c.target}",
    details=lambda c: {"container": c.params["container"]}, run=_kill,
)


# --------------------------------------------------------------------------- destroy
def _hook_context() -> Any:
    """The process's bound hook context (CLI root or web app), for the destroy safeguards."""
    from pruvon_core.plugins import get_plugin_manager

    return get_plugin_manager().pruvon


def _check_destroy(call: Call) -> None:
    if call.params.get("confirm") != call.target:
        raise service.AppsError(f"type the app name ({call.target}) exactly to confirm")
    if not isinstance(call.params.get("with_services", False), bool):
        raise service.AppsError("with_services: must be true or false")


DESTROY = OperationSpec(
    kind="apps.destroy", action="apps.destroy", resource="app", check=_check_destroy,
    steps=lambda call: service.destroy_steps(), title=lambda c: f"destroy {c.target}",
    details=lambda c: {"with_services": c.params.get("with_services", False)},
    run=lambda c, ctx: service.destroy(
        c.deps.client, c.target, c.params["confirm"], c.deps.state_dir,
        c.params.get("with_services", False), ctx, c.deps.index, pruvon=_hook_context()),
)


# --------------------------------------------------------------------------- create
def _grant_app(store: Any, username: str, app: str) -> None:
    """A scoped user who created an app may manage it (API keys: their owner)."""
    from pruvon_auth.public import grant_app

    grant_app(store, username, app)


grant_creator = creator_grant(_grant_app)


def _check_create(call: Call) -> None:
    service.check_create(call.deps.client, call.params["request"], call.deps.storage_dir)


CREATE = OperationSpec(
    kind="apps.create", action="apps.create", resource="app", scoped=False,
    check=_check_create, steps=lambda c: service.create_steps(c.params["request"]),
    title=lambda c: f"create {c.target}",
    reach=lambda c: service.create_reach(c.params["request"], c.deps.storage_dir),
    run=lambda c, ctx: service.run_create(c.deps.client, c.params["request"], ctx,
                                          c.deps.storage_dir, after_create=c.created),
    on_created=(grant_creator,),
)


def _check_rollback(call: Call) -> None:
    op = call.params["operation"]
    if op.kind != CREATE.kind or op.status not in ("failed", "cancelled", "timed_out",
                                                  "interrupted"):
        raise service.AppsError("only a failed or cancelled create can be rolled back")
    call.params["plan"] = service.rollback_plan(op.steps)
    if not call.params["plan"]:
        raise service.AppsError("nothing to roll back: no step had completed")


ROLLBACK = OperationSpec(
    kind="apps.rollback", action="apps.create", resource="app", scoped=False,
    check=_check_rollback, steps=lambda c: service.rollback_steps(c.params["plan"]),
    title=lambda c: f"roll back create {c.target}",
    details=lambda c: {"what": "rollback", "rolled_back": c.params["operation"].id},
    run=lambda c, ctx: service.run_rollback(c.deps.client, c.params["plan"], ctx),
)

SPECS = (PS, SCALE, CONFIG, DOMAINS, PORTS, DEPLOY, DEPLOY_GIT, DESTROY, CREATE, ROLLBACK,
         *PLUGIN_SETTINGS.values())


def cancel_action(kind: str) -> str:
    """The permission cancelling an operation of ``kind`` needs: the one that started it."""
    if kind == ROLLBACK.kind:
        return DESTROY.action
    return action_of(SPECS, kind, PS.action)
