"""One HTTP status per typed failure, for every front end (pages, API, WebSockets).

Written once so ``/apps``, ``/api/v1/apps`` and ``/api/v1/apps/<app>`` cannot
disagree (issue 19: a timeout was 504 on one and 502 on another).  The table
is read in order and the first matching class wins, so subclasses come before
:class:`DokkuError`, the catch-all for "Dokku failed or answered nonsense".
"""

from __future__ import annotations

from pruvon_core.dokku import errors
from pruvon_core.errors import InputError
from pruvon_core.guard import HostAccessDenied
from pruvon_core.operations import OperationConflict, OperationError, OperationNotFound
from pruvon_core.permissions import PermissionDenied

DOKKU_STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (errors.InvalidName, 400),  # refused by our validation, before any call
    (errors.InvalidValue, 400),
    (errors.AppNotFound, 404),
    (errors.ServiceNotFound, 404),
    (errors.ContainerNotFound, 404),
    (errors.DockerRefused, 409),
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



# the typed errors above the Dokku layer (features' bad input, permission, operations)
TYPED_STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (PermissionDenied, 403),
    (InputError, 400),
    (OperationNotFound, 404),
    (OperationConflict, 409),
    (OperationError, 400),
)


def error_status(exc: BaseException) -> int | None:
    """The status for any typed error (Dokku's or above it), or None for a bug."""
    dokku = dokku_status(exc)
    if dokku is not None:
        return dokku
    return next((status for kind, status in TYPED_STATUSES if isinstance(exc, kind)), None)


def error_message(exc: BaseException) -> str:
    """What the user reads: what was refused and why, never a traceback."""
    if isinstance(exc, HostAccessDenied):
        return f"not allowed: {exc.reason}"
    if isinstance(exc, PermissionDenied):
        return f"not allowed: {exc.action}"
    return str(getattr(exc, "message", None) or exc)
