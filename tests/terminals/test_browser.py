"""Headless Chromium opens an app terminal, types ``echo`` and sees the output rendered."""

from __future__ import annotations

import re

import pytest

from tests.chromium import SHOTS

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e]



@pytest.fixture(scope="module")
def page(server, chromium):
    context = chromium.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} @ {m.location}")
            if m.type == "error" else None)
    page.problems = problems
    yield page
    context.close()


def rendered_rows(page) -> str:
    return page.locator(".xterm-rows").text_content() or ""


def test_app_terminal_renders_echo_output_and_exit_status(page, server):
    page.goto("/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", server.passwords["alice"])
    page.click("button[type=submit]")
    page.goto("/apps/blog/terminal?shell=/bin/sh")
    # no wait_for_function: evaluating strings is what the page's CSP forbids
    expect(page.locator("#terminal-status")).to_contain_text("connected: enter blog web /bin/sh")
    page.click("#terminal")
    page.keyboard.type("echo rendered-$((20+22))\n")
    expect(page.locator(".xterm-rows")).to_contain_text("rendered-42")
    # the fit addon sized the PTY to the box: more than xterm's default 80x24
    page.keyboard.type("stty size\n")
    expect(page.locator(".xterm-rows")).to_contain_text(re.compile(r"stty size\s*\d+ \d+"))
    rows, cols = _last_size(rendered_rows(page))
    assert cols > 80 and rows > 10
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "terminal.png"))
    page.keyboard.type("exit 4\n")
    expect(page.locator("#terminal-status")).to_have_text("exited with status 4")
    assert page.locator("#terminal-reconnect").is_visible()
    assert not [p for p in page.problems if "Content Security Policy" in p], page.problems


def _last_size(text: str) -> tuple[int, int]:
    rows, cols = re.findall(r"stty size\s*(\d+) (\d+)", text)[-1]
    return int(rows), int(cols)


def test_one_off_run_sends_the_command_on_the_socket_not_the_url(page, server):
    """The page URL and the WebSocket URL stay free of the command (it may hold a secret)."""
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto("/apps/blog/terminal?mode=run")
    if "/login" in page.url:  # run on its own, without the first test's sign-in
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", server.passwords["alice"])
        page.click("button[type=submit]")
        page.goto("/apps/blog/terminal?mode=run")
    expect(page.locator("#terminal-status")).to_have_text("type a command and press Run")
    page.fill("#terminal-cmd", "sh -c 'echo ran-$((40+2)) secret-s3cr3t; exit 3'")
    page.click("#terminal-run button[type=submit]")
    expect(page.locator(".xterm-rows")).to_contain_text("ran-42 secret-s3cr3t")
    expect(page.locator("#terminal-status")).to_have_text("exited with status 3")
    assert page.url.endswith("/apps/blog/terminal?mode=run")
    assert sockets and all("s3cr3t" not in url and "cmd" not in url for url in sockets), sockets
    assert not [p for p in page.problems if "Content Security Policy" in p], page.problems


def test_the_app_page_leads_to_its_terminal(page, server):
    """Issue 16: terminals are findable - the app page has "Terminal" and "Run command"."""
    page.goto("/apps/blog")
    expect(page.locator("#run-command")).to_have_attribute("href", "/apps/blog/terminal?mode=run")
    page.click("#app-actions a:has-text('Terminal')")
    page.wait_for_url("**/apps/blog/terminal")
    expect(page.locator("#terminal-status")).to_contain_text("connected: enter blog web")
    page.click("#terminal")
    page.keyboard.type("echo hello-$((RANDOM + 100000))\n")
    # rows render without line breaks: the output follows the echoed command line
    expect(page.locator(".xterm-rows")).to_contain_text(re.compile(r"100000\)\)hello-1\d{5}"))
