"""Review: secrets nested in lists inside audit details are redacted too.

``scrub`` recursed into dicts but not lists, so ``changes=[{"password": …}]``
(a natural shape for a batch edit) would have written the password to disk.
"""

from __future__ import annotations

from pruvon_core import audit


def test_secrets_inside_lists_are_redacted(tmp_path):
    event = audit.record(
        "system", "users.batch", "users", "ok", state_dir=tmp_path,
        changes=[{"user": "alice", "password": "hunter2-hunter2"}, ("keep", {"token": "t0k"})],
    )
    text = (tmp_path / "audit.log").read_text()
    assert "hunter2" not in text and "t0k" not in text
    assert event.details["changes"][0] == {"user": "alice", "password": audit.REDACTED}
    assert event.details["changes"][1][0] == "keep"
