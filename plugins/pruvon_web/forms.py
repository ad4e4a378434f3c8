"""Forms that come back with their message: one decorator for every plugin's pages.

A form whose input the operations runner refuses - bad input (400), a busy
target (409), Dokku or docker failing (5xx) - is re-rendered with the message
and that status, so the user can fix it where they typed it; a permission
refusal (403), a missing object (404) and bugs go to the app's one error
handler as for any view.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import flash

from pruvon_web.statuses import error_message, error_status


def form_page(render: Callable[..., tuple[Any, int]]) -> Callable[[Callable[..., Any]], Any]:
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
