"""Route grants come from the plugins (``pruvon_route_grants``); core knows no page.

A ``routes:`` entry grants pages (DESIGN §8).  Which page lists which
resource kind, which global actions a page grants and which API resources
are served as a page is declared by the plugin that serves it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pruvon_core.config import Config
from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action, actor_for_user, check, route_allowed
from pruvon_core.route_grants import RouteGrant, build

HASH = "$2b$04$abcdefghijklmnopqrstuu5Wn9T1S0sF2oG2WwT4oYjC6m0T0tq1a"
CORE = Path(__file__).resolve().parents[3] / "pruvon_core"


def _user(*routes: str, **extra: object):
    raw = {"username": "u", "password": HASH, "role": "user", "routes": list(routes), **extra}
    record = Config({"users": [raw]}).user("u")
    assert record is not None
    return record


class Reports:
    """A third-party plugin with a page of its own and an API alias for it."""

    @hookimpl
    def pruvon_register_actions(self):
        return [Action("reports.read", "Read reports", True, None),
                Action("reports.run", "Run a report", False, None)]

    @hookimpl
    def pruvon_route_grants(self):
        return [RouteGrant("/reports", actions=("reports.read", "reports.run"),
                           api_aliases=("/report-runs",))]


def test_a_plugins_page_grants_its_actions_to_a_routes_entry(pruvon_config, register_plugin):
    holder, other = _user("/reports"), _user("/logs")
    assert not check(actor_for_user(holder), "reports.run")  # no plugin declared the page yet
    register_plugin(Reports(), "reports")
    assert check(actor_for_user(holder), "reports.run")
    assert check(actor_for_user(holder), "reports.read")
    assert not check(actor_for_user(other), "reports.run")


def test_api_and_websocket_paths_are_covered_by_the_page_grant(pruvon_config, register_plugin):
    register_plugin(Reports(), "reports")
    holder = _user("/reports*")
    assert route_allowed(holder, "/api/v1/reports/weekly")
    assert route_allowed(holder, "/ws/reports/weekly")
    assert route_allowed(holder, "/api/v1/report-runs")  # declared alias of /reports
    assert not route_allowed(_user("/logs"), "/api/v1/report-runs")


def test_a_routes_entry_for_a_page_opens_the_paths_below_it(pruvon_config, register_plugin):
    """``routes: [/reports]`` opens the page's forms, API and sockets (they serve the page);
    it was refused on ``/reports/weekly``, so a page's granted actions could not be used."""
    register_plugin(Reports(), "reports")
    holder = _user("/reports")
    for path in ("/reports", "/reports/weekly", "/reports/7/run", "/api/v1/reports/weekly",
                 "/ws/reports/restore/abc"):
        assert route_allowed(holder, path), path
    assert not route_allowed(holder, "/reportsx")
    assert not route_allowed(_user("/logs"), "/reports/weekly")
    # pages of a resource kind keep their own grants: /apps is the list, not every app
    assert not route_allowed(_user("/apps"), "/apps/other")
    assert not route_allowed(_user("/reports"), "/settings/users")


def test_a_bad_declaration_is_ignored_and_the_first_claim_wins():
    table = build([
        RouteGrant("/apps", resource_kind="app"),
        RouteGrant("/apps", resource_kind="service"),  # a second claim on /apps
        RouteGrant("reports"),  # not a path
        RouteGrant("/x", resource_kind="planet"),  # not a kind user records grant
        "not a grant",
    ])
    assert list(table.pages) == ["/apps"]
    assert table.pages["/apps"].resource_kind == "app"


def _string_constants(path: Path) -> set[str]:
    """String literals of a module, docstrings excluded."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body and isinstance(node.body[0], ast.Expr)
    }
    return {
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    }


def test_core_permission_code_names_no_plugin_page_or_action():
    strings = set().union(*(_string_constants(CORE / n) for n in ("permissions.py", "route_grants.py")))
    plugin_words = ("/apps", "/services", "/backups", "/logs", "/audit", "/account", "/logout",
                    "/static", "apps.", "services.", "backups.", "audit.", "dashboard.",
                    "can_create")
    assert sorted(s for s in strings if s.startswith(plugin_words)) == []


def test_pages_open_to_every_signed_in_user_are_the_web_plugins(pruvon_config):
    nobody = _user()  # a user with no grant at all
    for path in ("/", "/logout", "/account", "/account/totp", "/static/pruvon.css"):
        assert route_allowed(nobody, path), path
    for path in ("/logs", "/settings", "/apps", "/backups", "/accounting"):
        assert not route_allowed(nobody, path), path
    table = build([RouteGrant("/", open_to_all=True)])
    assert table.open_to_all("/") and not table.open_to_all("/settings")
