"""The Dokku client: the only code in Pruvon that talks to Dokku.

Feature plugins call typed methods (``client.apps_overview()``,
``client.config_set(app, {...})``); the client validates every argument,
builds an argv (never a shell string), runs it through its transport, maps
failures to typed errors, parses the output into dataclasses, caches cheap
reads briefly and counts every process it starts in :attr:`DokkuClient.calls`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, TypeVar

from pruvon_core.dokku import docker_policy, parsers, validate
from pruvon_core.dokku.cache import Revalidating, TTLCache
from pruvon_core.dokku.errors import (
    APP_NOT_FOUND_RE,
    NOT_DEPLOYED_RE,
    AppNotFound,
    ContainerNotFound,
    DockerRefused,
    DokkuError,
    DokkuTimeout,
    DokkuUnavailable,
    InvalidValue,
    NotDeployed,
    ServiceNotFound,
    UnknownCommand,
    bad_output,
    classify,
    dokku_messages,
)
from pruvon_core.dokku.hostcmds import HostCommands
from pruvon_core.dokku.models import (
    AppOverview,
    AppReport,
    Call,
    Container,
    DomainsReport,
    K3sNode,
    LiveState,
    Plugin,
    PortMapping,
    PortsReport,
    ProcessCount,
    PsReport,
    Result,
    Service,
    ServiceInfo,
    StorageMount,
)
from pruvon_core.dokku.transports import DockerCli, PtyHandle, Stream, Transport

T = TypeVar("T")

# First Dokku version assumed to accept ``--format json`` on these commands; the
# simulator's 0.35 emulation has none of them, 0.38.27 (the captures) has all.
JSON_SINCE = {
    "apps:list": (0, 36, 0),
    "ps:scale": (0, 36, 0),
    "plugin:list": (0, 36, 0),
    "storage:list": (0, 36, 0),
}
DOCKER_PS = [
    "ps",
    "-a",
    "--no-trunc",
    "--filter",
    "label=com.dokku.app-name",
    "--format",
    "{{json .}}",
]
MAX_LOG_LINES = 10000
CACHE_TTL = 2.0  # seconds a read is fresh
CACHE_MAX_STALE = 30.0  # list reads older than this are not served while refreshing
MAX_CONCURRENT_CALLS = 4  # captured read calls at once, per client (= per process)
MAX_CALLS_KEPT = 10000
DOCKER_HINT = (
    "add the Pruvon user to the docker group (or set dokku.docker_command); until then "
    "the app list falls back to Dokku's slower ps:report"
)
SSH_DOCKER_HINT = "name a docker command for this host: hosts[].docker, e.g. ssh root@HOST docker"
# the docker CLI's words when it cannot reach the daemon at all (group, socket, daemon down)
DOCKER_UNREACHABLE = ("Cannot connect to the Docker daemon",
                      "permission denied while trying to connect to the Docker daemon")
_LIFECYCLE_FAILURES = [(NOT_DEPLOYED_RE, NotDeployed), (APP_NOT_FOUND_RE, AppNotFound)]


class DokkuClient(HostCommands):
    """Typed access to one Dokku host through one :class:`Transport`.

    ``timeout`` bounds reads and quick writes; ``long_timeout`` bounds commands
    that deploy (restart, rebuild, scale, domains/ports changes, link).
    Reads are cached ``cache_ttl`` seconds (single-flight; the app list's
    ``apps:list`` and ``docker ps`` stale-while-revalidate up to
    ``cache_max_stale``), and at most ``max_concurrent_calls`` captured reads
    run at once: more requests wait for a slot instead of piling ``dokku``
    processes onto the host.
    """

    def __init__(
        self,
        transport: Transport,
        docker: DockerCli | None = None,
        *,
        timeout: float = 60.0,
        long_timeout: float = 1800.0,
        cache_ttl: float = CACHE_TTL,
        cache_max_stale: float = CACHE_MAX_STALE,
        max_concurrent_calls: int = MAX_CONCURRENT_CALLS,
        report_max_age: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        docker_on_host: bool = False,
    ) -> None:
        if max_concurrent_calls < 1:
            raise InvalidValue("max_concurrent_calls must be at least 1")
        self.transport = transport
        # A local docker says nothing about a host reached over ssh; a docker command
        # named for that very host (its ``hosts[].docker``) does: ``docker_on_host``.
        self.docker = docker if transport.can_run_docker or docker_on_host else None
        self.timeout = timeout
        self.long_timeout = long_timeout
        self._clock = clock
        self._cache = TTLCache(cache_ttl, clock, max_stale=cache_max_stale)
        self.max_concurrent_calls = max_concurrent_calls
        self._slots = threading.BoundedSemaphore(max_concurrent_calls)
        self._live: LiveState | None = None
        self._calls: deque[Call] = deque(maxlen=MAX_CALLS_KEPT)
        self.call_count = 0
        self._lock = threading.Lock()
        self._version: str | None = None
        self.docker_error: DokkuError | None = None  # why the last docker read failed
        self._reports: Revalidating[dict[str, PsReport]] = Revalidating(
            self._load_ps_reports, report_max_age, clock
        )

    # ----------------------------------------------------------------- bookkeeping
    @property
    def over_ssh(self) -> bool:
        """Whether Dokku is another machine's, reached through its ssh commands only.

        Then nothing on this machine (files, ``/proc``, docker) is that host's.
        """
        return self.transport.name == "ssh"

    @property
    def calls(self) -> list[Call]:
        """The processes started so far (a copy): argv, kind, duration, exit.

        A long-running server keeps only the last ``MAX_CALLS_KEPT``;
        :attr:`call_count` counts them all.
        """
        with self._lock:
            return list(self._calls)

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self.call_count = 0

    def warm_up(self) -> None:
        """Start loading what slow transports serve stale-while-revalidate.

        Over ssh the first :meth:`apps_overview` needs every app's ``ps:report``
        (≈0.75 s per app); a server calls this at startup so that the first
        page finds the reports loaded or loading.
        """
        if self.docker is None:
            self._reports.prefetch()

    def _record(self, kind: str, args: Sequence[str], duration: float, code: int | None) -> None:
        with self._lock:
            started = time.monotonic() - duration
            self._calls.append(Call(tuple(args), kind, duration, code, started))
            self.call_count += 1

    @contextlib.contextmanager
    def _slot(self, tool: str, args: Sequence[str]) -> Iterator[None]:
        """Hold one of the ``max_concurrent_calls`` slots for a read.

        Under load (20 pages at once) the reads queue here instead of running
        20 ``dokku`` processes at once; a slot not free within ``timeout`` is
        a :class:`DokkuTimeout`, like a call that took too long.
        """
        if not self._slots.acquire(timeout=self.timeout):
            raise DokkuTimeout(
                f"{tool} {args[0] if args else ''} not started: {self.max_concurrent_calls} "
                f"calls were still running after {self.timeout:g} s",
                argv=args,
            )
        try:
            yield
        finally:
            self._slots.release()

    def invalidate(self) -> None:
        """Forget cached reads; slow reports become stale (refreshed on next read)."""
        self._cache.clear()
        self._reports.mark_stale()

    def _run(
        self,
        args: Sequence[str],
        *,
        stdin: bytes | IO[bytes] | None = None,
        timeout: float | None = None,
        mutating: bool = False,
        ok: Iterable[int] = (0,),
        read: bool = False,
    ) -> Result:
        """Run Dokku ``args``; raise the typed error unless the exit code is in ``ok``.

        ``read``: a parsed read (:meth:`_read`), which the transport may run so
        that a timeout ends it on the remote host too (ssh: a terminal).
        """
        if mutating:
            self.invalidate()
        # mutations are not queued behind reads: operations already serialise them per app
        with contextlib.nullcontext() if mutating else self._slot("dokku", args):
            start = time.monotonic()
            try:
                result = self.transport.run(args, stdin=stdin, timeout=timeout or self.timeout,
                                            read=read and stdin is None and not mutating)
            except DokkuTimeout:
                self._record("dokku", args, time.monotonic() - start, None)
                raise
            finally:
                if mutating:
                    self.invalidate()
        self._record("dokku", args, result.duration, result.exit)
        if result.exit not in tuple(ok):
            raise self._error(args, result.exit, result.stdout, result.stderr)
        return result

    def _error(self, args: Sequence[str], code: int, stdout: str, stderr: str) -> DokkuError:
        return self.transport.unavailable(code, stderr, args) or classify(
            args, code, stdout, stderr
        )

    def _cached(self, key: tuple[Any, ...], load: Callable[[], T]) -> T:
        return self._cache.lookup(key, load)

    @staticmethod
    def _parse(args: Sequence[str], text: str, parse: Callable[[str], T], tool: str = "dokku") -> T:
        """``parse(text)``, or :class:`DokkuBadOutput` naming the command.

        Output that does not have the shape the command prints (garbage on
        stdout with exit 0, a report without its keys) must never become data.
        """
        try:
            return parse(text)
        except DokkuError:
            raise
        except parsers.ParseError as exc:
            raise bad_output(tool, args, exc.detail, stdout=text) from exc
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise bad_output(tool, args, f"{type(exc).__name__}: {exc}", stdout=text) from exc

    def _read(self, args: Sequence[str], parse: Callable[[str], T], cache: bool = True) -> T:
        """Run a read and parse its stdout; with ``cache``, the parsed value is kept briefly.

        Only parsed values are cached, so output that failed to parse is asked
        for again next time instead of being served from the cache.
        """

        def load() -> T:
            return self._parse(args, self._run(args, read=True).stdout, parse)

        return self._cached(tuple(args), load) if cache else load()

    def _docker(self, args: Sequence[str]) -> Result:
        assert self.docker is not None
        with self._slot("docker", args):
            start = time.monotonic()
            try:
                result = self.docker.run(args, timeout=self.timeout)
            except DokkuTimeout:
                self._record("docker", args, time.monotonic() - start, None)
                raise
            except DokkuUnavailable as exc:
                raise DokkuUnavailable(exc.message, DOCKER_HINT, argv=args) from exc
        self._record("docker", args, result.duration, result.exit)
        if result.exit != 0:
            raise DokkuUnavailable(
                f"docker {args[0]} failed: {result.stderr.strip() or result.exit}",
                DOCKER_HINT,
                exit_code=result.exit,
                argv=args,
                stderr=result.stderr,
            )
        return result

    # ----------------------------------------------------------------- the host's docker
    def _require_docker(self) -> None:
        if self.docker is None:
            if self.over_ssh:  # another host: only its own docker command helps
                raise DokkuUnavailable("docker is not reachable on this host: Dokku's ssh "
                                       "interface runs no docker", SSH_DOCKER_HINT)
            raise DokkuUnavailable(f"the {self.transport.name} transport cannot run docker",
                                   DOCKER_HINT)

    def docker_read(self, args: Sequence[str], parse: Callable[[str], T],
                    cache: bool = True) -> T:
        """A docker read (``ps -a``, ``stats --no-stream``, ``system df -v`` ...), parsed.

        ``args`` are built and validated by the caller (the docker plugin);
        like Dokku reads, the parsed value is cached briefly and dropped by
        any change through this client.
        """
        self._require_docker()

        def load() -> T:
            return self._parse(args, self._docker(args).stdout, parse, tool="docker")

        return self._cached(("docker", *args), load) if cache else load()

    def docker_change(self, args: Sequence[str], timeout: float | None = None) -> Result:
        """A docker change (``restart ID``, ``system prune -f`` ...); the read cache is cleared.

        A refusal by the daemon is typed: an unknown container is
        :class:`ContainerNotFound`, a state conflict :class:`DockerRefused`.
        """
        self._require_docker()
        assert self.docker is not None
        self.invalidate()
        start = time.monotonic()
        try:
            with self._slot("docker", args):
                result = self.docker.run(args, timeout=timeout or self.timeout)
        except DokkuTimeout:
            self._record("docker", args, time.monotonic() - start, None)
            raise
        finally:
            self.invalidate()
        self._record("docker", args, result.duration, result.exit)
        if result.exit != 0:
            raise _docker_refusal(args, result.exit, result.stdout, result.stderr)
        return result

    def docker_stream(self, args: Sequence[str], timeout: float | None = None,
                      merge_stderr: bool = True) -> Stream:
        """``docker logs -f ID`` as a cancellable stream of lines (stderr merged in order)."""
        self._require_docker()
        assert self.docker is not None

        def finished(argv: tuple[str, ...], duration: float, code: int | None) -> None:
            self._record("docker", args, duration, code)

        def check(code: int, stdout: str, stderr: str) -> DokkuError | None:
            return _docker_refusal(args, code, stdout, stderr)

        return self.docker.stream(args, timeout=timeout, check=check, finished=finished,
                                  merge_stderr=merge_stderr)

    def docker_pty(self, args: Sequence[str], cols: int = 80, rows: int = 24) -> PtyHandle:
        """``docker exec -it ID SHELL`` on a resizable terminal."""
        self._require_docker()
        assert self.docker is not None

        def finished(argv: tuple[str, ...], duration: float, code: int | None) -> None:
            self._record("docker", args, duration, code)

        return self.docker.pty(args, cols, rows, finished=finished)

    # ----------------------------------------------------------------- version
    def version(self) -> str:
        """Dokku's version (``0.38.27``), asked once per client."""
        if self._version is None:
            self._version = self._read(["version"], parsers.parse_version, cache=False)
        return self._version

    def has_json(self, command: str) -> bool:
        """Whether this Dokku accepts ``--format json`` on ``command``."""
        since = JSON_SINCE.get(command)
        return since is None or parsers.version_tuple(self.version()) >= since

    # ----------------------------------------------------------------- apps
    def list_apps(self) -> list[str]:
        """Every app name, sorted (one ``apps:list``)."""
        return self._cached(("apps",), self._load_apps)

    def _apps_with_age(self) -> tuple[list[str], float]:
        """:meth:`list_apps` stale-while-revalidate, with the list's age (the list page)."""
        return self._cache.lookup_with_age(("apps",), self._load_apps, stale_ok=True)

    def _load_apps(self) -> list[str]:
        if self.has_json("apps:list"):
            return sorted(self._read(["apps:list", "--format", "json"], _apps_json_or_text,
                                     cache=False))
        return sorted(self._read(["apps:list"], parsers.parse_apps_list_text, cache=False))

    def app_exists(self, app: str) -> bool:
        args = ["apps:exists", validate.app_name(app)]
        return self._run(args, ok=(0, 20)).exit == 0

    def app_report(self, app: str) -> AppReport:
        args = ["apps:report", validate.app_name(app), "--format", "json"]
        return self._read(
            args, lambda out: parsers.app_report(app, parsers.parse_json_object(out, "apps:report"))
        )

    def apps_overview(self) -> list[AppOverview]:
        """Every app with its live state, in a constant number of calls (see :meth:`apps_live`)."""
        return self.apps_live()[0]

    def apps_live(self) -> tuple[list[AppOverview], LiveState]:
        """Every app with its state, and whether that state is live (and if not, why).

        Local/simulator: ``apps:list`` plus ONE ``docker ps -a`` on Dokku's
        labels, both stale-while-revalidate (the age is in the
        :class:`LiveState`).  Over ssh (no docker), or when docker fails:
        ``apps:list`` plus the all-apps ``ps:report``, served
        stale-while-revalidate with its age; a docker failure makes the
        answer incomplete (``available=False``, with the reason).
        """
        apps, apps_age = self._apps_with_age()
        docker_failure = None
        if self.docker is not None:
            found, age = self._cache.lookup_with_age(
                ("docker-ps",), self._containers_or_error, stale_ok=True
            )
            if isinstance(found, DokkuError):  # docker refused (group, socket): Dokku still knows
                self.docker_error = docker_failure = found
            else:
                self.docker_error = None
                by_app: dict[str, list[Container]] = {name: [] for name in apps}
                for container in found:
                    if container.app in by_app:
                        by_app[container.app].append(container)
                overview = [_overview_from_containers(name, by_app[name], age) for name in apps]
                return overview, self._observed(LiveState(True, "docker", max(apps_age, age)))
        reports, age = self._reports.get()
        if any(name not in reports for name in apps):
            self._reports.mark_stale()  # an app created elsewhere: fetch it next time
        overview = [_overview_from_report(name, reports.get(name), age) for name in apps]
        return overview, self._observed(self._report_state(docker_failure, age))

    def _report_state(self, docker_failure: DokkuError | None, age: float) -> LiveState:
        if docker_failure is not None:
            return LiveState(False, "report", age, f"docker unavailable: {docker_failure}")
        error = self._reports.last_error
        if error is not None:
            return LiveState(False, "report", age, f"refreshing Dokku's ps:report failed: {error}")
        return LiveState(True, "report", age)

    def _observed(self, live: LiveState) -> LiveState:
        with self._lock:
            self._live = live
        return live

    def live_state(self) -> LiveState | None:
        """What the last :meth:`apps_live` of this client found (None: not asked yet)."""
        with self._lock:
            return self._live

    def _containers_or_error(self) -> list[Container] | DokkuError:
        """``docker ps`` parsed, or its failure as a value: cached (briefly) like one.

        A hung or refused docker then costs one call per cache period, not one
        per page, and every page says why live state is missing.
        """
        try:
            return self._parse(
                DOCKER_PS, self._docker(DOCKER_PS).stdout, parsers.parse_docker_ps, tool="docker"
            )
        except DokkuError as exc:
            return exc

    def containers(self, app: str | None = None) -> list[Container]:
        """Dokku's containers from ONE ``docker ps -a`` (local transports only)."""
        if app is not None:
            validate.app_name(app)
        if self.docker is None:
            raise DokkuError(f"the {self.transport.name} transport cannot run docker")
        found = self._cache.lookup(("docker-ps",), self._containers_or_error)
        if isinstance(found, DokkuError):
            raise found
        if app is None:
            return list(found)
        return [c for c in found if c.app == app]

    def schedulers(self) -> dict[str, str]:
        """Each app's scheduler (``docker-local``, ``k3s`` …): ONE ``scheduler:report``."""
        if not self.list_apps():
            return {}  # Dokku's bulk report has nothing to say about no apps
        return self._read(["scheduler:report"], parsers.scheduler_by_app)

    def k3s_nodes(self) -> list[K3sNode]:
        """The host's k3s cluster, read-only (``scheduler-k3s:cluster-list --format json``)."""
        return self._read(["scheduler-k3s:cluster-list", "--format", "json"], parsers.k3s_nodes)

    def apps_create(self, app: str) -> None:
        self._run(["apps:create", validate.app_name(app, existing=False)], mutating=True)

    def apps_destroy(self, app: str) -> None:
        """Destroy an app and its containers (``--force``: the UI asked already)."""
        self._run(["apps:destroy", validate.app_name(app), "--force"], mutating=True)

    def apps_rename(self, old: str, new: str) -> None:
        args = ["apps:rename", validate.app_name(old), validate.app_name(new, existing=False)]
        self._run(args, mutating=True, timeout=self.long_timeout)

    def apps_lock(self, app: str, locked: bool = True) -> None:
        self._run(["apps:lock" if locked else "apps:unlock", validate.app_name(app)], mutating=True)

    # ----------------------------------------------------------------- ps
    def ps_report(self, app: str) -> PsReport:
        """One app's ``ps:report`` (slow: ≈0.6-0.9 s; never use it in a loop)."""
        args = ["ps:report", validate.app_name(app), "--format", "json"]
        return self._read(
            args, lambda out: parsers.ps_report(app, parsers.parse_json_object(out, "ps:report"))
        )

    def ps_reports(self) -> dict[str, PsReport]:
        """Every app's ``ps:report`` (≈0.75 s per app), with app names from the text headers."""
        return self._reports.get()[0]

    def _load_ps_reports(self) -> dict[str, PsReport]:
        def parse(out: str) -> dict[str, PsReport]:
            blocks = parsers.parse_report_blocks(out)
            return {name: parsers.ps_report(name, data) for name, data in blocks}

        return self._read(["ps:report"], parse, cache=False)

    def scale(self, app: str) -> dict[str, int]:
        """Configured process counts (``ps:scale APP``)."""
        validate.app_name(app)
        if self.has_json("ps:scale"):
            out = self._run(["ps:scale", app, "--format", "json"]).stdout
            try:
                return parsers.parse_scale_json(out)
            except (parsers.ParseError, KeyError, TypeError):
                pass  # a Dokku without --format here prints text: ask for that
        return self._read(["ps:scale", app], parsers.parse_scale_text, cache=False)

    def ps_scale(self, app: str, counts: Mapping[str, int], skip_deploy: bool = False) -> None:
        validate.app_name(app)
        if not counts:
            raise validate.InvalidValue("no process counts given")
        pairs = [
            f"{validate.process_type(kind)}={validate.scale_count(kind, n)}"
            for kind, n in sorted(counts.items())
        ]
        flags = ["--skip-deploy"] if skip_deploy else []
        self._run(["ps:scale", *flags, app, *pairs], mutating=True, timeout=self.long_timeout)

    def _lifecycle(self, action: str, app: str) -> None:
        args = [f"ps:{action}", validate.app_name(app)]
        result = self._run(args, mutating=True, timeout=self.long_timeout)
        # Dokku exits 0 here but says so on stdout or stderr: surface it as a typed error
        for line in dokku_messages(result.stdout) + dokku_messages(result.stderr):
            for pattern, kind in _LIFECYCLE_FAILURES:
                if pattern.match(line):
                    raise kind(
                        line,
                        exit_code=result.exit,
                        argv=args,
                        stdout=result.stdout,
                        stderr=result.stderr,
                    )

    def ps_start(self, app: str) -> None:
        self._lifecycle("start", app)

    def ps_stop(self, app: str) -> None:
        self._lifecycle("stop", app)

    def ps_restart(self, app: str) -> None:
        self._lifecycle("restart", app)

    def ps_rebuild(self, app: str) -> None:
        self._lifecycle("rebuild", app)

    def deploy_image(self, app: str, image: str) -> None:
        """``git:from-image``: deploy a docker image (what the demo and tests use)."""
        args = ["git:from-image", validate.app_name(app), validate.image(image)]
        self._run(args, mutating=True, timeout=self.long_timeout)

    @staticmethod
    def git_sync_args(app: str, repo: str, ref: str | None = None, build: bool = True) -> list[str]:
        """``git:sync [--build] APP REPO [REF]``, validated (for streaming its output)."""
        args = ["git:sync", *(["--build"] if build else []), validate.app_name(app),
                validate.git_repo(repo)]
        return args + ([validate.git_ref(ref)] if ref is not None else [])

    def git_sync(self, app: str, repo: str, ref: str | None = None, build: bool = True) -> None:
        """Clone (first time) or fetch ``repo`` into the app; deploy it with ``build``.

        Dokku hides git's own messages, so a clone that fails exits 128 with no
        explanation: that becomes a :class:`DokkuError` saying what to check.
        """
        args = self.git_sync_args(app, repo, ref, build)
        try:
            self._run(args, mutating=True, timeout=self.long_timeout)
        except DokkuError as exc:
            raise git_sync_error(exc, repo, ref) from exc

    # ----------------------------------------------------------------- settings
    def nginx_set(self, app: str, key: str, value: str = "") -> None:
        """``nginx:set APP KEY [VALUE]`` for :data:`validate.NGINX_KEYS`; empty resets it."""
        key, value = validate.nginx_setting(key, value)
        self._run(["nginx:set", validate.app_name(app), key, *([value] if value else [])],
                  mutating=True)

    def resource_set(self, kind: str, app: str, values: Mapping[str, str],
                     process_type: str | None = None) -> None:
        """``resource:limit|reserve [--process-type T] --cpu … APP`` (kind limit/reserve)."""
        flags = validate.resources(kind, dict(values))
        self._run([f"resource:{kind}", *self._process_flag(process_type), *flags,
                   validate.app_name(app)], mutating=True)

    def resource_clear(self, kind: str, app: str, process_type: str | None = None) -> None:
        """``resource:limit-clear|reserve-clear [--process-type T] APP``."""
        if kind not in validate.RESOURCE_KINDS:
            raise InvalidValue(f"resource kind must be one of {', '.join(validate.RESOURCE_KINDS)}")
        self._run([f"resource:{kind}-clear", *self._process_flag(process_type),
                   validate.app_name(app)], mutating=True)

    @staticmethod
    def _process_flag(process_type: str | None) -> list[str]:
        if process_type is None:
            return []
        return ["--process-type", validate.process_type(process_type)]

    def docker_options_change(self, action: str, app: str, phases: Iterable[str],
                              option: str) -> None:
        """``docker-options:add|remove APP PHASES OPTION``; host-isolation breakers refused."""
        if action not in ("add", "remove"):
            raise InvalidValue("docker-options action must be add or remove")
        checked = docker_policy.docker_option(option) if action == "add" else _one_line(option)
        self._run([f"docker-options:{action}", validate.app_name(app),
                   validate.docker_phases(phases), checked], mutating=True)

    def cron_list(self, app: str) -> list[dict[str, Any]] | None:
        """The app's cron tasks (``cron:list APP --format json``).

        None when this Dokku has no JSON form (its flag parser refuses
        ``--format``: :class:`InvalidValue`) or no ``cron`` plugin at all.
        """
        args = ["cron:list", validate.app_name(app), "--format", "json"]
        try:
            return self._read(args, _cron_tasks)
        except (InvalidValue, UnknownCommand):
            return None

    def plugin_installed(self, name: str) -> bool:
        """Whether a Dokku plugin is installed and enabled (from the cached ``plugin:list``)."""
        return any(p.name == name and p.enabled for p in self.plugins())

    def letsencrypt(self, app: str, enable: bool) -> None:
        """``letsencrypt:enable|disable APP`` (the dokku-letsencrypt plugin; it deploys)."""
        action = "enable" if enable else "disable"
        self._run([f"letsencrypt:{action}", validate.app_name(app)], mutating=True,
                  timeout=self.long_timeout)

    def redirect_set(self, app: str, source: str, target: str, code: int = 301) -> None:
        """``redirect:set APP SRC DEST [CODE]`` (the dokku-redirect plugin)."""
        if code not in (301, 302, 303, 307, 308):
            raise InvalidValue("redirect code must be 301, 302, 303, 307 or 308")
        self._run(["redirect:set", validate.app_name(app), validate.domain(source),
                   validate.domain(target), str(code)], mutating=True, timeout=self.long_timeout)

    def redirect_unset(self, app: str, source: str) -> None:
        self._run(["redirect:unset", validate.app_name(app), validate.domain(source)],
                  mutating=True, timeout=self.long_timeout)

    # ----------------------------------------------------------------- config
    @staticmethod
    def _config_target(app: str | None) -> list[str]:
        return ["--global"] if app is None else [validate.app_name(app)]

    def config(self, app: str | None) -> dict[str, str]:
        """All config vars of ``app`` (``None``: the global ones), values exact."""
        args = ["config:export", "--format", "json", *self._config_target(app)]
        return self._read(args, _config_values)

    def config_get(self, app: str | None, key: str) -> str | None:
        """One value, ``None`` when unset (Dokku: exit 1 and no output)."""
        args = ["config:get", *self._config_target(app), validate.env_key(key)]
        result = self._run(args, ok=(0, 1))
        if result.exit == 1:
            if result.stderr.strip() or result.stdout.strip():
                raise self._error(args, 1, result.stdout, result.stderr)
            return None
        return result.stdout[:-1] if result.stdout.endswith("\n") else result.stdout

    def config_set(self, app: str | None, values: Mapping[str, str], restart: bool = False) -> None:
        """Set vars; without ``restart`` the app keeps running with its old env."""
        if not values:
            raise validate.InvalidValue("no config values given")
        pairs = [f"{validate.env_key(k)}={validate.env_value(k, v)}" for k, v in values.items()]
        flags = [] if restart else ["--no-restart"]
        args = ["config:set", *flags, *self._config_target(app), *pairs]
        self._run(args, mutating=True, timeout=self.long_timeout if restart else None)

    def config_unset(self, app: str | None, keys: Iterable[str], restart: bool = False) -> None:
        names = [validate.env_key(k) for k in keys]
        if not names:
            raise validate.InvalidValue("no config keys given")
        flags = [] if restart else ["--no-restart"]
        args = ["config:unset", *flags, *self._config_target(app), *names]
        self._run(args, mutating=True, timeout=self.long_timeout if restart else None)

    # ----------------------------------------------------------------- domains
    def domains(self, app: str | None) -> DomainsReport:
        """The app's (``None``: global) domains and whether vhosts are enabled."""
        target = ["--global"] if app is None else [validate.app_name(app)]
        args = ["domains:report", *target, "--format", "json"]
        return self._read(
            args, lambda out: parsers.domains_report(parsers.parse_json_object(out, "domains"))
        )

    def _domains_change(self, action: str, app: str, names: Iterable[str]) -> None:
        args = [f"domains:{action}", validate.app_name(app), *validate.domains(names)]
        self._run(args, mutating=True, timeout=self.long_timeout)

    def domains_add(self, app: str, names: Iterable[str]) -> None:
        self._domains_change("add", app, names)

    def domains_set(self, app: str, names: Iterable[str]) -> None:
        self._domains_change("set", app, names)

    def domains_remove(self, app: str, names: Iterable[str]) -> None:
        self._domains_change("remove", app, names)

    def domains_clear(self, app: str) -> None:
        self._run(
            ["domains:clear", validate.app_name(app)], mutating=True, timeout=self.long_timeout
        )

    # ----------------------------------------------------------------- ports
    def ports(self, app: str) -> PortsReport:
        """Configured and detected port mappings (``ports:report``, ≈1-2 s)."""
        args = ["ports:report", validate.app_name(app), "--format", "json"]
        return self._read(
            args, lambda out: parsers.ports_report(parsers.parse_json_object(out, "ports"))
        )

    @staticmethod
    def _mappings(mappings: Iterable[PortMapping | tuple[str, int, int]]) -> list[str]:
        result = [
            validate.port_mapping(
                *(m.scheme, m.host_port, m.container_port) if isinstance(m, PortMapping) else m
            )
            for m in mappings
        ]
        if not result:
            raise validate.InvalidValue("no port mapping given")
        return result

    def _ports_change(self, action: str, app: str, mappings: Iterable[Any]) -> None:
        args = [f"ports:{action}", validate.app_name(app), *self._mappings(mappings)]
        self._run(args, mutating=True, timeout=self.long_timeout)

    def ports_add(self, app: str, mappings: Iterable[PortMapping | tuple[str, int, int]]) -> None:
        self._ports_change("add", app, mappings)

    def ports_set(self, app: str, mappings: Iterable[PortMapping | tuple[str, int, int]]) -> None:
        self._ports_change("set", app, mappings)

    def ports_remove(
        self, app: str, mappings: Iterable[PortMapping | tuple[str, int, int]]
    ) -> None:
        self._ports_change("remove", app, mappings)

    def ports_clear(self, app: str) -> None:
        self._run(["ports:clear", validate.app_name(app)], mutating=True, timeout=self.long_timeout)

    def urls(self, app: str) -> list[str]:
        """The app's URLs (``urls APP``, ≈1-3 s: it inspects containers; cached briefly)."""
        args = ["urls", validate.app_name(app)]
        return self._read(args, lambda out: parsers.parse_lines(out, "urls", parsers.URL_RE))

    # ----------------------------------------------------------------- storage
    def storage(self, app: str) -> list[StorageMount]:
        validate.app_name(app)
        if self.has_json("storage:list"):
            out = self._run(["storage:list", app, "--format", "json"]).stdout
            try:
                return parsers.parse_storage_list_json(out)
            except (parsers.ParseError, AttributeError, TypeError):
                pass  # a Dokku without --format here prints text: ask for that
        return self._read(["storage:list", app], parsers.parse_storage_list_text, cache=False)

    def storage_mount(self, app: str, host: str, container: str) -> None:
        self._run(
            ["storage:mount", validate.app_name(app), validate.mount(host, container)],
            mutating=True,
        )

    def storage_unmount(self, app: str, host: str, container: str) -> None:
        self._run(
            ["storage:unmount", validate.app_name(app), validate.mount(host, container)],
            mutating=True,
        )

    # ----------------------------------------------------------------- plugins
    def plugins(self) -> list[Plugin]:
        """Installed Dokku plugins (``plugin:list``, ≈0.65 s; cached briefly)."""
        return self._cached(("plugins",), self._load_plugins)

    def _load_plugins(self) -> list[Plugin]:
        if self.has_json("plugin:list"):
            out = self._run(["plugin:list", "--format", "json"]).stdout
            try:
                return parsers.parse_plugin_list_json(out)
            except (parsers.ParseError, KeyError, TypeError):
                pass  # a Dokku without --format here prints text: ask for that
        return self._read(["plugin:list"], parsers.parse_plugin_list_text, cache=False)

    # ----------------------------------------------------------------- services
    def services(self, kind: str) -> list[Service]:
        """Services of one type (``postgres:list``); empty when there are none."""
        return [Service(kind, row["name"]) for row in self.service_table(kind)]

    def service_table(self, kind: str) -> list[dict[str, str]]:
        """``<type>:list`` rows: names, plus status/version/ports/links from older plugins."""
        args = [f"{validate.service_type(kind)}:list"]
        return self._read(args, parsers.parse_service_table)

    def service_containers(self) -> list[dict[str, str]]:
        """Every service and ambassador container from ONE ``docker ps -a`` (local only).

        What ``<type>:info`` would say per service (status, image, exposed
        ports), for all services of all types at once; cached like the app list.
        """
        if self.docker is None:
            raise DokkuError(f"the {self.transport.name} transport cannot run docker")
        args = ["ps", "-a", "--no-trunc", "--filter", "label=dokku", "--format", "{{json .}}"]

        def load() -> list[dict[str, str]]:
            out = self._docker(args).stdout
            return self._parse(args, out, parsers.parse_service_containers, tool="docker")

        return self._cached(("docker-services",), load)

    def service_link_map(self) -> dict[tuple[str, str], list[str]]:
        """``{(type, name): [linked apps]}`` of every service from ONE ``docker-options:report``."""
        return self._read(["docker-options:report"], parsers.parse_service_links)

    def service_info(self, kind: str, name: str) -> ServiceInfo:
        args = [f"{validate.service_type(kind)}:info", validate.service_name(name)]
        return self._read(args, lambda out: parsers.parse_service_info(kind, name, out))

    def service_exists(self, kind: str, name: str) -> bool:
        args = [f"{validate.service_type(kind)}:exists", validate.service_name(name)]
        try:
            self._run(args)
        except ServiceNotFound:
            return False
        return True

    def service_links(self, kind: str, name: str) -> list[str]:
        args = [f"{validate.service_type(kind)}:links", validate.service_name(name)]
        return self._read(args, lambda out: parsers.parse_lines(out, args[0], parsers.NAME_RE),
                          cache=False)

    def _change(self, args: Sequence[str], ctx: Any = None) -> None:
        """A service change that may take minutes (a link redeploys the app, ≈50 s).

        With ``ctx`` (a background operation's context: ``line``, ``watch``,
        ``check_cancel``) Dokku's output is fed to it line by line as it comes
        and a cancel request kills the command; a failure raises its typed
        error either way.
        """
        if ctx is None:
            self._run(args, mutating=True, timeout=self.long_timeout)
            return
        stream = self.stream(args, timeout=self.long_timeout, mutating=True)
        with ctx.watch(stream.cancel):
            for line in stream:
                ctx.line(line)
        ctx.check_cancel()

    def service_create(self, kind: str, name: str, flags: Sequence[str] = (),
                       ctx: Any = None) -> None:
        """``<type>:create NAME [flags]``; ``flags`` from :func:`validate.service_flags`."""
        args = [f"{validate.service_type(kind)}:create", validate.service_name(name), *flags]
        self._change(args, ctx)

    def service_clone(self, kind: str, name: str, new: str, flags: Sequence[str] = (),
                      ctx: Any = None) -> None:
        """``<type>:clone NAME NEW [flags]``: a new service with a copy of the data."""
        args = [f"{validate.service_type(kind)}:clone", validate.service_name(name),
                validate.service_name(new), *flags]
        self._change(args, ctx)

    def service_upgrade(self, kind: str, name: str, flags: Sequence[str] = (),
                        ctx: Any = None) -> None:
        """``<type>:upgrade NAME [flags]``: recreate the container on another image/version."""
        args = [f"{validate.service_type(kind)}:upgrade", validate.service_name(name), *flags]
        self._change(args, ctx)

    def service_expose(self, kind: str, name: str, ports: Sequence[str] = (),
                       ctx: Any = None) -> None:
        """``<type>:expose NAME [[ip:]port…]``; no ports: Dokku picks random ones."""
        args = [f"{validate.service_type(kind)}:expose", validate.service_name(name),
                *(validate.expose_port(p) for p in ports)]
        self._change(args, ctx)

    def service_unexpose(self, kind: str, name: str, ctx: Any = None) -> None:
        args = [f"{validate.service_type(kind)}:unexpose", validate.service_name(name)]
        self._change(args, ctx)

    def service_logs(self, kind: str, name: str, tail: bool = False,
                     lines: int | None = None) -> Stream:
        """``<type>:logs NAME [-t|-n] [count]`` (count is the plugin's 3rd positional)."""
        args = [f"{validate.service_type(kind)}:logs", validate.service_name(name)]
        if tail:
            args.append("-t")
        elif lines is not None:
            args += ["-n", str(validate.count(lines, "lines", MAX_LOG_LINES))]
        return self.stream(args)

    def service_destroy(self, kind: str, name: str, ctx: Any = None) -> None:
        """Destroy (``--force``); Dokku refuses while linked: :class:`ServiceLinked`."""
        args = [f"{validate.service_type(kind)}:destroy", validate.service_name(name), "--force"]
        self._change(args, ctx)

    def _link_change(self, action: str, kind: str, name: str, app: str,
                     extra: Sequence[str] = (), ctx: Any = None) -> None:
        args = [
            f"{validate.service_type(kind)}:{action}",
            validate.service_name(name),
            validate.app_name(app),
            *extra,
        ]
        self._change(args, ctx)

    def service_link(self, kind: str, name: str, app: str, alias: str | None = None,
                     querystring: str | None = None, ctx: Any = None) -> None:
        """``<type>:link NAME APP [--alias A] [--querystring Q]`` (restarts the app)."""
        extra: list[str] = []
        if alias:
            extra += ["--alias", validate.link_alias(alias)]
        if querystring:
            extra += ["--querystring", validate.querystring(querystring)]
        self._link_change("link", kind, name, app, extra, ctx)

    def service_unlink(self, kind: str, name: str, app: str, ctx: Any = None) -> None:
        self._link_change("unlink", kind, name, app, ctx=ctx)

    def service_action(self, kind: str, name: str, action: str, ctx: Any = None) -> None:
        """``start``, ``stop`` or ``restart`` a service container."""
        if action not in ("start", "stop", "restart"):
            raise validate.InvalidValue(
                f"service action must be start, stop or restart, not {action!r}"
            )
        args = [f"{validate.service_type(kind)}:{action}", validate.service_name(name)]
        self._change(args, ctx)

    def service_export(self, kind: str, name: str) -> Stream:
        """The dump as a byte stream: iterate ``stream.chunks()``, never buffered whole."""
        args = [f"{validate.service_type(kind)}:export", validate.service_name(name)]
        return self.stream(args)

    def service_import(
        self,
        kind: str,
        name: str,
        source: IO[bytes],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Feed a dump from ``source`` (read in chunks) to ``<type>:import``.

        ``progress`` is called with the number of bytes sent so far after each
        chunk, from the thread that feeds the child (for a progress bar).
        """
        args = [f"{validate.service_type(kind)}:import", validate.service_name(name)]
        stdin = _CountingReader(source, progress) if progress else source
        self._run(args, stdin=stdin, mutating=True, timeout=self.long_timeout)

    # ----------------------------------------------------------------- streams and terminals
    def stream(
        self,
        args: Sequence[str],
        stdin: bytes | IO[bytes] | None = None,
        timeout: float | None = None,
        mutating: bool = False,
    ) -> Stream:
        """Run ``args`` as a :class:`Stream`; a failure ends the iteration with its typed error.

        ``mutating`` (a deploy whose output is shown live) clears the read
        cache when the command starts and again when it ends.
        """
        if mutating:
            self.invalidate()

        def finished(argv: tuple[str, ...], duration: float, code: int | None) -> None:
            self._record("dokku", args, duration, code)
            if mutating:
                self.invalidate()

        def check(code: int, stdout: str, stderr: str) -> DokkuError | None:
            return self._error(args, code, stdout, stderr)

        return self.transport.stream(
            list(args), stdin, timeout=timeout, check=check, finished=finished
        )

    def logs(
        self,
        app: str,
        *,
        tail: bool = False,
        lines: int | None = None,
        process: str | None = None,
        quiet: bool = False,
    ) -> Stream:
        """``logs APP`` as a stream of lines; ``tail`` keeps following until cancelled."""
        args = ["logs", validate.app_name(app)]
        if lines is not None:
            args += ["-n", str(validate.count(lines, "lines", MAX_LOG_LINES))]
        if process is not None:
            args += ["-p", validate.process_type(process)]
        if quiet:
            args.append("-q")
        if tail:
            args.append("-t")
        return self.stream(args)

    @staticmethod
    def enter_args(
        app: str, target: str = "web", command: Sequence[str] = ("/bin/sh",)
    ) -> list[str]:
        """``enter APP web|web.2 CMD...`` (Dokku reads the 2nd word as process type or dyno)."""
        where = validate.dyno(target) if "." in target else validate.process_type(target)
        return ["enter", validate.app_name(app), where, *validate.command(command)]

    @staticmethod
    def run_args(app: str, command: Sequence[str] = ("/bin/sh",)) -> list[str]:
        """``run APP CMD...``: a one-off container with the app's image and env."""
        return ["run", validate.app_name(app), *validate.command(command)]

    @staticmethod
    def connect_args(kind: str, name: str) -> list[str]:
        """``<type>:connect NAME``: the service's own console (psql, redis-cli)."""
        return [f"{validate.service_type(kind)}:connect", validate.service_name(name)]

    def pty(self, args: Sequence[str], cols: int = 80, rows: int = 24) -> PtyHandle:
        """Start ``args`` (from :meth:`enter_args` and co.) on a resizable terminal."""

        def finished(argv: tuple[str, ...], duration: float, code: int | None) -> None:
            self._record("dokku", args, duration, code)

        return self.transport.pty(list(args), cols, rows, finished=finished)


class _CountingReader:
    """A binary reader that reports how many bytes have been read through it."""

    def __init__(self, source: IO[bytes], progress: Callable[[int], None]) -> None:
        self._source = source
        self._progress = progress
        self.sent = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self.sent += len(chunk)
        self._progress(self.sent)
        return chunk


# --------------------------------------------------------------------------- parsing
def _docker_refusal(args: Sequence[str], code: int, stdout: str, stderr: str) -> DokkuError:
    """docker's own message, typed: an unknown container, or a refused state change."""
    message = stderr.strip() or stdout.strip() or f"docker exited {code}"
    message = message.removeprefix("Error response from daemon: ").removeprefix("Error: ")
    if any(sign in message for sign in DOCKER_UNREACHABLE):
        return DokkuUnavailable(message, DOCKER_HINT, exit_code=code, argv=args, stderr=stderr)
    kind = ContainerNotFound if "No such container" in message else DockerRefused
    return kind(message, exit_code=code, argv=args, stderr=stderr)


def _apps_json_or_text(out: str) -> list[str]:
    """``apps:list --format json``; a Dokku that ignores ``--format`` prints text instead."""
    try:
        return parsers.parse_apps_list_json(out)
    except parsers.ParseError:
        if out.lstrip().startswith("["):
            raise  # JSON after all, with something that is not an app name in it
        return parsers.parse_apps_list_text(out)


def _config_values(out: str) -> dict[str, str]:
    """``config:export --format json``: an object of strings (values exact)."""
    return {str(k): str(v) for k, v in parsers.parse_json_object(out, "config:export").items()}


def _cron_tasks(out: str) -> list[dict[str, Any]]:
    """``cron:list --format json``: a list of task objects (empty output: none)."""
    data = parsers.parse_json(out or "[]", "cron:list")
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise parsers.ParseError("cron:list", out, f"expected a list of tasks: {out[:80]!r}")
    return data


# --------------------------------------------------------------------------- state
def _app_state(running: int, total: int) -> str:
    if total == 0:
        return "not deployed"
    if running == total:
        return "running"
    return "stopped" if running == 0 else "mixed"


def _overview_from_containers(name: str, containers: list[Container], age: float) -> AppOverview:
    """State from the app's deploy containers (one-off ``run`` containers do not count)."""
    app_containers = sorted(
        (c for c in containers if c.container_type in ("deploy", "")), key=lambda c: c.dyno
    )
    counts: dict[str, ProcessCount] = {}
    for container in app_containers:
        kind = container.process_type or "web"
        old = counts.get(kind, ProcessCount(0, 0))
        counts[kind] = ProcessCount(old.running + container.running, old.total + 1)
    running = sum(c.running for c in app_containers)
    state = _app_state(running, len(app_containers))
    return AppOverview(name, state, counts, app_containers, source="docker", age=age)


def _overview_from_report(name: str, report: PsReport | None, age: float) -> AppOverview:
    if report is None or not report.deployed:
        return AppOverview(name, "not deployed", {}, [], source="report", age=age)
    counts: dict[str, ProcessCount] = {}
    for status in report.statuses:
        old = counts.get(status.process_type, ProcessCount(0, 0))
        up = status.state == "running"
        counts[status.process_type] = ProcessCount(old.running + up, old.total + 1)
    running = sum(c.running for c in counts.values())
    total = sum(c.total for c in counts.values())
    state = "stopped" if total == 0 else _app_state(running, total)
    return AppOverview(name, state, counts, [], source="report", age=age)


def _one_line(option: str) -> str:
    """An option to remove: any existing one may go, but it must still be one line."""
    if not isinstance(option, str) or not option.strip() or any(ord(c) < 32 for c in option):
        raise InvalidValue("docker option to remove must be one non-empty line")
    return option.strip()


def git_sync_error(exc: DokkuError, repo: str, ref: str | None) -> DokkuError:
    """Explain Dokku's silent ``git:sync`` failures (git's messages go to /dev/null)."""
    if exc.message and exc.exit_code != 128:
        return exc
    what = f"{repo}" + (f" at {ref}" if ref else "")
    message = (f"Dokku could not clone or fetch {what} (git exit {exc.exit_code}): check the "
               "URL and ref, that the host can reach it, and for a private repository "
               "'dokku git:allow-host HOST' and 'dokku git:auth HOST USER TOKEN'")
    return DokkuError(message, exit_code=exc.exit_code, argv=exc.argv, stdout=exc.stdout,
                      stderr=exc.stderr)
