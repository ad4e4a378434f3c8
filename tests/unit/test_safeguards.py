"""``pruvon_before_destroy``: a safeguard's refusal stops a destroy; its note is kept."""

from types import SimpleNamespace

import pluggy
import pytest

from pruvon_core import hookspecs
from pruvon_core.hookspecs import hookimpl
from pruvon_core.safeguards import SafeguardFailed, before_destroy


def _pruvon(*plugins: object) -> SimpleNamespace:
    pm = pluggy.PluginManager("pruvon")
    pm.add_hookspecs(hookspecs)
    for plugin in plugins:
        pm.register(plugin)
    return SimpleNamespace(plugins=pm)


class Saves:
    seen: list[dict] = []

    @hookimpl
    def pruvon_before_destroy(self, target):
        self.seen.append(target)
        return {"ok": True, "message": f"safety backup of {target['name']} written"}


class Refuses:
    @hookimpl
    def pruvon_before_destroy(self, target):
        return {"ok": False, "message": "backup target full"}


class Indifferent:
    @hookimpl
    def pruvon_before_destroy(self, target):
        return None


def test_notes_from_every_safeguard_are_returned():
    saver = Saves()
    notes = before_destroy(_pruvon(saver, Indifferent()),
                           {"kind": "service", "type": "postgres", "name": "db"})
    assert notes == ["safety backup of db written"]
    assert saver.seen[-1] == {"kind": "service", "type": "postgres", "name": "db"}


def test_a_refusal_stops_the_destroy_with_its_reason():
    with pytest.raises(SafeguardFailed, match="backup target full"):
        before_destroy(_pruvon(Saves(), Refuses()), {"kind": "app", "name": "shop"})


def test_no_safeguard_installed_means_no_notes():
    assert before_destroy(_pruvon(), {"kind": "app", "name": "shop"}) == []
