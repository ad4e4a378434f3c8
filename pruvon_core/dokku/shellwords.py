"""The words bash makes of a stored docker option, without running bash.

Dokku keeps an app's docker options as text and, at every deploy, turns them
into ``docker run`` arguments with ``eval "ARG_ARRAY=($DOCKER_ARGS)"``
(scheduler-docker-local), where ``DOCKER_ARGS`` is every stored option joined
with spaces.  So a stored option is *shell code* run as the dokku user: what
Docker finally sees is what bash makes of it, and anything bash would expand or
execute must never be stored.

:func:`words` accepts only the part of bash's grammar whose meaning is fixed:
plain characters, single quotes, double quotes and backslash escapes, with
unquoted blanks separating words.  It refuses, for every actor, everything that
would run a command or change the words at eval time (``$``, backticks, ``;``
``|`` ``&`` ``<`` ``>`` ``(`` ``)``, unquoted globs, braces, ``~``, ``#``,
``!``), control characters, non-ASCII, unbalanced quotes and a trailing
backslash (which would swallow the space Dokku puts before the next option).
Because every accepted option is self-contained, joining several with spaces
gives exactly the concatenation of their words, which is what makes checking
one option at a time sound.  ``tests/security`` replays accepted options
through a real ``bash`` ``eval`` to prove the two agree.
"""

from __future__ import annotations

from pruvon_core.dokku.errors import InvalidValue

# run a command, redirect, or expand a variable - refused anywhere, even quoted,
# so that no quoting mistake (ours or a later requoting by Dokku) can ever arm them
NEVER = frozenset("$`;|&<>()")
# change the words only when unquoted: globs, brace expansion, tilde, comment,
# history; ``[`` also starts ``[index]=value`` inside an array assignment
UNQUOTED_SPECIAL = frozenset("*?[]{}~#!")
BLANKS = " "
DOUBLE_QUOTE_ESCAPES = frozenset('"\\')


def _refuse_characters(text: str) -> None:
    for char in text:
        if char in NEVER:
            raise InvalidValue(f"docker option must not contain {char!r}: Dokku evaluates "
                               "stored options with bash, which would run or expand it")
        if not (" " <= char <= "~"):
            raise InvalidValue("docker option must be one line of printable ASCII "
                               "(no tabs, newlines or control characters)")


def words(text: str) -> list[str]:
    """The words ``eval "ARG_ARRAY=($text)"`` produces; :class:`InvalidValue` if unsafe."""
    _refuse_characters(text)
    result: list[str] = []
    current: list[str] | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if char in BLANKS:
            if current is not None:
                result.append("".join(current))
                current = None
            index += 1
            continue
        current = current if current is not None else []
        index = _consume(text, index, current)
    if current is not None:
        result.append("".join(current))
    return result


def _consume(text: str, index: int, out: list[str]) -> int:
    """Append the characters of one quoted or unquoted piece; return the next index."""
    char = text[index]
    if char == "'":
        end = text.find("'", index + 1)
        if end < 0:
            raise InvalidValue("docker option has an unbalanced single quote")
        out.append(text[index + 1:end])
        return end + 1
    if char == '"':
        return _double_quoted(text, index + 1, out)
    if char == "\\":
        if index + 1 >= len(text):
            raise InvalidValue("docker option must not end with a backslash: it would join "
                               "the next stored option to this one")
        out.append(text[index + 1])
        return index + 2
    if char in UNQUOTED_SPECIAL:
        raise InvalidValue(f"docker option has an unquoted {char!r}, which bash would expand; "
                           "quote the value")
    out.append(char)
    return index + 1


def _double_quoted(text: str, index: int, out: list[str]) -> int:
    while index < len(text):
        char = text[index]
        if char == '"':
            return index + 1
        if char == "\\" and index + 1 < len(text) and text[index + 1] in DOUBLE_QUOTE_ESCAPES:
            out.append(text[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    raise InvalidValue("docker option has an unbalanced double quote")


def quote(word: str) -> str:
    """``word`` as bash source that :func:`words` (and bash) read back as that one word."""
    if word and all(c.isalnum() or c in "@%+=:,./_-" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def join(parts: list[str]) -> str:
    return " ".join(quote(part) for part in parts)
