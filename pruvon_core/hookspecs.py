"""The Pruvon plugin contract: every hook a plugin may implement.

Built-in features and third-party plugins use exactly these hooks, registered
through the ``pruvon`` entry-point group, and they are called the pluggy way
(``manager.hook.<name>(...)``): ``wrapper=True`` / ``hookwrapper=True``,
``tryfirst``/``trylast`` and ``firstresult`` behave as pluggy documents.  A
hook implementation that raises is caught by :mod:`pruvon_core.isolation`,
logged with the plugin's name, listed by ``pruvon plugins`` and skipped: one
broken plugin never takes the host process down.

Every hook receives ``pruvon``, a :class:`pruvon_core.context.Pruvon` (config,
Dokku client, permission check, operations, the plugin manager), in the manner
of Datasette's ``datasette`` argument.  An implementation names only the
arguments it needs, so ``pruvon`` is optional to take and plugins need no
process globals.  An implementation for a hook not declared here is refused at
load time (a typo would otherwise never run); mark it
``@hookimpl(optionalhook=True)`` to implement another plugin's own hookspec.

Grow this file with care: every hook here is a promise to plugin authors.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("pruvon")
hookimpl = pluggy.HookimplMarker("pruvon")


@hookspec
def pruvon_register_commands(cli: Any, pruvon: Any) -> None:
    """Add click commands or groups to the ``pruvon`` CLI root group ``cli``.

    Called once while the CLI is built.  Every group added here is also reachable
    as ``dokku pruvon:<group>-<command>`` through the Dokku shim, unchanged.
    """


@hookspec
def pruvon_register_actions(pruvon: Any) -> list[Any]:
    """Declare the actions this plugin performs, as ``permissions.Action`` objects.

    An action (``apps.read``, ``apps.config.write``, ``backups.restore`` …) has a
    description and a ``read_only`` flag; viewers may only be granted read-only
    actions and API-key scopes are chosen from this list.  Called when the
    permission registry is built; return a list (may be empty).
    """


@hookspec
def pruvon_route_grants(pruvon: Any) -> list[Any]:
    """Declare the pages this plugin serves, as ``route_grants.RouteGrant`` objects.

    Pruvon grants pages (a user's ``routes:``), not actions: a grant says which
    page path lists or opens which resource kind (``/apps/<app>`` is app
    ``<app>``), which global actions a ``routes:`` entry for the page grants
    (``/backups`` grants ``backups.run``), which creation action
    ``<page>/create`` opens, which API resources are served as the page, and
    whether every signed-in user may open it (own account, sign-out).
    API (``/api/v1/…``) and WebSocket (``/ws/…``) paths are covered by the
    grant of the page they serve.  Core knows no page of its own.
    """


@hookspec
def pruvon_permission_allowed(
    actor: Any, action: str, resource: Any, pruvon: Any
) -> bool | None:
    """Vote on whether ``actor`` may perform ``action`` on ``resource``.

    Return True to allow, False to veto, None to abstain.  A single False wins
    over any number of True votes; when nobody votes True the answer is deny.
    ``resource`` is None for actions not tied to an object, else a
    ``permissions.Resource`` (kind + name, e.g. app ``blog``).
    """


@hookspec
def pruvon_validate_config(data: Any, pruvon: Any) -> list[str]:
    """Return problems in the config sections this plugin owns (``terminals:`` …).

    ``data`` is the whole parsed config mapping.  Each problem is a string
    ``key.path: reason``, listed by ``pruvon config validate`` beside the core
    errors; a config with any problem is refused like any invalid config.
    Return an empty list (or None) when the plugin's sections are valid or absent.
    """


@hookspec
def pruvon_web_blueprints(pruvon: Any) -> list[Any]:
    """Return Flask blueprints to register on the web application.

    Called once by the web plugin when the app is created; never imported by the
    CLI, so plugins keep Flask imports inside their ``web.py``.
    """


@hookspec
def pruvon_web_menu(actor: Any, pruvon: Any) -> list[dict[str, Any]]:
    """Return menu entries visible to ``actor``: ``{"label", "href", "order", "action"}``.

    Entries whose ``action`` the actor may not perform are filtered out by the
    web plugin, so a plugin may return them unconditionally.
    ``"host": False`` marks a page that is the same for every Dokku host
    (users, audit log): its link never takes the ``/h/<host>`` prefix.
    """


@hookspec
def pruvon_dashboard_cards(actor: Any, pruvon: Any) -> list[dict[str, Any]]:
    """Return dashboard cards for ``actor``: ``{"title", "template" or "html", "order"}``.

    Called on every dashboard render; keep it cheap (use the Dokku client's
    cached bulk reads, never one call per app).
    """


@hookspec
def pruvon_service_types(pruvon: Any) -> list[Any]:
    """Return service kinds beyond Dokku's built-in plugins, as ``registry.ServiceType``.

    Collected, validated and de-duplicated by
    :func:`pruvon_core.registry.service_types` (listed by ``pruvon plugins``); the
    services plugin merges them with postgres/redis/… detected on the host.
    """


@hookspec
def pruvon_backup_targets(pruvon: Any) -> list[Any]:
    """Return backup targets (where backup files go), as ``registry.BackupTarget``.

    The local directory target is built in; S3 and others are plugins.  Each
    target has a unique ``name`` referenced from the config.  Collected,
    validated and de-duplicated by :func:`pruvon_core.registry.backup_targets`
    (listed by ``pruvon plugins``).
    """


@hookspec
def pruvon_app_templates(pruvon: Any) -> list[Any]:
    """Return create-wizard presets, as ``registry.AppTemplate`` objects.

    A template names an image, ports, environment, service types to create
    and link, and container paths to back with the app's storage.  The apps
    plugin ships a few (``pruvon_apps/presets/*.json``); collected, checked
    and de-duplicated by :func:`pruvon_core.registry.app_templates`.
    """


@hookspec
def pruvon_before_destroy(target: dict[str, str], pruvon: Any) -> dict[str, Any] | None:
    """Protect data before an app or a service is destroyed (the safety backup).

    ``target`` is ``{"kind": "app", "name": …}`` or ``{"kind": "service",
    "type": "postgres", "name": …}``.  Return ``{"ok": True, "message": …}``
    after saving what would be lost, ``{"ok": False, "message": why}`` to stop
    the destroy, or None when there is nothing to do.  Called through
    :func:`pruvon_core.safeguards.before_destroy` by the destroy operations.
    """


@hookspec
def pruvon_terminal_targets(pruvon: Any) -> list[Any]:
    """Return terminal targets: what an interactive terminal can open.

    Built-ins are app containers, one-off ``dokku run`` and the host shell; the
    services plugin adds service consoles.  Each target names the permission
    action it needs and builds the argv run under a PTY.
    """


@hookspec
def pruvon_dokku_trigger(name: str, args: list[str], pruvon: Any) -> bool | None:
    """Handle a Dokku trigger forwarded by the Dokku shim (``post-create`` …).

    ``name`` is the trigger name, ``args`` its arguments as Dokku passed them.
    Return False only to veto a ``pre-*`` trigger deliberately (the shim then
    exits non-zero and Dokku aborts the operation); anything else is ignored.
    """


@hookspec
def pruvon_event(event: Any, pruvon: Any) -> None:
    """Observe an audited action after it was written to the audit log.

    ``event`` is an ``audit.Event`` (actor, action, target, result, source IP,
    time).  Use it for notifications and metrics; never block for long.
    """


@hookspec
def pruvon_startup(app_context: Any, pruvon: Any) -> None:
    """Run once when a long-lived process (the web server) starts.

    ``app_context`` carries the loaded config store and the plugin manager.
    """
