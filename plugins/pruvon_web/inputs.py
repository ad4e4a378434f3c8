"""Parsing what a client sends (JSON bodies, query parameters): bad input is a 400.

One place for every view and plugin, so that no malformed request becomes a
500: a JSON body of 100,000 ``[`` (``RecursionError``), ``NaN``/``Infinity``
or ``1e999`` (not JSON numbers, and not storable), invalid UTF-8, a limit of
``99999999999999999999`` or ``٣`` (non-ASCII digits ``int()`` would accept),
a ``since`` that overflows a date.  Every failure raises :class:`BadInput`,
which the application's error handler answers as ``{"error": …}`` (API) or an
error page, naming the input at fault.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Request, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

# more digits than any count, port or limit we take; int() is quadratic beyond this
MAX_INT_DIGITS = 18


class BadInput(BadRequest, ValueError):
    """A 400 whose description is shown to the client as is.

    Also a ``ValueError``, so code that already treats malformed values as
    such (a WebSocket closing with 1008) keeps working.
    """

    def __init__(self, message: str) -> None:
        super().__init__(description=message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(data: bytes | str) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, finite numbers; every failure a ValueError."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError as exc:
        raise ValueError("request body is not valid UTF-8") from exc
    except RecursionError as exc:
        raise ValueError("request body is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, int() digit limit, our refusals
        raise ValueError(f"request body is not valid JSON: {exc}") from exc


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON provider (``app.json``): :func:`parse_json` for every load.

    ``request.get_json()`` loads through it, in our views and plugins' alike.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return parse_json(s)


class PruvonRequest(Request):
    """Flask's request, whose JSON errors are 400/415 with the reason."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            raise UnsupportedMediaType("request body must be JSON (Content-Type: application/json)")
        raise BadInput(str(e))


def json_object(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON request body as an object; unknown fields (per ``schema``) are refused.

    Refusing unknown fields turns a typo (``"disable": true``) into a 400
    instead of a silent no-op on a security setting.
    """
    data = request.get_json()
    if not isinstance(data, dict):
        raise BadInput(f"request body must be a JSON object, not {_json_type(data)}")
    if schema is not None:
        unknown = sorted(set(data) - set(schema.get("properties", {})))
        if unknown:
            raise BadInput(f"unknown field(s): {', '.join(unknown)}")
    return data


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null",
             int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def parse_int(text: str, name: str, low: int, high: int) -> int:
    """A whole number written in ASCII digits, within ``low..high``; else :class:`BadInput`."""
    digits = text[1:] if text.startswith("-") else text
    rule = f"{name}: a whole number from {low} to {high}"
    if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_INT_DIGITS:
        raise BadInput(f"{rule}, not {text[:40]!r}")
    value = int(text)
    if not low <= value <= high:
        raise BadInput(f"{rule}, not {value}")
    return value


def query_int(name: str, default: int, low: int, high: int) -> int:
    """Query parameter ``name`` as :func:`parse_int` (``default`` when absent or empty)."""
    text = request.args.get(name, "")
    return default if text == "" else parse_int(text, name, low, high)
