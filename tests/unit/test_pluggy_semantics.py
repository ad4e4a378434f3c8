"""Hooks are called the pluggy way: wrappers, firstresult, historic and tracing work,
and a raising plugin is still reported and skipped (issue 11).

The plugin under test is installed like a third-party one: a module plus a
``*.dist-info`` with a ``pruvon`` entry point on ``sys.path``.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pluggy
import pytest

from pruvon_core.context import Pruvon
from pruvon_core.hookspecs import hookimpl, hookspec
from pruvon_core.permissions import Action
from pruvon_core.plugins import PluginManager, flatten
from pruvon_core.registry import BackupTarget, ServiceType, backup_targets, service_types

ACME = '''
from pruvon_core.hookspecs import hookimpl
from pruvon_core.permissions import Action

CALLS = []

@hookimpl(wrapper=True)
def pruvon_register_actions(pruvon):
    CALLS.append(("wrapper-before", type(pruvon).__name__))
    result = yield
    CALLS.append(("wrapper-after", len(result)))
    return result + [[Action("acme.extra", "Added by a wrapper", True, None)]]

@hookimpl
def acme_pick(choice):
    return None if choice == "pass" else f"acme:{choice}"

@hookimpl(trylast=True, specname="acme_pick")
def acme_pick_last(choice):
    CALLS.append(("last", choice))
    return f"last:{choice}"

@hookimpl
def acme_broadcast(value):
    raise RuntimeError("acme broadcast broke")

@hookimpl(hookwrapper=True)
def pruvon_validate_config(data):
    outcome = yield
    outcome.force_result(outcome.get_result() + [["acme: wrapped"]])
'''


class AcmeSpecs:
    """Hooks a third-party plugin declares for its own extensions."""

    @hookspec(firstresult=True)
    def acme_pick(self, choice):
        """First non-None answer wins."""

    @hookspec(historic=True)
    def acme_broadcast(self, value):
        """Reaches plugins registered later too."""


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "acme_wrap.py").write_text(textwrap.dedent(ACME))
    dist = tmp_path / "acme_wrap-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-wrap\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[pruvon]\nacme = acme_wrap\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("acme_wrap", None)


def loaded(*names: str) -> PluginManager:
    manager = PluginManager()
    manager.pm.add_hookspecs(AcmeSpecs)
    manager.load_entry_points(set(names))
    return manager


def test_wrapper_true_sees_and_changes_the_result(acme) -> None:
    manager = loaded("apps", "acme")
    assert manager.infos["acme"].error is None
    results = manager.hook.pruvon_register_actions(pruvon=manager.pruvon)
    names = [action.name for action in flatten(results)]
    assert "apps.read" in names and names[-1] == "acme.extra"
    calls = sys.modules["acme_wrap"].CALLS
    # one generator run around the call, not a generator object in the results
    assert calls == [("wrapper-before", "Pruvon"), ("wrapper-after", 1)]


def test_old_style_hookwrapper_forces_a_result(acme) -> None:
    manager = loaded("terminals", "acme")
    results = flatten(manager.hook.pruvon_validate_config(data={}, pruvon=manager.pruvon))
    assert results == ["acme: wrapped"]


def test_firstresult_stops_at_the_first_answer(acme) -> None:
    manager = loaded("acme")
    assert manager.hook.acme_pick(choice="x") == "acme:x"
    assert ("last", "x") not in sys.modules["acme_wrap"].CALLS
    # None is not an answer: the trylast implementation answers instead
    assert manager.hook.acme_pick(choice="pass") == "last:pass"


def test_a_raising_firstresult_impl_is_skipped_and_reported() -> None:
    class Broken:
        @hookimpl(tryfirst=True)
        def acme_pick(self, choice):
            raise KeyError(choice)

    class Fine:
        @hookimpl
        def acme_pick(self, choice):
            return "fine"

    manager = PluginManager()
    manager.pm.add_hookspecs(AcmeSpecs)
    manager.register(Fine(), name="fine")
    manager.register(Broken(), name="broken")
    assert manager.hook.acme_pick(choice="k") == "fine"
    assert list(manager.hook_errors) == [("broken", "acme_pick", "KeyError: 'k'")]


def test_historic_hook_reaches_a_late_plugin_and_its_failure_is_isolated(acme) -> None:
    seen: list[int] = []

    class Early:
        @hookimpl
        def acme_broadcast(self, value):
            seen.append(value)

    manager = PluginManager()
    manager.pm.add_hookspecs(AcmeSpecs)
    manager.register(Early(), name="early")
    manager.hook.acme_broadcast.call_historic(kwargs={"value": 7})
    assert seen == [7]

    class Late:
        @hookimpl
        def acme_broadcast(self, value):
            seen.append(value * 10)

    manager.register(Late(), name="late")
    assert seen == [7, 70]
    # a late plugin whose historic impl raises is registered, reported, not fatal
    manager.load_entry_points({"acme"})
    assert manager.infos["acme"].error is None
    assert ("acme", "acme_broadcast", "RuntimeError: acme broadcast broke") in manager.hook_errors


def test_raising_wrapper_setup_steps_aside() -> None:
    class BadWrapper:
        @hookimpl(wrapper=True)
        def pruvon_register_actions(self):
            raise OSError("wrapper setup failed")
            yield  # pragma: no cover - makes this a generator

    class BadTeardown:
        @hookimpl(wrapper=True)
        def pruvon_register_actions(self):
            yield
            raise ValueError("teardown failed")

    class Declares:
        @hookimpl
        def pruvon_register_actions(self):
            return [Action("x.read", "x", True, None)]

    manager = PluginManager()
    for name, plugin in (("declares", Declares()), ("bad", BadWrapper()), ("td", BadTeardown())):
        manager.register(plugin, name=name)
    results = manager.hook.pruvon_register_actions(pruvon=manager.pruvon)
    assert [a.name for a in flatten(results)] == ["x.read"]
    assert sorted(manager.hook_errors) == [
        ("bad", "pruvon_register_actions", "OSError: wrapper setup failed"),
        ("td", "pruvon_register_actions", "ValueError: teardown failed"),
    ]
    report = {row["name"]: row for row in manager.report()}
    assert report["bad"]["hook_errors"] == [
        {"hook": "pruvon_register_actions", "error": "OSError: wrapper setup failed"}
    ]


def test_a_wrapper_teardown_failure_is_its_own() -> None:
    """Outer wrappers get the inner result, not the inner wrapper's mistake."""
    seen: list[object] = []

    class Outer:
        @hookimpl(wrapper=True, tryfirst=True)
        def pruvon_register_actions(self):
            try:
                result = yield
            except LookupError as exc:
                seen.append(exc)
                raise
            seen.append(result)
            return result

    class Inner:
        @hookimpl(wrapper=True)
        def pruvon_register_actions(self):
            yield
            raise LookupError("deliberate")

    class Declares:
        @hookimpl
        def pruvon_register_actions(self):
            return [Action("x.read", "x", True, None)]

    manager = PluginManager()
    for name, plugin in (("declares", Declares()), ("outer", Outer()), ("inner", Inner())):
        manager.register(plugin, name=name)
    results = manager.hook.pruvon_register_actions(pruvon=manager.pruvon)
    assert seen == [results] and [a.name for a in flatten(results)] == ["x.read"]
    assert list(manager.hook_errors) == [
        ("inner", "pruvon_register_actions", "LookupError: deliberate")
    ]


def test_an_interrupt_still_reaches_wrappers_and_the_caller() -> None:
    """Only ``Exception`` is isolated: Ctrl-C inside a hook still stops the command."""
    seen: list[str] = []

    class Outer:
        @hookimpl(wrapper=True)
        def pruvon_register_actions(self):
            try:
                return (yield)
            except KeyboardInterrupt:
                seen.append("interrupted")
                raise

    class Interrupted:
        @hookimpl
        def pruvon_register_actions(self):
            raise KeyboardInterrupt

    manager = PluginManager()
    manager.register(Interrupted(), name="interrupted")
    manager.register(Outer(), name="outer")
    with pytest.raises(KeyboardInterrupt):
        manager.hook.pruvon_register_actions(pruvon=manager.pruvon)
    assert seen == ["interrupted"] and not manager.hook_errors


def test_hook_name_typo_raises() -> None:
    manager = PluginManager()
    with pytest.raises(AttributeError):
        manager.hook.pruvon_regster_actions  # noqa: B018 - the attribute read is the test


def test_unknown_hook_in_a_plugin_is_refused() -> None:
    class Typo:
        @hookimpl
        def pruvon_web_menus(self, actor):
            return []

    manager = PluginManager()
    with pytest.raises(pluggy.PluginValidationError, match="pruvon_web_menus"):
        manager.register(Typo(), name="typo")
    assert "typo" not in manager.infos and manager.pm.get_plugin("typo") is None


def test_tracing_sees_calls() -> None:
    manager = PluginManager()
    manager.load_entry_points({"apps"})
    traced: list[str] = []
    undo = manager.pm.add_hookcall_monitoring(
        lambda name, impls, kwargs: traced.append(name), lambda *args: None
    )
    manager.hook.pruvon_register_actions(pruvon=manager.pruvon)
    undo()
    assert traced == ["pruvon_register_actions"]


def test_hooks_get_the_pruvon_context(tmp_path: Path) -> None:
    got: list[Pruvon] = []

    class Observer:
        @hookimpl
        def pruvon_event(self, event, pruvon):
            got.append(pruvon)

    manager = PluginManager()
    manager.register(Observer(), name="observer")
    context = Pruvon(manager, state_dir=tmp_path)
    manager.hook.pruvon_event(event=None, pruvon=context)
    assert got == [context] and got[0].plugins is manager and got[0].state_dir == tmp_path


def test_service_types_and_backup_targets_are_collected_checked_and_deduplicated() -> None:
    class Kinds:
        @hookimpl
        def pruvon_service_types(self):
            return [
                ServiceType("clickhouse", "ClickHouse"),
                ServiceType("Bad Name", "refused"),
                "not a type",
                ServiceType("clickhouse", "second declaration loses"),
            ]

        @hookimpl
        def pruvon_backup_targets(self):
            return [BackupTarget("s3", "Amazon S3")]

    class Broken:
        @hookimpl
        def pruvon_service_types(self):
            raise RuntimeError("no types")

    manager = PluginManager()
    manager.load_entry_points({"backups"})
    manager.register(Kinds(), name="kinds")
    manager.register(Broken(), name="broken")
    assert service_types(manager.pruvon) == [ServiceType("clickhouse", "ClickHouse")]
    assert [t.name for t in backup_targets(manager.pruvon)] == ["local", "s3"]
    assert ("broken", "pruvon_service_types", "RuntimeError: no types") in manager.hook_errors


def test_unbound_context_says_so_and_make_context_binds(tmp_path: Path) -> None:
    from pruvon_core.config import ConfigStore
    from pruvon_core.context import ContextUnbound
    from pruvon_core.runtime import bind, make_context

    manager = PluginManager()
    with pytest.raises(ContextUnbound, match="no config is bound"):
        manager.pruvon.config  # noqa: B018 - the attribute read is the test
    config = tmp_path / "pruvon.yml"
    config.write_text("pruvon: {listen: '127.0.0.1:8080'}\n")
    context = bind(manager, make_context(manager, ConfigStore(config), tmp_path))
    assert manager.pruvon is context
    assert context.config.listen == "127.0.0.1:8080"
    assert context.operations().store.list() == []
