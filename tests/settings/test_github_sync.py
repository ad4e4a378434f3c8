"""GitHub key sync against a local HTTP server standing in for ``github.com/<user>.keys``.

Never the internet: ``github.keys_url`` points at :class:`KeysServer`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pruvon_settings.service import check_keys_url, github_users

from pruvon_core.config import load_config
from tests.settings.conftest import calls, make_key, writes

PRUVON = str(Path(sys.executable).with_name("pruvon"))


def sync(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRUVON, "settings", "ssh-keys", "sync", *argv], capture_output=True,
                          text=True, timeout=60, check=False)


def keys() -> dict[str, str]:
    out = subprocess.run([PRUVON, "settings", "ssh-keys", "list", "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    return {k["name"]: k["fingerprint"] for k in json.loads(out)["ssh_keys"]}


def test_only_enabled_users_with_a_github_username_are_synced(github, pruvon_config):
    assert github_users(load_config(pruvon_config.path)) == {"alice": "alice-gh"}  # dave: disabled


def test_sync_adds_github_keys_then_removes_the_ones_github_dropped(github, sim_root, tmp_path,
                                                                     dokku_log):
    one, fp1 = make_key(tmp_path)
    two, fp2 = make_key(tmp_path, "rsa", "3072")
    weak, _ = make_key(tmp_path, "rsa", "1024")
    github.keys["alice-gh"] = [one, two, weak]
    result = sync("--format", "json")
    assert result.returncode == 0, result.stderr
    [alice] = json.loads(result.stdout)["results"]
    assert len(alice["added"]) == 2 and len(alice["refused"]) == 1
    assert "1024 bits is too short" in alice["refused"][0]
    assert sorted(keys().values()) == sorted([fp1, fp2])
    assert all(name.startswith("pruvon-gh-alice-") for name in keys())
    assert github.requests == ["/alice-gh.keys"]

    github.keys["alice-gh"] = [two]  # the user deleted a key on GitHub
    [alice] = json.loads(sync("alice", "--format", "json").stdout)["results"]
    assert alice["added"] == [] and len(alice["removed"]) == 1
    assert list(keys().values()) == [fp2]


def test_hand_added_keys_are_never_touched(github, sim_root, tmp_path):
    mine, fp = make_key(tmp_path)
    subprocess.run([PRUVON, "settings", "ssh-keys", "add", "ops"], input=mine, text=True,
                   check=True, capture_output=True)
    github.keys["alice-gh"] = [mine]  # the same key on GitHub: already allowed, not duplicated
    [alice] = json.loads(sync("--format", "json").stdout)["results"]
    assert alice["added"] == []
    github.keys["alice-gh"] = []
    sync()
    assert keys() == {"ops": fp}


def test_a_failed_fetch_changes_nothing_and_exits_1(github, sim_root, tmp_path, dokku_log):
    one, _ = make_key(tmp_path)
    github.keys["alice-gh"] = [one]
    sync()
    before = keys()
    github.status["alice-gh"] = 500
    result = sync()
    assert result.returncode == 1 and "answered 500" in result.stderr
    assert keys() == before
    github.status["alice-gh"] = 404
    result = sync()
    assert result.returncode == 1 and "GitHub user 'alice-gh' not found (404)" in result.stderr
    assert keys() == before


def test_keys_of_users_no_longer_configured_are_removed(github, sim_root, tmp_path,
                                                        pruvon_config):
    one, _ = make_key(tmp_path)
    github.keys["alice-gh"] = [one]
    sync()
    assert len(keys()) == 1
    text = pruvon_config.path.read_text().replace("    github:\n      username: alice-gh\n", "", 1)
    pruvon_config.write(text)
    result = sync("--format", "json")
    assert result.returncode == 0
    assert keys() == {}


def test_unknown_user_is_refused_before_any_fetch_or_dokku_call(github, sim_root, dokku_log):
    result = sync("victor")
    assert result.returncode == 2 and "has no github.username" in result.stderr
    assert github.requests == [] and writes(dokku_log) == []


def test_web_sync_button(github, web, login_as, tmp_path, dokku_log):
    one, fp = make_key(tmp_path)
    github.keys["alice-gh"] = [one]
    token = login_as("admin")
    page = web.get("/settings").get_data(as_text=True)
    assert "alice → alice-gh" in page
    response = web.post("/settings/ssh-keys/sync", data={"csrf_token": token, "user": ""})
    assert response.status_code == 303
    page = web.get("/settings").get_data(as_text=True)
    assert fp in page and "1 added" in page
    assert any(c.startswith("ssh-keys:add pruvon-gh-alice-") for c in calls(dokku_log))


def test_keys_url_must_be_https_or_loopback():
    assert check_keys_url("https://github.com") is None
    assert check_keys_url("http://127.0.0.1:8000") is None
    assert "https" in check_keys_url("http://github.com")
    assert check_keys_url("file:///etc/passwd") is not None
    assert check_keys_url("https://user:pw@github.com") is not None


def test_config_validate_refuses_a_plain_http_keys_url(pruvon_config):
    text = pruvon_config.path.read_text() + "\ngithub:\n  keys_url: http://github.example.com\n"
    pruvon_config.write(text)
    result = subprocess.run([PRUVON, "config", "validate"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 1
    assert "github.keys_url: must be https://" in result.stderr
