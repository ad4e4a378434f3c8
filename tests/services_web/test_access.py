"""``/ws/services/import/<task>`` names a task, not a service: the route grant opens it
to whoever holds a service grant, and the socket checks the task's own service."""

from __future__ import annotations

import dataclasses
from typing import Any

from pruvon_core.permissions import route_allowed

TASK = "/ws/services/import/0123456789abcdef"


def test_a_user_with_a_service_grant_reaches_the_import_socket(pruvon_config: Any) -> None:
    alice = pruvon_config.user("alice")
    assert route_allowed(alice, TASK)
    assert not route_allowed(alice, "/ws/services/postgres/crm-db/logs")


def test_a_user_without_any_service_grant_is_refused_at_the_upgrade(pruvon_config: Any) -> None:
    apps_only = dataclasses.replace(pruvon_config.user("alice"), services={}, routes=[])
    assert route_allowed(apps_only, "/apps/blog")
    assert not route_allowed(apps_only, TASK)
    assert not route_allowed(apps_only, "/ws/services/import")
