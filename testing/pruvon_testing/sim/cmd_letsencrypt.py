"""Simulated dokku-letsencrypt (0.25.x): set, report, cron-job, list, enable, disable.

Faithful to the plugin's ``command-functions``: property keys and their
refusals, the ``--global`` report keeping only ``-global-`` keys (JSON keys
without the ``--letsencrypt-`` prefix), the auto-renew marker file, and
``letsencrypt:list``'s padded columns.  No ACME: ``enable`` on a deployed app
"issues" a 90-day certificate at once.  Only present once the plugin is
installed (``cmd_plugin.OFF_BY_DEFAULT``).
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from pruvon_testing.sim import containers
from pruvon_testing.sim.core import Ctx, command
from pruvon_testing.sim.reports import GLOBAL

VALID_KEYS = ("dns-provider", "email", "graceperiod", "server", "lego-args",
              "lego-docker-options")
GLOBAL_KEYS = ("dns-provider", "email", "graceperiod", "lego-args", "lego-docker-options",
               "server")
DEFAULT_GRACEPERIOD = 60 * 60 * 24 * 30
CERT_LIFETIME = 60 * 60 * 24 * 90


def _target(ctx: Ctx, app: str) -> str:
    return app if app == GLOBAL else ctx.require_app(app)


@command("letsencrypt:set")
def letsencrypt_set(ctx: Ctx) -> None:
    app = ctx.args[0] if ctx.args else ""
    key = ctx.args[1] if len(ctx.args) > 1 else ""
    value = ctx.args[2] if len(ctx.args) > 2 else ""
    _target(ctx, app)
    if not key:
        ctx.fail("No key specified")
    if key not in VALID_KEYS and not key.startswith("dns-provider-"):
        ctx.fail("Invalid key specified, valid keys include: dns-provider, dns-provider-*, "
                 "email, graceperiod, server, lego-args, lego-docker-options")
    ctx.write_property("letsencrypt", app, key, value)


def _report_values(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state
    values = {"active": _active(ctx, app), "autorenew": _autorenew(ctx)}
    for key in ("dns-provider", "email", "graceperiod", "lego-args", "lego-docker-options",
                "server"):
        own = state.prop_get("letsencrypt", app, key) if app != GLOBAL else ""
        global_value = state.prop_get("letsencrypt", GLOBAL, key)
        default = str(DEFAULT_GRACEPERIOD) if key == "graceperiod" else ""
        values[f"computed-{key}"] = own or global_value or default
        values[f"global-{key}"] = global_value
        values[key] = own
    values["expiration"] = state.prop_get("letsencrypt", app, "expiration") \
        if app != GLOBAL else ""
    if app == GLOBAL:
        values = {k: v for k, v in values.items() if k.startswith("global-")}
    return values


@command("letsencrypt:report")
def letsencrypt_report(ctx: Ctx) -> None:
    """``[<app>|--global] [<flag>] [--format json]``; without an app, every app."""
    args = list(ctx.args)
    fmt = "stdout"
    if "--format" in args:
        i = args.index("--format")
        fmt = args[i + 1] if i + 1 < len(args) else ""
        del args[i:i + 2]
    if fmt not in ("stdout", "json"):
        ctx.fail(f"Invalid --format value specified: {fmt}")
    target = args[0] if args else ""
    for app in [target] if target else ctx.state.apps():
        _target(ctx, app)
        values = _report_values(ctx, app)
        if fmt == "json":
            ctx.out(json.dumps(values, separators=(",", ":")))
            continue
        ctx.info2_quiet(f"{'global' if app == GLOBAL else app} letsencrypt information")
        for key, value in values.items():
            label = f"letsencrypt {key}".replace("-", " ")
            ctx.verbose(f"{label[0].upper() + label[1:]:<30} {value:<25}".rstrip())


def _autorenew(ctx: Ctx) -> str:
    return "true" if ctx.state.prop_get("letsencrypt", GLOBAL, "autorenew") else "false"


def _active(ctx: Ctx, app: str) -> str:
    if app == GLOBAL:
        return "false"
    return "true" if ctx.state.prop_get("letsencrypt", app, "expiration") else "false"


@command("letsencrypt:cron-job")
def letsencrypt_cron_job(ctx: Ctx) -> None:
    flag = ctx.args[0] if ctx.args else ""
    if flag == "--add":
        ctx.state.prop_set("letsencrypt", GLOBAL, "autorenew", "true")
        ctx.info1("Added cron job to dokku's crontab.")
    elif flag == "--remove":
        ctx.state.prop_delete("letsencrypt", GLOBAL, "autorenew")
        ctx.info1("Removed cron job from dokku's crontab.")
    elif not flag:
        if _autorenew(ctx) == "true":
            ctx.info2_quiet("Auto-renew cron job is enabled")
            ctx.verbose("Run 'dokku letsencrypt:cron-job --remove' to disable.")
        else:
            ctx.info2_quiet("Auto-renew cron job is not enabled")
            ctx.verbose("Run 'dokku letsencrypt:cron-job --add' to enable.")
    else:
        ctx.fail(f"Invalid flag '{flag}', specify --add, --remove, or no flag to display status.")


def _timediff(seconds: int) -> str:
    """``fn-letsencrypt-format-timediff``: ``29d, 23h, 59m, 59s`` (``… ago`` when past)."""
    past, seconds = seconds < 0, abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return ", ".join(parts) + (" ago" if past else "")


@command("letsencrypt:list")
def letsencrypt_list(ctx: Ctx) -> None:
    ctx.out(f"{'=====>':<6} {'App name':<18} {'Certificate Expiry':<25} "
            f"{'Time before expiry':<25} {'Time before renewal':<25}")
    now = int(time.time())
    rows = []
    for app in ctx.state.apps():
        expiry = ctx.state.prop_get("letsencrypt", app, "expiration")
        if not expiry:
            continue
        grace = int(_report_values(ctx, app)["computed-graceperiod"])
        rows.append((app, int(expiry), grace))
    for app, expiry, grace in sorted(rows, key=lambda r: r[1]):
        date = datetime.fromtimestamp(expiry).strftime("%Y-%m-%d %H:%M:%S")
        ctx.out(f"{app:<25} {date:<25} {_timediff(expiry - now):<25} "
                f"{_timediff(expiry - grace - now):<25}")


@command("letsencrypt:enable")
def letsencrypt_enable(ctx: Ctx) -> None:
    app = ctx.require_app(ctx.args[0] if ctx.args else None)
    if not containers.is_deployed(ctx.state, app):
        ctx.fail(f"App {app} has not been deployed")
    if not _report_values(ctx, app)["computed-email"]:
        ctx.fail(f"Missing email property for {app}, set it with "
                 f"'dokku letsencrypt:set {app} email <e-mail>'")
    ctx.info2(f"Let's Encrypt {app}...")
    ctx.info1(f"Getting letsencrypt certificate for {app} via HTTP-01")
    ctx.state.prop_set("letsencrypt", app, "expiration", str(int(time.time()) + CERT_LIFETIME))
    ctx.info1("Certificate retrieved successfully.")


@command("letsencrypt:disable")
def letsencrypt_disable(ctx: Ctx) -> None:
    app = ctx.require_app(ctx.args[0] if ctx.args else None)
    ctx.info1(f"Disabling letsencrypt for app {app}")
    ctx.state.prop_delete("letsencrypt", app, "expiration")
    ctx.verbose("Done")
