"""Replay of the whole reference capture session on one simulator (SIM-B's golden tests).

The ps/git/logs/run/enter/report captures were taken on apps whose state every
earlier case changed (a ``config:set`` restart created a container, ``ports:set``
moved the URL, ``ps:scale --skip-deploy`` left web stopped ...).  So the session
is replayed once, in INDEX.md's "Capture order", running every case's own argv
(of every family) with its stdin, and each golden test compares the result it
recorded.  Three things cannot come from ``dokku`` commands and are injected:

* **traffic**: the HTTP requests the capture session made with curl appear as
  log lines of the app's web containers (``containers.append_log``) at the
  point of the session where they happened, with the captured timestamps;
* **streaming** cases (``logs -t``) are not run inline: the state is copied
  before them and their tests run the console script against that copy;
* **PTY** cases likewise run later, under a real pseudo-terminal;
* **a manual repair**: after ``config-unset-corrupted-env`` the capture session
  fixed ref-web's ENV file by hand (``config-unset-present`` succeeds on it and
  ``config-show-current`` no longer lists DQUOTE/ENDQ/ONLYQ/QUOTED); the replay drops
  those four lines at the same point.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from pruvon_testing.reference import REFERENCE_DIR
from pruvon_testing.sim import containers
from pruvon_testing.sim.core import SimState
from tests.golden.harness import CASES, Replay, sub

REQ = "[::ffff:172.17.0.1]:{port}: response:200"

# (app, dyno, docker timestamp, client port) injected right BEFORE the named case.
TRAFFIC: dict[str, list[tuple[str, str, str, int]]] = {
    "logs-n5": [
        ("ref-web", "web.1", "2026-11-22T11:24:54.635806156Z", 59852),
        ("ref-web", "web.1", "2026-11-22T11:25:04.720006748Z", 41132),
        ("ref-web", "web.1", "2026-11-22T11:25:04.738388026Z", 41142),
        ("ref-web", "web.1", "2026-11-22T11:25:04.751998015Z", 41144),
        ("ref-multi", "web.1", "2026-11-22T11:23:19.532551797Z", 49132),
    ],
    "logs-multi-n10": [
        ("ref-multi", "web.1", "2026-11-22T11:25:28.909664839Z", 49844),
        ("ref-multi", "web.2", "2026-11-22T11:25:28.949157551Z", 38612),
        ("ref-multi", "web.1", "2026-11-22T11:25:28.930024009Z", 49856),
        ("ref-multi", "web.1", "2026-11-22T11:25:28.985655698Z", 49858),
        ("ref-multi", "web.2", "2026-11-22T11:25:29.005455569Z", 38614),
        ("ref-multi", "web.1", "2026-11-22T11:25:29.024234318Z", 49866),
    ],
}
# Requests made while ``logs ref-web -t`` was following (logs-tail's note).
DURING_TAIL = [
    ("ref-web", "web.1", "2026-11-22T11:25:16.965173920Z", 58874),
    ("ref-web", "web.1", "2026-11-22T11:25:17.481222017Z", 58886),
    ("ref-web", "web.1", "2026-11-22T11:25:17.994476565Z", 58888),
]
STREAMING = {"logs-tail", "logs-tail-preserve-status"}
REPAIR_BEFORE = "config-unset-present"
REPAIRED_KEYS = ("DQUOTE=", "ENDQ=", "ONLYQ=", "QUOTED=")


def capture_order() -> list[str]:
    text = (REFERENCE_DIR / "INDEX.md").read_text()
    section = text.split("## Capture order", 1)[1]
    return re.findall(r"`([a-z0-9-]+)`", section)


def argv_of(name: str) -> list[str]:
    """The case's argv; ``$'...'`` (bash ANSI-C quoting, e.g. ``config-set-no-restart``)
    is expanded by bash itself, which ``shlex`` cannot do.  Fixture text only."""
    case = CASES[name]
    first = case.path.read_text(encoding="utf-8").split("\n", 1)[0]
    if "$'" not in first:
        return case.argv
    text = first.split("$ dokku ", 1)[1].split("  #", 1)[0]
    text = re.sub(r"\s[<>]\s*\S+\s*$", "", text)
    done = subprocess.run(
        ["bash", "-c", f'printf "%s\\0" {text}'], capture_output=True, check=True
    )
    return [part.decode() for part in done.stdout.split(b"\0")[:-1]]


def is_pty(name: str) -> bool:
    return CASES[name].tty


def inject(root: Path, traffic: list[tuple[str, str, str, int]]) -> None:
    """Append the captured requests to the current container of each app/dyno."""
    state = SimState(root)
    for app, dyno, stamp, port in traffic:
        target = next(
            c for c in containers.current_containers(state, app) if c.dyno == dyno and c.running
        )
        containers.append_log(state, target.id, REQ.format(port=port), time=stamp)


def repair_env(root: Path, app: str = "ref-web") -> None:
    """Drop the lines real Dokku could not parse, as the capture session did by hand."""
    path = SimState(root).app_dir(app) / "ENV"
    lines = path.read_bytes().split(b"\n")
    kept = [line for line in lines if not line.startswith(tuple(k.encode() for k in REPAIRED_KEYS))]
    path.write_bytes(b"\n".join(kept))


@functools.lru_cache(maxsize=1)
def session() -> Replay:
    """Replay the capture session once per test process."""
    base = Path(tempfile.mkdtemp(prefix="pruvon-simb-"))
    atexit.register(shutil.rmtree, base, True)
    replay = Replay(root=base / "state")
    for name in capture_order():
        if name == REPAIR_BEFORE:
            repair_env(replay.root)
        if name in TRAFFIC:
            inject(replay.root, TRAFFIC[name])
        if name in STREAMING or is_pty(name):
            replay.keep_snapshot(name, base / f"snap-{name}")
            if name == "logs-tail":
                inject(replay.root, DURING_TAIL)
            continue
        replay.replay(name, argv_of(name))
    return replay


# -- narrow normalisations shared by SIM-B's golden modules (applied to both sides) ------------


# docker/git ids (container 12/64, image layers 12, CID 11, git sha 40) are random per run
IDS = sub(rb"\b[0-9a-f]{11,64}\b", b"<id>")
# the temporary container name's random suffix and the rename's epoch
UPCOMING = sub(rb"\.upcoming-\d+\b", b".upcoming-<n>")
RENAME_EPOCH = sub(rb"(\.[a-z]+\.\d+)\.\d{10}\b", rb"\1.<epoch>")
GIT_FETCH = sub(
    rb"From /tmp/dokku-\d+-trigger-git-git-from-directory\.[A-Za-z0-9]+\n"
    rb"   [0-9a-f]{7}\.\.[0-9a-f]{7}  ",
    b"From <tmp>\n   <sha>..<sha>  ",
)
INSPECT_TMP = sub(
    rb"/tmp/dokku-\d+-trigger-scheduler-docker-local-scheduler-inspect\.[A-Za-z0-9]+", b"<tmp>"
)
RUN_DYNO = sub(rb"\brun\.\d+\b", b"run.<n>")
GIT_EPOCH = sub(rb"(Git last updated at: +|last-updated-at\":\")\d{10}", rb"\1<epoch>")
BRIDGE_IP = sub(rb"\b172\.17\.0\.\d+\b", b"<ip>")
DOCKER_TIME = sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", b"<time>")
MAC = sub(rb"02:42:ac:11:00:[0-9a-f]{2}", b"<mac>")
PID = sub(rb'"Pid": \d+', b'"Pid": <pid>')
HOST_PORT = sub(rb'"HostPort": "\d+"', b'"HostPort": "<port>"')
SIGNAL_LINE = sub(rb"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d signal: terminated\n", b"")
_HEALTH = re.compile(
    rb"(       Running healthcheck name='port listening check'[^\n]*\n)"
    rb"(       Running healthcheck name='default'[^\n]*\n)"
)


def healthcheck_order(data: bytes) -> bytes:
    """Dokku runs the two checks concurrently: put their "Running" lines in one order."""
    return _HEALTH.sub(rb"\2\1", data)


_ENV_BLOCK = re.compile(rb'("Env": \[\n)(.*?)(\n +\],)', re.S)


def env_order(data: bytes) -> bytes:
    """Docker merges image and run env in its own order: compare ``Env`` as a set."""

    def sort_block(match: re.Match[bytes]) -> bytes:
        items = sorted(item.strip().rstrip(b",") for item in match.group(2).split(b"\n"))
        indent = match.group(2).split(b"\n")[0][: -len(match.group(2).split(b"\n")[0].lstrip())]
        return match.group(1) + b",\n".join(indent + i for i in items) + match.group(3)

    return _ENV_BLOCK.sub(sort_block, data)


_DYNO_TAG = re.compile(rb"app\[([^\]]+)\]:")


def log_group_order(data: bytes) -> bytes:
    """``dokku logs`` streams containers concurrently: compare the per-container groups
    (runs of lines of one dyno) in a fixed order, each group's own order kept."""
    groups: list[tuple[bytes, list[bytes]]] = []
    for line in data.splitlines(keepends=True):
        match = _DYNO_TAG.search(line)
        tag = match.group(1) if match else b""
        if groups and groups[-1][0] == tag:
            groups[-1][1].append(line)
        else:
            groups.append((tag, [line]))
    return b"".join(b"".join(lines) for _, lines in sorted(groups, key=lambda g: g[0]))


DEPLOY = (IDS, UPCOMING, RENAME_EPOCH, GIT_FETCH, healthcheck_order)
INSPECT = (IDS, DOCKER_TIME, BRIDGE_IP, MAC, PID, HOST_PORT, env_order)
