"""Apps in headless Chromium (Debian's): list → detail → config edit, the create wizard,
domains, scale, live logs, destroy, and what a scoped user can reach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pruvon_testing.sim.core import SimState
from tests.apps.conftest import seed_logs, sim
from tests.chromium import SHOTS, browser_page
from tests.chromium import sign_in as sign_in_as
from tests.web.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]



@pytest.fixture(scope="module")
def server(tmp_path_factory: Any) -> Any:
    running = start_server(tmp_path_factory.mktemp("apps-browser"))
    for app in ("blog", "secret"):
        sim(running.sim, "apps:create", app)
        sim(running.sim, "git:from-image", app, "example/web:1")
    sim(running.sim, "apps:create", "shop-new")
    SimState(running.sim).set_knobs(log_traffic_interval=0.3)
    yield running
    running.stop()


@pytest.fixture
def page(chromium: Any, server: Any) -> Any:
    with browser_page(chromium, server.url, 20000) as page:
        yield page


def sign_in(page: Any, server: Any, username: str) -> None:
    sign_in_as(page, username, server.passwords[username])


def wait_operation(page: Any) -> str:
    page.wait_for_url("**/operations/*")
    finished = ", ".join(f"#op-status.op-{s}" for s in (
        "succeeded", "failed", "cancelled", "timed_out", "interrupted"))
    page.wait_for_selector(finished, timeout=60000)  # the CSP forbids wait_for_function
    return page.locator("#op-status").inner_text()


def test_list_detail_and_config_edit(page: Any, server: Any) -> None:
    sign_in(page, server, "admin")
    page.goto("/apps")
    rows = page.locator("#apps-table tbody tr")
    assert rows.count() == 3
    page.fill("input[name=q]", "blo")  # live filter, no reload
    assert page.locator("#apps-table tbody tr:visible").count() == 1
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "apps-list.png"), full_page=True)
    page.click("a[href='/apps/blog']")
    page.wait_for_url("**/apps/blog")
    assert "running" in page.locator("h1").inner_text()
    page.click("nav.tabs a:has-text('Config')")
    page.fill(".config-row >> nth=0 >> input[name=key]", "GREETING")
    page.fill(".config-row >> nth=0 >> textarea[name=value]", "hello \"world\" $HOME")
    page.click("#add-row")
    assert page.locator(".config-row").count() == 4
    page.fill(".config-row >> nth=3 >> input[name=key]", "SECOND")
    page.fill(".config-row >> nth=3 >> textarea[name=value]", "2")
    page.click("#config-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert "••••••••" in page.locator("#config-table").inner_text()
    page.click("#reveal")
    table = page.locator("#config-table").inner_text()
    assert 'hello "world" $HOME' in table and "SECOND" in table
    page.fill(".config-row >> nth=0 >> input[name=key]", "9BAD")
    page.fill(".config-row >> nth=0 >> textarea[name=value]", "x")
    page.click("#config-form button[type=submit]")
    assert "config key '9BAD' is invalid" in page.locator(".flash-error").inner_text()
    page.screenshot(path=str(SHOTS / "apps-config.png"), full_page=True)
    assert not [p for p in page.problems if "Content Security Policy" in p], page.problems


def test_create_wizard_domain_scale_logs_destroy(page: Any, server: Any) -> None:
    sign_in(page, server, "admin")
    page.goto("/apps/create")
    page.fill("input[name=name]", "blog")
    page.wait_for_selector("#name-check.bad")
    assert "already exists" in page.locator("#name-check").inner_text()
    page.fill("input[name=name]", "wizard")
    page.wait_for_selector("#name-check.ok")
    page.fill("input[name=image]", "example/web:1")
    page.fill("textarea[name=env]", "MODE=demo")
    page.click("#create-form button[type=submit]")
    page.wait_for_selector("#create-done a", timeout=60000)
    assert page.locator("#create-percent").inner_text() == "100"
    assert page.locator("#create-steps li.step-done").count() == 3
    page.click("#create-done a")
    page.wait_for_url("**/apps/wizard")

    page.click("nav.tabs a:has-text('Domains')")
    page.fill("#domains-form input[name=domains]", "wizard.example.com")
    page.click("#domains-form button[value=add]")
    assert wait_operation(page) == "succeeded"

    page.goto("/apps/wizard?tab=processes")
    page.fill("#scale-form input[name=scale-web]", "2")
    page.click("#scale-form button[type=submit]")
    assert wait_operation(page) == "succeeded"
    assert page.locator("#op-percent").inner_text() == "100"
    page.goto("/apps/wizard")
    assert "web 2/2" in page.locator(".stats").inner_text()  # the detail page reads it fresh
    page.goto("/apps")
    row = page.locator("#apps-table tr", has_text="wizard")
    for _ in range(20):  # without docker the list's bulk report refreshes in the background
        if "web 2/2" in row.inner_text():
            break
        page.wait_for_timeout(250)
        page.reload()
    assert "web 2/2" in row.inner_text() and "wizard.example.com" in row.inner_text()

    seed_logs(server.sim, "wizard", ["boot complete"])
    page.goto("/apps/wizard?tab=logs")
    page.locator("#logs-output", has_text="response:200").wait_for()
    assert "boot complete" in page.locator("#logs-output").inner_text()
    page.click("#logs-pause")
    assert page.locator("#logs-pause").inner_text() == "Resume"

    page.goto("/apps/wizard/destroy")
    page.fill("input[name=confirm]", "wizard")
    page.click("#destroy-form button[type=submit]")
    assert wait_operation(page) == "succeeded"
    page.goto("/apps")
    assert page.locator("#apps-table a[href='/apps/wizard']").count() == 0
    assert not [p for p in page.problems if "Content Security Policy" in p], page.problems


def test_scoped_user_sees_only_its_apps(page: Any, server: Any) -> None:
    sign_in(page, server, "alice")
    page.goto("/apps")
    names = page.locator("#apps-table tbody a").all_inner_texts()
    assert "blog" in names and "secret" not in names and "shop-new" in names
    for path in ("/apps/secret", "/api/v1/apps/secret"):
        assert page.request.get(path).status in (403, 404), path
    page.goto("/apps/blog?tab=config")
    assert page.locator("#config-form").count() == 1


def test_create_from_git_settings_and_deploy_from_git(
    page: Any, server: Any, tmp_path: Path
) -> None:
    from pruvon_testing.gitrepo import commit, make_repo

    repo = make_repo(tmp_path / "src")
    sign_in(page, server, "admin")
    page.goto("/apps/create")
    page.fill("input[name=name]", "fromgit")
    page.wait_for_selector("#name-check.ok")
    page.fill("input[name=git_repo]", f"file://{repo}")
    page.fill("input[name=git_ref]", "main")
    page.click("#create-form button[type=submit]")
    page.wait_for_selector("#create-done a", timeout=60000)
    assert "deploy from git" in page.locator("#create-steps").inner_text()
    assert page.locator("#create-steps li.step-done").count() == 2
    page.goto("/apps/fromgit")
    assert "git-sync" in page.locator("main").inner_text()

    page.goto("/apps/fromgit?tab=settings")
    assert "Let's Encrypt plugin is not installed" in page.locator("#letsencrypt").inner_text()
    assert page.locator("#letsencrypt button").count() == 0  # no dead control
    page.select_option("#nginx-form select[name=key]", "client-max-body-size")
    page.fill("#nginx-form input[name=value]", "64m")
    page.click("#nginx-form button[type=submit]")
    page.wait_for_selector("text=Saved: nginx client-max-body-size = 64m")
    page.fill("#docker-options-form input[name=option]", "--label=$(id)")  # shell code: no one
    page.click("#docker-options-form button[type=submit]")
    page.wait_for_selector("text=Dokku evaluates stored options with bash")
    page.fill("#docker-options-form input[name=option]", "--restart=always")
    page.click("#docker-options-form button[type=submit]")
    page.wait_for_selector("#settings-forms li code:has-text('--restart=always')")

    commit(repo, {"README": "second\n"}, "second")
    page.goto("/apps/fromgit?tab=processes")
    page.fill("#deploy-git-form input[name=git_ref]", "main")
    assert page.locator("#deploy-git-form input[name=git_repo]").input_value() == f"file://{repo}"
    page.click("#deploy-git-form button[type=submit]")
    assert wait_operation(page) == "succeeded"
    assert not [p for p in page.problems if "Content Security Policy" in p], page.problems
