"""Terminal throughput and keystroke latency: Pruvon's bridge vs ttyd, same machine.

For each server a WebSocket client (``websocket-client``, the same code for
both; only the framing differs) measures

* **throughput**: ``cat`` of a 100 MB text file through the terminal, from the
  command's Enter to the marker printed after it;
* **echo latency**: one keystroke sent to ``cat > /dev/null`` (cooked mode: the
  kernel's line discipline echoes it) until its echo arrives, N times, p50/p99.

Servers: the real ``pruvon serve`` (gunicorn, gthread) with its host shell
(``/bin/sh`` as the current user, so no Dokku in the path) and its app
terminal through the Dokku simulator's ``enter`` (which ``exec``s the same
shell); and ``ttyd -W`` running ``/bin/sh``.  ttyd is taken from ``PATH``;
Debian 12 has no ``ttyd`` package, so when it is missing and we are root the
benchmark fetches Debian's own ``ttyd`` package (and the newer C library it
needs) with ``apt-get download`` from a private, throw-away apt state, unpacks
it with ``dpkg -x`` and runs it in a private mount namespace where those
libraries overlay the system's; nothing is installed on the host.

Run: ``python -m benchmarks.bench_terminal [--megabytes 100] [--keystrokes 300]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import websocket

TITLE = "Terminal: throughput and keystroke echo latency (Pruvon vs ttyd, same machine)"
HEADERS = ["server", "target", "throughput (MB/s)", "cat time (s)", "echo p50 (ms)",
           "echo p99 (ms)"]
BIN = Path(sys.executable).parent
TTYD_CACHE = Path(tempfile.gettempdir()) / "pruvon-bench-ttyd"
SID = "deb http://deb.debian.org/debian sid main\n"
TTYD_PACKAGES = ("ttyd", "libc6", "libwebsockets-evlib-uv", "libwebsockets19t64", "libcap2",
                 "libjson-c5", "libssl3t64", "libuv1t64", "zlib1g")
OVERLAY = ('mount -t overlay overlay -o "lowerdir=$1:/usr/lib/x86_64-linux-gnu" '
           '/usr/lib/x86_64-linux-gnu && shift && exec "$@"')
MARKER_COMMAND = b"; echo DONE-$((6*7))\r"
MARKER = b"DONE-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------- clients
@dataclass
class Framing:
    """How one server frames terminal data on its WebSocket."""

    encode: Callable[[bytes], bytes]
    decode: Callable[[int, bytes], bytes]  # (opcode, payload) -> terminal output


PRUVON = Framing(
    encode=lambda data: data,
    decode=lambda op, data: data if op == websocket.ABNF.OPCODE_BINARY else b"",
)
TTYD = Framing(
    encode=lambda data: b"0" + data,
    decode=lambda op, data: data[1:] if data[:1] == b"0" else b"",
)


class Client:
    def __init__(self, ws: websocket.WebSocket, framing: Framing) -> None:
        self.ws = ws
        self.framing = framing

    def send(self, data: bytes) -> None:
        self.ws.send_binary(self.framing.encode(data))

    def read_until(self, needle: bytes, timeout: float = 600) -> int:
        """Read output until ``needle``; returns the number of output bytes read."""
        self.ws.settimeout(timeout)
        tail, total = b"", 0
        while True:
            opcode, data = self.ws.recv_data()
            chunk = self.framing.decode(opcode, data)
            total += len(chunk)
            tail = (tail + chunk)[-256:]
            if needle in tail:
                return total

    def drain(self, seconds: float) -> None:
        self.ws.settimeout(seconds)
        try:
            while True:
                self.ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return


def throughput(client: Client, path: Path) -> float:
    """Seconds to ``cat`` ``path`` through the terminal."""
    client.send(b"stty -echo\r")
    client.drain(0.5)
    start = time.perf_counter()
    client.send(b"cat " + str(path).encode() + MARKER_COMMAND)
    client.read_until(MARKER)
    elapsed = time.perf_counter() - start
    client.send(b"stty echo\r")
    client.drain(0.5)
    return elapsed


def echo_latencies(client: Client, count: int) -> list[float]:
    """Milliseconds from one keystroke to its echo, ``count`` times."""
    client.send(b"cat > /dev/null\r")
    client.drain(0.5)
    samples = []
    for index in range(count):
        start = time.perf_counter()
        client.send(b"x")
        client.read_until(b"x", timeout=10)
        samples.append((time.perf_counter() - start) * 1000)
        if index % 60 == 59:
            client.send(b"\r")
            client.drain(0.05)
        time.sleep(0.005)
    client.send(b"\r\x04")  # end the line first: ^D on a non-empty line only flushes it
    client.drain(0.3)
    return samples


def measure(client: Client, path: Path, keystrokes: int) -> tuple[float, list[float]]:
    client.drain(1.0)  # the prompt, the ready frame
    latencies = echo_latencies(client, keystrokes)
    return throughput(client, path), latencies


# --------------------------------------------------------------------------- pruvon
def pruvon_server(root: Path) -> tuple[subprocess.Popen, int, str]:
    """``pruvon serve`` on a simulator with one deployed app; returns a session cookie."""
    from pruvon_auth.passwords import hash_password

    from pruvon_testing.sim.main import run

    sim, state = root / "sim", root / "state"
    sim.mkdir()
    state.mkdir(mode=0o700)
    for argv in (["apps:create", "bench"], ["git:from-image", "bench", "example/web:1"]):
        code, _, err = run(argv, root=sim, env={"PRUVON_SIM_LATENCY": "0"})
        if code:
            raise RuntimeError(f"simulator {argv}: {err!r}")
    password = "bench-password-" + os.urandom(6).hex()
    me = pwd.getpwuid(os.geteuid()).pw_name
    config = root / "pruvon.yml"
    config.write_text(
        "users:\n  - username: bench\n    password: '" + hash_password(password, 12) + "'\n"
        "    role: admin\nterminals:\n  host_shell: true\n  host_user: " + me + "\n"
        "  host_login_shell: /bin/sh\n  idle_timeout: 3600\n")
    os.chmod(config, 0o600)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUVON_")}
    env.update(PRUVON_CONFIG=str(config), PRUVON_STATE_DIR=str(state), PRUVON_SIM_ROOT=str(sim),
               PRUVON_DOKKU_COMMAND=str(BIN / "pruvon-dokku-sim"),
               PRUVON_DOCKER_COMMAND=str(BIN / "pruvon-docker-sim"))
    log = open(root / "server.log", "wb")  # noqa: SIM115 - the server's for its lifetime
    process = subprocess.Popen([str(BIN / "pruvon"), "serve", "--listen", f"127.0.0.1:{port}"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_port(port, process)
    return process, port, login(port, password)


def login(port: int, password: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(base + "/login", timeout=30).read().decode()
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    body = urllib.parse.urlencode({"username": "bench", "password": password,
                                   "csrf_token": token}).encode()
    opener.open(base + "/login", data=body, timeout=30).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def pruvon_client(port: int, cookie: str, path: str) -> Client:
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", cookie=cookie,
                                     origin=f"http://127.0.0.1:{port}", timeout=30)
    return Client(ws, PRUVON)


# --------------------------------------------------------------------------- ttyd
def ttyd_command(port: int) -> list[str] | None:
    """How to run ttyd here, or None when it is not available."""
    args = ["-W", "-i", "lo", "-p", str(port), "/bin/sh"]
    system = shutil.which("ttyd")
    if system:
        return [system, *args]
    if os.geteuid() != 0 or not shutil.which("apt-get") or not shutil.which("unshare"):
        return None
    root = provision_ttyd(TTYD_CACHE)
    lib = root / "usr/lib/x86_64-linux-gnu"
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", OVERLAY, "sh",
            str(lib), str(root / "usr/bin/ttyd"), *args]


def provision_ttyd(cache: Path) -> Path:
    """Debian's ttyd package and its libraries, unpacked under ``cache`` (not installed)."""
    root = cache / "root"
    if (root / "usr/bin/ttyd").exists():
        return root
    apt = cache / "apt"
    (apt / "lists/partial").mkdir(parents=True, exist_ok=True)
    (apt / "cache/archives/partial").mkdir(parents=True, exist_ok=True)
    (apt / "sources.list").write_text(SID)
    options = ["-o", f"Dir::Etc::sourcelist={apt / 'sources.list'}", "-o",
               "Dir::Etc::sourceparts=-", "-o", f"Dir::State::Lists={apt / 'lists'}", "-o",
               f"Dir::Cache={apt / 'cache'}", "-qq"]
    debs = cache / "debs"
    debs.mkdir(exist_ok=True)
    subprocess.run(["apt-get", *options, "update"], check=True)
    subprocess.run(["apt-get", *options, "download", *(f"{p}/sid" for p in TTYD_PACKAGES)],
                   check=True, cwd=debs)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def ttyd_client(port: int) -> Client:
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/ws", subprotocols=["tty"],
                                     timeout=30)
    ws.send_binary(json.dumps({"AuthToken": "", "columns": 80, "rows": 24}).encode())
    return Client(ws, TTYD)


# --------------------------------------------------------------------------- run
def text_file(root: Path, megabytes: int) -> Path:
    """``megabytes`` MB of printable lines (no marker inside)."""
    path = root / "payload.txt"
    line = (b"abcdefghijklmnopqrstuvwxyz0123456789" * 3)[:99] + b"\n"
    block = line * 10_000
    with open(path, "wb") as handle:
        for _ in range(megabytes * 1_000_000 // len(block)):
            handle.write(block)
    return path


def in_container(sim: Path, app: str, payload: Path) -> Path:
    """The payload as the app's container sees it: the simulator confines ``enter`` to
    the app's filesystem (``<sim>/fs/<app>``, ``/app`` inside), so it is linked there."""
    from pruvon_testing.sim.confine import fs_root

    os.link(payload, fs_root(sim, app) / "app" / payload.name)
    return Path("/app") / payload.name


def row(server: str, target: str, megabytes: int, seconds: float,
        latencies: list[float]) -> list[str]:
    cuts = statistics.quantiles(latencies, n=100)
    return [server, target, f"{megabytes / seconds:.1f}", f"{seconds:.2f}",
            f"{statistics.median(latencies):.2f}", f"{cuts[98]:.2f}"]


def run_benchmark(megabytes: int, keystrokes: int) -> list[list[str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-term-") as tmp:
        root = Path(tmp)
        payload = text_file(root, megabytes)
        process, port, cookie = pruvon_server(root)
        try:
            for target, path, cat in (("host shell (/bin/sh)", "/ws/host/terminal", payload),
                                      ("app via dokku enter (simulator)",
                                       "/ws/apps/bench/terminal?shell=/bin/sh",
                                       in_container(root / "sim", "bench", payload))):
                client = pruvon_client(port, cookie, path)
                seconds, latencies = measure(client, cat, keystrokes)
                client.ws.close()
                rows.append(row("pruvon (gunicorn gthread)", target, megabytes, seconds,
                                latencies))
        finally:
            stop(process)
        ttyd_port = free_port()
        command = ttyd_command(ttyd_port)
        if command is None:
            rows.append(["ttyd", "not available (not on PATH, not root)", "-", "-", "-", "-"])
            return rows
        ttyd = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(ttyd_port, ttyd)
            client = ttyd_client(ttyd_port)
            seconds, latencies = measure(client, payload, keystrokes)
            client.ws.close()
            rows.append(row("ttyd 1.7 (-W)", "/bin/sh", megabytes, seconds, latencies))
        finally:
            stop(ttyd)
    return rows


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def run_all(megabytes: int = 100, keystrokes: int = 300) -> tuple[str, str]:
    """``(title, markdown table)`` for ``benchmarks.__main__``."""
    return TITLE, table(run_benchmark(megabytes, keystrokes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=100, help="size of the cat payload")
    parser.add_argument("--keystrokes", type=int, default=300, help="echo samples per server")
    args = parser.parse_args()
    title, text = run_all(args.megabytes, args.keystrokes)
    print(f"### {title}\n\n{text}")


if __name__ == "__main__":
    main()
