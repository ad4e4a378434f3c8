"""Review: the access log never records query strings or referrers.

A one-off terminal command travels in the query string
(``/apps/APP/terminal?mode=run&cmd=…`` and ``/ws/apps/APP/run?cmd=…``) and
may carry a password (``psql postgres://user:secret@…``).  The audit log
was careful to keep only the program name, but gunicorn's default access
log format writes the whole request line and the Referer to the journal.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger
from pruvon_web.serve import gunicorn_options

SECRET = "postgres://app:s3cret-pw@db/app"


def _access_line(fmt: str) -> str:
    """Format one access-log line the way gunicorn does, for a request carrying SECRET."""
    config = Config()
    config.set("access_log_format", fmt)
    logger = Logger(config)
    query = f"mode=run&cmd=psql+{SECRET}"
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/apps/blog/terminal?{query}",
        "PATH_INFO": "/apps/blog/terminal", "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"http://localhost/apps/blog/terminal?{query}",
        "HTTP_USER_AGENT": "test",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ,
                         datetime.timedelta(seconds=0.01))
    return fmt % atoms


def test_gunicorn_default_format_would_leak_the_command():
    assert SECRET in _access_line(Config().access_log_format)  # why the option is set


def test_pruvon_access_log_keeps_method_path_status_but_no_query():
    fmt = gunicorn_options("127.0.0.1:8080")["access_log_format"]
    line = _access_line(fmt)
    assert SECRET not in line and "cmd=" not in line
    assert "GET /apps/blog/terminal" in line and " 200 " in line
