"""The web side of several hosts: the ``/h/<host>`` URL prefix, the switcher, ``/hosts``.

URLs stay Pruvon's for the default host.  Another host's pages are the same
pages under ``/h/<host>``: :class:`HostPrefix` (WSGI) moves the prefix from
``PATH_INFO`` to ``SCRIPT_NAME``, so every route, ``routes:`` grant and
``url_for`` works unchanged, and a redirect to ``/apps/…`` is sent back as
``/h/<host>/apps/…``.  Before any view runs, :func:`select_host` makes the
host the one this request acts on (``pruvon.client()``, permission checks
and audit records then use it) - or answers 404 when the host is unknown or
not granted to the user, so a grant on one host never opens another.

``/hosts`` is the all-hosts page: every granted host asked in parallel, each
within its timeout, for its apps and its services; a failing host shows its
error and its last good rows.  ``GET /api/v1/hosts/apps`` and
``GET /api/v1/hosts/services`` are the same as JSON.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, g, render_template, request
from pruvon_services.public import available_kinds, list_services
from pruvon_web.public import endpoint, web_state
from werkzeug.exceptions import NotFound

from pruvon_core import hosts
from pruvon_core.dokku import DokkuError
from pruvon_core.fanout import HostAnswer, every_host
from pruvon_core.permissions import Resource, check, host_granted

PREFIX_RE = re.compile(r"^/h/([^/]+)(/.*)?$")
ENVIRON_KEY = "pruvon.host"


def prefixed(location: str, script_name: str) -> str:
    """A same-site absolute ``Location`` kept under this request's host prefix."""
    if not location.startswith("/") or location.startswith("//"):
        return location
    if location == script_name or location.startswith(script_name + "/"):
        return location
    return script_name + location


class HostPrefix:
    """WSGI: ``/h/<host>/rest`` is served as ``/rest`` on host ``<host>``."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        hosts.set_current(None)  # a worker thread never carries a previous request's host
        match = PREFIX_RE.match(environ.get("PATH_INFO") or "")
        if match is None:
            return self.app(environ, start_response)
        environ[ENVIRON_KEY] = match.group(1)
        script = (environ.get("SCRIPT_NAME") or "") + f"/h/{match.group(1)}"
        environ["SCRIPT_NAME"] = script
        environ["PATH_INFO"] = match.group(2) or "/"

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, prefixed(v, script) if k.lower() == "location" else v)
                       for k, v in headers]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def select_host() -> None:
    """Act on the prefix's host for this request; 404 if unknown or not granted."""
    name = request.environ.get(ENVIRON_KEY)
    if name is None:
        return
    config = web_state().config()
    try:
        acting = hosts.select(config, name)
    except hosts.UnknownHost:
        raise NotFound(f"There is no host {name!r}.") from None
    identity = g.get("identity")
    if identity is not None and not host_granted(identity.record, name, config):
        raise NotFound(f"There is no host {name!r}.")
    hosts.set_current(acting)


def granted_hosts(identity: Any) -> list[hosts.Host]:
    """The hosts this user may act on, the default one first."""
    config = web_state().config()
    found = hosts.hosts_from_config(config).values()
    if identity is None:
        return []
    return [h for h in found if host_granted(identity.record, h.name, config)]


def template_context() -> dict[str, Any]:
    """``host_prefix`` for links, and the switcher's hosts."""
    name = request.environ.get(ENVIRON_KEY)
    current = hosts.current()
    identity = g.get("identity")
    choices = granted_hosts(identity) if identity is not None else []
    shown = next((h.name for h in choices if (h.default and current is None)
                  or h.name == current), name)
    # only a host this request acts on: an unknown or refused host's 404 page links home,
    # and /h/<default host>/… pages link to the default host's own URLs
    return {"host_prefix": f"/h/{name}" if name and name == current else "",
            "host_choices": [{"name": h.name, "href": "/apps" if h.default else f"/h/{h.name}/apps",
                              "current": h.name == shown} for h in choices],
            "host_current": shown}


def unprefixed_static(url_for: Callable[..., str]) -> Callable[..., str]:
    """``url_for`` whose static files never carry the ``/h/<host>`` prefix.

    The same file for every host: one URL the browser caches once, and it
    still loads on the 404 page of an unknown host (whose prefix answers 404).
    """

    @functools.wraps(url_for)
    def wrapper(endpoint: str, **values: Any) -> str:
        url = url_for(endpoint, **values)
        name = request.environ.get(ENVIRON_KEY) if request else None
        if name is None or not (endpoint == "static" or endpoint.endswith(".static")):
            return url
        script = request.script_root
        if url.startswith(script + "/"):
            return script.removesuffix(f"/h/{name}") + url[len(script):]
        return url

    return wrapper


def install(app: Flask) -> None:
    """Wrap the application (outermost) and act on the prefix's host before every view."""
    app.wsgi_app = HostPrefix(app.wsgi_app)  # type: ignore[method-assign]
    app.url_for = unprefixed_static(app.url_for)  # type: ignore[method-assign]
    app.jinja_env.globals["url_for"] = app.url_for  # templates' url_for, bound earlier
    app.before_request(select_host)  # after security's: the identity is known by now
    app.context_processor(template_context)


# --------------------------------------------------------------------------- /hosts
def host_apps(state: Any, config: Any, identity: Any, host: str | None) -> dict[str, Any]:
    """One host's visible apps with state and scheduler, and its k3s nodes if any.

    A constant number of Dokku calls whatever the number of apps:
    ``apps:list`` + one ``docker ps`` (or the all-apps ``ps:report``),
    ``scheduler:report``, and ``scheduler-k3s:cluster-list`` only when an
    app runs on k3s.  Runs in a fan-out worker, outside Flask's request: it
    is handed the web state and config it needs.
    """
    client = state.pruvon.client_for(host)
    overview, live = client.apps_live()
    visible = [a for a in overview
               if check(identity.actor, "apps.read", Resource("app", a.name, host=host), config)]
    schedulers = client.schedulers() if visible else {}
    nodes, nodes_error = [], None
    if any(schedulers.get(a.name) == "k3s" for a in visible):
        try:
            nodes = [n.as_dict() for n in client.k3s_nodes()]
        except DokkuError as exc:  # no cluster, API down: shown beside the apps
            nodes_error = str(exc)
    return {"apps": [{"name": a.name, "state": a.state,
                      "scheduler": schedulers.get(a.name, "docker-local")} for a in visible],
            "live_state": live.as_dict(), "k3s_nodes": nodes, "k3s_error": nodes_error}


def host_services(state: Any, config: Any, identity: Any, host: str | None) -> dict[str, Any]:
    """One host's services this actor may read: kind, name, status, version, linked apps.

    The services plugin's own list (:func:`pruvon_services.public.list_services`):
    the installed kinds (``plugin:list``, cached), one ``<type>:list`` per kind
    and, when a service is listed, one ``docker ps`` and one
    ``docker-options:report`` - never a call per service.  Each row passes the
    actor's ``services.read`` grant *on this host*.
    """
    client = state.pruvon.client_for(host)

    def readable(kind: str, name: str) -> bool:
        return check(identity.actor, "services.read",
                     Resource("service", name, kind, host=host), config)

    rows = list_services(client, available_kinds(client, state.pruvon), allowed=readable)
    return {"services": [{"type": r.type, "name": r.name, "status": r.status,
                          "version": r.version, "links": r.links} for r in rows]}


def host_overview(state: Any, config: Any, identity: Any, host: str | None) -> dict[str, Any]:
    """What ``/hosts`` shows of one host: its apps and its services.

    One worker per host does both, so the page waits for each host once; a
    services failure (a broken plugin) is shown beside the apps, not instead.
    """
    data = host_apps(state, config, identity, host)
    try:
        data.update(host_services(state, config, identity, host), services_error=None)
    except DokkuError as exc:
        data.update(services=[], services_error=str(exc))
    return data


def all_hosts(identity: Any, names: Iterable[str] | None = None,
              fetch: Callable[..., Any] = host_apps, key: str = "hosts.apps") -> list[HostAnswer]:
    """Every granted host (or ``names`` of them) asked at once, each within its timeout.

    ``fetch(state, config, identity, host)`` reads one host (default: its apps).
    """
    granted = [h.name for h in granted_hosts(identity)]
    wanted = [n for n in (names or granted) if n in granted]
    state = web_state()
    config = state.config()
    return every_host(config, wanted, functools.partial(fetch, state, config, identity),
                      key=f"{key}:{identity.actor.id}")


def answers_json(answers: list[HostAnswer]) -> dict[str, Any]:
    return {"hosts": [{**a.as_dict(), **(a.data or {"apps": [], "live_state": None,
                                                   "k3s_nodes": [], "k3s_error": None})}
                      for a in answers]}


def services_json(answers: list[HostAnswer]) -> dict[str, Any]:
    """Every host's answer with its services, and every row with its host."""
    return {"services": [{"host": a.host, **row} for a in answers if a.data
                         for row in a.data["services"]],
            "hosts": [{**a.as_dict(), "services": a.data["services"] if a.data else []}
                      for a in answers]}


def hosts_page() -> Any:
    answers = all_hosts(g.identity, fetch=host_overview, key="hosts.page")
    found = hosts.hosts_from_config(web_state().config())
    return render_template("hosts/list.html", answers=answers, found=found,
                           is_admin=g.identity.record.role == "admin")


HOSTS_SCHEMA = {
    "type": "object",
    "properties": {"hosts": {"type": "array", "items": {"type": "object", "properties": {
        "host": {"type": "string"}, "ok": {"type": "boolean"},
        "error": {"type": ["string", "null"]}, "age": {"type": "number"},
        "apps": {"type": "array"}, "k3s_nodes": {"type": "array"}}}}},
}


SERVICES_SCHEMA = {
    "type": "object",
    "properties": {
        "services": {"type": "array", "items": {"type": "object", "properties": {
            "host": {"type": "string"}, "type": {"type": "string"}, "name": {"type": "string"},
            "status": {"type": "string"}, "version": {"type": "string"},
            "links": {"type": "array", "items": {"type": "string"}}}}},
        "hosts": {"type": "array", "items": {"type": "object", "properties": {
            "host": {"type": "string"}, "ok": {"type": "boolean"},
            "error": {"type": ["string", "null"]}, "age": {"type": "number"},
            "services": {"type": "array"}}}}},
}


@functools.cache
def blueprint() -> Blueprint:
    bp = Blueprint("hosts", __name__, template_folder="templates")
    bp.record_once(lambda state: install(state.app))
    bp.add_url_rule("/hosts", "hosts_page", hosts_page)
    return bp


@functools.cache
def api_blueprint() -> Blueprint:
    """``GET /api/v1/hosts/apps`` (its own blueprint: the API prefix, as the apps list's)."""
    api = Blueprint("hosts_api", __name__, url_prefix="/api/v1")

    @endpoint("/hosts/apps", "GET", "Every granted host's apps, asked in parallel",
              response_schema=HOSTS_SCHEMA, bp=api)
    def hosts_apps_api() -> Any:
        return answers_json(all_hosts(g.identity))

    @endpoint("/hosts/services", "GET", "Every granted host's services, asked in parallel",
              response_schema=SERVICES_SCHEMA, bp=api)
    def hosts_services_api() -> Any:
        return services_json(all_hosts(g.identity, fetch=host_services, key="hosts.services"))

    return api
