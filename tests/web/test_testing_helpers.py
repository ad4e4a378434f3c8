"""``pruvon_testing.fixtures_web``: the fixtures other plugins use to test their pages."""

from __future__ import annotations

from pruvon_testing.fixtures_web import (  # noqa: F401 - pytest finds fixtures by name
    pruvon_web_app,
    pruvon_web_client,
    pruvon_web_login,
    pruvon_web_sim,
)


def test_plugin_authors_get_a_signed_in_client(pruvon_web_client, pruvon_web_login):  # noqa: F811
    token = pruvon_web_login("victor")
    assert len(token) > 20
    assert pruvon_web_client.get("/api/v1/me").get_json()["username"] == "victor"
    refused = pruvon_web_client.post("/logout")  # no token: refused
    assert refused.status_code == 403
    assert pruvon_web_client.post("/logout", data={"csrf_token": token}).status_code == 302
