"""Pages: menu filtering, dashboard, admin pages for users, API keys and the audit log."""

from __future__ import annotations

import re

import pytest

from pruvon_core import audit

pytestmark = pytest.mark.usefixtures("sim_root")


def _nav(html: str) -> list[str]:
    nav = html.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


def test_menu_is_filtered_by_permission(client, login_as):
    login_as("admin")
    own = ["/", "/settings/users", "/settings/apikeys", "/logs", "/account"]
    nav = _nav(client.get("/account").get_data(as_text=True))
    # other plugins (apps, services …) add their own entries in between
    assert [href for href in nav if href in own] == own


def test_viewer_menu_and_no_write_controls(client, login_as):
    login_as("victor")
    html = client.get("/account").get_data(as_text=True)
    assert "/settings/users" not in _nav(html) and "/logs" not in _nav(html)
    assert client.get("/settings/users").status_code == 403
    assert client.get("/logs").status_code == 403


def test_dashboard_shows_host_card(client, login_as):
    login_as("admin")
    html = client.get("/").get_data(as_text=True)
    assert 'aria-label="Host"' in html and "Disk /" in html and "Dokku" in html


def test_broken_dashboard_card_does_not_break_the_page(app, client, login_as):
    from pruvon_core.hookspecs import hookimpl

    class Broken:
        @hookimpl
        def pruvon_dashboard_cards(self, actor):
            return [{"title": "Broken", "template": "cards/does-not-exist.html"}]

        @hookimpl
        def pruvon_web_menu(self, actor):
            return ["not a dict", {"label": "Off-site", "href": "https://evil.example/"}]

    plugins = app.extensions["pruvon"].plugins
    plugins.register(Broken(), name="broken-test-plugin")
    try:
        login_as("admin")
        response = client.get("/")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "This card failed" in html and "evil.example" not in html
    finally:
        plugins.unregister("broken-test-plugin")


def test_create_user_form_bad_input_rerenders_with_message(client, login_as):
    token = login_as("admin")
    response = client.post("/settings/users", data={
        "csrf_token": token, "username": "erin", "password": "short", "role": "user",
        "apps": "blog"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "password must be at least 12 characters" in html
    assert 'value="erin"' in html  # what was typed is kept (except the password)
    bad_services = client.post("/settings/users", data={
        "csrf_token": token, "username": "erin", "password": "long-enough-pass",
        "role": "user", "services": "postgres blog-db"})
    assert bad_services.status_code == 400
    assert "services line 1" in bad_services.get_data(as_text=True)


def test_create_edit_disable_user(client, login_as, pruvon_config):
    token = login_as("admin")
    created = client.post("/settings/users", data={
        "csrf_token": token, "username": "erin", "password": "long-enough-pass",
        "role": "user", "apps": "blog, shop-*", "services": "postgres: blog-db\nredis: *",
        "routes": "/backups", "can_create_apps": "on"})
    assert created.status_code == 302
    erin = pruvon_config.user("erin")
    assert erin.apps == ("blog", "shop-*") and erin.services["redis"] == ("*",)
    assert erin.can_create_apps and erin.routes == ("/backups",)
    saved = client.post("/settings/users/erin", data={
        "csrf_token": token, "op": "save", "role": "viewer", "apps": "blog"})
    assert saved.status_code == 303
    erin = pruvon_config.user("erin")
    assert erin.role == "viewer" and erin.apps == ("blog",) and not erin.services
    assert not erin.can_create_apps
    disabled = client.post("/settings/users/erin", data={"csrf_token": token, "op": "disable"})
    assert disabled.status_code == 303 and pruvon_config.user("erin").disabled
    assert [e.action for e in audit.read(user=None, action="users.*",
                                         state_dir=pruvon_config.state_dir)] == [
        "users.create", "users.save", "users.disable"]


def test_last_admin_cannot_be_demoted(client, login_as):
    token = login_as("admin")
    response = client.post("/settings/users/admin", data={
        "csrf_token": token, "op": "save", "role": "viewer"})
    assert response.status_code == 400
    assert "no enabled admin" in response.get_data(as_text=True)


def test_unknown_user_page_is_404(client, login_as):
    login_as("admin")
    assert client.get("/settings/users/nobody").status_code == 404


def test_disabling_a_user_signs_them_out(app, client, login_as, pruvon_config):
    alice = app.test_client()
    from tests.web.conftest import login

    login(alice, "alice", pruvon_config.passwords["alice"])
    assert alice.get("/api/v1/me").status_code == 200
    token = login_as("admin")
    client.post("/settings/users/alice", data={"csrf_token": token, "op": "disable"})
    assert alice.get("/api/v1/me").status_code == 401


def test_api_key_page_shows_the_key_once(client, login_as):
    token = login_as("admin")
    created = client.post("/settings/apikeys", data={
        "csrf_token": token, "op": "create", "scopes": ["apps.read"], "days": "30",
        "name": "ci"})
    assert created.status_code == 201
    secret = re.search(r'id="new-api-key">([^<]+)<', created.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert secret not in client.get("/settings/apikeys").get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"days": "30"}, "choose at least one"),
        ({"scopes": ["apps.read"], "days": "0"}, "whole number of days"),
        ({"scopes": ["apps.read"], "days": "abc"}, "whole number of days"),
    ],
)
def test_api_key_form_bad_input(client, login_as, form, message):
    token = login_as("admin")
    response = client.post("/settings/apikeys", data={"csrf_token": token, "op": "create", **form})
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_revoke_api_key_from_page(client, login_as, pruvon_config):
    from pruvon_auth.apikeys import ApiKeyStore

    token = login_as("admin")
    _, key = ApiKeyStore(pruvon_config.state_dir).create("admin", ["apps.read"], None)
    response = client.post("/settings/apikeys", data={"csrf_token": token, "op": "revoke",
                                                      "key_id": key.id})
    assert response.status_code == 200
    assert ApiKeyStore(pruvon_config.state_dir).get(key.id).revoked
    missing = client.post("/settings/apikeys", data={"csrf_token": token, "op": "revoke",
                                                     "key_id": "nope"})
    assert missing.status_code == 404


def test_audit_page_filters(client, login_as, pruvon_config):
    from tests.web.conftest import login

    login(client, "alice", "wrong-password-x")
    login_as("admin")
    html = client.get("/logs?result=failed").get_data(as_text=True)
    assert "auth.login" in html and "failed" in html
    ok_only = client.get("/logs?result=ok&action=auth.*").get_data(as_text=True)
    assert "<td>failed</td>" not in ok_only
    bad = client.get("/logs?since=yesterday")
    assert bad.status_code == 400 and "use a duration" in bad.get_data(as_text=True)
    bad_result = client.get("/logs?result=maybe")
    assert bad_result.status_code == 400


def test_static_assets_and_licences_are_vendored(client):
    for path in ("/static/vendor/htmx/htmx.min.js", "/static/vendor/xterm/xterm.js",
                 "/static/vendor/xterm-fit/addon-fit.js", "/static/vendor/htmx/LICENSE",
                 "/static/vendor/xterm/LICENSE", "/static/pruvon.css", "/static/pruvon.js"):
        assert client.get(path).status_code == 200, path


def test_dashboard_card_survives_a_failing_dokku(client, login_as, sim_root):
    from pruvon_testing.sim.core import SimState

    SimState(sim_root).set_knobs(
        faults={"apps:list": {"exit": 1, "stderr": " !     simulated outage"}})
    login_as("admin")
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "simulated outage" in html and "Disk /" in html and "0.38.27" in html


def test_admin_can_reset_a_lost_second_factor(client, login_as, pruvon_config):
    from pruvon_auth.totp import TotpStore

    store = TotpStore(pruvon_config.state_dir)
    store.begin("alice")
    with store.store.edit() as data:  # enrolled without a device for this test
        data["users"]["alice"]["confirmed"] = True
    token = login_as("admin")
    assert "Turn off 2FA" in client.get("/settings/users/alice").get_data(as_text=True)
    response = client.post("/settings/users/alice", data={"csrf_token": token, "op": "reset_totp"})
    assert response.status_code == 303 and not store.enrolled("alice")
    again = client.post("/settings/users/alice", data={"csrf_token": token, "op": "reset_totp"})
    assert again.status_code == 400


def test_forged_writes_are_audited_as_denied(client, login_as, pruvon_config):
    token = login_as("victor")
    client.post("/settings/users", data={"csrf_token": token, "username": "x"})
    denied = audit.read(result="denied", state_dir=pruvon_config.state_dir)
    assert [(e.actor, e.target) for e in denied] == [("user:victor", "/settings/users")]


def test_admins_are_told_when_the_config_turns_invalid(client, login_as, pruvon_config):
    login_as("admin")
    good = pruvon_config.path.read_text()
    pruvon_config.write(good.replace("listen: 127.0.0.1:8080", "listen: nowhere"))
    html = client.get("/account").get_data(as_text=True)
    assert "still serving the last good version" in html and "pruvon.listen" in html
    assert client.get("/api/v1/me").get_json()["username"] == "admin"  # still served


def test_dashboard_links_only_to_pages_that_exist(client, login_as, app):
    login_as("admin")
    html = client.get("/").get_data(as_text=True)
    served = {rule.rule for rule in app.url_map.iter_rules()}
    for href in set(re.findall(r'href="(/[^"?#]*)"', html)):
        assert href in served or href.startswith("/static/"), href


def _df_use_percent(path: str) -> int:
    """``df -P``'s Capacity (Use%) column for ``path``."""
    import subprocess

    done = subprocess.run(["df", "-P", path], capture_output=True, text=True, check=True)
    return int(done.stdout.splitlines()[1].split()[4].rstrip("%"))


def test_disk_percent_is_dfs_use_percent(client, login_as):
    """Issue 16: the card showed used/total (9 %) where ``df /`` said 24 %."""
    from pruvon_web.cards import df_percent

    assert df_percent(76, 24) == 76 and df_percent(1, 999) == 1 and df_percent(0, 10) == 0
    assert df_percent(2401, 7599) == 25  # rounded up, like df
    login_as("admin")
    for _ in range(5):  # another process may write between df and the page
        expected = _df_use_percent("/")
        html = client.get("/").get_data(as_text=True)
        shown = int(re.search(r'id="disk-usage">(\d+)% used', html).group(1))
        if shown == expected == _df_use_percent("/"):
            break
    assert shown == expected
