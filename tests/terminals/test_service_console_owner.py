"""The service console target is the services plugin's, reached through the terminals hook."""

from __future__ import annotations

import pytest
from pruvon_terminals.public import TargetError, TerminalRequest
from pruvon_terminals.targets import collect

from pruvon_core.plugins import get_plugin_manager


def test_the_services_plugin_provides_the_console_target() -> None:
    import pruvon_terminals.targets

    targets = collect(get_plugin_manager().pruvon)
    assert type(targets["service"]).__module__ == "pruvon_services.console"
    assert targets["service"].action == "services.console"
    assert not hasattr(pruvon_terminals.targets, "ServiceConsoleTarget")
    assert {"app", "run", "host"} <= set(targets)


def test_the_console_target_validates_before_any_dokku_call() -> None:
    target = collect(get_plugin_manager().pruvon)["service"]
    with pytest.raises(TargetError, match="service name"):
        target.resource(TerminalRequest("service", service_type="postgres", service="-x"))
