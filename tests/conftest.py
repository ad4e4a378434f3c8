"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests import sandbox_guard
from tests.chromium import launched


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module (Debian's, see tests/chromium.py)."""
    with launched() as browser:
        yield browser


# -- nothing outside the sandbox (tests/sandbox_guard.py) ------------------------------
_BEFORE = sandbox_guard.snapshot()
# also for module- and session-scoped servers, started before any function fixture runs:
# a safety backup of theirs lands here, never in the real default backup directory
os.environ.setdefault("PRUVON_BACKUP_DIR", tempfile.mkdtemp(prefix="pruvon-test-backups-"))


@pytest.fixture(autouse=True)
def _state_dir_in_the_sandbox(tmp_path_factory: pytest.TempPathFactory,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that sets no PRUVON_STATE_DIR writes a temporary one, never /var/lib/pruvon;
    the same for the default backup directory (a safety backup before a destroy)."""
    path = sandbox_guard.private_state_dir(tmp_path_factory.mktemp("state"))
    monkeypatch.setenv("PRUVON_STATE_DIR", path)
    monkeypatch.setenv("PRUVON_BACKUP_DIR", str(tmp_path_factory.mktemp("backups")))


@pytest.fixture(autouse=True)
def _no_host_carried_over() -> Iterator[None]:
    """Every test starts on the default host.

    The acting host is a context variable (``pruvon_core.hosts``); a Flask test
    client serving ``/h/<host>/…`` in the test's own thread leaves it set, and
    a later test would then act on that host without asking.
    """
    from pruvon_core import hosts

    hosts.set_current(None)
    yield
    hosts.set_current(None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when it created or changed the real default state or config."""
    written = sandbox_guard.changes(_BEFORE, sandbox_guard.snapshot())
    if written:
        session.config.get_terminal_writer().line(
            "tests wrote outside their sandbox: " + ", ".join(written[:20]), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
