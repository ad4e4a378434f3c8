"""One HTTP status per Dokku failure, for every front end (pages, API, WebSockets).

Written once so ``/apps``, ``/api/v1/apps`` and ``/api/v1/apps/<app>`` cannot
disagree (issue 19: a timeout was 504 on one and 502 on another).  The table
is read in order and the first matching class wins, so subclasses come before
:class:`DokkuError`, the catch-all for "Dokku failed or answered nonsense".
"""

from __future__ import annotations

from pruvon_core.dokku import errors

DOKKU_STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (errors.InvalidName, 400),  # refused by our validation, before any call
    (errors.InvalidValue, 400),
    (errors.AppNotFound, 404),
    (errors.ServiceNotFound, 404),
    (errors.NameTaken, 409),
    (errors.NotDeployed, 409),
    (errors.AlreadyLinked, 409),
    (errors.ServiceLinked, 409),
    (errors.DokkuTimeout, 504),  # Dokku hung: we killed it after dokku.timeout
    (errors.DokkuUnavailable, 503),  # cannot run dokku at all (sudo, ssh, missing)
    (errors.DokkuError, 502),  # Dokku failed, or its output did not parse
)


def dokku_status(exc: BaseException) -> int | None:
    """The status for a Dokku-layer error, or None when ``exc`` is not one."""
    return next((status for kind, status in DOKKU_STATUSES if isinstance(exc, kind)), None)

