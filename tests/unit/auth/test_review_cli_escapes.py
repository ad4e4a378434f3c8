"""Review: tables printed to an operator's terminal never carry raw control characters.

The audit log stores the username typed into the login form as given (JSON
escaped on disk); ``pruvon audit list`` printed it raw, so a failed login as
``x\\x1b[2J…`` cleared the operator's screen and a ``\\n`` forged a table row.
API-key names (free text from the web UI and API) reached ``pruvon apikey list``
the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from pruvon_core import audit
from pruvon_core.cli import cli

EVIL = "mallory\x1b[2J\x1b]0;owned\x07\nFAKE  user:admin  users.add  ok\u202e"


@pytest.fixture
def run(pruvon_config):
    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def _assert_clean(output: str, rows: int) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
    assert len(output.rstrip("\n").split("\n")) == rows + 1  # header + rows: nothing forged
    assert "\\x1b[2J" in output  # shown escaped, still readable


def test_audit_table_escapes_control_characters(run, pruvon_config):
    audit.record(None, "auth.login", EVIL, "failed", source_ip="192.0.2.1",
                 state_dir=pruvon_config.state_dir, username=EVIL)
    result = run("audit", "list", "--action", "auth.login")
    assert result.exit_code == 0
    _assert_clean(result.output, rows=1)
    data = run("audit", "list", "--action", "auth.login", "--format", "json").output
    assert "\\u001b" in data  # JSON keeps the exact value, escaped


def test_apikey_table_escapes_control_characters(run, pruvon_config):
    from pruvon_auth.apikeys import ApiKeyStore

    ApiKeyStore(pruvon_config.state_dir).create(
        "alice", ["apps.read"], datetime.now(UTC) + timedelta(days=1), name=EVIL
    )
    result = run("apikey", "list")
    assert result.exit_code == 0
    _assert_clean(result.output, rows=1)
