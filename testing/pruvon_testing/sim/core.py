"""Simulator core: state directory, command registry and Dokku's log helpers.

Every command module imports from here; ``main.py`` dispatches argv to the
registered command.  Output helpers reproduce Dokku's ``dokku_log_*`` shell
functions byte for byte, because the reference captures are the spec.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pruvon_core.files import locked

DOKKU_VERSION = "0.38.27"


class SimExit(Exception):
    """Raised by helpers to stop a command with an exit code (like ``exit N``)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class SimState:
    """The simulated host's state directory.

    Layout (mirrors a Dokku host where that helps reading it):
      home/dokku/<app>/          app dir (ENV file, DOKKU_* files)
      config/<plugin>/<app>/<key> property files (Dokku's common properties)
      services/<type>/<name>/    service plugin data
      containers/<id>.json       simulated docker containers
      plugins/enabled/<name>/    installed Dokku plugins (real dispatch)
      sim.json                   knobs: latency, faults, emulated version
    """

    root: Path
    overrides: dict = field(default_factory=dict)  # knobs from the invocation's environment

    @classmethod
    def from_env(cls) -> SimState:
        """The host named by ``PRUVON_SIM_ROOT`` (created if missing); unset: exit 1."""
        root = os.environ.get("PRUVON_SIM_ROOT")
        if not root:
            sys.stderr.write(" !     PRUVON_SIM_ROOT is not set\n")
            raise SimExit(1)
        state = cls(Path(root))
        state.root.mkdir(parents=True, exist_ok=True)
        return state

    @classmethod
    def for_console_script(cls) -> SimState:
        """:meth:`from_env` for the ``pruvon-*-sim`` entry points: its error is the exit."""
        try:
            return cls.from_env()
        except SimExit as exc:
            sys.exit(exc.code)

    # -- paths ---------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.root / "home" / "dokku"

    def app_dir(self, app: str) -> Path:
        return self.home / app

    def prop_dir(self, plugin: str, app: str) -> Path:
        return self.root / "config" / plugin / app

    @property
    def containers_dir(self) -> Path:
        return self.root / "containers"

    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins" / "enabled"

    def service_dir(self, kind: str, name: str | None = None) -> Path:
        base = self.root / "services" / kind
        return base / name if name else base

    # -- apps ----------------------------------------------------------------
    def app_exists(self, app: str) -> bool:
        return bool(app) and "/" not in app and self.app_dir(app).is_dir()

    def apps(self) -> list[str]:
        if not self.home.is_dir():
            return []
        return sorted(p.name for p in self.home.iterdir() if p.is_dir() and not p.name.startswith("."))

    # -- properties (Dokku's fn-plugin-property-*) --------------------------
    def prop_get(self, plugin: str, app: str, key: str, default: str = "") -> str:
        path = self.prop_dir(plugin, app) / key
        try:
            return path.read_text()
        except FileNotFoundError:
            return default

    def prop_set(self, plugin: str, app: str, key: str, value: str) -> None:
        directory = self.prop_dir(plugin, app)
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / key, value)

    def prop_delete(self, plugin: str, app: str, key: str) -> None:
        with suppress(FileNotFoundError):
            (self.prop_dir(plugin, app) / key).unlink()

    def props_destroy(self, app: str) -> None:
        import shutil

        base = self.root / "config"
        if base.is_dir():
            for plugin in base.iterdir():
                shutil.rmtree(plugin / app, ignore_errors=True)

    # -- knobs ---------------------------------------------------------------
    def knobs(self) -> dict:
        """``sim.json`` merged with the environment overrides (see ``knobs.py``)."""
        try:
            values = json.loads((self.root / "sim.json").read_text())
        except (FileNotFoundError, ValueError):
            values = {}
        return {**values, **self.overrides}

    def set_knobs(self, **values: object) -> None:
        knobs = self.knobs()
        knobs.update(values)
        write_atomic(self.root / "sim.json", json.dumps(knobs, indent=2))

    def now(self) -> float:
        """The simulated host's clock: real time plus the ``time_offset`` knob (seconds).

        Lets a test say "an hour later" (``set_knobs(time_offset=3600)``) for
        behaviour that depends on elapsed time, such as Dokku retiring old
        containers only once their scheduled shutdown time has passed.
        """
        import time

        try:
            offset = float(self.knobs().get("time_offset") or 0)
        except (TypeError, ValueError):
            raise ValueError("invalid time_offset knob: use a number of seconds") from None
        return time.time() + offset

    @property
    def version(self) -> str:
        return str(self.knobs().get("version") or DOKKU_VERSION)

    # -- locking -------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Global exclusive lock: mutating commands hold it so processes never interleave."""
        with locked(self.root / ".state"):  # flock on <root>/.state.lock
            yield


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write via a temporary file and ``os.replace``: readers in other processes never see
    half a file.  The temporary name is per process and thread, so concurrent writers of
    one path (a threaded web server running the simulator in-process) never share it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    data = text.encode() if isinstance(text, str) else text
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass
class Ctx:
    """One invocation: argv after the command name, streams, and the state."""

    state: SimState
    args: list[str]
    command: str
    stdout: BinaryIO = field(default_factory=lambda: sys.stdout.buffer)
    stderr: BinaryIO = field(default_factory=lambda: sys.stderr.buffer)
    stdin: BinaryIO = field(default_factory=lambda: sys.stdin.buffer)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    # raw writers ------------------------------------------------------------
    def out(self, text: str = "", end: str = "\n") -> None:
        # surrogateescape: bytes that are not UTF-8 (from argv or files) go out unchanged
        self.stdout.write((text + end).encode("utf-8", "surrogateescape"))
        self.stdout.flush()

    def err(self, text: str = "", end: str = "\n") -> None:
        self.stderr.write((text + end).encode("utf-8", "surrogateescape"))
        self.stderr.flush()

    # Dokku's dokku_log_* helpers (plugins/common/functions) ------------------
    def info1(self, text: str) -> None:
        """``dokku_log_info1``: ``-----> text`` on stdout."""
        self.out(f"-----> {text}")

    def info2(self, text: str) -> None:
        """``dokku_log_info2``: ``=====> text`` on stdout."""
        self.out(f"=====> {text}")

    def verbose(self, text: str) -> None:
        """``dokku_log_verbose``: seven spaces of indent on stdout."""
        self.out(f"       {text}")

    def warn(self, text: str) -> None:
        """``dokku_log_warn``: `` !     text`` on stderr."""
        self.err(f" !     {text}")

    def fail(self, text: str, code: int = 1) -> None:
        """``dokku_log_fail``: `` !     text`` on stderr, then exit ``code``."""
        self.err(f" !     {text}")
        raise SimExit(code)

    def require_app(self, app: str | None) -> str:
        """Exit like Dokku does for a missing or nonexistent app argument."""
        if not app:
            self.fail("Please specify an app to run the command on")
        if not self.state.app_exists(app):
            self.fail(f"App {app} does not exist", 20)
        return app

    # quiet-aware variants (Dokku's *_quiet helpers and Go's Log*Quiet) -------
    @property
    def quiet(self) -> bool:
        """True when ``DOKKU_QUIET_OUTPUT`` is exported (``dokku --quiet …``).

        Plugins only see it with ``--quiet``: without a TTY the main ``dokku``
        script sets it for itself but does not export it.
        """
        return bool(self.env.get("DOKKU_QUIET_OUTPUT"))

    def info1_quiet(self, text: str) -> None:
        """``dokku_log_info1_quiet`` / ``LogInfo1Quiet``."""
        if not self.quiet:
            self.info1(text)

    def info2_quiet(self, text: str) -> None:
        """``dokku_log_info2_quiet`` / ``LogInfo2Quiet`` (report and list headers)."""
        if not self.quiet:
            self.info2(text)

    def out_quiet(self, text: str) -> None:
        """``dokku_log_quiet`` / ``LogQuiet``: plain line unless quiet."""
        if not self.quiet:
            self.out(text)

    def warn_quiet(self, text: str) -> None:
        """``dokku_log_warn_quiet``."""
        if not self.quiet:
            self.warn(text)

    # shared command steps ---------------------------------------------------
    def confirm_destructive(self, name: str, noun: str) -> None:
        """``AskForDestructiveConfirmation``: prompt ``> `` (no newline), Go ``Scanln`` rules.

        One line of stdin must be exactly ``name``; EOF, an empty line or two words
        fail with Go's scanner errors, another word aborts (exit 1).
        """
        self.warn("WARNING: Potentially Destructive Action")
        self.warn(f"This command will destroy {noun} {name}.")
        self.warn(f'To proceed, type "{name}"')
        self.out("> ", end="")
        line = self.stdin.readline().decode("utf-8", "replace")
        if not line:
            self.fail("EOF")
        tokens = line.rstrip("\n").split()
        if not tokens:
            self.fail("unexpected newline")
        if len(tokens) > 1:
            self.fail("expected newline")
        if tokens[0] != name:
            self.err("Confirmation did not match test. Aborted.")
            raise SimExit(1)

    def write_property(self, plugin: str, target: str, key: str, value: str) -> None:
        """``fn-plugin-property-write``/``-delete`` as the ``*:set`` commands announce it:
        an empty value unsets the property."""
        if value:
            self.info2_quiet(f"Setting {key} to {value}")
            self.state.prop_set(plugin, target, key, value)
        else:
            self.info2_quiet(f"Unsetting {key}")
            self.state.prop_delete(plugin, target, key)

    def verify_app(self, app: str | None) -> str:
        """Go's ``common.VerifyAppName``: empty -> exit 1, bad name -> exit 1, missing -> 20."""
        if not app:
            self.fail("Please specify an app to run the command on")
        assert app is not None
        if not (APP_NAME_RE.match(app) or APP_NAME_OLD_RE.match(app)):
            self.fail(APP_NAME_ERROR)
        if not self.state.app_exists(app):
            self.fail(f"App {app} does not exist", 20)
        return app


# -- app names (plugins/common IsValidAppName / IsValidAppNameOld) -----------
APP_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\Z")
APP_NAME_OLD_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*\Z")
APP_NAME_ERROR = (
    "App name must begin with lowercase alphanumeric character, "
    "and may only contain lowercase alphanumerics, dots, and hyphens"
)


# -- Go output helpers ---------------------------------------------------------
def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): printable runes kept, others escaped."""
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
             "\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"'}
    parts = []
    for char in text:
        if char in named:
            parts.append(named[char])
        elif 0xDC80 <= ord(char) <= 0xDCFF:  # undecodable byte (surrogateescape)
            parts.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char.isprintable():
            parts.append(char)
        elif ord(char) < 0x10000:
            parts.append(f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}")
        else:
            parts.append(f"\\U{ord(char):08x}")
    return '"' + "".join(parts) + '"'


def go_json(value: object, *, sort_keys: bool = True) -> str:
    """Go's ``json.Marshal``: compact, map keys sorted, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    # Go replaces invalid UTF-8 (here: surrogateescape'd bytes) with U+FFFD
    text = re.sub("[\udc80-\udcff]", "\ufffd", text)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def columnize(lines: list[str], delim: str, prefix: str = "", glue: str = "  ") -> str:
    """github.com/ryanuber/columnize ``Format``: cells trimmed, all but the last padded.

    Dokku uses it for ``config:show`` and every ``<plugin>:help`` page.
    """
    rows = [[cell.strip() for cell in line.split(delim)] for line in lines]
    widths: dict[int, int] = {}
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths.get(index, 0), len(cell))
    out = []
    for row in rows:
        cells = [
            cell if index == len(row) - 1 else cell.ljust(widths[index]) + glue
            for index, cell in enumerate(row[: len(widths)])
        ]
        out.append(prefix + "".join(cells))
    return "\n".join(out)


def emit_report(
    ctx: Ctx,
    report_type: str,
    app: str,
    values: dict[str, str],
    info_flag: str = "",
    fmt: str = "",
    *,
    trim_prefix: bool = True,
    legacy_prefix: bool = True,
    uppercase_first: bool = True,
) -> None:
    """Go's ``common.ReportSingleApp``: human block, one bare value, or flat JSON.

    ``values`` maps info flags (``--app-dir``) to values.  With ``legacy_prefix``
    the JSON carries both ``app-dir`` and ``dir`` keys, as Dokku >= 0.38.8 does
    (an emulated older version gets only ``dir``).
    """
    if fmt == "json":
        from pruvon_testing.sim.knobs import version_at_least

        if not version_at_least(ctx.state, "0.38.8"):
            legacy_prefix = False  # the "<plugin>-<key>" twins arrived in 0.38.8
        data: dict[str, str] = {}
        prefix = f"--{report_type}-"
        for key, value in values.items():
            legacy = key[2:]
            if trim_prefix and key.startswith(prefix):
                data[key[len(prefix) :]] = value
                if legacy_prefix:
                    data[legacy] = value
            else:
                data[legacy] = value
        ctx.out(go_json(data))
        return
    flags = sorted(values)
    width = max([31, *(len(k) for k in flags)])
    if not info_flag:
        ctx.info2_quiet(f"{app} {report_type} information")
        for key in flags:
            label = key[2:].replace("-", " ").replace(".", " ")
            if uppercase_first and label:
                label = label[0].upper() + label[1:]
            ctx.verbose(f"{label}:".ljust(width) + values[key])
        return
    if info_flag in values:
        ctx.out(values[info_flag])
        return
    ctx.fail(f"Invalid flag passed, valid flags: {', '.join(flags)}")


def pop_format_flag(args: list[str], default: str = "stdout") -> tuple[str, list[str]]:
    """Take ``--format X`` / ``--format=X`` out of ``args`` (the last one wins; a trailing
    ``--format`` gives ``""``), the way Dokku's shell-side parsers read them."""
    fmt, rest, queue = default, [], list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "--format":
            fmt = queue.pop(0) if queue else ""
        elif arg.startswith("--format="):
            fmt = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return fmt, rest


@dataclass
class ReportTokens:
    """``<plugin>:report`` arguments split as Go's ``common.ParseReportArgs`` does."""

    positional: list[str]
    info_flags: list[str]
    is_global: bool
    format: str | None  # the last ``--format X``; ``""`` when ``--format`` ended the line
    dangling_format: bool


def split_report_args(args: list[str]) -> ReportTokens:
    """``--format`` takes the next argument whatever it is, ``--global`` selects the global
    report, every other ``--x`` (even ``--format=json``) is an info flag.  Each plugin
    then applies its own rules (how many info flags, a missing format value)."""
    tokens = ReportTokens([], [], False, None, False)
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "--format":
            tokens.dangling_format = not queue
            tokens.format = queue.pop(0) if queue else ""
        elif arg == "--global":
            tokens.is_global = True
        elif arg.startswith("--"):
            tokens.info_flags.append(arg)
        else:
            tokens.positional.append(arg)
    return tokens


# -- in-process plugin triggers ------------------------------------------------
TriggerFn = Callable[..., int | None]
TRIGGERS: dict[str, dict[str, TriggerFn]] = {}


def on_trigger(name: str, plugin: str) -> Callable[[TriggerFn], TriggerFn]:
    """Register ``fn(ctx, *args)`` as plugin ``plugin``'s implementation of trigger ``name``.

    Simulated core plugins react to triggers the way Dokku's do (``plugn
    trigger`` runs every plugin's script, in plugin-name order).  One
    implementation per (trigger, plugin): a later registration replaces an
    earlier one (the last import wins, so keep one registration per pair).
    """

    def register(fn: TriggerFn) -> TriggerFn:
        TRIGGERS.setdefault(name, {})[plugin] = fn
        return fn

    return register


def fire_trigger(ctx: Ctx, name: str, *args: str) -> int:
    """``plugn trigger NAME ARGS``: simulated plugins in name order, then installed ones.

    Returns the first non-zero status (Dokku aborts the calling command on it).
    """
    status = 0
    for _plugin, fn in sorted(TRIGGERS.get(name, {}).items()):
        try:
            code = int(fn(ctx, *args) or 0)
        except SimExit as exc:
            code = exc.code
        if code and not status:
            status = code
    from pruvon_testing.sim import triggers  # late: triggers imports this module

    code = triggers.fire(ctx, name, *args)
    return status or code


CommandFn = Callable[[Ctx], int | None]
COMMANDS: dict[str, CommandFn] = {}


def command(*names: str) -> Callable[[CommandFn], CommandFn]:
    """Register a simulated Dokku command under one or more names (aliases)."""

    def register(fn: CommandFn) -> CommandFn:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return register


def call(ctx: Ctx, name: str, args: list[str]) -> int:
    """Run another simulated command with the same streams, as Dokku's plugins do
    when they shell out to ``dokku …`` (e.g. a service link calling ``config:set``)."""
    handler = COMMANDS[name]
    sub = Ctx(
        state=ctx.state,
        args=list(args),
        command=name,
        stdout=ctx.stdout,
        stderr=ctx.stderr,
        stdin=ctx.stdin,
        env=ctx.env,
    )
    try:
        return int(handler(sub) or 0)
    except SimExit as exc:
        return exc.code


# -- Go pflag argument parsing -------------------------------------------------
@dataclass
class Flag:
    """One pflag definition: ``kind`` is ``bool`` or ``string``."""

    name: str
    kind: str = "bool"
    default: str = ""
    usage: str = ""
    shorthand: str = ""


def parse_flags(ctx: Ctx, flagset: str, args: list[str], flags: list[Flag]) -> tuple[dict, list]:
    """Parse ``args`` like spf13/pflag with ``ExitOnError`` (Dokku's Go subcommands).

    Flags may appear anywhere, ``--`` ends them, ``--name=value`` and
    ``--name value`` both work.  Unknown flags print ``Usage of <flagset>:``,
    the flag defaults and the error on stderr, then exit 2 - as real Dokku does
    for ``apps:create -x``.
    """
    by_name = {f.name: f for f in flags}
    by_short = {f.shorthand: f for f in flags if f.shorthand}
    values: dict[str, object] = {f.name: (f.default == "true") if f.kind == "bool" else f.default
                                 for f in flags}
    positional: list[str] = []
    queue = list(args)
    while queue:
        arg = queue.pop(0)
        if arg == "--":
            positional.extend(queue)
            break
        if arg.startswith("--") and len(arg) > 2:
            name, has_value, value = arg[2:].partition("=")
            flag = by_name.get(name)
            if flag is None:
                _pflag_fail(ctx, flagset, flags, f"unknown flag: --{name}")
            elif flag.kind == "bool":
                values[name] = _pflag_bool(ctx, flagset, flags, name, value if has_value else "true")
            elif has_value:
                values[name] = value
            elif queue:
                values[name] = queue.pop(0)
            else:
                _pflag_fail(ctx, flagset, flags, f"flag needs an argument: --{name}")
        elif arg.startswith("-") and len(arg) > 1:
            flag = by_short.get(arg[1])
            if flag is None:
                _pflag_fail(ctx, flagset, flags, f"unknown shorthand flag: '{arg[1]}' in {arg}")
            elif flag.kind == "bool":
                values[flag.name] = True
            elif len(arg) > 2:
                values[flag.name] = arg[2:].removeprefix("=")
            elif queue:
                values[flag.name] = queue.pop(0)
            else:
                _pflag_fail(ctx, flagset, flags,
                            f"flag needs an argument: '{arg[1]}' in {arg}")
        else:
            positional.append(arg)
    return values, positional


def _pflag_bool(ctx: Ctx, flagset: str, flags: list[Flag], name: str, value: str) -> bool:
    truthy = {"1", "t", "T", "true", "TRUE", "True"}
    falsy = {"0", "f", "F", "false", "FALSE", "False"}
    if value not in truthy | falsy:
        _pflag_fail(ctx, flagset, flags, f'invalid argument "{value}" for "--{name}" flag: '
                    f'strconv.ParseBool: parsing {go_quote(value)}: invalid syntax')
    return value in truthy


def _pflag_fail(ctx: Ctx, flagset: str, flags: list[Flag], message: str) -> None:
    lines = []
    for flag in sorted(flags, key=lambda f: f.name):
        head = f"  -{flag.shorthand}, --{flag.name}" if flag.shorthand else f"      --{flag.name}"
        if flag.kind == "string":
            head += " string"
        tail = flag.usage
        if flag.kind == "string" and flag.default:
            tail += f" (default {go_quote(flag.default)})"
        lines.append((head, tail))
    width = max((len(head) for head, _ in lines), default=0)
    ctx.err(f"Usage of {flagset}:")
    for head, tail in lines:
        ctx.err(f"{head} {' ' * (width - len(head))}  {tail}")
    ctx.err(message)
    raise SimExit(2)
