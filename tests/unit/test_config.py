"""Config: Pruvon's format, validation paths, round-trip writes, locking, reload."""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pruvon_core.config import (
    ConfigError,
    ConfigStore,
    ConfigUnreadable,
    load_config,
    redact,
    state_dir,
    validate,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "etc" / "pruvon.yml.example"
HASH = "$2b$12$BIw8xyR2D8i4tkjiqMy6muLctgffswBM5TV8cEScjRALeK282Q2xi"


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_loads_pruvon_example_unchanged() -> None:
    config = load_config(EXAMPLE)
    assert config.listen == "127.0.0.1:8080"
    names = [u.username for u in config.users]
    assert names == ["admin", "deploy-bot", "auditor"]
    bot = config.user("deploy-bot")
    assert bot is not None
    assert bot.role == "user"
    assert bot.routes == ("/apps*", "/services*")
    assert bot.apps == ("blog", "shop-*")
    assert bot.services == {"postgres": ("blog-db",), "redis": ("*",)}
    assert bot.disabled is True
    assert config.get("backup.keep_weekly_num") == 4


def test_legacy_admin_form_becomes_admin_user(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pruvon.yml",
        f"""
        admin:
          username: root-admin
          password: {HASH}
        """,
    )
    config = load_config(path)
    admin = config.user("root-admin")
    assert admin is not None and admin.role == "admin" and admin.source == "admin"
    assert config.listen == "127.0.0.1:8080"  # default when pruvon.listen is absent


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("pruvon: {listen: 'nope'}", "pruvon.listen: must be HOST:PORT"),
        ("pruvon: {listen: '127.0.0.1:99999'}", "pruvon.listen: port '99999'"),
        ("users: {a: 1}", "users: must be a list"),
        (f"users: [{{username: a, password: '{HASH}', role: root}}]", "users[0].role: must be one of admin, user, viewer"),
        ("users: [{username: a, password: hunter2}]", "users[0].password: must be a bcrypt hash"),
        ("users: [{username: a}]", "users[0].password: is required"),
        (f"users: [{{username: 'bad name', password: '{HASH}'}}]", "users[0].username: must be"),
        (f"users: [{{username: a, password: '{HASH}'}}, {{username: a, password: '{HASH}'}}]", "users[1].username: duplicate user 'a'"),
        (f"users: [{{username: Alice, password: '{HASH}'}}, {{username: alice, password: '{HASH}'}}]", "users[1].username: duplicate user 'alice' (names must differ by more than case)"),
        (f"users: [{{username: \"alice\\n\", password: '{HASH}'}}]", "users[0].username: must be"),
        (f"users: [{{username: a, password: '{HASH}', apps: [\"blog\\n\"]}}]", "users[0].apps[0]"),
        (f"users: [{{username: a, password: '{HASH}', apps: blog}}]", "users[0].apps: must be a list of strings"),
        (f"users: [{{username: a, password: '{HASH}', apps: ['Bad;App']}}]", "users[0].apps[0]: 'Bad;App' is not an app name"),
        (f"users: [{{username: a, password: '{HASH}', routes: ['apps']}}]", "users[0].routes[0]: must start with /"),
        (f"users: [{{username: a, password: '{HASH}', services: [pg]}}]", "users[0].services: must map a service type"),
        (f"users: [{{username: a, password: '{HASH}', services: {{postgres: ['a b']}}}}]", "users[0].services.postgres[0]: invalid service name"),
        (f"users: [{{username: a, password: '{HASH}', disabled: 'yes'}}]", "users[0].disabled: must be true or false"),
        ("admin: {username: root}", "admin.password: is required"),
        ("backup: {backup_dir: relative/dir}", "backup.backup_dir: must be an absolute path"),
        ("backup: {keep_daily_days: -1}", "backup.keep_daily_days: must be a whole number"),
        ("security: {trusted_proxies: ['not-an-ip']}", "security.trusted_proxies[0]: 'not-an-ip' is not an IP"),
        ("security: {audit_max_bytes: 100}", "security.audit_max_bytes: must be a whole number ≥ 4096"),
        ("security: {allowed_origins: ['pruvon.example.com']}", "security.allowed_origins[0]: 'pruvon.example.com' must be scheme://host[:port]"),
        ("security: {allowed_origins: ['https://ok.example:8443/path']}", "security.allowed_origins[0]"),
        ("security: {audit_keep: 0}", "security.audit_keep: must be a whole number ≥ 1"),
        ("dokku: {ssh: 'not a host'}", "dokku.ssh: must look like dokku@HOST"),
        ("dokku: {ssh_key: 'id_rsa'}", "dokku.ssh_key: must be an absolute path"),
        ("dokku: {ssh_port: 70000}", "dokku.ssh_port: must be a port number"),
        ("dokku: {timeout: 0}", "dokku.timeout: must be a number of seconds"),
        ("dokku: {lib_root: var/lib/dokku}", "dokku.lib_root: must be an absolute path"),
        ("terminals: {idle_timeout: soon}", "terminals.idle_timeout: must be a number of seconds"),
        ("terminals: {host_shell: 'yes'}", "terminals.host_shell: must be true or false"),
        ("- just\n- a list", "(top level): must be a mapping"),
    ],
)
def test_each_validation_error_names_path_and_reason(
    tmp_path: Path, snippet: str, expected: str
) -> None:
    path = write(tmp_path / "pruvon.yml", snippet + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert any(err.startswith(expected) for err in info.value.errors), info.value.errors


def test_every_error_is_listed_not_just_the_first() -> None:
    errors = validate(
        {"pruvon": {"listen": "x"}, "users": [{"username": "a", "password": "p", "role": "x"}]}
    )
    assert len(errors) == 3


def test_unreadable_and_not_yaml_are_distinct(tmp_path: Path) -> None:
    with pytest.raises(ConfigUnreadable):
        load_config(tmp_path / "missing.yml")
    with pytest.raises(ConfigUnreadable):
        load_config(write(tmp_path / "bad.yml", "users: [unclosed\n"))


def test_unknown_keys_and_comments_survive_a_write(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pruvon.yml",
        f"""
        # operator's header comment
        pruvon:
          listen: 127.0.0.1:8080  # keep local
        future_feature:
          knob: 3
        users:
          - username: alice  # the contractor
            password: {HASH}
            role: user
            apps: [blog]
            custom_field: kept
        """,
    )
    store = ConfigStore(path)

    def add_app(data):
        data["users"][0]["apps"].append("shop")

    store.update(add_app)
    text = path.read_text()
    assert "# operator's header comment" in text
    assert "# keep local" in text
    assert "# the contractor" in text
    assert "future_feature:\n  knob: 3" in text
    assert "custom_field: kept" in text
    assert text.index("pruvon:") < text.index("future_feature:") < text.index("users:")
    assert store.current().user("alice").apps == ("blog", "shop")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_invalid_update_is_refused_and_file_untouched(tmp_path: Path) -> None:
    path = write(tmp_path / "pruvon.yml", f"users: [{{username: a, password: '{HASH}'}}]\n")
    before = path.read_bytes()
    store = ConfigStore(path)
    with pytest.raises(ConfigError) as info:
        store.update(lambda data: data["users"][0].__setitem__("role", "root"))
    assert "users[0].role" in info.value.errors[0]
    assert path.read_bytes() == before


def test_update_through_the_installers_symlink_writes_the_target(tmp_path: Path) -> None:
    """Regression: /etc/pruvon.yml -> pruvon/pruvon.yml (the installer's layout, so the
    service can write under ProtectSystem=full) was replaced by a regular file, and the
    lock and temp files went to /etc, which the service cannot write."""
    owned = tmp_path / "pruvon"
    owned.mkdir()
    target = write(owned / "pruvon.yml", "pruvon: {listen: '127.0.0.1:8080'}\n")
    link = tmp_path / "pruvon.yml"
    link.symlink_to("pruvon/pruvon.yml")
    store = ConfigStore(link)
    store.update(lambda data: data["pruvon"].__setitem__("listen", "127.0.0.1:9090"))
    assert link.is_symlink() and os.readlink(link) == "pruvon/pruvon.yml"
    assert "127.0.0.1:9090" in target.read_text()
    assert store.current().listen == "127.0.0.1:9090"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pruvon", "pruvon.yml"]


def test_a_symlink_in_the_owned_directory_is_replaced_not_written_through(tmp_path: Path) -> None:
    """Only one level is followed: the service user cannot make root write elsewhere."""
    elsewhere = write(tmp_path / "elsewhere.yml", "pruvon: {listen: '127.0.0.1:8080'}\n")
    owned = tmp_path / "pruvon"
    owned.mkdir()
    (owned / "pruvon.yml").symlink_to(elsewhere)
    link = tmp_path / "pruvon.yml"
    link.symlink_to("pruvon/pruvon.yml")
    ConfigStore(link).update(lambda data: data["pruvon"].__setitem__("listen", "127.0.0.1:9"))
    assert elsewhere.read_text() == "pruvon: {listen: '127.0.0.1:8080'}\n"
    assert not (owned / "pruvon.yml").is_symlink()


def test_reload_after_external_edit_and_keep_last_good(tmp_path: Path) -> None:
    path = write(tmp_path / "pruvon.yml", "pruvon: {listen: '127.0.0.1:8080'}\n")
    store = ConfigStore(path)
    assert store.current().listen == "127.0.0.1:8080"
    write(path, "pruvon: {listen: '127.0.0.1:9090'}\n")
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert store.current().listen == "127.0.0.1:9090"
    write(path, "pruvon: {listen: 'garbage'}\n")
    os.utime(path, ns=(time.time_ns() + 2 * 10**9, time.time_ns() + 2 * 10**9))
    assert store.current().listen == "127.0.0.1:9090"  # last good version kept
    assert store.error is not None and "pruvon.listen" in str(store.error)


def test_current_does_not_reparse_an_unchanged_file(tmp_path: Path) -> None:
    path = write(tmp_path / "pruvon.yml", "pruvon: {listen: '127.0.0.1:8080'}\n")
    store = ConfigStore(path)
    first = store.current()
    assert store.current() is first


def _increment_many(path: str, count: int) -> None:
    store = ConfigStore(path)

    def bump(data):
        data["counter"] = int(data.get("counter", 0)) + 1

    for _ in range(count):
        store.update(bump)


def test_concurrent_writers_never_lose_or_tear(tmp_path: Path) -> None:
    path = write(tmp_path / "pruvon.yml", "# header\ncounter: 0\n")
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_increment_many, args=(str(path), 40)) for _ in range(2)]
    for worker in workers:
        worker.start()
    seen = 0
    while any(w.is_alive() for w in workers):
        config = load_config(path)  # every intermediate file is complete and valid
        seen = max(seen, int(config.get("counter")))
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    final = load_config(path)
    assert final.get("counter") == 80
    assert path.read_text().startswith("# header\n")


WRITER = """
import sys
from pruvon_core.config import ConfigStore
store = ConfigStore(sys.argv[1])
i = 0
while True:
    i += 1
    store.update(lambda d: d.__setitem__("blob", [f"{i}-{n}" for n in range(2000)]))
"""


def test_kill_9_during_writes_leaves_old_or_new_file(tmp_path: Path) -> None:
    path = write(tmp_path / "pruvon.yml", "blob: []\n")
    for attempt in range(5):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
        time.sleep(0.3 + attempt * 0.07)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = load_config(path).data
        blob = data["blob"]
        assert len(blob) in (0, 2000)
        if blob:
            generation = blob[0].split("-")[0]
            assert all(item.split("-")[0] == generation for item in blob)


CRASH_BEFORE_RENAME = """
import os, signal, sys
from pruvon_core.config import ConfigStore
real_fsync = os.fsync
def crash(fd):
    real_fsync(fd)
    os.kill(os.getpid(), signal.SIGKILL)  # the temp file is complete, the rename never happens
os.fsync = crash
ConfigStore(sys.argv[1]).update(lambda d: d.__setitem__("listen_note", "new"))
"""


def test_crash_between_write_and_rename_keeps_old_file(tmp_path: Path) -> None:
    path = write(tmp_path / "pruvon.yml", "# keep me\nlisten_note: old\n")
    proc = subprocess.run([sys.executable, "-c", CRASH_BEFORE_RENAME, str(path)], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert load_config(path).get("listen_note") == "old"
    assert list(tmp_path.glob(".pruvon.yml.*.tmp")), "the crash left its temp file behind"
    ConfigStore(path).update(lambda d: d.__setitem__("listen_note", "newer"))
    assert load_config(path).get("listen_note") == "newer"
    assert not list(tmp_path.glob(".pruvon.yml.*.tmp")), "stale temp files are cleaned under the lock"


def test_state_dir_created_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state" / "pruvon"
    monkeypatch.setenv("PRUVON_STATE_DIR", str(target))
    assert state_dir() == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_redact_masks_hashes_and_secrets() -> None:
    data = load_config(EXAMPLE).data
    safe = redact(data)
    text = repr(safe)
    assert HASH not in text
    assert safe["admin"]["password"] == "********"
    assert safe["pruvon"]["listen"] == "127.0.0.1:8080"
