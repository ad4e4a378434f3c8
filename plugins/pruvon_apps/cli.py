"""``pruvon apps …``: the app lifecycle from a shell on the Dokku host.

Run as root or the ``pruvon`` user, the CLI is the ``system`` actor (like
``dokku`` itself); every change is audited with the operating-system user.
Long commands run as background operations in this process and print their
output as it comes; Ctrl-C cancels.  They take the same per-app lock as the
web UI, so a CLI restart never interleaves with one started in the browser.

Exit codes: 0 ok, 1 Dokku failed, 2 bad input, 3 the app is busy with another
operation, 4 timed out, 20 the app does not exist (as Dokku).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from pruvon_apps import operations, service
from pruvon_core.cli import CliContext, CliError, echo_json, echo_table, format_option, pass_ctx
from pruvon_core.cli_run import (
    EXIT_INCOMPLETE,
    CliEnv,
    ask_every_host,
    echo_lines,
    fail_if_hosts_failed,
    host_rows,
    run_spec,
    typed_errors,
)
from pruvon_core.dokku import errors, validate
from pruvon_core.hosts import op_target
from pruvon_core.operations import Operation
from pruvon_core.opspecs import OperationSpec
from pruvon_core.permissions import SYSTEM


# --------------------------------------------------------------------------- plumbing
class Env(CliEnv):
    """What every command needs: config, client, state dir, guard."""

    def __init__(self, obj: CliContext, all_hosts_ok: bool = False) -> None:
        super().__init__(obj, all_hosts_ok)
        self.guard = service.Guard(SYSTEM, self.config, self.state_dir,
                                   extra={"os_user": self.os_user, "via": "cli"})
        self.index = service.DomainIndex(self.state_dir)
        self.deps = operations.AppsDeps(self.client, self.state_dir, self.storage_dir,
                                        self.index, obj.store if self.config is not None else None)
        self.runner = operations.runner(self.guard, self.deps)
        self.ops = self.runner.manager

    @property
    def storage_dir(self) -> str:
        return service.storage_dir(self.config)


dokku_errors = typed_errors((errors.AppNotFound,))


def run_operation(env: Env, spec: OperationSpec, app: str, **params: Any) -> Operation:
    """Run ``spec`` on ``app`` through the one runner, printing its output live."""
    return run_spec(env.runner, spec, app, params)


# --------------------------------------------------------------------------- group
@click.group("apps")
def apps_group() -> None:
    """Dokku apps: list, inspect, create, destroy, configure, scale, logs."""


def show(fmt: str, data: Any, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """``--format json`` prints ``data``; the table format prints ``rows``."""
    if fmt == "json":
        echo_json(data)
    else:
        echo_table(rows, columns)


@apps_group.command("list")
@click.option("--search", default="", help="Only apps whose name, domain or state contains this.")
@click.option("--refresh", is_flag=True,
              help="Re-read every app's domains now (one domains:report, slow with many apps).")
@format_option
@pass_ctx
@dokku_errors
def list_command(obj: CliContext, search: str, refresh: bool, fmt: str) -> None:
    """Every app with its state, processes, domains and last deploy.

    States come live from 'apps:list' + one 'docker ps'; domains from the
    index the web UI keeps, read once when there is none yet or with --refresh.
    Exit 5 (the list still printed) when live state is unavailable, e.g. docker
    missing or failing: the reason is on stderr.  With `--host all` every
    host is asked at once (each row carries its host); a host that fails or
    does not answer within its timeout is named on stderr with its last good
    rows, and the exit is 5.
    """
    if obj.all_hosts:
        list_all_hosts(Env(obj, all_hosts_ok=True), search, fmt)
        return
    env = Env(obj)
    domains, age = env.index.load()
    if refresh or age is None:
        domains, age = env.index.refresh(env.client), 0.0
    rows, live = service.list_apps_live(env.client, lambda name: True, search, domains)
    if env.index.stale(r.name for r in rows) and fmt != "json":
        click.echo(f"(domains as of {age / 60:.0f} min ago; --refresh to re-read them)", err=True)
    if fmt == "json":
        echo_json({"apps": [r.as_dict() for r in rows], "live_state": live.as_dict()})
    else:
        echo_table(
            [{"name": r.name, "state": r.state,
              "processes": " ".join(f"{k}:{v}" for k, v in r.processes.items()),
              "domains": r.domains, "last_deploy": r.last_deploy} for r in rows],
            ["name", "state", "processes", "domains", "last_deploy"],
        )
    notice = service.live_state_notice(live)
    if notice:  # the list is printed, but it is not the whole answer: say so, exit non-zero
        raise CliError(notice, EXIT_INCOMPLETE)


def list_all_hosts(env: Env, search: str, fmt: str) -> None:
    """``apps list --host all``: every host in parallel, a timeout per host."""
    def fetch(client: Any) -> dict[str, Any]:
        domains, _age = service.DomainIndex(env.state_dir).load()
        rows, live = service.list_apps_live(client, lambda name: True, search, domains)
        return {"apps": [row.as_dict() for row in rows], "live_state": live.as_dict()}

    answers = ask_every_host(env, fetch, key=f"apps.list:{search}")
    rows = host_rows(answers, "apps")
    if fmt == "json":
        echo_json({"apps": rows, "hosts": [
            {**a.as_dict(), "live_state": a.data["live_state"] if a.data else None}
            for a in answers]})
    else:
        echo_table([{**r, "processes": " ".join(f"{k}:{v}" for k, v in r["processes"].items())}
                    for r in rows], ["host", "name", "state", "processes", "domains"])
    fail_if_hosts_failed(answers)


@apps_group.command("info")
@click.argument("app")
@format_option
@pass_ctx
@dokku_errors
def info_command(obj: CliContext, app: str, fmt: str) -> None:
    """One app: state, deploy source, domains, scale, containers."""
    env = Env(obj)
    detail = service.app_detail(env.client, app)
    if fmt == "json":
        echo_json(detail.as_dict())
        return
    pairs = [
        ("name", detail.name), ("state", detail.state),
        ("processes", " ".join(f"{k}:{v}" for k, v in detail.processes.items()) or "-"),
        ("scale", " ".join(f"{k}={v}" for k, v in detail.scale.items()) or "-"),
        ("deploy source", f"{detail.deploy_source} {detail.deploy_source_metadata}".strip()),
        ("domains", " ".join(detail.domains.app_vhosts) or "-"),
        ("urls", " ".join(detail.urls) or "-"), ("locked", "yes" if detail.locked else "no"),
        ("last deploy", detail.last_deploy or "-"),
    ]
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        click.echo(f"{key.ljust(width)}  {value or '-'}")
    if detail.containers:
        click.echo("")
        echo_table([{"dyno": c.dyno, "state": c.state, "status": c.status, "id": c.id[:12]}
                    for c in detail.containers], ["dyno", "state", "status", "id"])


apps_group.add_command(info_command, "show")  # the name `dokku apps:report` users reach for


@apps_group.command("create")
@click.argument("app")
@click.option("--image", default="", help="Deploy this docker image (git:from-image).")
@click.option("--git", "git_repo", default="", help="Deploy this git repository (git:sync --build).")
@click.option("--ref", "git_ref", default="", help="Branch, tag or commit for --git.")
@click.option("--domain", "domains", multiple=True, help="A domain (repeatable).")
@click.option("--env", "env_pairs", multiple=True, help="KEY=value (repeatable).")
@click.option("--port", "ports", multiple=True, help="scheme:host:container (repeatable).")
@click.option("--mount", "mounts", multiple=True, help="HOST:CONTAINER, host inside storage dir.")
@click.option("--link", "links", multiple=True, help="TYPE:NAME existing service to link.")
@click.option("--new-service", "new_services", multiple=True,
              help="TYPE:NAME service to create and link.")
@click.option("--template", default=None,
              help="Start from an app template (pruvon apps templates); options add to it.")
@pass_ctx
@dokku_errors
def create_command(obj: CliContext, app: str, template: str | None, **options: Any) -> None:
    """Create an app, optionally link services, configure and deploy it."""
    env = Env(obj)
    if template:
        options = with_template(app, template, options)
    request = build_create_request(app, **options)
    try:
        op = run_operation(env, operations.CREATE, app, request=request)
    except CliError:
        _explain_failed_create(env, app)
        raise
    click.echo(f"created {app} (operation {op.id})", err=True)


def with_template(app: str, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The create options with a template's values (the command line's own come first)."""
    from pruvon_apps import presets
    from pruvon_core.plugins import get_plugin_manager

    template = presets.find(get_plugin_manager().pruvon, name)
    if template is None:
        raise service.AppsError(f"no app template named {name!r} (see: pruvon apps templates)")
    merged = dict(options)
    merged["image"] = options.get("image") or template.image
    merged["ports"] = (*template.ports, *options.get("ports", ()))
    merged["env_pairs"] = (*(f"{k}={v}" for k, v in template.env.items()),
                           *options.get("env_pairs", ()))
    merged["mounts"] = (*(f"{app}:{path}" for path in template.mounts), *options.get("mounts", ()))
    merged["new_services"] = (*(f"{kind}:{app}-{kind}" for kind in template.services),
                              *options.get("new_services", ()))
    return merged


@apps_group.command("kill")
@click.argument("app")
@click.argument("container")
@pass_ctx
@dokku_errors
def kill_command(obj: CliContext, app: str, container: str) -> None:
    """docker kill one of APP's containers: its dyno (web.1), name or id."""
    env = Env(obj)
    params = env.runner.validate(operations.KILL, app, {"container": container})
    service.require_app(env.client, app)
    done = env.runner.apply(operations.KILL, app, params)
    click.echo(f"killed {done['dyno'] or '-'} {done['container']}")


@apps_group.command("files")
@click.argument("app")
@click.option("--only", type=click.Choice(["procfile", "app.json"]), default=None,
              help="Print just this file's content (for a pipe); exit 1 when there is none.")
@format_option
@pass_ctx
@dokku_errors
def files_command(obj: CliContext, app: str, only: str | None, fmt: str) -> None:
    """The Procfile and app.json Dokku extracted at the app's last deploy (read-only)."""
    from pruvon_apps import files

    env = Env(obj)
    data = files.app_files(env.client, service.require_app(env.client, app),
                           files.lib_root(env.config))
    if fmt == "json":
        echo_json(data if only is None else data["files"][only])
        return
    shown = [data["files"][only]] if only else list(data["files"].values())
    for found in shown:
        if only is None:
            click.echo(f"==> {found['name']} ({found['path']})")
        if found["state"] == "present":
            click.echo(found["content"], nl=False)
        elif only is None:
            click.echo(f"({found['message']})")
    problems = [f for f in shown if f["state"] != "present" and (only or f["state"] in
                                                                   ("too_large", "unreadable"))]
    if problems:
        raise CliError("; ".join(f"{f['name']}: {f['message']}" for f in problems))


@apps_group.command("templates")
@format_option
def templates_command(fmt: str) -> None:
    """The create wizard's app templates (shipped and from plugins)."""
    from pruvon_apps import presets
    from pruvon_core.plugins import get_plugin_manager

    found = [t.as_dict() for t in presets.templates(get_plugin_manager().pruvon)]
    if fmt == "json":
        echo_json({"templates": found})
    else:
        echo_table([{**t, "services": " ".join(t["services"]) or "-"} for t in found],
                   ["name", "title", "image", "services"])


def _explain_failed_create(env: Env, app: str) -> None:
    """List what the failed create left behind and how to remove it."""
    ops = env.ops.store.list(target=op_target("app", app))
    if not ops or ops[0].kind != "apps.create":
        return
    done = [s.name for s in ops[0].steps if s.status == "done"]
    if done:
        click.echo(f"completed steps: {', '.join(done)}", err=True)
    plan = service.rollback_plan(ops[0].steps)
    undo = [f"pruvon apps destroy {t} --force" if k == "app" else f"dokku {t[0]}:destroy {t[1]}"
            for k, t in plan]
    if undo:
        click.echo("to roll back: " + " && ".join(undo), err=True)


def _pair(value: str, what: str) -> tuple[str, str]:
    left, sep, right = value.partition(":")
    if not sep or not left or not right:
        raise service.AppsError(f"{what} {value!r} must look like TYPE:NAME")
    return left, right


def build_create_request(app: str, **options: Any) -> service.CreateRequest:
    mounts = []
    for mount in options.get("mounts", ()):
        host, sep, container = mount.partition(":")
        if not sep:
            raise service.AppsError(f"mount {mount!r} must look like HOST:CONTAINER")
        mounts.append((host, container))
    links = [service.ServiceLink(*_pair(v, "--link"), create=False)
             for v in options.get("links", ())]
    links += [service.ServiceLink(*_pair(v, "--new-service"), create=True)
              for v in options.get("new_services", ())]
    return service.CreateRequest(
        name=app, image=options.get("image", ""), git_repo=options.get("git_repo", ""),
        git_ref=options.get("git_ref", ""), services=links,
        domains=list(options.get("domains", ())),
        env=service.parse_pairs(options.get("env_pairs", ())), ports=list(options.get("ports", ())),
        mounts=mounts,
    )


@apps_group.command("destroy")
@click.argument("app")
@click.option("--force", is_flag=True, help="Do not ask for the app name.")
@click.option("--with-services", is_flag=True,
              help="Also destroy linked services that no other app uses.")
@pass_ctx
@dokku_errors
def destroy_command(obj: CliContext, app: str, force: bool, with_services: bool) -> None:
    """Destroy an app after saving a snapshot of its configuration."""
    env = Env(obj)
    service.require_app(env.client, app)
    confirm = app
    if not force:
        if not sys.stdin.isatty():
            click.echo(f" !     WARNING: Potentially Destructive Action\n"
                       f" !     This command will destroy app {app}.\n"
                       f" !     To proceed, type \"{app}\"", err=True)
        confirm = click.prompt("", prompt_suffix="> ", default="", show_default=False)
    if confirm != app:
        raise CliError(f"confirmation did not match {app}; nothing destroyed", 2)
    op = run_operation(env, operations.DESTROY, app, confirm=confirm,
                       with_services=with_services)
    click.echo(f"destroyed {app}; configuration snapshot: {op.result.get('snapshot')}", err=True)


def _ps_command(action: str) -> click.Command:
    @click.argument("app")
    @click.option("--process", default=None, help="Only this process type (restart only).")
    @click.option("--timeout", default=service.SETTLE_TIMEOUT, show_default=True, type=float,
                  help="Seconds to wait for the containers after Dokku returns.")
    @pass_ctx
    @dokku_errors
    def command(obj: CliContext, app: str, process: str | None, timeout: float) -> None:
        service.check_ps(action, process)  # before any Dokku call or operation
        validate.app_name(app)
        env = Env(obj)
        service.require_app(env.client, app)
        run_operation(env, operations.PS, app, action=action, process=process, timeout=timeout)

    command.__doc__ = f"ps:{action} the app and wait until Dokku reports it done."
    return apps_group.command(action)(command)


for _action in service.PS_ACTIONS:
    _ps_command(_action)


@apps_group.command("scale")
@click.argument("app")
@click.argument("counts", nargs=-1)
@click.option("--skip-deploy", is_flag=True, help="Only record the counts.")
@click.option("--timeout", default=service.SETTLE_TIMEOUT, show_default=True, type=float)
@format_option
@pass_ctx
@dokku_errors
def scale_command(obj: CliContext, app: str, counts: tuple[str, ...], skip_deploy: bool,
                  timeout: float, fmt: str) -> None:
    """Show the scale, or set it: 'pruvon apps scale blog web=2 worker=1'."""
    wanted = service.parse_scale(counts) if counts else {}  # checked before any Dokku call
    env = Env(obj)
    service.require_app(env.client, app)
    if not counts:
        current = env.client.scale(app)
        show(fmt, current, [{"process": k, "count": v} for k, v in current.items()],
             ["process", "count"])
        return

    run_operation(env, operations.SCALE, app, counts=wanted, skip_deploy=skip_deploy,
                  timeout=timeout)


@apps_group.command("deploy")
@click.argument("app")
@click.argument("image", required=False)
@click.option("--git", "git_repo", default="", help="Deploy this git repository (git:sync).")
@click.option("--ref", "git_ref", default="", help="Branch, tag or commit (with --git).")
@pass_ctx
@dokku_errors
def deploy_command(obj: CliContext, app: str, image: str | None, git_repo: str,
                   git_ref: str) -> None:
    """Deploy a docker image ('git:from-image') or, with --git, a repository."""
    if bool(image) == bool(git_repo):
        raise CliError("give either IMAGE or --git URL", 2)
    if git_ref and not git_repo:
        raise CliError("--ref needs --git", 2)
    if image:
        validate.image(image)  # before any Dokku call or operation
    else:
        validate.git_repo(git_repo)
        if git_ref:
            validate.git_ref(git_ref)
    env = Env(obj)
    service.require_app(env.client, app)
    if git_repo:
        run_operation(env, operations.DEPLOY_GIT, app, git_repo=git_repo, git_ref=git_ref)
        return
    op = run_operation(env, operations.DEPLOY, app, image=image)
    if op.result.get("previous_image"):
        click.echo(f"deployed {image}; to roll back: pruvon apps deploy {app} "
                   f"{op.result['previous_image']}", err=True)


# kind -> the names its positional words fill, in order (``KEY=VALUE`` words go by name)
SETTING_WORDS = {
    "nginx": ["key", "value"], "resource": ["resource_kind"],
    "resource-clear": ["resource_kind"], "docker-options": ["action", "phases", "option"],
    "letsencrypt": ["action"], "redirect": ["action", "source", "target", "code"],
    "process": ["key", "value"],
}


def setting_data(kind: str, words: tuple[str, ...], process_type: str) -> dict[str, Any]:
    """The settings change of ``pruvon apps settings APP KIND WORDS…`` as the API's fields."""
    from pruvon_core.dokku import validate

    if kind not in SETTING_WORDS:
        raise CliError(f"KIND must be one of {', '.join(SETTING_WORDS)}", 2)
    data: dict[str, Any] = {"kind": kind, "process_type": process_type}
    names = iter(SETTING_WORDS[kind])
    for word in words:
        key, sep, value = word.partition("=")
        if kind == "resource" and sep and key in validate.RESOURCE_NAMES:
            data[key] = value
            continue
        name = next(names, None)
        if name is None:
            raise CliError(f"too many words for {kind}: {word!r}", 2)
        data[name] = word
    if kind == "docker-options":
        data["phases"] = str(data.get("phases", "")).split(",")
    return data


@apps_group.command("settings", context_settings={"ignore_unknown_options": True})
@click.argument("app")
@click.argument("kind", required=False)
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
@click.option("--process-type", default="", help="resource: one process type only.")
@format_option
@pass_ctx
@dokku_errors
def settings_command(obj: CliContext, app: str, kind: str | None, words: tuple[str, ...],
                     process_type: str, fmt: str) -> None:
    """Show the editable settings, or change one.

    \b
    pruvon apps settings APP nginx KEY [VALUE]
    pruvon apps settings APP resource limit|reserve cpu=0.5 memory=512m [--process-type web]
    pruvon apps settings APP resource-clear limit|reserve [--process-type web]
    pruvon apps settings APP docker-options add|remove deploy,run OPTION
    pruvon apps settings APP letsencrypt enable|disable
    pruvon apps settings APP redirect set SRC DEST [CODE] | unset SRC
    pruvon apps settings APP process restart-policy|procfile-path|appjson-path [VALUE]
    """
    from pruvon_apps import settings

    env = Env(obj)
    service.require_app(env.client, app)
    if kind is None:
        view = settings.settings_view(env.client, app)
        if fmt == "json":
            click.echo(json.dumps(view.__dict__, indent=2, sort_keys=True))
            return
        _print_settings(view, settings.OPTIONAL_PLUGINS)
        return
    data = setting_data(kind, words, process_type)
    spec = operations.setting_spec(kind)
    if spec.background:
        run_operation(env, spec, app, data=data)
        return
    click.echo(env.runner.apply(spec, app, {"data": data}))


def _print_settings(view: Any, install: dict[str, str]) -> None:
    for key, value in view.nginx.items():
        if value:
            click.echo(f"nginx {key}: {value}")
    for key, value in view.resources.items():
        click.echo(f"resource {key}: {value}")
    for phase, options in view.docker_options.items():
        for option in options:
            click.echo(f"docker-options {phase}: {option}")
    for key in ("restart-policy", "procfile-path", "appjson-path"):
        click.echo(f"{key}: {view.process.get('computed-' + key) or '-'}"
                   + ("" if view.process.get(key) else " (default)"))
    cron = "not available on this Dokku" if view.cron is None else len(view.cron)
    click.echo(f"cron tasks: {cron}")
    for name, installed in view.plugins.items():
        click.echo(f"{name}: " + ("installed" if installed else f"not installed ({install[name]})"))


@apps_group.group("config")
def config_group() -> None:
    """Environment variables."""


@config_group.command("show")
@click.argument("app")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "env"]), default="table",
              show_default=True)
@pass_ctx
@dokku_errors
def config_show(obj: CliContext, app: str, fmt: str) -> None:
    """All variables with their values ('env': a .env file)."""
    env = Env(obj)
    env.guard.require("apps.config.read", app)
    values = service.config_values(env.client, app)
    if fmt == "json":
        echo_json(values)
    elif fmt == "env":
        click.echo(service.dotenv(values), nl=False)
    else:
        echo_table([{"key": k, "value": values[k]} for k in sorted(values)], ["key", "value"])


def _config_change(obj: CliContext, app: str, values: dict[str, str], unset: list[str],
                   no_restart: bool) -> None:
    env = Env(obj)
    service.require_app(env.client, app)
    if no_restart:
        env.runner.apply(operations.CONFIG_NO_RESTART, app, {"set": values, "unset": unset})
        return
    run_operation(env, operations.CONFIG, app, set=values, unset=unset)


@config_group.command("set")
@click.argument("app")
@click.argument("pairs", nargs=-1, required=True)
@click.option("--no-restart", is_flag=True, help="Do not restart the app.")
@pass_ctx
@dokku_errors
def config_set(obj: CliContext, app: str, pairs: tuple[str, ...], no_restart: bool) -> None:
    """Set KEY=value pairs (any bytes; values travel base64-encoded)."""
    _config_change(obj, app, service.parse_pairs(pairs), [], no_restart)


@config_group.command("unset")
@click.argument("app")
@click.argument("keys", nargs=-1, required=True)
@click.option("--no-restart", is_flag=True, help="Do not restart the app.")
@pass_ctx
@dokku_errors
def config_unset(obj: CliContext, app: str, keys: tuple[str, ...], no_restart: bool) -> None:
    """Remove variables."""
    _config_change(obj, app, {}, list(keys), no_restart)


# --------------------------------------------------------------------------- domains/ports
@apps_group.command("domains")
@click.argument("app")
@click.argument("action", required=False, type=click.Choice(service.DOMAIN_ACTIONS))
@click.argument("names", nargs=-1)
@format_option
@pass_ctx
@dokku_errors
def domains_command(obj: CliContext, app: str, action: str | None, names: tuple[str, ...],
                    fmt: str) -> None:
    """Show domains, or 'add|remove|set|clear' them."""
    env = Env(obj)
    service.require_app(env.client, app)
    if action is None:
        report = env.client.domains(app)
        data = {"app": report.app_vhosts, "enabled": report.app_enabled,
                "global": report.global_vhosts}
        show(fmt, data, [{"domain": d} for d in report.app_vhosts], ["domain"])
        return
    run_operation(env, operations.DOMAINS, app, change=action, domains=list(names))


@apps_group.command("ports")
@click.argument("app")
@click.argument("action", required=False, type=click.Choice(service.PORT_ACTIONS))
@click.argument("mappings", nargs=-1)
@format_option
@pass_ctx
@dokku_errors
def ports_command(obj: CliContext, app: str, action: str | None, mappings: tuple[str, ...],
                  fmt: str) -> None:
    """Show port mappings, or 'add|remove|set|clear' them ('http:80:5000')."""
    env = Env(obj)
    service.require_app(env.client, app)
    if action is None:
        data = service.ports_view(env.client, app)
        show(fmt, data, [{"mapping": m, "kind": kind} for kind in ("configured", "detected")
                         for m in data[kind]], ["mapping", "kind"])
        return
    run_operation(env, operations.PORTS, app, change=action, ports=list(mappings))


@apps_group.command("storage")
@click.argument("app")
@click.argument("action", required=False, type=click.Choice(["mount", "unmount"]))
@click.argument("host", required=False)
@click.argument("container", required=False)
@format_option
@pass_ctx
@dokku_errors
def storage_command(obj: CliContext, app: str, action: str | None, host: str | None,
                    container: str | None, fmt: str) -> None:
    """Show mounts, or 'mount|unmount HOST CONTAINER' (HOST inside Dokku's storage dir)."""
    env = Env(obj)
    service.require_app(env.client, app)
    if action is None:
        mounts = service.mounts_view(env.client, app)
        show(fmt, mounts, mounts, ["host", "container"])
        return
    if not host or not container:
        raise CliError(f"storage {action} needs HOST and CONTAINER paths", 2)
    env.runner.apply(operations.STORAGE, app,
                     {"change": action, "host": host, "container": container})


# --------------------------------------------------------------------------- logs, operations
@apps_group.command("logs")
@click.argument("app")
@click.option("-n", "--num", "lines", type=int, default=100, show_default=True)
@click.option("-p", "--process", default=None, help="Only this process type.")
@click.option("-t", "--tail", is_flag=True, help="Keep following.")
@pass_ctx
@dokku_errors
def logs_command(obj: CliContext, app: str, lines: int, process: str | None, tail: bool) -> None:
    """The app's logs ('dokku logs')."""
    env = Env(obj)
    stream = service.log_stream(env.client, app, lines=lines, process=process, tail=tail)
    echo_lines(stream)


@apps_group.command("operations")
@click.option("--app", default=None, help="Only this app's operations.")
@click.option("--active", is_flag=True, help="Only running ones.")
@format_option
@pass_ctx
def operations_command(obj: CliContext, app: str | None, active: bool, fmt: str) -> None:
    """Background operations (from the CLI and the web UI), newest first."""
    env = Env(obj)
    ops = env.ops.store.list(target=op_target("app", app) if app else None, active=active)
    if fmt == "json":
        echo_json({"operations": [o.as_dict() for o in ops]})
        return
    echo_table([{"id": o.id, "target": o.target, "title": o.title, "status": o.status,
                 "percent": f"{o.percent:.0f}%", "actor": o.actor} for o in ops],
               ["id", "target", "title", "status", "percent", "actor"])


def register(cli: click.Group) -> None:
    cli.add_command(apps_group)


__all__ = ["apps_group", "register"]
