"""Simulated ``domains:*`` commands (Dokku 0.38.27 ``plugins/domains``).

Reproduces Dokku's loose validation on purpose: ``-x.com`` and ``UPPER.COM`` are accepted,
``a..b`` is stored and then fails the nginx config test (exit 1) - see INDEX.md quirk 8.
"""

from __future__ import annotations

from pruvon_testing.sim import routing
from pruvon_testing.sim.core import Ctx, command, on_trigger
from pruvon_testing.sim.routing import GLOBAL

on_trigger("post-create", "domains")(routing.domains_post_create)
on_trigger("post-app-clone-setup", "domains")(routing.domains_clone_setup)


on_trigger("post-app-rename-setup", "domains")(routing.domains_rename_setup)


@on_trigger("post-delete", "domains")
def _domains_delete(ctx: Ctx, app: str, *_args: str) -> int:
    return routing.destroy_props(ctx, "domains", app)


@on_trigger("domains-urls", "domains")
def _domains_urls(ctx: Ctx, app: str, url_type: str = "urls") -> int:
    """Print the app's URLs (deploys print them under ``Application deployed:``)."""
    if url_type == "url":
        first = routing.app_url(ctx.state, app)
        urls = [first] if first else []
    else:
        urls = routing.app_urls(ctx.state, app)
    for url in urls:
        ctx.out(url)
    return 0


def _app_and_domains(ctx: Ctx) -> tuple[str, list[str]]:
    """``declare APP="$1" DOMAIN_NAME="$2"``; domain checked before the app, as in Dokku."""
    app = ctx.args[0] if ctx.args else ""
    domains = ctx.args[1:]
    if not domains or not domains[0]:
        ctx.fail(
            f"Please specify a domain name. Usage: dokku {app} {domains[0] if domains else ''}"
            " <domain> [<domain> ...]"
        )
    routing.verify_app_bash(ctx, app)
    return app, domains


def _validate(ctx: Ctx, domains: list[str]) -> None:
    for domain in domains:
        if not routing.is_valid_hostname(domain):
            ctx.fail(f"{domain} is invalid. exiting...")


def _enable_if_disabled(ctx: Ctx, app: str) -> int:
    if routing.vhost_enabled(ctx.state, app):
        return 0
    return routing.enable_app_vhost(ctx, app)


@command("domains:add")
def domains_add(ctx: Ctx) -> int:
    """Append domains (skipping present ones), enable vhost support, rebuild nginx."""
    app, domains = _app_and_domains(ctx)
    _validate(ctx, domains)
    with routing.locked(ctx.state):
        current = routing.app_vhosts(ctx.state, app)
        for domain in domains:
            if domain in current:
                ctx.info1(f"Skipping: {domain} already added to {app}")
            else:
                current.append(domain)
                routing.write_app_vhosts(ctx.state, app, current)
                ctx.info1(f"Added {domain} to {app}")
    return _enable_if_disabled(ctx, app) or routing.post_domains_update(ctx, app, "add", *domains)


@command("domains:set")
def domains_set(ctx: Ctx) -> int:
    """Replace the app's domains; nothing changes when one of them is invalid."""
    app, domains = _app_and_domains(ctx)
    with routing.locked(ctx.state):
        if not routing.vhosts_file_exists(ctx.state, app):
            routing.write_app_vhosts(ctx.state, app, [])
        _validate(ctx, domains)
        routing.write_app_vhosts(ctx.state, app, " ".join(domains).split(" "))
        ctx.info1(f"Set {' '.join(domains)} for {app}")
    return _enable_if_disabled(ctx, app) or routing.post_domains_update(ctx, app, "set", *domains)


@command("domains:remove")
def domains_remove(ctx: Ctx) -> int:
    """Remove domains; an absent one still prints ``Removed`` (exit 0)."""
    app, domains = _app_and_domains(ctx)
    with routing.locked(ctx.state):
        current = routing.app_vhosts(ctx.state, app)
        for domain in domains:
            current = [d for d in current if d != domain]
            routing.write_app_vhosts(ctx.state, app, current)
            ctx.info1(f"Removed {domain} from {app}")
    return routing.post_domains_update(ctx, app, "remove", *domains)


@command("domains:clear")
def domains_clear(ctx: Ctx) -> int:
    """Delete the app's VHOST list; nginx output comes BEFORE ``Cleared domains``."""
    app = ctx.args[0] if ctx.args else ""
    for name in ctx.state.apps() if app == "--all" else [routing.verify_app_bash(ctx, app)]:
        ctx.state.prop_delete("domains", name, "vhosts")
        status = routing.post_domains_update(ctx, name, "clear")
        if status:
            return status
        ctx.info1(f"Cleared domains in {name}")
    return 0


def _toggle(ctx: Ctx, enable: bool) -> int:
    """``domains:enable``/``domains:disable`` for one app or ``--all``."""
    app = ctx.args[0] if ctx.args else ""
    for name in ctx.state.apps() if app == "--all" else [routing.verify_app_bash(ctx, app)]:
        if not routing.vhosts_file_exists(ctx.state, name):
            routing.write_app_vhosts(ctx.state, name, [])
        if routing.vhost_enabled(ctx.state, name) == enable:
            state = "enabled" if enable else "disabled"
            ctx.info1(f"Domains (VHOST) support is already {state} for app ({name})")
            continue
        toggle = routing.enable_app_vhost if enable else routing.disable_app_vhost
        status = toggle(ctx, name)
        if status:
            return status
    return 0


@command("domains:enable")
def domains_enable(ctx: Ctx) -> int:
    return _toggle(ctx, True)


@command("domains:disable")
def domains_disable(ctx: Ctx) -> int:
    return _toggle(ctx, False)


@command("domains:reset")
def domains_reset(ctx: Ctx) -> int:
    """Reset the app's domains to the ones derived from the global domains."""
    app = routing.verify_app_bash(ctx, ctx.args[0] if ctx.args else "")
    routing.write_app_vhosts(ctx.state, app, routing.default_vhosts(ctx.state, app))
    ctx.info1(f"Reset domains for {app}")
    return routing.post_domains_update(ctx, app, "reset")


def _global_domains(ctx: Ctx) -> list[str]:
    if not ctx.args or not ctx.args[0]:
        ctx.fail(
            f"Please specify a domain name. Usage: dokku {ctx.args[0] if ctx.args else ''}"
            " <domain> [<domain> ...]"
        )
    return list(ctx.args)


@command("domains:set-global")
def domains_set_global(ctx: Ctx) -> int:
    domains = _global_domains(ctx)
    with routing.locked(ctx.state):
        if not routing.global_vhosts(ctx.state):
            ctx.state.prop_set("domains", GLOBAL, "vhosts", "")
        _validate(ctx, domains)
        routing.write_list(ctx.state, "domains", GLOBAL, "vhosts", " ".join(domains).split(" "))
        ctx.info1(f"Set {' '.join(domains)}")
    return 0


@command("domains:add-global")
def domains_add_global(ctx: Ctx) -> int:
    domains = _global_domains(ctx)
    _validate(ctx, domains)
    with routing.locked(ctx.state):
        current = routing.global_vhosts(ctx.state)
        for domain in domains:
            if domain in current:
                ctx.info1(f"Skipping {domain}: already added")
            else:
                current.append(domain)
                routing.write_list(ctx.state, "domains", GLOBAL, "vhosts", current)
                ctx.info1(f"Added {domain}")
    return 0


@command("domains:remove-global")
def domains_remove_global(ctx: Ctx) -> int:
    domains = _global_domains(ctx)
    with routing.locked(ctx.state):
        for domain in domains:
            current = [d for d in routing.global_vhosts(ctx.state) if d != domain]
            routing.write_list(ctx.state, "domains", GLOBAL, "vhosts", current)
            ctx.info1(f"Removed {domain}")
    return 0


@command("domains:clear-global")
def domains_clear_global(ctx: Ctx) -> int:
    ctx.info1_quiet("Clearing global domains")
    with routing.locked(ctx.state):
        ctx.state.prop_delete("domains", GLOBAL, "vhosts")
    return 0


def _collect(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state
    enabled = routing.global_vhost_enabled(state)
    flags = {
        "--domains-global-enabled": "true" if enabled else "false",
        "--domains-global-vhosts": " ".join(routing.global_vhosts(state)) if enabled else "",
    }
    if app != GLOBAL:
        flags["--domains-app-enabled"] = "true" if routing.vhost_enabled(state, app) else "false"
        flags["--domains-app-vhosts"] = " ".join(routing.app_vhosts(state, app))
    return flags


@command("domains:report")
def domains_report(ctx: Ctx) -> int:
    """Text, JSON (unprefixed keys only) or one flag; NDJSON without app names for all apps."""
    return routing.report_command(
        ctx, "domains", lambda app: _collect(ctx, app), legacy_prefix=False
    )


HELP = [
    ("domains:add <app> <domain> [<domain> ...]", "Add domains to app"),
    ("domains:add-global <domain> [<domain> ...]", "Add global domain names"),
    ("domains:clear <app>", "Clear all domains for app"),
    ("domains:clear-global", "Clear global domain names"),
    ("domains:disable <app>", "Disable VHOST support"),
    ("domains:enable <app>", "Enable VHOST support"),
    ("domains:remove <app> <domain> [<domain> ...]", "Remove domains from app"),
    ("domains:remove-global <domain> [<domain> ...]", "Remove global domain names"),
    ("domains:report [<app>|--global] [<flag>]", "Displays a domains report for one or more apps"),
    ("domains:reset <app>", "Reset app domains to global-configured domains"),
    ("domains:set <app> <domain> [<domain> ...]", "Set domains for app"),
    ("domains:set-global <domain> [<domain> ...]", "Set global domain names"),
]


routing.help_commands("domains", "Manage domains used by the proxy", HELP, shell_plugin=True)
