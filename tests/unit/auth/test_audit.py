"""The audit log: append-only JSON lines, no secrets, any characters, rotation, hook."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest

from pruvon_core import audit
from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import SYSTEM, Resource, actor_for_user


def test_record_writes_one_private_json_line(pruvon_config):
    actor = actor_for_user(pruvon_config.user("alice"))
    event = audit.record(actor, "apps.config.write", Resource("app", "blog"), "ok",
                         source_ip="192.0.2.1", env_keys=["DATABASE_URL"])
    path = pruvon_config.state_dir / "audit.log"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    raw = json.loads(lines[0])
    assert raw["actor"] == "user:alice" and raw["target"] == "app:blog"
    assert raw["result"] == "ok" and raw["source_ip"] == "192.0.2.1"
    assert raw["details"] == {"env_keys": ["DATABASE_URL"]}
    assert event.when <= datetime.now(UTC)


def test_secret_details_are_redacted(pruvon_config):
    audit.record(SYSTEM, "users.passwd", "user:alice", "ok", password="hunter2-hunter2",
                 new_password="x-secret-1", token="pvk_abc", totpCode="123456",
                 nested={"api_key": "k-123", "name": "fine"}, key_id="abc123")
    text = (pruvon_config.state_dir / "audit.log").read_text()
    for secret in ("hunter2-hunter2", "x-secret-1", "pvk_abc", "123456", "k-123"):
        assert secret not in text
    event = audit.read()[0]
    assert event.details["nested"] == {"api_key": "[redacted]", "name": "fine"}
    assert event.details["key_id"] == "abc123"


def test_any_characters_in_names_stay_inside_one_entry(pruvon_config):
    nasty = 'evil\n{"actor": "user:admin"}\r\u202e\x00"quote'
    audit.record(f"user:{nasty}", "auth.login", nasty, "failed", username=nasty)
    lines = (pruvon_config.state_dir / "audit.log").read_text().splitlines()
    assert len(lines) == 1
    event = audit.read()[0]
    assert event.target == nasty and event.details["username"] == nasty


def test_read_filters(pruvon_config):
    audit.record("user:alice", "apps.config.write", "app:blog", "ok")
    audit.record("apikey:k1", "apps.ps.write", "app:blog", "denied", owner="alice")
    audit.record("user:victor", "apps.read", "app:blog", "ok")
    audit.record(None, "auth.login", None, "failed", username="alice")
    assert len(audit.read(user="alice")) == 3
    assert [e.actor for e in audit.read(action="apps.*")] == [
        "user:alice", "apikey:k1", "user:victor"]
    assert [e.action for e in audit.read(result="denied")] == ["apps.ps.write"]
    assert [e.actor for e in audit.read(actor="user:victor")] == ["user:victor"]
    assert len(audit.read(limit=2)) == 2
    assert audit.read(since=datetime.now(UTC) + timedelta(minutes=1)) == []


def test_invalid_results_are_refused(pruvon_config):
    with pytest.raises(ValueError, match="result must be one of"):
        audit.record(SYSTEM, "x.y", None, "maybe")


def test_rotation_by_size_keeps_n_files(pruvon_config):
    pruvon_config.write(pruvon_config.path.read_text()
                        + "security:\n  audit_max_bytes: 4096\n  audit_keep: 2\n")
    for index in range(60):
        audit.record(SYSTEM, "apps.read", f"app:app{index}", "ok", filler="x" * 100)
    names = sorted(p.name for p in pruvon_config.state_dir.glob("audit.log*")
                   if not p.name.endswith(".lock"))
    assert names == ["audit.log", "audit.log.1", "audit.log.2"]
    events = audit.read()
    assert events[-1].target == "app:app59"
    assert len(events) < 60
    targets = [int(e.target[7:]) for e in events]
    assert targets == sorted(targets)


def test_unreadable_lines_are_skipped(pruvon_config):
    audit.record(SYSTEM, "apps.read", None, "ok")
    with open(pruvon_config.state_dir / "audit.log", "a") as handle:
        handle.write("not json\n")
    audit.record(SYSTEM, "apps.logs", None, "ok")
    assert [e.action for e in audit.read()] == ["apps.read", "apps.logs"]


def test_pruvon_event_hook_fires_after_the_write(pruvon_config, register_plugin):
    seen = []

    class Listener:
        @hookimpl
        def pruvon_event(self, event):
            seen.append((event.action, (pruvon_config.state_dir / "audit.log").exists()))

    register_plugin(Listener(), "listener")
    audit.record(SYSTEM, "users.add", "user:x", "ok")
    assert seen == [("users.add", True)]


def test_parse_since():
    now = datetime(2026, 1, 10, tzinfo=UTC)
    assert audit.parse_since("2h", now) == now - timedelta(hours=2)
    assert audit.parse_since("1w", now) == now - timedelta(days=7)
    assert audit.parse_since("2026-01-01") == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="use a duration"):
        audit.parse_since("yesterday")
