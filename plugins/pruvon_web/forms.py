"""Forms that come back with their message: the one decorator every feature's pages use.

A refused form - bad input (400), a busy resource (409), a Dokku failure
(5xx) - is re-rendered by ``render(status, **view args)`` with the message
flashed; a refusal (403), a missing resource (404) and bugs go to the web
app's one error handler as for any view.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import flash

from pruvon_web.statuses import error_message, error_status


def form_page(render: Callable[..., Any]) -> Callable[[Callable[..., Any]], Any]:
    """Re-render a refused form with its message (``render(status, **view args)``)."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            try:
                return view(**kwargs)
            except Exception as exc:
                status = error_status(exc)
                if status is None or status in (403, 404):
                    raise
                flash(error_message(exc), "error")
                return render(status, **kwargs)

        return wrapped

    return decorator
