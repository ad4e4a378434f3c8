"""``GET /api/v1/apps`` is the apps plugin's, served and documented exactly as before."""

from __future__ import annotations

from typing import Any

ERROR = {"application/json": {"schema": {
    "properties": {"error": {"type": "string"}}, "required": ["error"], "type": "object"}}}


def test_the_list_endpoint_is_registered_by_the_apps_plugin(web_app: Any) -> None:
    import pruvon_web.api

    rules = {r.rule: r.endpoint for r in web_app.url_map.iter_rules() if "GET" in r.methods}
    assert rules["/api/v1/apps"] == "apps_api_list.apps"
    assert not hasattr(pruvon_web.api, "APPS_SCHEMA")


def test_its_openapi_entry_is_unchanged(http: Any, login_as: Any) -> None:
    from pruvon_apps.api_list import APPS_SCHEMA

    login_as("admin")
    entry = http.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/apps"]["get"]
    assert entry == {
        "operationId": "get__api_v1_apps",
        "summary": "Every app the caller may see, with its live state",
        "tags": ["apps"],
        "x-pruvon-action": "apps.read",
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": APPS_SCHEMA}}},
            "401": {"description": "Not signed in, or API key invalid, expired or revoked",
                    "content": ERROR},
            "403": {"description": "Not allowed (apps.read) or outside the key's scopes",
                    "content": ERROR},
            "502": {"description": "Dokku failed or its output did not parse", "content": ERROR},
            "503": {"description": "Dokku cannot be run", "content": ERROR},
            "504": {"description": "Dokku timed out", "content": ERROR},
        },
    }
    assert APPS_SCHEMA["properties"]["apps"]["items"]["properties"]["state"]["enum"] == [
        "running", "stopped", "mixed", "not deployed"]


def test_a_scoped_user_lists_only_granted_apps(http: Any, login_as: Any) -> None:
    login_as("alice")  # apps: blog, shop-*
    body = http.get("/api/v1/apps").get_json()
    assert {a["name"]: a["state"] for a in body["apps"]} == {"blog": "running",
                                                            "shop-api": "running"}
    assert body["live_state"]["available"] is True
