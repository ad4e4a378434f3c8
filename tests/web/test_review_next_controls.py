"""Review: ``next=`` with control characters falls back to ``/``.

``safe_next`` checked a copy of the target from which ``urlsplit`` had silently
removed CR/LF/TAB but returned the original, so ``next=/apps%0D%0ASet-Cookie:…``
reached ``redirect()``; werkzeug refuses header values with newlines, so the
user who had just signed in got a 500 page instead of a redirect.
"""

from __future__ import annotations

import pytest
from pruvon_web.auth_views import safe_next

from tests.web.conftest import login

pytestmark = pytest.mark.usefixtures("sim_root")


@pytest.mark.parametrize(
    "target", ["/apps\r\nSet-Cookie: x=1", "/apps\nx", "/\x00/evil.com", "/a\x7fb", "/a\tb"]
)
def test_control_characters_fall_back_to_root(target):
    assert safe_next(target) == "/"


def test_login_with_crlf_next_redirects_home(app, pruvon_config):
    response = login(app.test_client(), "alice", pruvon_config.passwords["alice"],
                     next="/apps\r\nSet-Cookie: x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_ordinary_next_is_kept():
    assert safe_next("/apps/blog?tab=config") == "/apps/blog?tab=config"
