"""The favicon is public (browsers ask for it on every page, before and after sign-in)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("sim_root")


@pytest.mark.parametrize("user", [None, "victor", "alice", "admin"])
def test_favicon_served_to_everyone(client, login_as, user):
    if user is not None:
        login_as(user)
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).lstrip().startswith("<svg")
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_pages_link_the_icon(client, login_as):
    login_as("victor")
    assert 'rel="icon"' in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/favicon.png", "/favicon.ico/x", "/favicon.icox",
                                  "/favicon.ico/../settings/users"])
def test_nothing_else_becomes_public(client, path):
    response = client.get(path)
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")


def test_a_viewer_still_cannot_reach_other_paths(client, login_as):
    login_as("victor")
    assert client.get("/settings/users").status_code == 403
