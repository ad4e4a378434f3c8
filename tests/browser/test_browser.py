"""Headless Chromium (Debian's) against the real ``pruvon serve``: what an operator sees.

Few and fast: one server and one browser per module, one fresh context per test.
Screenshots go to ``tests/browser/screenshots/`` (ignored by git) for people to look at.
"""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.chromium import SHOTS, browser_page
from tests.chromium import sign_in as sign_in_as
from tests.web.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from pruvon_testing.sim.main import run

    running = start_server(tmp_path_factory.mktemp("browser"))
    for argv in (["apps:create", "blog"], ["git:from-image", "blog", "example/web:1"],
                 ["apps:create", "shop-1"], ["git:from-image", "shop-1", "example/web:1"],
                 ["ps:stop", "shop-1"], ["apps:create", "notes"]):
        assert run(argv, root=running.sim)[0] == 0, argv  # a running, a stopped, a new app
    yield running
    running.stop()


@pytest.fixture
def page(chromium, server):
    with browser_page(chromium, server.url, 10000) as page:
        yield page


def sign_in(page, username: str, password: str) -> None:
    """Without waiting: the tests here also land on the error and the TOTP step."""
    sign_in_as(page, username, password, wait=False)


def test_login_dashboard_logout(page, server):
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    sign_in(page, "admin", server.passwords["admin"])
    page.wait_for_selector("section[aria-label=Host]")
    assert page.locator("nav.nav a", has_text="Users").count() == 1
    stats = page.locator(".host-card .stats").inner_text()
    assert "Running\n1" in stats and "Stopped\n1" in stats and "Not deployed\n1" in stats
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    if page.request.get("/apps").status == 200:
        page.goto("/apps")
        page.screenshot(path=str(SHOTS / "apps.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto("/")
    page.screenshot(path=str(SHOTS / "dashboard-phone.png"), full_page=True)
    page.click("label.nav-toggle-label")
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login")
    assert not [p for p in page.problems if "Content Security Policy" in p], page.problems


def test_wrong_password_is_told_plainly(page):
    sign_in(page, "admin", "not-the-password")
    assert page.locator("#login-error").inner_text() == "Invalid username or password."


def test_totp_enrolment_and_login(page, server):
    from pruvon_auth.totp import TotpStore

    sign_in(page, "alice", server.passwords["alice"])
    page.goto("/account")
    page.click("button:has-text('Set up two-factor authentication')")
    image = page.wait_for_selector("#totp-qr img")  # drawn by pruvon.js under the strict CSP
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "totp-enrolment.png"))
    totp = pyotp.TOTP(page.inner_text("#totp-secret"))
    try:
        page.fill("input[name=code]", totp.now())
        page.click("button:has-text('Confirm')")
        page.locator("#recovery-codes li").first.wait_for(state="visible")
        assert page.locator("#recovery-codes li").count() >= 8
        page.click("button:has-text('Sign out')")
        sign_in(page, "alice", server.passwords["alice"])
        page.wait_for_url("**/login/totp")
        page.fill("input[name=code]", totp.at(time.time() + totp.interval))  # the next code
        page.click("button[type=submit]")
        page.wait_for_selector("h1:has-text('Dashboard')")
    finally:
        TotpStore(server.state).disable("alice")


def test_viewer_has_no_write_controls_and_forged_write_is_403(page, server):
    sign_in(page, "victor", server.passwords["victor"])
    page.wait_for_selector("h1:has-text('Dashboard')")
    assert page.locator("nav.nav a", has_text="Users").count() == 0
    status = page.evaluate(
        """async () => {
            const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
            const r = await fetch('/api/v1/users', {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
                body: JSON.stringify({username: 'forged', password: 'forged-password-1'})});
            return r.status;
        }"""
    )
    assert status == 403
    no_csrf = page.evaluate("async () => (await fetch('/logout', {method: 'POST'})).status")
    assert no_csrf == 403


def test_user_removed_from_yaml_is_logged_out_on_next_click(page, server):
    sign_in(page, "alice", server.passwords["alice"])
    page.wait_for_selector("h1:has-text('Dashboard')")
    original = server.config.read_text()
    try:
        server.config.write_text(original.replace("- username: alice\n", "- username: alice-gone\n"))
        page.click("a.brand")
        page.wait_for_url("**/login**")
        assert "no longer active" in page.content()
    finally:
        server.config.write_text(original)
