"""Issue 14 finding 7: no 500 on bad input, on any API route.

A JSON body of 100,000 ``[`` (RecursionError) and ``GET /api/v1/audit?since=
99999999999999d`` (OverflowError) answered 500.  Every route of the OpenAPI
document is swept with malformed bodies and query parameters: each answer is a
4xx with ``{"error": …}``, never a 5xx.
"""

from __future__ import annotations

import re

import pytest

from tests.apps.conftest import wait_operation

# real objects, so that parsing is reached; DELETE only on names that do not exist
PATH_VALUES = {"app": "blog", "username": "victor", "key_id": "nosuch", "op_id": "nosuch",
               "kind": "postgres", "name": "nosuch", "ref": "nosuch-container",
               "container": "nosuch-container"}
BODIES = {
    "deep nesting": b"[" * 100_000,
    "deep objects": b'{"a":' * 50_000,
    "NaN": b'{"action": NaN}',
    "Infinity": b'{"action": -Infinity}',
    "1e999": b'{"action": 1e999}',
    "5000 digits": b'{"action": ' + b"9" * 5000 + b"}",
    "invalid UTF-8": b'{"action": "\xff\xfe"}',
    "array": b"[]",
    "string": b'"restart"',
    "null": b"null",
    "number": b"12",
    "empty": b"",
    "truncated": b'{"action": "rest',
}
# wrong types and hostile values for every documented field
FIELD_VALUES = ([], {}, 10**30, -1, 1.5, None, True, "\u0663", "--all", "a b;$(id)", "\x00",
                {"web": -1}, {"web": 10**30}, ["--all"], "9" * 5000)
QUERY_VALUES = ("99999999999999999999", "-1", "\u0663", "99999999999999d", "NaN", "1e999",
                "\x00", "\u00b2", "9" * 5000, "-99999999999999w")
QUERY_NAMES = ("limit", "since", "after", "lines", "name", "q", "result", "user", "action",
               "reveal", "tab", "process", "source")


def _operations(http) -> list[tuple[str, str, dict]]:
    document = http.get("/api/v1/openapi.json").get_json()
    found = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            values = {**PATH_VALUES, **({"username": "nosuch"} if method == "delete" else {})}
            concrete = re.sub(r"\{(\w+)\}", lambda m, v=values: v[m.group(1)], path)
            found.append((method.upper(), concrete, spec))
    return found


@pytest.fixture
def admin(http, login_as, pruvon_config):
    """Signed in as admin (CSRF header on every request), with one finished operation."""
    token = login_as("admin")
    http.environ_base["HTTP_X_CSRF_TOKEN"] = token
    started = http.post("/api/v1/apps/blog/ps", json={"action": "restart"})
    assert started.status_code == 202
    PATH_VALUES["op_id"] = started.get_json()["id"]
    wait_operation(pruvon_config.state_dir, PATH_VALUES["op_id"])
    return http


def _assert_4xx(response, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.get_data()[:300])
    if response.status_code >= 400:
        assert response.get_json()["error"], what


def test_every_api_route_answers_malformed_bodies_with_4xx(admin):
    operations = _operations(admin)
    assert len(operations) >= 25  # the sweep sees the apps plugin's routes too
    for method, path, spec in operations:
        if method == "GET":
            continue
        for name, data in BODIES.items():
            response = admin.open(path, method=method, data=data,
                                  content_type="application/json")
            _assert_4xx(response, f"{method} {path} body {name}")
            if spec.get("requestBody"):  # a route that reads a body refuses these
                assert response.status_code in (400, 415), (method, path, name)


def test_every_api_route_answers_wrong_field_types_with_4xx(admin):
    for method, path, spec in _operations(admin):
        schema = ((spec.get("requestBody") or {}).get("content", {})
                  .get("application/json", {}).get("schema") or {})
        for field in schema.get("properties", {}):
            for value in FIELD_VALUES:
                response = admin.open(path, method=method, json={field: value})
                _assert_4xx(response, f"{method} {path} {field}={value!r:.40}")


def test_every_api_route_answers_bad_query_parameters_with_4xx(admin):
    for method, path, _ in _operations(admin):
        if method != "GET":
            continue
        for value in QUERY_VALUES:
            response = admin.get(path, query_string={name: value for name in QUERY_NAMES})
            _assert_4xx(response, f"GET {path}?…={value!r:.40}")


def test_the_reported_payloads(admin):
    deep = admin.post("/api/v1/users", data=b"[" * 100_000, content_type="application/json")
    assert deep.status_code == 400 and "nested too deeply" in deep.get_json()["error"]
    since = admin.get("/api/v1/audit", query_string={"since": "99999999999999d"})
    assert since.status_code == 400 and "since" in since.get_json()["error"]
    page = admin.get("/logs", query_string={"since": "99999999999999d"})
    assert page.status_code == 400 and "since" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "99999999999999999999"}, "limit: a whole number from 1 to 10000"),
        ({"limit": "0"}, "limit: a whole number from 1 to 10000, not 0"),
        ({"limit": "\u0663"}, "limit: a whole number"),
        ({"since": "\u0663d"}, "since"),
        ({"since": "-5d"}, "since"),
    ],
)
def test_audit_query_errors_name_the_parameter(admin, query, message):
    response = admin.get("/api/v1/audit", query_string=query)
    assert response.status_code == 400 and message in response.get_json()["error"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"username": NaN}', "NaN is not a JSON value"),
        (b'{"username": 1e999}', "out of range"),
        (b'{"username": "\xff"}', "not valid UTF-8"),
        (b"[]", "must be a JSON object, not an array"),
        (b"null", "must be a JSON object, not null"),
    ],
)
def test_json_errors_say_what_is_wrong(admin, data, message):
    response = admin.post("/api/v1/users", data=data, content_type="application/json")
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_a_body_that_is_not_json_is_415(admin):
    response = admin.post("/api/v1/users", data="username=x", content_type="text/plain")
    assert response.status_code == 415 and "application/json" in response.get_json()["error"]


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a": NaN}', '{"a": 1e999}', "\ud800"])
def test_parse_json_only_ever_raises_value_error(text):
    """WebSocket frames (create wizard, terminal start) are parsed with the same function."""
    from pruvon_web.inputs import parse_json

    with pytest.raises(ValueError):
        parse_json(text)


@pytest.mark.parametrize("days", ["\u00b2", "\u0663", "9" * 5000, "-1", "0"])
def test_api_key_form_expiry_refused_with_its_rule(admin, days):
    page = admin.post("/settings/apikeys", data={"scopes": ["apps.read"], "days": days,
                                                 "name": "k"})
    assert page.status_code == 400
    assert "expiry: a whole number of days" in page.get_data(as_text=True)
