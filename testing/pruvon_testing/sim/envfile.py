"""Dokku's ENV files, read and written exactly as Dokku 0.38 does.

Dokku's Go ``config`` plugin stores every environment with
``godotenv.Write`` (github.com/joho/godotenv v1.5.1) and reads it back with
``godotenv.Read``.  Those two are *not* inverse functions, and real Dokku
inherits the mismatch: a value ending in ``"`` comes back with the quote
turned into a backslash, and the next write produces a file the parser
rejects (see ``config-quirk-trailing-dquote-*`` in the reference captures).
The simulator reproduces that bug on purpose, so this module re-implements
godotenv's writer and parser behaviour (not its code) rule by rule:

* writer: one ``KEY="escaped"`` line per key, sorted as whole lines; values
  that parse as a Go ``int`` are written bare (``NO_VHOST=1``, ``01`` -> ``1``);
  ``\\ \\n \\r " ! $ ``backtick`` `` are backslash-escaped.
* parser: finds the closing quote as "the next quote not preceded by a
  backslash", trims *every* quote character from both ends, unescapes
  ``\\n``/``\\r`` and ``\\X`` -> ``X`` (except ``\\$``), expands ``$VAR``.

Files live in the app directory (``home/dokku/<app>/ENV``) and the global
one at ``home/dokku/ENV``, so destroying an app removes its environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pruvon_core.files import locked
from pruvon_testing.sim.core import go_quote, write_atomic

if TYPE_CHECKING:
    from pruvon_testing.sim.core import SimState

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SPECIAL = "\\\n\r\"!$`"
_ESCAPE_RE = re.compile(r"\\.")
_UNESCAPE_RE = re.compile(r"\\([^$])")
_EXPAND_RE = re.compile(r"(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?")
_SPACE = "\t\v\f\r \x85\xa0"  # godotenv's isSpace: blanks but not "\n"


class EnvParseError(ValueError):
    """The ENV file cannot be parsed; the message is godotenv's own error text."""


def env_path(state: SimState, app: str | None) -> Path:
    """Where the ENV file of ``app`` (or the global one for ``None``) lives."""
    return state.home / "ENV" if app is None else state.app_dir(app) / "ENV"


def read_env(state: SimState, app: str | None) -> dict[str, str]:
    """Parse the ENV file like Dokku does; raises :class:`EnvParseError` when corrupt."""
    path = env_path(state, app)
    try:
        text = path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return {}
    return parse(text)


def write_env(state: SimState, app: str | None, values: dict[str, str]) -> None:
    """Serialise ``values`` like ``godotenv.Write`` (mode 0600, as Dokku sets it)."""
    path = env_path(state, app)
    write_atomic(path, marshal(values).encode("utf-8", "surrogateescape") + b"\n")
    path.chmod(0o600)


@contextmanager
def env_lock(state: SimState) -> Iterator[None]:
    """Serialise read-modify-write cycles of ENV files across processes.

    A lock of its own (not ``SimState.lock``) so that holding it never nests
    with the state lock other helpers take inside triggers.
    """
    state.root.mkdir(parents=True, exist_ok=True)
    with locked(state.root / ".env"):  # flock on <root>/.env.lock
        yield


# -- writer -------------------------------------------------------------------
def _go_atoi(value: str) -> int | None:
    """``strconv.Atoi``: optional sign, ASCII digits only, int64 range."""
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        return None
    number = int(value)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def _double_quote_escape(value: str) -> str:
    for char in _SPECIAL:
        replacement = {"\n": "\\n", "\r": "\\r"}.get(char, "\\" + char)
        value = value.replace(char, replacement)
    return value


def marshal(values: dict[str, str]) -> str:
    """``godotenv.Marshal``: sorted ``KEY=...`` lines joined by newlines (no final one)."""
    lines = []
    for key, value in values.items():
        number = _go_atoi(value)
        if number is not None:
            lines.append(f"{key}={number}")
        else:
            lines.append(f'{key}="{_double_quote_escape(value)}"')
    return "\n".join(sorted(lines, key=lambda line: line.encode("utf-8", "surrogateescape")))


# -- parser -------------------------------------------------------------------
def parse(text: str) -> dict[str, str]:
    """``godotenv.Parse`` including its quoting bugs; raises :class:`EnvParseError`."""
    out: dict[str, str] = {}
    rest: str | None = text.replace("\r\n", "\n")
    while True:
        rest = _statement_start(rest)
        if rest is None:
            return out
        key, rest = _locate_key(rest)
        value, rest = _extract_value(rest, out)
        out[key] = value


def _statement_start(src: str) -> str | None:
    while True:
        stripped = src.lstrip()
        if not stripped:
            return None
        if stripped[0] != "#":
            return stripped
        newline = stripped.find("\n")
        if newline < 0:
            return None
        src = stripped[newline:]


def _locate_key(src: str) -> tuple[str, str]:
    src = src.lstrip(_SPACE)
    if src.startswith("export"):
        trimmed = src[len("export") :]
        if trimmed[:1] and trimmed[0] in _SPACE:
            src = trimmed.lstrip(_SPACE)
    for index, char in enumerate(src):
        if char in _SPACE:
            continue
        if char in "=:":
            key = src[:index].rstrip()
            return key, src[index + 1 :].lstrip(_SPACE)
        if char == "_" or char.isalpha() or char.isdigit() or char == ".":
            continue
        raise EnvParseError(
            f"unexpected character {go_quote(char)} in variable name near {go_quote(src)}"
        )
    if not src:
        raise EnvParseError("zero length string")
    return "", src.lstrip(_SPACE)  # no "=": godotenv stores the text under an empty key


def _extract_value(src: str, parsed: dict[str, str]) -> tuple[str, str]:
    if not src or src[0] not in "\"'":
        return _unquoted_value(src, parsed)
    quote = src[0]
    for index in range(1, len(src)):
        if src[index] != quote or src[index - 1] == "\\":
            continue
        value = src[:index].rstrip(quote).lstrip(quote)
        if quote == '"':
            value = _expand_variables(_expand_escapes(value), parsed)
        return value, src[index + 1 :]
    end = src.find("\n")
    raise EnvParseError(f"unterminated quoted value {src[: end if end >= 0 else len(src)]}")


def _unquoted_value(src: str, parsed: dict[str, str]) -> tuple[str, str]:
    ends = [i for i in (src.find("\n"), src.find("\r")) if i >= 0]
    end = min(ends) if ends else len(src)
    line = src[:end]
    stop = len(line)
    for index in range(len(line) - 1, 0, -1):
        if line[index] == "#" and line[index - 1] in _SPACE:
            stop = index
            break
    return _expand_variables(line[:stop].strip(_SPACE), parsed), src[end:]


def _expand_escapes(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        return {"\\n": "\n", "\\r": "\r"}.get(match.group(0), match.group(0))

    return _UNESCAPE_RE.sub(r"\1", _ESCAPE_RE.sub(one, value))


def _expand_variables(value: str, parsed: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        # godotenv compares group 2 (always "$") with "(", so only "\\$" is literal
        if match.group(1) == "\\":
            return match.group(0)[1:]
        if match.group(4):
            return parsed.get(match.group(4), "")
        return match.group(0)

    return _EXPAND_RE.sub(one, value)
