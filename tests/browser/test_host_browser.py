"""Host pages in headless Chromium against real gunicorn: add an SSH key on /settings and
see its fingerprint; install a Dokku plugin from /plugins and watch its output live."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import SHOTS, browser_page
from tests.chromium import sign_in as sign_in_as
from tests.web.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    running = start_server(tmp_path_factory.mktemp("host-browser"))
    yield running
    running.stop()


@pytest.fixture
def page(chromium: Any, server: Any) -> Any:
    with browser_page(chromium, server.url, 20000) as page:
        yield page


def sign_in(page: Any, server: Any, username: str) -> None:
    sign_in_as(page, username, server.passwords[username])


def test_add_an_ssh_key_and_see_its_fingerprint(page: Any, server: Any, tmp_path: Path):
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-C", "me@laptop", "-f",
                    str(key)], check=True)
    fingerprint = subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True,
                                 text=True, check=True).stdout.split()[1]
    sign_in(page, server, "admin")
    page.click("nav a[href='/settings']")
    page.wait_for_url("**/settings")
    assert "No SSH keys" in page.locator("#ssh-keys-table").inner_text()
    page.fill("#ssh-key-form input[name=name]", "laptop")
    page.fill("#ssh-key-form textarea[name=key]", "ssh-rsa AAAA broken")
    page.click("#ssh-key-form button[type=submit]")
    page.wait_for_selector(".flash-error")
    assert "not valid base64" in page.locator(".flash-error").inner_text()
    assert page.input_value("#ssh-key-form input[name=name]") == "laptop"  # kept for a retry
    page.fill("#ssh-key-form textarea[name=key]", Path(f"{key}.pub").read_text())
    page.click("#ssh-key-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert fingerprint in page.locator(".flash-success").inner_text()
    row = page.locator("#ssh-keys-table tr[data-key=laptop]")
    assert row.locator(".fingerprint").inner_text() == fingerprint
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "settings-ssh-key.png"), full_page=True)
    # the refused form answered 400 on purpose; nothing else went wrong
    assert [p for p in page.problems if "status of 400" not in p] == []


def slow_plugin(root: Path) -> str:
    """A git plugin whose install trigger takes a few seconds and says so."""
    repo = root / "dokku-slowpoke"
    repo.mkdir()
    (repo / "plugin.toml").write_text('[plugin]\ndescription = "slow plugin"\nversion = "1.2.3"\n')
    install = repo / "install"
    install.write_text("#!/bin/sh\nsleep 3\necho '-----> slowpoke: image pulled'\n")
    install.chmod(0o755)
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    return f"file://{repo}"


def test_install_a_plugin_with_live_output(page: Any, server: Any, tmp_path: Path):
    url = slow_plugin(tmp_path)
    sign_in(page, server, "admin")
    page.goto("/plugins")
    assert page.locator("#plugins-table tr[data-plugin=postgres]").count() == 1
    page.fill("#plugin-install-form input[name=url]", url)
    page.click("#plugin-install-form button[type=submit]")
    page.wait_for_url("**/plugins/operations/*")
    # the clone's lines arrive while the install trigger still runs
    page.wait_for_selector("#op-output:has-text('Cloning plugin repo')")
    assert page.locator("#op-status").inner_text() in ("queued", "running")
    page.wait_for_selector("#op-status.op-succeeded", timeout=60000)
    output = page.locator("#op-output").inner_text()
    assert "Plugin slowpoke enabled" in output and "slowpoke: image pulled" in output
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "plugins-install.png"), full_page=True)
    page.click("a[href='/plugins']")
    row = page.locator("#plugins-table tr[data-plugin=slowpoke]")
    assert "1.2.3" in row.inner_text() and "enabled" in row.inner_text()
    assert page.problems == []
