"""Issue 16: the demo is a sandbox.  One whole demo session - serve, pages, the CLI
through the printed line, a terminal - writes nothing outside its sandbox directory,
and the terminal is confined (not the server's user, the app's filesystem, no network).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests import sandbox_guard
from tests.terminals.conftest import open_term
from tests.web.server import BIN, Browser, Server, free_port, wait_ready

pytestmark = pytest.mark.e2e

PAGES = ("/", "/apps", "/apps/shop-web", "/apps/shop-web/terminal", "/settings/users", "/logs")
PROBE = ("python3 -c 'import socket; s = socket.socket(); s.settimeout(2); "
         "print(\"net-errno\", s.connect_ex((\"127.0.0.1\", {port})))'")


def start_demo(tmp_path: Path) -> tuple[Server, dict[str, Path]]:
    """``pruvon serve --demo`` with its own HOME, working directory and TMPDIR."""
    places = {name: tmp_path / name for name in ("home", "cwd", "tmp")}
    for place in places.values():
        place.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRUVON_")}
    env.update(HOME=str(places["home"]), TMPDIR=str(places["tmp"]))
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(BIN / "pruvon"), "serve", "--demo", "--listen", f"127.0.0.1:{port}",
             "--threads", "4"], stdout=out, stderr=subprocess.STDOUT, env=env,
            cwd=places["cwd"])
    demo = Server(root=tmp_path, port=port, process=process, config=Path(), state=Path(),
                  sim=Path())
    wait_ready(demo, timeout=90)
    return demo, places


def cli_through_the_banner(text: str, command: str, home: Path) -> str:
    """Run ``command`` in a fresh shell after the banner's one line."""
    line = re.search(r"CLI:\s+(\. \S+)", text).group(1)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    done = subprocess.run(["bash", "-c", f"{line} && {command}"], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


def terminal_session(demo: Server, cookie: str, marker: str) -> bytes:
    with __import__("socket").socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        probe = PROBE.format(port=listener.getsockname()[1])
        term = open_term(demo, cookie, "/ws/apps/shop-web/terminal?shell=/bin/sh")
        term.send(f"id -u; ls /; echo {marker} > /app/written; ls /root /work /home; "
                  f"{probe}; echo done-$((6*7))\r")
        output = term.expect(b"done-42")
        term.close()
    return output


def test_a_demo_session_is_confined_and_writes_only_its_sandbox(tmp_path: Path) -> None:
    before = sandbox_guard.snapshot()
    demo, places = start_demo(tmp_path)
    try:
        text = demo.output()
        password = re.search(r"password: (\S+)", text).group(1)
        sandbox = Path(re.search(r"sandbox:  (\S+)", text).group(1))
        assert sandbox.parent == places["tmp"]
        listing = cli_through_the_banner(text, "pruvon apps list", places["home"])
        assert "shop-web" in listing and "legacy-crm" in listing
        assert "blog" in cli_through_the_banner(text, "dokku apps:list", places["home"])
        browser = Browser(demo.url)
        assert browser.login("admin", password) == 302
        for page in PAGES:
            assert browser.request(page)[0] == 200, page
        output = terminal_session(demo, browser.cookie_header(), "from-the-terminal")
        assert re.search(rb"\b1000\r\n", output) and str(os.getuid()) != "1000"
        assert re.search(rb"\bapp\s+bin\s+dev\s+etc\b", output) or b"app\r\nbin\r\n" in output
        assert b"/root': No such file" in output and b"/work': No such file" in output
        assert int(re.search(rb"net-errno (\d+)", output).group(1)) != 0  # no network
        written = sandbox / "sim" / "fs" / "shop-web" / "app" / "written"
        assert written.read_text() == "from-the-terminal\n"
    finally:
        demo.stop()
    assert not sandbox.exists()  # removed on exit
    assert [list(place.iterdir()) for place in places.values()] == [[], [], []]
    assert sandbox_guard.changes(before, sandbox_guard.snapshot()) == []
