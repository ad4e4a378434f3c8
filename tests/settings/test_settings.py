"""/settings, /api/v1/settings and ``pruvon settings``: SSH keys, global domains, cron mail.

Every refusal is asserted with what reached Dokku: bad input never does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pruvon_core.dokku.errors import InvalidValue
from pruvon_core.dokku.sshkeys import parse_public_key
from tests.settings.conftest import calls, make_key, writes

PRUVON = str(Path(sys.executable).with_name("pruvon"))


def cli(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRUVON, *argv], capture_output=True, text=True, input=stdin,
                          timeout=60, check=False)


# --------------------------------------------------------------------------- key checks
def test_keys_of_every_supported_type_parse_with_ssh_keygens_fingerprint(tmp_path: Path):
    for kind, bits in (("ed25519", None), ("rsa", "2048"), ("ecdsa", "256"), ("ecdsa", "521")):
        line, fp = make_key(tmp_path, kind, bits)
        assert parse_public_key(line).fingerprint == fp


@pytest.mark.parametrize(("text", "message"), [
    ("", "no public key given"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP== x", "unsupported key type 'ssh-dss'"),
    ('command="rm -rf /" ssh-ed25519 AAAA x', "unsupported key type"),
    ("ssh-ed25519", "has no key data"),
    ("ssh-ed25519 not!base64 x", "not valid base64"),
    ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x", "not valid base64"),
])
def test_bad_keys_are_refused_with_the_reason(text: str, message: str):
    with pytest.raises(InvalidValue, match=message):
        parse_public_key(text)


def test_two_keys_and_short_rsa_and_mislabelled_keys_are_refused(tmp_path: Path):
    one, _ = make_key(tmp_path)
    two, _ = make_key(tmp_path)
    with pytest.raises(InvalidValue, match="exactly one public key"):
        parse_public_key(f"{one}\n{two}")
    weak, _ = make_key(tmp_path, "rsa", "1024")
    with pytest.raises(InvalidValue, match="1024 bits is too short"):
        parse_public_key(weak)
    body = one.split()[1]
    with pytest.raises(InvalidValue, match="not a ssh-rsa key"):
        parse_public_key(f"ssh-rsa {body}")


# --------------------------------------------------------------------------- web page
def test_admin_adds_a_key_on_the_page_and_sees_its_fingerprint(web, login_as, dokku_log,
                                                                 tmp_path: Path,
                                                                 pruvon_config: Any):
    token = login_as("admin")
    line, fp = make_key(tmp_path)
    response = web.post("/settings/ssh-keys", data={"csrf_token": token, "name": "laptop",
                                                    "key": line})
    assert response.status_code == 303
    page = web.get("/settings").get_data(as_text=True)
    assert "laptop" in page and fp in page
    assert "ssh-keys:add laptop" in calls(dokku_log)
    records = [json.loads(x) for x in (pruvon_config.state_dir / "audit.log").read_text()
               .splitlines()]
    added = [r for r in records if r.get("action") == "settings.ssh_keys.write"]
    assert added and added[-1]["result"] == "ok" and added[-1]["details"]["fingerprint"] == fp
    assert added[-1]["details"]["ssh_name"] == "laptop"


def test_a_bad_key_rerenders_the_form_and_reaches_no_dokku(web, login_as, dokku_log):
    token = login_as("admin")
    response = web.post("/settings/ssh-keys", data={"csrf_token": token, "name": "bad",
                                                    "key": "ssh-rsa AAAA garbage"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "not valid base64" in page and 'value="bad"' in page
    assert not [c for c in writes(dokku_log) if c.startswith("ssh-keys:add")]


def test_duplicate_name_or_key_is_refused_before_dokku(web, login_as, dokku_log, tmp_path):
    token = login_as("admin")
    line, _ = make_key(tmp_path)
    other, _ = make_key(tmp_path)
    assert web.post("/settings/ssh-keys", data={"csrf_token": token, "name": "k1",
                                                "key": line}).status_code == 303
    again = web.post("/settings/ssh-keys", data={"csrf_token": token, "name": "k2", "key": line})
    assert again.status_code == 400 and "already added as &#39;k1&#39;" in again.get_data(
        as_text=True)
    same = web.post("/settings/ssh-keys", data={"csrf_token": token, "name": "k1", "key": other})
    assert same.status_code == 400
    assert [c for c in writes(dokku_log) if c.startswith("ssh-keys:add")] == ["ssh-keys:add k1"]


@pytest.mark.parametrize("name", ["", "-rf", "a b", 'x"y', "pruvon-gh-alice-123456789012",
                                  "a" * 101])
def test_bad_key_names_are_refused(web, login_as, dokku_log, tmp_path, name):
    token = login_as("admin")
    line, _ = make_key(tmp_path)
    response = web.post("/api/v1/settings/ssh-keys", json={"name": name, "key": line},
                        headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and "error" in response.get_json()
    assert not [c for c in writes(dokku_log) if c.startswith("ssh-keys")]


def test_api_add_list_remove(web, login_as, dokku_log, tmp_path):
    token = login_as("admin")
    line, fp = make_key(tmp_path)
    added = web.post("/api/v1/settings/ssh-keys", json={"name": "ci", "key": line},
                     headers={"X-CSRF-Token": token})
    assert added.status_code == 201 and added.get_json()["fingerprint"] == fp
    listed = web.get("/api/v1/settings").get_json()
    assert listed["ssh_keys"] == [{"name": "ci", "fingerprint": fp, "public_key": line}]
    missing = web.delete("/api/v1/settings/ssh-keys/nope", headers={"X-CSRF-Token": token})
    assert missing.status_code == 400 and "no SSH key named 'nope'" in missing.get_json()["error"]
    assert web.delete("/api/v1/settings/ssh-keys/ci",
                      headers={"X-CSRF-Token": token}).status_code == 200
    assert web.get("/api/v1/settings").get_json()["ssh_keys"] == []
    assert [c for c in writes(dokku_log) if c.startswith("ssh-keys")] == [
        "ssh-keys:add ci", "ssh-keys:remove ci"]


@pytest.mark.parametrize("user", ["alice", "victor"])
def test_settings_are_admin_only(web, login_as, dokku_log, tmp_path, user):
    token = login_as(user)
    line, _ = make_key(tmp_path)
    assert web.get("/settings").status_code == 403
    assert web.get("/api/v1/settings").status_code == 403
    response = web.post("/api/v1/settings/ssh-keys", json={"name": "x", "key": line},
                        headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    form = web.post("/settings/domains", data={"csrf_token": token, "action": "add",
                                               "domains": "evil.example"})
    assert form.status_code == 403
    assert writes(dokku_log) == []


def test_global_domains_and_cron_mail_on_the_page(web, login_as, dokku_log):
    token = login_as("admin")
    assert web.post("/settings/domains", data={"csrf_token": token, "action": "set",
                                               "domains": "example.com apps.example.org"}
                    ).status_code == 303
    assert web.post("/settings/cron", data={"csrf_token": token, "mailto": "ops@example.com",
                                            "mailfrom": ""}).status_code == 303
    page = web.get("/settings").get_data(as_text=True)
    assert "example.com" in page and "apps.example.org" in page
    assert 'value="ops@example.com"' in page
    assert "domains:set-global example.com apps.example.org" in calls(dokku_log)
    # mailfrom did not change: only one cron:set
    assert [c for c in calls(dokku_log) if c.startswith("cron:set")] == [
        "cron:set --global mailto ops@example.com"]


@pytest.mark.parametrize(("body", "message"), [
    ({"action": "add", "domains": []}, "no domain given"),
    ({"action": "add", "domains": ["bad domain"]}, "domain"),
    ({"action": "add", "domains": ["-x.com"]}, "domain"),
    ({"action": "explode", "domains": ["a.com"]}, "action"),
])
def test_bad_domain_changes_are_400_and_reach_no_dokku(web, login_as, dokku_log, body, message):
    token = login_as("admin")
    response = web.post("/api/v1/settings/domains", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and message in response.get_json()["error"]
    assert writes(dokku_log) == []


@pytest.mark.parametrize("body", [{"mailto": "not-an-address"}, {"mailto": "a@b.com\nX: y"},
                                  {"mailer": "a@b.com"}, {}])
def test_bad_cron_mail_is_400_and_reaches_no_dokku(web, login_as, dokku_log, body):
    token = login_as("admin")
    response = web.put("/api/v1/settings/cron", json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 400, response.get_json()
    assert writes(dokku_log) == []


def test_page_costs_three_dokku_calls_whatever_the_number_of_keys(web, login_as, dokku_log,
                                                                   tmp_path):
    token = login_as("admin")
    for n in range(5):
        line, _ = make_key(tmp_path)
        web.post("/settings/ssh-keys", data={"csrf_token": token, "name": f"k{n}", "key": line})
    dokku_log.write_text("")
    assert web.get("/settings").status_code == 200
    assert sorted(c.split()[0] for c in calls(dokku_log)) == [
        "cron:report", "domains:report", "ssh-keys:list"]


# --------------------------------------------------------------------------- CLI
def test_cli_add_from_stdin_prints_the_fingerprint_and_lists_it(pruvon_config, sim_root,
                                                                tmp_path):
    line, fp = make_key(tmp_path)
    added = cli("settings", "ssh-keys", "add", "ops", stdin=line + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == fp
    listed = cli("settings", "ssh-keys", "list", "--format", "json")
    assert json.loads(listed.stdout)["ssh_keys"][0]["fingerprint"] == fp
    shown = cli("settings", "show")
    assert "ops" in shown.stdout and fp in shown.stdout


def test_cli_bad_input_exits_2_without_traceback(pruvon_config, dokku_log, tmp_path):
    weak, _ = make_key(tmp_path, "rsa", "1024")
    for argv, stdin, message in (
        (("settings", "ssh-keys", "add", "weak"), weak, "1024 bits is too short"),
        (("settings", "domains", "add", "bad_domain!"), "", "domain"),
        (("settings", "cron", "--mailto", "nobody"), "", "not an e-mail address"),
    ):
        result = cli(*argv, stdin=stdin)
        assert result.returncode == 2, (argv, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    assert writes(dokku_log) == []


def test_cli_domains_and_cron(pruvon_config, sim_root):
    result = cli("settings", "domains", "add", "example.com")
    assert result.returncode == 0 and "example.com" in result.stdout
    result = cli("settings", "cron", "--mailto", "ops@example.com")
    assert result.returncode == 0 and "ops@example.com" in result.stdout
    data = json.loads(cli("settings", "show", "--format", "json").stdout)
    assert data["domains"]["global"] == ["example.com"]
    assert data["cron"]["mailto"] == "ops@example.com"
