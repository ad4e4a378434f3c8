"""Golden tests: builder, builds, checks, resource, scheduler, cron, network, registry,
app-json and events reports/commands, on the replayed capture session.

Normalisation (both sides): the bridge IP in ``network:report``'s web listeners
(docker hands out the lowest free address, which depends on every container the
host ever ran).
"""

from __future__ import annotations

import pytest

from tests.golden.harness import CASES, assert_matches
from tests.golden.simb_session import BRIDGE_IP, session

FAMILIES = (
    "builder", "builds", "checks", "resource", "scheduler", "cron", "network", "registry",
    "app-json", "events",
)
CLAIMED = [
    "builder-report", "builder-report-json", "builder-report-missing-app",
    "builds-help", "builds-list-all",
    "checks-report", "checks-report-json", "checks-report-missing-app",
    "resource-report", "resource-report-json", "resource-report-missing-app",
    "resource-limit", "resource-limit-json", "resource-limit-missing-app", "resource-reserve",
    "resource-limit-set", "resource-limit-after-set", "resource-report-after-set",
    "resource-report-after-set-json", "resource-limit-clear", "resource-report-after-clear-json",
    "scheduler-report", "scheduler-report-json", "scheduler-report-missing-app",
    "cron-list", "cron-list-json", "cron-list-missing-app", "cron-report", "cron-report-json",
    "cron-report-missing-app",
    "network-report", "network-report-json", "network-report-missing-app",
    "registry-report", "registry-report-json", "registry-report-missing-app",
    "app-json-report", "app-json-report-json", "app-json-report-missing-app",
    "events-list", "events-report",
]


@pytest.mark.parametrize("name", CLAIMED)
def test_capture(name: str) -> None:
    assert_matches(CASES[name], session().result(name), (BRIDGE_IP,))


def test_every_capture_of_these_families_is_claimed() -> None:
    mine = {n for n, c in CASES.items() if c.group == "core" and n.startswith(FAMILIES)}
    mine -= {n for n in mine if n.startswith("logs-")}
    assert mine == set(CLAIMED)
