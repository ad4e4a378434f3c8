"""What runs before data is destroyed: the ``pruvon_before_destroy`` hook's one caller.

The apps and services destroy operations call :func:`before_destroy` so that
any plugin guarding data (the backups plugin's safety backup) runs first and
can stop the destroy; neither feature needs to know the backups plugin exists.
"""

from __future__ import annotations

from typing import Any

from pruvon_core.operations import OperationError


class SafeguardFailed(OperationError):
    """A plugin could not protect the data, so the destroy did not start."""


def before_destroy(pruvon: Any, target: dict[str, str]) -> list[str]:
    """Run every safeguard for ``target``; their messages, or SafeguardFailed on a refusal."""
    notes: list[str] = []
    for result in pruvon.plugins.hook.pruvon_before_destroy(target=dict(target), pruvon=pruvon):
        if not isinstance(result, dict):
            continue
        message = str(result.get("message") or "")
        if not result.get("ok"):
            raise SafeguardFailed(message or f"a safeguard refused to destroy {target.get('name')}")
        if message:
            notes.append(message)
    return notes
