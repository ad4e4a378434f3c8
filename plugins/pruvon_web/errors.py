"""Error pages: the status, a human message, never a traceback.

A module of its own because both the request guards (:mod:`pruvon_web.security`)
and the page views render them; it depends on neither, which keeps the two
free of an import cycle.  ``pruvon_web.views.render_error`` stays importable.
"""

from __future__ import annotations

from flask import Response, make_response, render_template

ERROR_TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Internal error",
    502: "Dokku failed",
    415: "Unsupported media type",
    503: "Dokku unavailable",
    504: "Dokku timed out",
    507: "Disk full",
}


def render_error(status: int, message: str) -> Response:
    """An error page: the status, a human message, never a traceback."""
    title = ERROR_TITLES.get(status, "Error")
    response = make_response(
        render_template("error.html", status=status, title=title, message=message), status
    )
    return response
