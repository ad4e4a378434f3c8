"""The Services dashboard card belongs to the services plugin and counts only what the viewer may read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pruvon_testing.sim.main import run


def _sim(root: Path, *argv: str) -> None:
    code, out, err = run(list(argv), root=root)
    assert code == 0, (argv, out, err)


def _services_card(html: str) -> str | None:
    match = re.search(r'aria-label="Services".*?</section>', html, re.S)
    return match.group(0) if match else None


def _seed(root: Path) -> None:
    for name in ("blog-db", "crm-db", "shop-db"):
        _sim(root, "postgres:create", name)


def test_the_card_comes_from_the_services_plugin(app: Any) -> None:
    from pruvon_web import cards

    assert not hasattr(cards, "SERVICE_PLUGINS")
    plugins = app.extensions["pruvon"].plugins
    names = {plugins.pm.get_name(impl.plugin) for impl in
             plugins.pm.hook.pruvon_dashboard_cards.get_hookimpls()}
    assert "services" in names


def test_an_admin_sees_every_service_counted(client: Any, login_as: Any, sim_root: Path) -> None:
    _seed(sim_root)
    login_as("admin")
    card = _services_card(client.get("/").get_data(as_text=True))
    assert card is not None and "postgres 3" in card
    assert 'href="/services"' in card  # the card leads to the services page


def test_a_scoped_user_sees_only_the_services_granted(
    client: Any, login_as: Any, sim_root: Path
) -> None:
    _seed(sim_root)
    login_as("alice")  # granted postgres blog-db only (and redis *)
    html = client.get("/").get_data(as_text=True)
    card = _services_card(html)
    assert card is not None and "postgres 1" in card
    assert "crm-db" not in html and "postgres 3" not in html
