"""Wiring the ``pruvon`` hook context of a process: config, client, permissions.

The process entry points (the CLI root group, the web application factory)
call :func:`bind` so that every hook call made by core - config validation,
permission votes, audit events, Dokku triggers - hands plugins a context with
the process's real config and state directory.  Kept apart from
:mod:`pruvon_core.context` (a holder) and :mod:`pruvon_core.plugins` so that
the modules hooks are called from never import the modules the context needs.
"""

from __future__ import annotations

from pathlib import Path

from pruvon_core import hosts
from pruvon_core.config import ConfigStore
from pruvon_core.config import state_dir as default_state_dir
from pruvon_core.context import Pruvon
from pruvon_core.dokku import client_for, client_from_config
from pruvon_core.operations import OperationManager
from pruvon_core.permissions import check
from pruvon_core.plugins import PluginManager


def make_context(
    plugins: PluginManager, store: ConfigStore | None = None, state_dir: Path | None = None
) -> Pruvon:
    """A bound context; defaults: ``$PRUVON_CONFIG`` and ``$PRUVON_STATE_DIR``."""
    return Pruvon(
        plugins,
        store if store is not None else ConfigStore(),
        state_dir if state_dir is not None else default_state_dir(create=False),
        client_from_config=client_from_config,
        check=check,
        operation_manager=OperationManager,
        client_for=client_for,
        current_host=hosts.current,
    )


def bind(plugins: PluginManager, context: Pruvon) -> Pruvon:
    """Make ``context`` what core's own hook calls pass as ``pruvon``."""
    plugins.pruvon = context
    return context
