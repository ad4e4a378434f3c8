"""Review: the API path of a page is covered by that page's ``routes:`` grant.

``/api/v1/audit`` serves the audit log whose page is ``/logs``; the path
mapping turned it into ``/audit``, a page no grant names, so a user given
``/logs`` (DESIGN §8: "the API and WebSocket paths of the same resource are
covered by the same grant") was refused the API.
"""

from __future__ import annotations

from pruvon_core.config import UserRecord
from pruvon_core.permissions import route_allowed


def _user(*routes: str) -> UserRecord:
    return UserRecord(username="u", password_hash="x", role="user", routes=tuple(routes))


def test_audit_api_follows_the_logs_grant():
    assert route_allowed(_user("/logs"), "/logs")
    assert route_allowed(_user("/logs"), "/api/v1/audit")
    assert not route_allowed(_user("/backups"), "/api/v1/audit")


def test_audit_api_is_not_opened_by_a_route_named_audit():
    assert not route_allowed(_user("/audit"), "/api/v1/audit")
