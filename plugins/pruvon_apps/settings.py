"""Changes on the settings tab: nginx, resources, docker options, Let's Encrypt, redirects.

Pure Python like ``service.py``.  Every value is validated by the Dokku layer
(``validate.nginx_setting``, ``validate.resources``, ``docker_policy``) before
any call; the front ends wrap each change in ``Guard.mutation`` with the
``apps.settings.write`` action, passing :func:`host_reach` so that a docker
option off the scoped allowlist needs ``apps.host_access`` too.  Let's Encrypt and redirects are community
plugins: their controls exist only when ``plugin:list`` shows them installed,
otherwise the tab says how to install them.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pruvon_apps.service import AppsError, plugin_reports, run_streamed
from pruvon_core.dokku import DokkuClient, docker_policy, validate
from pruvon_core.dokku.errors import InvalidValue
from pruvon_core.operations import Context

OPTIONAL_PLUGINS = {
    "letsencrypt": "sudo dokku plugin:install https://github.com/dokku/dokku-letsencrypt.git",
    "redirect": "sudo dokku plugin:install https://github.com/dokku/dokku-redirect.git",
}
SETTING_KINDS = ("nginx", "resource", "resource-clear", "docker-options", "process")
PROCESS_KEYS = ("restart-policy", "procfile-path", "appjson-path")
PLUGIN_KINDS = ("letsencrypt", "redirect")


class SettingsError(AppsError):
    """Bad input to a settings change; the message names the field and the rule."""


@dataclass
class SettingsView:
    """What the settings tab shows besides the plugin reports."""

    nginx: dict[str, str] = field(default_factory=dict)
    docker_options: dict[str, list[str]] = field(default_factory=dict)
    resources: dict[str, str] = field(default_factory=dict)
    cron: list[dict[str, Any]] | None = None
    plugins: dict[str, bool] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)
    process: dict[str, str] = field(default_factory=dict)  # restart policy, Procfile/app.json paths


def settings_view(
    client: DokkuClient, app: str, reports: Mapping[str, dict[str, Any] | Exception] | None = None
) -> SettingsView:
    """Current editable values: one report per plugin, ``cron:list``, ``plugin:list``.

    ``reports`` are those the settings tab already read (:func:`plugin_reports`);
    the rest is read side by side, like them.
    """
    validate.app_name(app)
    with ThreadPoolExecutor(max_workers=3) as pool:
        cron = pool.submit(client.cron_list, app)
        installed = pool.submit(client.plugins)  # plugin_installed then reads the cache
        missing = [name for name in EDITABLE_REPORTS if reports is None or name not in reports]
        reports = {**(reports or {}), **plugin_reports(client, app, missing)}
        nginx, options, resource, ps, app_json = (_report(reports, n) for n in EDITABLE_REPORTS)
        view = SettingsView(
            nginx={k: str(nginx.get(k, "")) for k in validate.NGINX_KEYS},
            docker_options={p: list(options.get(f"{p}-list") or [])
                            for p in validate.DOCKER_PHASES},
            resources={k: str(v) for k, v in resource.items()},
            cron=cron.result(),
            plugins=_installed(client, installed.result()),
            process=_process_settings(ps, app_json),
        )
    if view.plugins["redirect"]:
        view.redirects = [line for line in client.stream(["redirect", app]) if line.strip()]
    return view


EDITABLE_REPORTS = ("nginx", "docker-options", "resource", "ps", "app-json")


def _process_settings(ps: Mapping[str, Any], app_json: Mapping[str, Any]) -> dict[str, str]:
    """The app's own value of each process setting and what Dokku computes from it."""
    values = {}
    for key, report in (("restart-policy", ps), ("procfile-path", ps),
                        ("appjson-path", app_json)):
        values[key] = str(report.get(key, "") or "")
        values[f"computed-{key}"] = str(report.get(f"computed-{key}", "") or "")
    return values


def _installed(client: DokkuClient, _warmed: object) -> dict[str, bool]:
    """Which optional plugins are installed, from the ``plugin:list`` just cached."""
    return {name: client.plugin_installed(name) for name in OPTIONAL_PLUGINS}


def _report(reports: Mapping[str, dict[str, Any] | Exception], plugin: str) -> dict[str, Any]:
    """One report the view needs; its read error (not installed, unreadable) raised."""
    data = reports[plugin]
    if isinstance(data, Exception):
        raise data
    return data


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise SettingsError(f"{key}: must be text")
    return value.strip()


def change(client: DokkuClient, app: str, kind: str, data: Mapping[str, Any]) -> str:
    """Apply one quick change (a property write, ≈50 ms); returns what was done."""
    validate.app_name(app)
    if kind == "nginx":
        return _nginx(client, app, data)
    if kind in ("resource", "resource-clear"):
        return _resource(client, app, kind, data)
    if kind == "docker-options":
        return _docker_options(client, app, data)
    if kind == "process":
        return _process_setting(client, app, data)
    raise SettingsError(f"kind must be one of {', '.join(SETTING_KINDS + PLUGIN_KINDS)}")


def _nginx(client: DokkuClient, app: str, data: Mapping[str, Any]) -> str:
    key, value = validate.nginx_setting(_text(data, "key"), _text(data, "value"))
    client.nginx_set(app, key, value)
    # nginx:set only stores the property; the app's nginx.conf changes when it is rebuilt
    list(client.stream(["proxy:build-config", app], mutating=True))
    return f"nginx {key} {'= ' + value if value else 'reset to default'}"


def _process(data: Mapping[str, Any]) -> str | None:
    process = _text(data, "process_type")
    return validate.process_type(process) if process else None


def _resource(client: DokkuClient, app: str, kind: str, data: Mapping[str, Any]) -> str:
    which = _text(data, "resource_kind") or "limit"
    if which not in validate.RESOURCE_KINDS:
        raise SettingsError("resource_kind: must be limit or reserve")
    process = _process(data)
    where = f" for {process}" if process else ""
    if kind == "resource-clear":
        client.resource_clear(which, app, process)
        return f"cleared resource {which}s{where}"
    values = {k: _text(data, k) for k in validate.RESOURCE_NAMES if _text(data, k)}
    client.resource_set(which, app, values, process)
    shown = ", ".join(f"{k}={v}" for k, v in values.items())
    return f"resource {which} {shown}{where} (applies at the next deploy or restart)"


def _docker_options(client: DokkuClient, app: str, data: Mapping[str, Any]) -> str:
    action = _text(data, "action")
    phases = data.get("phases") or []
    if isinstance(phases, str):
        phases = [p for p in phases.replace(",", " ").split() if p]
    if not isinstance(phases, list):
        raise SettingsError("phases: must be a list of build, deploy, run")
    option = _text(data, "option")
    client.docker_options_change(action, app, phases, option)
    return f"docker option {action} {option} ({','.join(phases)}; applies at the next deploy)"


def _process_setting(client: DokkuClient, app: str, data: Mapping[str, Any]) -> str:
    """Restart policy (``ps:set``), Procfile path (``ps:set``), app.json path (``app-json:set``).

    An empty value resets it to Dokku's default; the new value applies at the next deploy.
    """
    key, value = _text(data, "key"), _text(data, "value")
    if key == "appjson-path":
        client.app_json_set(app, value)
    elif key in PROCESS_KEYS:
        client.ps_set(app, key, value)
    else:
        raise SettingsError(f"key: must be one of {', '.join(PROCESS_KEYS)}")
    return f"{key} {'= ' + value if value else 'reset to default'} (applies at the next deploy)"


def host_reach(client: DokkuClient, app: str, kind: str, data: Mapping[str, Any],
               storage_dir: str = docker_policy.STORAGE_DIR) -> str | None:
    """Why a settings change reaches past the app (a docker option off the scoped
    allowlist); None when any actor allowed to change settings may make it.

    An option no one may store (shell code) is None here: the client refuses it
    with the same check inside the audited change, so it is logged as failed.
    """
    if kind != "docker-options" or _text(data, "action") != "add":
        return None
    option = _text(data, "option")
    try:
        docker_policy.docker_option(option)
    except InvalidValue:
        return None
    scope = docker_policy.Scope(validate.app_name(app), storage_dir, tuple(client.list_apps()))
    return docker_policy.scoped_refusal(option, scope)


def require_plugin(client: DokkuClient, name: str) -> None:
    """Refuse a change for a plugin that is not installed, saying how to install it."""
    if not client.plugin_installed(name):
        raise SettingsError(f"the {name} plugin is not installed on this Dokku host; "
                            f"install it with: {OPTIONAL_PLUGINS[name]}")


def check_plugin_change(client: DokkuClient, kind: str, data: Mapping[str, Any]) -> str:
    """Validate a Let's Encrypt / redirect change before its operation starts; its title."""
    if kind not in PLUGIN_KINDS:
        raise SettingsError(f"kind must be one of {', '.join(PLUGIN_KINDS)}")
    require_plugin(client, kind)
    action = _text(data, "action")
    if kind == "letsencrypt":
        if action not in ("enable", "disable"):
            raise SettingsError("action: must be enable or disable")
        return f"Let's Encrypt {action}"
    if action not in ("set", "unset"):
        raise SettingsError("action: must be set or unset")
    source = validate.domain(_text(data, "source"))
    if action == "set":
        validate.domain(_text(data, "target"))
        _code(data)
    return f"redirect {action} {source}"


def _code(data: Mapping[str, Any]) -> int:
    raw = data.get("code", 301) or 301
    try:
        code = int(raw)
    except (TypeError, ValueError):
        raise SettingsError("code: must be 301, 302, 303, 307 or 308") from None
    if code not in (301, 302, 303, 307, 308):
        raise SettingsError("code: must be 301, 302, 303, 307 or 308")
    return code


def plugin_args(app: str, kind: str, data: Mapping[str, Any]) -> list[str]:
    """The validated argv of a Let's Encrypt / redirect change."""
    action = _text(data, "action")
    if kind == "letsencrypt":
        return [f"letsencrypt:{action}", validate.app_name(app)]
    source = validate.domain(_text(data, "source"))
    if action == "unset":
        return ["redirect:unset", validate.app_name(app), source]
    return ["redirect:set", validate.app_name(app), source,
            validate.domain(_text(data, "target")), str(_code(data))]


def run_plugin_change(client: DokkuClient, app: str, kind: str, data: Mapping[str, Any],
                      ctx: Context | None = None) -> dict[str, str]:
    """The slow part, as an operation: the plugins rebuild nginx, Let's Encrypt asks the CA."""
    check_plugin_change(client, kind, data)
    args = plugin_args(app, kind, data)
    run_streamed(client, args, ctx)
    return {"command": " ".join(args[:1])}
