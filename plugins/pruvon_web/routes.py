"""Adding a feature's pages and documented API endpoints to its blueprint, one table each.

Every route is added explicitly by the feature's ``blueprint()`` (nothing as a
side effect of an import); these two helpers keep that a table instead of a
loop copied into each plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint

from pruvon_web.api import endpoint


def add_pages(bp: Blueprint, pages: Iterable[tuple[str, Callable[..., Any], list[str]]]) -> None:
    """``(rule, view, methods)`` rows, each view's name its endpoint."""
    for rule, view, methods in pages:
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=methods)


def api_adder(bp: Blueprint) -> Callable[..., None]:
    """``add(rule, method, summary, view, action, **options)``: a documented endpoint on ``bp``."""
    def add(rule: str, method: str, summary: str, view: Any, action: str | None,
            **options: Any) -> None:
        endpoint(rule, method, summary, bp=bp, prefix="", action=action, **options)(view)

    return add
