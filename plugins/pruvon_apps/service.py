"""App operations on Dokku, for every front end (CLI, web, API).

Pure Python: no Flask, no click.  Everything goes through the Dokku client
(``pruvon_core.dokku``); names and values are validated before any call.
Permission checks and audit records are done by the core
:class:`~pruvon_core.guard.Guard` and the operations runner
(``operations.py`` declares each operation once), which every front end
uses, so the rules cannot differ between them.

Reads are cheap on purpose: the list is ``apps:list`` + ONE ``docker ps``
whatever the number of apps; the domains column comes from a small index in
the state directory refreshed in the background by ONE ``domains:report``
(Dokku's own loop over apps is ≈0.17 s per app, so it never runs per page).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import posixpath
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pruvon_services.public import linked_services

from pruvon_core import guard, hosts
from pruvon_core.dokku import DokkuClient, docker_policy, errors, gitsource, parsers, validate
from pruvon_core.dokku.client import git_sync_error
from pruvon_core.dokku.errors import dokku_messages
from pruvon_core.dokku.models import Container, DomainsReport, LiveState, StorageMount
from pruvon_core.errors import InputError
from pruvon_core.files import atomic_write, open_private, private_dir
from pruvon_core.operations import Context, StepTimeout
from pruvon_core.safeguards import before_destroy

STORAGE_DIR = docker_policy.STORAGE_DIR  # Dokku's storage directory (apps.storage_dir overrides)
MASK = "••••••••"
DOMAIN_INDEX_MAX_AGE = 300.0
SETTLE_TIMEOUT = 120.0
SETTLE_POLL = 1.0
PS_ACTIONS = ("start", "stop", "restart", "rebuild")


def storage_dir(config: Any) -> str:
    """Dokku's storage directory: ``apps.storage_dir`` when set, else Dokku's default.

    One reading for the CLI and the web, so both confine scoped mounts alike.
    """
    value = config.get("apps.storage_dir") if config is not None else None
    return str(value or STORAGE_DIR)


class AppsError(InputError):
    """Bad input to an app operation; the message says exactly what is wrong."""


HOST_ACCESS = "apps.host_access"
HostAccessDenied = guard.HostAccessDenied


@dataclass
class Guard(guard.Guard):
    """The core :class:`pruvon_core.guard.Guard` on apps: ``apps.host_access`` lets a
    change reach past the app's containers."""

    kind: str = "app"
    host_action: str | None = HOST_ACCESS


# --------------------------------------------------------------------------- list
@dataclass
class AppRow:
    """One line of the app list."""

    name: str
    state: str
    processes: dict[str, str]  # {"web": "2/2"}
    running: int
    total: int
    domains: list[str]
    last_deploy: str | None  # ISO 8601, newest container's creation
    source: str
    age: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def docker_time(text: str) -> str | None:
    """``2026-11-22 12:00:00 +0000 UTC`` (docker ps) → ISO 8601, None if unreadable."""
    parts = text.split()
    if len(parts) < 2:
        return None
    try:
        moment = datetime.strptime(f"{parts[0]} {parts[1]}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).isoformat()


def last_deploy(containers: Iterable[Container]) -> str | None:
    times = [t for c in containers if (t := docker_time(c.created_at))]
    return max(times) if times else None


def list_apps(
    client: DokkuClient,
    visible: Callable[[str], bool] = lambda name: True,
    query: str = "",
    domains: Mapping[str, list[str]] | None = None,
) -> list[AppRow]:
    """Every app ``visible`` allows, matching ``query`` (name, domain or state).

    Calls: ``apps:list`` + one ``docker ps`` (via :meth:`DokkuClient.apps_overview`).
    """
    return list_apps_live(client, visible, query, domains)[0]


def list_apps_live(
    client: DokkuClient,
    visible: Callable[[str], bool] = lambda name: True,
    query: str = "",
    domains: Mapping[str, list[str]] | None = None,
) -> tuple[list[AppRow], LiveState]:
    """:func:`list_apps` and whether its states are live (front ends must say when not)."""
    needle = query.strip().lower()
    rows = []
    overview, live = client.apps_live()
    for app in overview:
        if not visible(app.name):
            continue
        names = list((domains or {}).get(app.name, []))
        row = AppRow(
            name=app.name,
            state=app.state,
            processes={k: f"{v.running}/{v.total}" for k, v in sorted(app.processes.items())},
            running=sum(v.running for v in app.processes.values()),
            total=sum(v.total for v in app.processes.values()),
            domains=names,
            last_deploy=last_deploy(app.containers),
            source=app.source,
            age=app.age,
        )
        haystack = " ".join([app.name, app.state, *names]).lower()
        if not needle or needle in haystack:
            rows.append(row)
    return rows, live


def live_state_notice(live: LiveState) -> str | None:
    """What to tell the user when the list is incomplete (None when it is live).

    The same words on the page, in the CLI (stderr) and in the API's
    ``live_state.error``-based clients: why, and what the states are instead.
    """
    if live.available:
        return None
    instead = (f"states below are from Dokku's ps:report ({live.age:.0f} s old); containers "
               "and last deploy are not shown")
    return f"Live state unavailable: {live.error}. {instead}."


class DomainIndex:
    """Each app's domains, cached in ``<state_dir>/apps-domains.json``.

    Refreshed by ONE ``domains:report`` (all apps) in a background thread when
    older than ``max_age`` or missing an app; a lock file makes one worker do
    it at a time.  Mutations through this plugin update their app at once.
    """

    def __init__(self, state_dir: Path, max_age: float = DOMAIN_INDEX_MAX_AGE) -> None:
        host = hosts.current()  # each host has its own apps, so its own index
        suffix = f"-{host}" if host else ""
        self.path = Path(state_dir) / f"apps-domains{suffix}.json"
        self.lock_path = Path(state_dir) / f"apps-domains{suffix}.lock"
        self.max_age = max_age

    def load(self) -> tuple[dict[str, list[str]], float | None]:
        """``(domains by app, age in seconds)``; age None when never fetched."""
        try:
            data = json.loads(self.path.read_text())
            return dict(data["apps"]), max(0.0, time.time() - float(data["fetched"]))
        except (OSError, ValueError, KeyError, TypeError):
            return {}, None

    def _write(self, apps: dict[str, list[str]], fetched: float) -> None:
        atomic_write(self.path, json.dumps({"fetched": fetched, "apps": apps}), durable=False)

    def update(self, app: str, names: list[str] | None) -> None:
        """Set (or with None, drop) one app's domains, keeping the fetch time.

        Read and written under the index lock: a refresh finishing meanwhile
        must not undo this change, nor this change the refresh.
        """
        with self._exclusive(blocking=True):
            apps, age = self.load()
            if names is None:
                apps.pop(app, None)
            else:
                apps[app] = list(names)
            self._write(apps, time.time() - (age if age is not None else self.max_age * 2))

    def refresh(self, client: DokkuClient) -> dict[str, list[str]]:
        """Fetch every app's domains with one ``domains:report`` and store them."""
        with self._exclusive(blocking=True):
            text = "\n".join(client.stream(["domains:report"]))
            apps = {}
            for subject, data in parsers.parse_report_blocks(text):
                name = subject.split()[0] if subject else ""
                if name:
                    apps[name] = parsers.domains_report(data).app_vhosts
            self._write(apps, time.time())
            return apps

    @contextlib.contextmanager
    def _exclusive(self, blocking: bool) -> Any:
        fd = open_private(self.lock_path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            yield
        finally:
            os.close(fd)

    def stale(self, app_names: Iterable[str]) -> bool:
        apps, age = self.load()
        return age is None or age > self.max_age or any(a not in apps for a in app_names)

    def refresh_in_background(self, make_client: Callable[[], DokkuClient]) -> bool:
        """Start one refresh thread unless one is running anywhere; True if started."""
        try:
            fd = open_private(self.lock_path)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.close(fd)  # only a probe: refresh() takes the lock for real
        except (BlockingIOError, OSError):
            return False

        def work() -> None:
            with contextlib.suppress(Exception):  # a failed refresh keeps the old index
                self.refresh(make_client())

        threading.Thread(target=work, daemon=True, name="apps-domain-index").start()
        return True


# --------------------------------------------------------------------------- detail
@dataclass
class AppDetail:
    """What the overview tab shows, from four cheap reads."""

    name: str
    state: str
    processes: dict[str, str]
    containers: list[Container]
    deploy_source: str
    deploy_source_metadata: str
    created_at: int | None
    locked: bool
    domains: DomainsReport
    scale: dict[str, int]
    urls: list[str]
    last_deploy: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["containers"] = [asdict(c) for c in self.containers]
        return data


def require_app(client: DokkuClient, app: str) -> str:
    """A valid name of an existing app, else :class:`errors.AppNotFound` / InvalidName."""
    validate.app_name(app)
    if app not in client.list_apps() and not client.app_exists(app):
        # the cached list may predate an app created by another worker or process
        raise errors.AppNotFound(f"App {app} does not exist", exit_code=20)
    return app


def app_detail(client: DokkuClient, app: str) -> AppDetail:
    """``apps:report`` + ``docker ps`` + ``domains:report`` + ``ps:scale`` (+ ``apps:list``)."""
    require_app(client, app)
    report = client.app_report(app)
    overview = next((o for o in client.apps_overview() if o.name == app), None)
    domains = client.domains(app)
    scale = client.scale(app)
    containers = overview.containers if overview else []
    state = overview.state if overview else "not deployed"
    processes = ({k: f"{v.running}/{v.total}" for k, v in overview.processes.items()}
                 if overview else {})
    if overview is not None and overview.source == "report":
        state, processes = _fresh_state(client, app)  # the bulk report may be stale
    scheme = "http"
    urls = [f"{scheme}://{host}" for host in domains.app_vhosts] if domains.app_enabled else []
    return AppDetail(
        name=app,
        state=state,
        processes=processes,
        containers=containers,
        deploy_source=report.deploy_source,
        deploy_source_metadata=report.deploy_source_metadata,
        created_at=report.created_at,
        locked=report.locked,
        domains=domains,
        scale=scale,
        urls=urls,
        last_deploy=last_deploy(containers),
    )


def _fresh_state(client: DokkuClient, app: str) -> tuple[str, dict[str, str]]:
    """State and process counts from this one app's ``ps:report`` (≈0.7 s).

    Used by the detail page when there is no live docker view: the all-apps
    report behind the list is served stale-while-revalidate, but a page about
    one app should show what Dokku says now.
    """
    report = client.ps_report(app)
    counts: dict[str, list[int]] = {}
    for status in report.statuses:
        entry = counts.setdefault(status.process_type, [0, 0])
        entry[0] += status.state == "running"
        entry[1] += 1
    running = sum(c[0] for c in counts.values())
    total = sum(c[1] for c in counts.values())
    if not report.deployed:
        state = "not deployed"
    elif total == 0 or running == 0:
        state = "stopped"
    else:
        state = "running" if running == total else "mixed"
    return state, {k: f"{r}/{t}" for k, (r, t) in sorted(counts.items())}


SETTINGS_REPORTS = ("certs", "letsencrypt", "proxy", "nginx", "docker-options", "resource",
                    "git")


def plugin_reports(
    client: DokkuClient, app: str, plugins: Sequence[str]
) -> dict[str, dict[str, Any] | Exception]:
    """Each ``<plugin>:report APP --format json``, normalized, read side by side.

    The reads are independent: one after another the settings tab cost the sum of
    about ten Dokku calls (4.5 s on a busy demo host), side by side about the
    slowest.  A plugin that is not installed (``UnknownCommand``) or printed
    something unreadable (``ParseError``) maps to that exception; any other Dokku
    error is raised.
    """
    def one(plugin: str) -> dict[str, Any] | Exception:
        try:
            text = "\n".join(client.stream([f"{plugin}:report", app, "--format", "json"]))
            return parsers.normalize_report(parsers.parse_json(text, f"{plugin}:report"), plugin)
        except (errors.UnknownCommand, parsers.ParseError) as exc:
            return exc

    validate.app_name(app)
    with ThreadPoolExecutor(max_workers=max(1, len(plugins))) as pool:
        return dict(zip(plugins, pool.map(one, plugins), strict=True))


def app_settings(
    client: DokkuClient, app: str, reports: Mapping[str, dict[str, Any] | Exception] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """Read-only settings from each plugin's ``<plugin>:report APP --format json``.

    Effective values only (Dokku's ``computed-*`` when it reports them, else
    the non-empty ones); a plugin that is not installed is left out.  One
    call per plugin, only on the settings tab (``reports`` when already read).
    """
    validate.app_name(app)
    if reports is None:
        reports = plugin_reports(client, app, SETTINGS_REPORTS)
    found: dict[str, list[tuple[str, str]]] = {}
    for plugin in SETTINGS_REPORTS:
        data = reports[plugin]
        if isinstance(data, errors.UnknownCommand):
            continue
        if isinstance(data, Exception):
            found[plugin] = [("report", "unreadable output")]
            continue
        found[plugin] = _effective(data)
    return found


def _effective(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    computed = {k[len("computed-"):]: v for k, v in data.items() if k.startswith("computed-")}
    chosen = computed or {k: v for k, v in data.items() if not k.startswith("global-")}
    rows = []
    for key in sorted(chosen):
        value = chosen[key]
        text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        if text.strip():
            rows.append((key, text))
    return rows


# --------------------------------------------------------------------------- streaming
def run_streamed(
    client: DokkuClient, args: list[str], ctx: Context | None = None,
    timeout: float | None = None,
) -> list[str]:
    """Run a mutating Dokku command, feeding its output to ``ctx`` line by line.

    The client's cache is invalidated before and after.  A cancel request on
    the operation kills the command's process group.  Dokku's lifecycle
    commands exit 0 with ``App X has not been deployed``: raised as
    :class:`errors.NotDeployed` instead of pretending success.
    """
    client.invalidate()
    stream = client.stream(args, timeout=timeout or client.long_timeout)
    lines: list[str] = []
    try:
        if ctx is not None:
            with ctx.watch(stream.cancel):
                for line in stream:
                    lines.append(line)
                    ctx.line(line)
            ctx.check_cancel()
        else:
            lines = list(stream)
    finally:
        client.invalidate()
    if ctx is not None and stream.stderr.strip():
        ctx.lines(stream.stderr.splitlines())
    for message in dokku_messages("\n".join(lines)) + dokku_messages(stream.stderr):
        if message.endswith("has not been deployed"):
            raise errors.NotDeployed(message, exit_code=0, argv=args)
    return lines


# --------------------------------------------------------------------------- config
def config_view(client: DokkuClient, app: str, reveal: bool) -> list[tuple[str, str]]:
    """``(key, value)`` sorted; values replaced by a mask unless ``reveal``."""
    values = config_values(client, app)
    return [(k, values[k] if reveal else MASK) for k in sorted(values)]


def check_config_change(values: Mapping[str, str], unset: Iterable[str]) -> tuple[dict, list]:
    """Validate a multi-edit before any call; every problem named at once."""
    problems = []
    clean: dict[str, str] = {}
    for key, value in values.items():
        try:
            clean[validate.env_key(key)] = validate.env_value(key, value)
        except errors.DokkuError as exc:
            problems.append(exc.message)
            continue
        if value.endswith("\\"):
            problems.append(
                f"value of {key} ends with a backslash: Dokku's env file writer (godotenv) "
                "then reads the closing quote as escaped and cannot read the app's config at "
                "all; add a trailing space or newline"
            )
    removed = []
    for key in unset:
        try:
            removed.append(validate.env_key(key))
        except errors.DokkuError as exc:
            problems.append(exc.message)
    both = sorted(set(clean) & set(removed))
    if both:
        problems.append(f"cannot both set and remove {', '.join(both)}")
    if not clean and not removed and not problems:
        problems.append("nothing to change: give at least one KEY=value or a key to remove")
    if problems:
        raise AppsError("; ".join(problems))
    return clean, removed


def set_config(
    client: DokkuClient, app: str, values: Mapping[str, str], unset: Iterable[str] = (),
    restart: bool = False, ctx: Context | None = None,
) -> None:
    """Set and/or unset variables; values travel base64 (``--encoded``).

    ``--encoded`` keeps any text intact whatever the transport: ssh would
    refuse a value with a newline, and a shell-split would break spaces.
    Values ending in ``"`` or ``\\`` are refused by validation: Dokku's writer
    (godotenv) stores them so that the closing quote reads as escaped
    (``config-quirk-trailing-dquote-*``), after which Dokku cannot read the
    app's config at all.
    """
    validate.app_name(app)
    clean, removed = check_config_change(values, unset)
    no_restart = [] if restart else ["--no-restart"]
    if clean:
        no_restart_now = ["--no-restart"] if removed else no_restart  # restart once, at the end
        pairs = [f"{k}={base64.b64encode(v.encode()).decode()}" for k, v in clean.items()]
        run_streamed(client, ["config:set", "--encoded", *no_restart_now, app, *pairs], ctx)
    if removed:
        run_streamed(client, ["config:unset", *no_restart, app, *removed], ctx)


def dotenv(values: Mapping[str, str]) -> str:
    """A ``.env`` file: double-quoted values with ``\\``, ``"``, ``$`` and newlines escaped."""
    lines = []
    for key in sorted(values):
        value = values[key]
        escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
                   .replace("\n", "\\n").replace("\r", "\\r"))
        lines.append(f'{key}="{escaped}"')
    return "\n".join(lines) + ("\n" if lines else "")


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """``KEY=value`` words (CLI) → dict; a word without ``=`` is an error."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise AppsError(f"{pair!r} is not KEY=value")
        result[key] = value
    return result


# --------------------------------------------------------------------------- domains
DOMAIN_ACTIONS = ("add", "remove", "set", "clear")


def check_domains(action: object, names: list[str]) -> tuple[str, list[str]]:
    """A domains change, checked before any operation starts."""
    if not isinstance(action, str) or action not in DOMAIN_ACTIONS:
        raise AppsError(f"domain action must be one of {', '.join(DOMAIN_ACTIONS)}")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise AppsError("domains: must be a list of strings")
    if action == "clear":
        return action, []
    if not names:
        raise AppsError(f"domains {action} needs at least one domain")
    try:
        return action, validate.domains(names)
    except errors.DokkuError as exc:
        raise AppsError(exc.message) from exc


def change_domains(
    client: DokkuClient, app: str, action: str, names: Iterable[str],
    ctx: Context | None = None, index: DomainIndex | None = None,
) -> list[str]:
    """``domains:add|remove|set|clear``; returns the app's domains afterwards."""
    if action not in DOMAIN_ACTIONS:
        raise AppsError(f"domain action must be one of {', '.join(DOMAIN_ACTIONS)}")
    validate.app_name(app)
    hosts = [] if action == "clear" else validate.domains(names)
    run_streamed(client, [f"domains:{action}", app, *hosts], ctx)
    after = client.domains(app).app_vhosts
    if index is not None:
        with contextlib.suppress(OSError):
            index.update(app, after)
    return after


# --------------------------------------------------------------------------- ports
PORT_ACTIONS = ("add", "remove", "set", "clear")


def parse_port(text: str) -> tuple[str, int, int]:
    """``http:80:5000`` → ``("http", 80, 5000)``, with a message naming the problem."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        raise AppsError(f"port mapping {text!r} must look like scheme:host-port:container-port, "
                        "e.g. http:80:5000")
    try:
        validate.port_mapping(parts[0], parts[1], parts[2])
    except errors.DokkuError as exc:
        raise AppsError(f"port mapping {text!r}: {exc.message}") from exc
    return parts[0], int(parts[1]), int(parts[2])


def check_ports(action: object, mappings: list[str]) -> tuple[str, list[str]]:
    """A ports change, checked before any operation starts."""
    if not isinstance(action, str) or action not in PORT_ACTIONS:
        raise AppsError(f"port action must be one of {', '.join(PORT_ACTIONS)}")
    if not isinstance(mappings, list) or not all(isinstance(m, str) for m in mappings):
        raise AppsError("mappings: must be a list of strings")
    if action == "clear":
        return action, []
    if not mappings:
        raise AppsError("give at least one port mapping, e.g. http:80:5000")
    for mapping in mappings:
        parse_port(mapping)
    return action, mappings


def ports_view(client: DokkuClient, app: str) -> dict[str, list[str]]:
    """Configured and detected mappings (``http:80:5000``), as every front end shows them."""
    report = client.ports(validate.app_name(app))
    return {"configured": [str(m) for m in report.configured],
            "detected": [str(m) for m in report.detected]}


def change_ports(
    client: DokkuClient, app: str, action: str, mappings: Iterable[str],
    ctx: Context | None = None,
) -> None:
    if action not in PORT_ACTIONS:
        raise AppsError(f"port action must be one of {', '.join(PORT_ACTIONS)}")
    validate.app_name(app)
    parsed = [] if action == "clear" else [parse_port(m) for m in mappings]
    if action != "clear" and not parsed:
        raise AppsError("give at least one port mapping, e.g. http:80:5000")
    words = [f"{s}:{h}:{c}" for s, h, c in parsed]
    run_streamed(client, [f"ports:{action}", app, *words], ctx)


# --------------------------------------------------------------------------- storage
def storage_host_path(value: str, storage_dir: str = STORAGE_DIR) -> str:
    """A host path inside Dokku's storage directory, or an error (every actor).

    ``uploads`` → ``<storage_dir>/uploads``; an absolute path must already lie
    inside it.  ``..``, ``.`` components, doubled slashes and any character
    outside ``validate.PATH_CHARS_RE`` are refused rather than normalised, so
    what is shown is what is mounted, and nothing in it means anything to the
    shell that Dokku evaluates mounts with.  Whether *this* actor may mount it
    is :func:`storage_reach`.
    """
    text = value.strip(" ")
    if not text:
        raise AppsError("host path is empty")
    base = storage_dir.rstrip("/")
    full = text if text.startswith("/") else f"{base}/{text}"
    try:
        validate.container_path(full, "host path")
    except errors.InvalidValue as exc:
        raise AppsError(exc.message) from exc
    if posixpath.normpath(full) != full or not full.startswith(base + "/"):
        raise AppsError(f"host path {text!r} must be inside Dokku's storage directory {base}")
    return full


def storage_reach(app: str, host: str, storage_dir: str = STORAGE_DIR) -> str | None:
    """Why mounting ``host`` on ``app`` reaches past the app; None for its own directory.

    A scoped user mounts only ``<storage_dir>/<app>`` itself (the bare name
    ``<app>`` is the same): every other directory is another app's data, the
    host's, or a subdirectory the app could swap for a symlink
    (:func:`docker_policy.bind_source_refusal`).
    """
    try:
        path = storage_host_path(host, storage_dir)
    except AppsError:
        return None  # storage_change refuses it the same way, inside the audited change
    return docker_policy.bind_source_refusal(path, docker_policy.Scope(app, storage_dir))


def git_reach(repo: str) -> str | None:
    """Why deploying ``repo`` reaches past the app: it reads the Dokku host's own repositories.

    ``file://`` reads the host's disk; a URL or ``user@host:path`` naming the host
    itself connects back to it as the dokku user (:mod:`pruvon_core.dokku.gitsource`).
    """
    if validate.git_repo(repo).lower().startswith("file:"):
        return (f"git repository {repo} is a file:// URL: it reads a repository on the Dokku "
                "host (such as another app's code); only an admin may deploy from one")
    host = gitsource.source_host(repo)
    if host and gitsource.is_this_machine(host):
        return (f"git repository {repo} is on the Dokku host itself ({host}): cloning it as "
                "the dokku user can read another app's code; only an admin may deploy from it")
    return None


def create_reach(req: CreateRequest, storage_dir: str = STORAGE_DIR) -> str | None:
    """Why a create request reaches past the new app (its mounts and git source)."""
    reasons = [storage_reach(req.name, host, storage_dir) for host, _ in req.mounts]
    reasons.append(git_reach(req.git_repo) if req.git_repo else None)
    found = [reason for reason in reasons if reason]
    return "; ".join(found) if found else None


def storage_list(client: DokkuClient, app: str) -> list[StorageMount]:
    return client.storage(validate.app_name(app))


def mounts_view(client: DokkuClient, app: str) -> list[dict[str, str]]:
    """The app's mounts as every front end shows them: ``{"host", "container"}``."""
    return [{"host": m.host_path, "container": m.container_path}
            for m in storage_list(client, app)]


def storage_change(
    client: DokkuClient, app: str, mount: bool, host: str, container: str,
    storage_dir: str = STORAGE_DIR,
) -> None:
    """Mount or unmount; unmount accepts exactly what ``storage_list`` shows."""
    validate.app_name(app)
    path = storage_host_path(host, storage_dir)
    try:
        if mount:
            client.storage_mount(app, path, container)
        else:
            client.storage_unmount(app, path, container)
    except errors.InvalidValue as exc:
        raise AppsError(exc.message) from exc


# --------------------------------------------------------------------------- processes
def parse_scale(pairs: Iterable[str]) -> dict[str, int]:
    """``web=2 worker=1`` → counts, each checked."""
    counts: dict[str, int] = {}
    for pair in pairs:
        kind, sep, number = pair.partition("=")
        number = number.strip()
        if not sep or not (number.isascii() and number.isdigit()) or len(number) > 18:
            raise AppsError(f"{pair!r} is not TYPE=COUNT with a whole number, e.g. web=2")
        try:
            counts[validate.process_type(kind)] = validate.scale_count(kind, int(number))
        except errors.DokkuError as exc:
            raise AppsError(exc.message) from exc
    if not counts:
        raise AppsError("give at least one TYPE=COUNT, e.g. web=2")
    return counts


def process_states(client: DokkuClient, app: str) -> list[tuple[str, bool]]:
    """``(process type, running)`` per deploy container: ``docker ps``, else ``ps:report``.

    ``docker ps`` is the cheap live view; without docker (ssh, or the Pruvon
    user not in the docker group) one app's ``ps:report`` (≈0.7 s) answers.
    """
    client.invalidate()
    if client.docker is not None:
        try:
            return [(c.process_type or "web", c.running) for c in client.containers(app)
                    if c.container_type in ("deploy", "")]
        except errors.DokkuUnavailable:
            pass
    return [(s.process_type, s.state == "running") for s in client.ps_report(app).statuses]


def _goal_reached(states: list[tuple[str, bool]], goal: dict[str, int] | None,
                  stop: bool) -> bool:
    if stop:
        return not any(up for _, up in states)
    if goal is None:
        return bool(states) and all(up for _, up in states)
    for kind, wanted in goal.items():
        have = [up for k, up in states if k == kind]
        if sum(have) != wanted or len(have) != wanted:
            return False
    return True


def wait_for_state(
    client: DokkuClient, app: str, goal: dict[str, int] | None, stop: bool,
    ctx: Context | None = None, timeout: float = SETTLE_TIMEOUT,
    clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll the app's containers until they are as wanted, or raise :class:`StepTimeout`.

    ``goal`` = process counts wanted (scale), None = every container running;
    ``stop`` = none running.  Dokku's command has returned already; this
    confirms what Dokku reports, so the UI never shows "done" too early.
    """
    deadline = clock() + timeout
    while True:
        states = process_states(client, app)
        states_in_goal = [s for s in states if s[0] in goal] if goal is not None else states
        if ctx is not None:
            up = sum(running for _, running in states_in_goal)
            wanted = sum(goal.values()) if goal is not None else len(states_in_goal)
            if stop:
                fraction = 1 - up / len(states) if states else 1.0
            else:
                fraction = up / wanted if wanted else 1.0
            ctx.fraction(fraction, f"{up} of {len(states_in_goal)} containers running")
        if _goal_reached(states, goal, stop):
            return
        if clock() >= deadline:
            raise StepTimeout(
                f"{app} did not reach the expected state within {timeout:.0f} s; Dokku's "
                "command finished, check the containers and the logs"
            )
        if ctx is not None:
            ctx.check_cancel()
        sleep(SETTLE_POLL)


def check_ps(action: object, process: object = None) -> tuple[str, str | None]:
    """``(action, process)`` of a start/stop/restart/rebuild request, every field checked.

    Front ends call it before starting an operation, so that bad input
    (``"process": "--all"``) is refused at once and never becomes a failed
    operation; :func:`ps_action` calls it again for direct callers.
    """
    if not isinstance(action, str) or action not in PS_ACTIONS:
        raise AppsError(f"action must be one of {', '.join(PS_ACTIONS)}")
    if process is None or process == "":
        return action, None
    if action != "restart":
        raise AppsError("only restart can be limited to one process type")
    try:
        return action, validate.process_type(process)
    except errors.DokkuError as exc:
        raise AppsError(exc.message) from exc


def ps_action(
    client: DokkuClient, app: str, action: str, process: str | None = None,
    ctx: Context | None = None, settle_timeout: float = SETTLE_TIMEOUT,
) -> None:
    """start/stop/restart/rebuild; ``process`` (restart only) limits it to one type."""
    action, process = check_ps(action, process)
    validate.app_name(app)
    args = [f"ps:{action}", app]
    if process:
        args.append(process)
    if ctx is not None:
        ctx.step("run")
    run_streamed(client, args, ctx)
    if ctx is not None:
        ctx.done(f"dokku ps:{action} finished")
        ctx.step("verify")
    goal = None
    if action != "stop":
        goal = {k: v for k, v in client.scale(app).items() if process is None or k == process}
    wait_for_state(client, app, goal, action == "stop", ctx, settle_timeout)
    if ctx is not None:
        ctx.done("state confirmed")


def scale(
    client: DokkuClient, app: str, counts: Mapping[str, int], ctx: Context | None = None,
    skip_deploy: bool = False, settle_timeout: float = SETTLE_TIMEOUT,
) -> None:
    validate.app_name(app)
    pairs = [f"{validate.process_type(k)}={validate.scale_count(k, n)}"
             for k, n in sorted(counts.items())]
    if not pairs:
        raise AppsError("give at least one TYPE=COUNT, e.g. web=2")
    if ctx is not None:
        ctx.step("run")
    flags = ["--skip-deploy"] if skip_deploy else []
    run_streamed(client, ["ps:scale", *flags, app, *pairs], ctx)
    if ctx is not None:
        ctx.done("dokku ps:scale finished")
        ctx.step("verify")
    if not skip_deploy:
        full = client.scale(app)
        full.update(counts)
        wait_for_state(client, app, full, False, ctx, settle_timeout)
    if ctx is not None:
        ctx.done("state confirmed")


def check_image(image: object) -> str:
    """A docker image reference to deploy, checked before any operation starts."""
    try:
        return validate.image(image)
    except errors.DokkuError as exc:
        raise AppsError(exc.message) from exc


def deploy_image(
    client: DokkuClient, app: str, image: str, ctx: Context | None = None
) -> dict[str, str]:
    """``git:from-image APP IMAGE`` with live output.

    Returns the image deployed and the docker image it replaced (empty when
    the app came from git or was never deployed), which is what a rollback
    needs: Dokku itself keeps no history of image deploys.
    """
    validate.app_name(app)
    validate.image(image)
    report = client.app_report(app)
    previous = report.deploy_source_metadata if report.deploy_source == "docker-image" else ""
    run_streamed(client, ["git:from-image", app, image], ctx)
    return {"image": image, "previous_image": "" if previous == image else previous}


def deploy_git(
    client: DokkuClient, app: str, repo: str, ref: str | None = None,
    ctx: Context | None = None,
) -> dict[str, str]:
    """``git:sync --build APP REPO [REF]`` with live output.

    Dokku sends git's own messages to /dev/null, so a failed clone arrives as a
    bare exit 128: it is re-raised with a message that says what to check.
    """
    args = client.git_sync_args(app, repo, ref, build=True)
    try:
        run_streamed(client, args, ctx)
    except errors.DokkuError as exc:
        if isinstance(exc, errors.AppNotFound):
            raise
        raise git_sync_error(exc, repo, ref) from exc
    return {"repo": repo, "ref": ref or ""}


def rollback_image(operations: Iterable[Any]) -> str | None:
    """The image the newest successful deploy replaced (operations newest first)."""
    for op in operations:
        if op.kind == "apps.deploy" and op.status == "succeeded":
            return op.result.get("previous_image") or None
    return None


LOG_SOURCES = {"app": None, "nginx-access": "nginx:access-logs", "nginx-error": "nginx:error-logs"}


def log_stream(client: DokkuClient, app: str, source: str = "app", lines: int = 100,
               process: str | None = None, tail: bool = True) -> Any:
    """A cancellable stream of the app's logs (``dokku logs``) or its nginx logs."""
    if source == "app":
        return client.logs(validate.app_name(app), tail=tail, lines=lines, process=process)
    return client.stream(nginx_log_args(app, source, tail))


def config_values(client: DokkuClient, app: str) -> dict[str, str]:
    """Every variable with its value (the caller has checked ``apps.config.read``)."""
    return client.config(validate.app_name(app))


def nginx_log_args(app: str, source: str, tail: bool = True) -> list[str]:
    """``nginx:access-logs|error-logs APP [-t]`` for the log viewer."""
    command = LOG_SOURCES.get(source)
    if command is None:
        raise AppsError(f"log source must be one of {', '.join(LOG_SOURCES)}")
    return [command, validate.app_name(app), *(["-t"] if tail else [])]


# --------------------------------------------------------------------------- create
@dataclass
class ServiceLink:
    kind: str
    name: str
    create: bool  # True: create it first; False: link an existing one


@dataclass
class CreateRequest:
    """Everything the wizard collects; :func:`check_create` validates it all at once."""

    name: str
    image: str = ""
    git_repo: str = ""
    git_ref: str = ""
    services: list[ServiceLink] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    ports: list[str] = field(default_factory=list)
    mounts: list[tuple[str, str]] = field(default_factory=list)


def check_name(client: DokkuClient, name: str) -> str | None:
    """None when ``name`` can be created, else why not (live validation)."""
    try:
        validate.app_name(name, existing=False)
    except errors.DokkuError as exc:
        return exc.message
    if name in client.list_apps():
        return f"an app called {name} already exists"
    return None


def check_create(client: DokkuClient, req: CreateRequest, storage_dir: str = STORAGE_DIR) -> None:
    """Validate every field before the first call; all problems in one message."""
    problems = []
    why = check_name(client, req.name)
    if why:
        problems.append(why)
    if req.image and req.git_repo:
        problems.append("choose either a docker image or a git repository, not both")
    for what, check_one in (
        ("image", lambda: req.image and validate.image(req.image)),
        ("domains", lambda: req.domains and validate.domains(req.domains)),
        ("ports", lambda: [parse_port(p) for p in req.ports]),
        ("env", lambda: req.env and check_config_change(req.env, [])),
        ("mounts", lambda: [(storage_host_path(h, storage_dir), validate.mount(
            storage_host_path(h, storage_dir), c)) for h, c in req.mounts]),
        ("services", lambda: [(validate.service_type(s.kind), validate.service_name(s.name))
                              for s in req.services]),
        ("git repository", lambda: req.git_repo and validate.git_repo(req.git_repo)),
        ("git ref", lambda: req.git_ref and validate.git_ref(req.git_ref)),
    ):
        try:
            check_one()
        except (errors.DokkuError, AppsError) as exc:
            problems.append(f"{what}: {getattr(exc, 'message', None) or exc}")
    if req.git_ref and not req.git_repo:
        problems.append("git ref: give a git repository too")
    if problems:
        raise AppsError("; ".join(problems))


# (CreateRequest field, step) in the order the create operation runs them
OPTIONAL_CREATE_STEPS = (("env", "set environment"), ("domains", "set domains"),
                         ("ports", "set ports"), ("mounts", "mount storage"))


def create_steps(req: CreateRequest) -> list[str]:
    steps = ["create app"]
    steps += [f"{'create and link' if s.create else 'link'} {s.kind} {s.name}"
              for s in req.services]
    steps += [step for field, step in OPTIONAL_CREATE_STEPS if getattr(req, field)]
    if req.image:
        steps.append("deploy image")
    elif req.git_repo:
        steps.append("deploy from git")
    return steps


def run_create(
    client: DokkuClient, req: CreateRequest, ctx: Context, storage_dir: str = STORAGE_DIR,
    after_create: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The wizard's steps in order; each records what a rollback must undo."""
    app = req.name
    ctx.step("create app")
    run_streamed(client, ["apps:create", validate.app_name(app, existing=False)], ctx)
    ctx.done(f"created {app}", app=app)
    if after_create is not None:
        after_create(app)
    for link in req.services:
        label = f"{'create and link' if link.create else 'link'} {link.kind} {link.name}"
        ctx.step(label)
        if link.create:
            run_streamed(client, [f"{validate.service_type(link.kind)}:create",
                                  validate.service_name(link.name)], ctx)
            ctx.done(f"created {link.kind} {link.name}", service=[link.kind, link.name])
        run_streamed(client, [f"{link.kind}:link", link.name, app], ctx)
        ctx.done(f"linked {link.kind} {link.name}")
    if req.env:
        ctx.step("set environment")
        set_config(client, app, req.env, ctx=ctx)
        ctx.done(f"{len(req.env)} variables")
    if req.domains:
        ctx.step("set domains")
        change_domains(client, app, "set", req.domains, ctx)
        ctx.done(" ".join(req.domains))
    if req.ports:
        ctx.step("set ports")
        change_ports(client, app, "set", req.ports, ctx)
        ctx.done(" ".join(req.ports))
    if req.mounts:
        ctx.step("mount storage")
        for host, container in req.mounts:
            storage_change(client, app, True, host, container, storage_dir)
        ctx.done(f"{len(req.mounts)} mounts")
    if req.image:
        ctx.step("deploy image")
        deploy_image(client, app, req.image, ctx)
        ctx.done(req.image)
    elif req.git_repo:
        ctx.step("deploy from git")
        deploy_git(client, app, req.git_repo, req.git_ref or None, ctx)
        ctx.done(req.git_repo + (f"#{req.git_ref}" if req.git_ref else ""))
    return {"app": app}


def rollback_plan(steps: Iterable[Any]) -> list[tuple[str, Any]]:
    """What to undo, in order: the app (destroying it unlinks its services), then
    the services this create made, newest first; never services that existed."""
    plan: list[tuple[str, Any]] = []
    for step in steps:
        if step.status != "done":
            continue
        if "service" in step.undo:
            plan.append(("service", tuple(step.undo["service"])))
        if "app" in step.undo:
            plan.append(("app", step.undo["app"]))
    services = [p for p in plan if p[0] == "service"]
    apps = [p for p in plan if p[0] == "app"]
    return apps + list(reversed(services))


def run_rollback(client: DokkuClient, plan: list[tuple[str, Any]], ctx: Context) -> dict:
    """Destroy the app first (it unlinks its services), then the services it created."""
    apps = [target for kind, target in plan if kind == "app"]
    services = [target for kind, target in plan if kind == "service"]
    for app in apps:
        ctx.step(f"destroy app {app}")
        run_streamed(client, ["apps:destroy", validate.app_name(app), "--force"], ctx)
        ctx.done()
    for kind, name in services:
        ctx.step(f"destroy {kind} {name}")
        run_streamed(client, [f"{validate.service_type(kind)}:destroy",
                              validate.service_name(name), "--force"], ctx)
        ctx.done()
    return {"undone": len(plan)}


def rollback_steps(plan: list[tuple[str, Any]]) -> list[str]:
    steps = [f"destroy app {t}" for k, t in plan if k == "app"]
    return steps + [f"destroy {t[0]} {t[1]}" for k, t in plan if k == "service"]


# --------------------------------------------------------------------------- destroy
def snapshot_data(client: DokkuClient, app: str) -> dict[str, Any]:
    """The app's configuration: env, domains, ports, storage, scale, deploy source.

    Enough to recreate the app with ``pruvon apps restore-snapshot`` (the
    backups plugin stores it through its targets); ``deploy_source`` is the
    image or repository, ``deploy_source_type`` Dokku's kind of source.
    """
    require_app(client, app)
    ports = client.ports(app)
    report = client.app_report(app)
    return {
        "app": app,
        "taken_at": datetime.now(UTC).isoformat(),
        "env": client.config(app),
        "domains": client.domains(app).app_vhosts,
        "ports": [str(m) for m in ports.configured],
        "storage": [f"{m.host_path}:{m.container_path}" for m in client.storage(app)],
        "scale": client.scale(app),
        "deploy_source": report.deploy_source_metadata,
        "deploy_source_type": report.deploy_source,
    }


def snapshot(client: DokkuClient, app: str, state_dir: Path) -> Path:
    """Write the app's configuration (:func:`snapshot_data`) to a 0600 file."""
    data = snapshot_data(client, app)
    folder = Path(state_dir) / "snapshots" / "apps"
    private_dir(folder)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{app}-{stamp}.json"
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True))
    return path


def destroy(
    client: DokkuClient, app: str, confirm: str, state_dir: Path,
    with_services: bool = False, ctx: Context | None = None,
    index: DomainIndex | None = None, pruvon: Any = None,
) -> dict[str, Any]:
    """Safeguards, snapshot, then ``apps:destroy``; optionally services no other app uses.

    With a hook context (``pruvon``) every ``pruvon_before_destroy`` safeguard
    (the backups plugin's safety backup) runs first for the app and for each
    service to be destroyed with it; a refusal stops everything before any
    destroy, with the safeguard's reason.
    """
    if confirm != app:
        raise AppsError(f"type the app name ({app}) exactly to confirm destroying it")
    require_app(client, app)
    orphans = []
    if with_services:
        orphans = [(k, n) for k, n, links in linked_services(client, app) if links == [app]]
    if ctx is not None:
        ctx.step("safeguards")
    notes = _safeguards(pruvon, app, orphans)
    if ctx is not None:
        for note in notes:
            ctx.line(note)
        ctx.done("; ".join(notes))
        ctx.step("snapshot")
    path = snapshot(client, app, state_dir)
    if ctx is not None:
        ctx.line(f"configuration saved to {path}")
        ctx.done(str(path))
        ctx.step("destroy app")
    run_streamed(client, ["apps:destroy", app, "--force"], ctx)
    if ctx is not None:
        ctx.done()
    for kind, name in orphans:
        if ctx is not None:
            ctx.line(f"destroying {kind} {name} (no other app uses it)")
        run_streamed(client, [f"{kind}:destroy", name, "--force"], ctx)
    if index is not None:
        with contextlib.suppress(OSError):
            index.update(app, None)
    return {"snapshot": str(path), "services_destroyed": [f"{k}:{n}" for k, n in orphans],
            "safeguards": notes}


def destroy_steps() -> list[str]:
    return ["safeguards", "snapshot", "destroy app"]


def _safeguards(pruvon: Any, app: str, services: list[tuple[str, str]]) -> list[str]:
    """Run ``pruvon_before_destroy`` for the app and each service; their notes."""
    if pruvon is None:
        return []
    notes = before_destroy(pruvon, {"kind": "app", "name": app})
    for kind, name in services:
        notes += before_destroy(pruvon, {"kind": "service", "type": kind, "name": name})
    return notes
