"""Golden tests: ``ps:*`` and ``git:*`` (deploys through ``git:from-image``).

Every case comes from the replayed capture session (``simb_session``), so the
state (deploy history, scale quirks, restart policy, a failed deploy) is the one
each capture saw.  Normalisations (both sides, see ``simb_session``): random
docker/git ids, the ``upcoming-N`` suffix and rename epochs, git's fetch line
from a temporary directory, the order of the two concurrent healthchecks; for
``ps:inspect`` also timestamps, the bridge IP/MAC, pid, published port and the
order of ``Env``; ``git:report``'s ``last-updated-at`` epoch.
"""

from __future__ import annotations

import pytest

from tests.golden.harness import CASES, assert_matches, check_snapshot_tty
from tests.golden.simb_session import DEPLOY, GIT_EPOCH, INSPECT, INSPECT_TMP, session

PS_CASES = [
    "ps-bare", "ps-help",
    "ps-report-never-deployed", "ps-report-deployed", "ps-report-scaled", "ps-report-app-json",
    "ps-report-scaled-json", "ps-report-never-deployed-json", "ps-report-all",
    "ps-report-all-json", "ps-report-missing-app", "ps-report-stopped", "ps-report-stopped-json",
    "ps-report-after-set-restart-policy", "ps-report-deployed-current", "ps-report-bad-format",
    "ps-report-flag-deployed", "ps-report-flag-running-never-deployed", "ps-report-flag-status",
    "ps-report-flag-with-json", "ps-report-after-negative-scale", "ps-report-web-missing",
    "ps-scale-set-web2", "ps-scale-show", "ps-scale-show-json", "ps-scale-show-never-deployed",
    "ps-scale-show-never-deployed-json", "ps-scale-show-web", "ps-scale-missing-app",
    "ps-scale-set-never-deployed", "ps-scale-show-never-deployed-after-set",
    "ps-scale-invalid-count", "ps-scale-negative", "ps-scale-unknown-proc", "ps-scale-no-equals",
    "ps-scale-skip-deploy", "ps-scale-show-after-negative", "ps-scale-show-after-negative-json",
    "ps-scale-restore",
    "ps-stop-deployed", "ps-start-deployed", "ps-restart-deployed", "ps-rebuild-deployed",
    "ps-stop-never-deployed", "ps-start-never-deployed", "ps-restart-never-deployed",
    "ps-rebuild-never-deployed", "ps-stop-missing-app", "ps-restart-missing-app",
    "ps-start-missing-app", "ps-rebuild-missing-app", "ps-rebuild-scaled",
    "ps-start-after-scale-mixup",
    "ps-set-restart-policy", "ps-set-restart-policy-invalid", "ps-set-unknown-key",
]
GIT_CASES = [
    "git-from-image-missing-app", "git-from-image-deploy", "git-from-image-deploy-multi",
    "git-from-image-while-locked-image-without-cmd", "git-from-image-nonexistent-image",
    "git-from-image-no-changes", "git-from-image-docker-io-prefix-pulls",
    "git-report", "git-report-json", "git-report-missing-app",
]
INSPECT_CASES = ["ps-inspect", "ps-inspect-never-deployed"]
TTY_CASES = ["ps-report-deployed-tty", "ps-restart-never-deployed-tty"]
CLAIMED = PS_CASES + GIT_CASES + INSPECT_CASES + TTY_CASES


@pytest.mark.parametrize("name", PS_CASES + GIT_CASES)
def test_capture(name: str) -> None:
    assert_matches(CASES[name], session().result(name), (*DEPLOY, GIT_EPOCH))


@pytest.mark.parametrize("name", INSPECT_CASES)
def test_inspect(name: str) -> None:
    assert_matches(CASES[name], session().result(name), (*INSPECT, INSPECT_TMP))


@pytest.mark.parametrize("name", TTY_CASES)
def test_tty(name: str, tmp_path) -> None:
    """Run under a real pseudo-terminal: stdout+stderr merged, CRLF line ends."""
    check_snapshot_tty(session(), name, tmp_path, DEPLOY)
