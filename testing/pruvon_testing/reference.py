"""Reader for the real-Dokku reference captures (``tests/fixtures/dokku-reference``).

Each case file holds the command as typed, its exit code, and the exact stdout
and stderr.  Where ``raw/<case>.{stdout,stderr,exit}`` exists it is used for
exact bytes (a stream without a final newline is ambiguous in the framed file).
The same cases drive the simulator's golden tests and the client's parser tests.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "dokku-reference"


@dataclass(frozen=True)
class ReferenceCase:
    name: str
    path: Path
    argv: list[str]  # without the leading "dokku"
    stdin_redirect: str | None  # "< /dev/null", "< FILE", "> FILE" … as captured
    stdin_pipe: str | None  # the echo/printf producer of "PRODUCER | dokku …" cases
    exit_code: int
    tty: bool
    notes: list[str]
    stdout: bytes
    stderr: bytes

    @property
    def stdin_bytes(self) -> bytes:
        """What the capture fed on stdin: the piped producer's output, else nothing."""
        if not self.stdin_pipe:
            return b""
        import subprocess

        # fixed echo/printf text from the fixture files, never user input
        return subprocess.run(["bash", "-c", self.stdin_pipe], capture_output=True, check=True).stdout

    @property
    def group(self) -> str:
        """``services`` for dokku-postgres/redis captures, else ``core``."""
        return "services" if self.path.parent.name == "services" else "core"


_HEADER = re.compile(rb"^# (exit|tty|note): ?(.*)$")


def parse_case(path: Path) -> ReferenceCase:
    data = path.read_bytes()
    lines = data.split(b"\n")
    command = lines[0].decode()
    assert command.startswith("$ "), f"{path}: not a reference case"
    pipe = None
    if " | dokku " in command:
        producer, _, rest = command[2:].partition(" | dokku ")
        pipe, command = producer, "$ dokku " + rest
    exit_code, tty, notes = 0, False, []
    index = 1
    while index < len(lines) and lines[index].startswith(b"# "):
        match = _HEADER.match(lines[index])
        if match:
            key, value = match.group(1).decode(), match.group(2).decode()
            if key == "exit":
                exit_code = int(value.split()[0])
            elif key == "tty":
                tty = value.startswith("yes")
            else:
                notes.append(value)
        index += 1
    body = b"\n".join(lines[index:])
    stdout, stderr = _split_streams(body)
    raw = path.parent / "raw" / path.stem
    if raw.with_suffix(".stdout").exists():
        stdout = raw.with_suffix(".stdout").read_bytes()
        err_file = raw.with_suffix(".stderr")
        stderr = err_file.read_bytes() if err_file.exists() else b""
    argv_text, redirect = _split_redirect(command[len("$ dokku") :].split("  #", 1)[0].strip())
    return ReferenceCase(
        name=path.stem,
        path=path,
        argv=split_command(argv_text),
        stdin_redirect=redirect,
        stdin_pipe=pipe,
        exit_code=exit_code,
        tty=tty,
        notes=notes,
        stdout=stdout,
        stderr=stderr,
    )


_ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.)*)'")
_ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "e": "\x1b"}


def split_command(text: str) -> list[str]:
    """``shlex.split`` plus bash's ``$'…'`` (ANSI-C) quoting, which the captures use."""

    def unquote(match: re.Match[str]) -> str:
        body = re.sub(r"\\(.)", lambda m: _ANSI_ESCAPES.get(m.group(1), "\\" + m.group(1)), match.group(1))
        return shlex.quote(body)

    return shlex.split(_ANSI_C.sub(unquote, text))


def _split_streams(body: bytes) -> tuple[bytes, bytes]:
    if body.startswith(b"--- stdout+stderr"):
        # pty captures rendered with `cat -A`: keep the rendering, merged on stdout
        return body.split(b"\n", 1)[1], b""
    assert body.startswith(b"--- stdout\n"), "missing --- stdout marker"
    rest = body[len(b"--- stdout\n") :]
    marker = rest.rfind(b"--- stderr\n")
    if marker < 0:
        marker = rest.rfind(b"--- stderr")
        return rest[:marker], b""
    return rest[:marker], rest[marker + len(b"--- stderr\n") :]


def _split_redirect(text: str) -> tuple[str, str | None]:
    match = re.search(r"\s([<>]\s*\S+)\s*$", text)
    if match:
        return text[: match.start()], match.group(1)
    return text, None


def load_cases(directory: Path = REFERENCE_DIR) -> list[ReferenceCase]:
    """Every case under ``directory`` and its ``services/`` subfolder, sorted by name."""
    paths = sorted(directory.glob("*.txt")) + sorted((directory / "services").glob("*.txt"))
    skip = {"INDEX", "TIMINGS", "NOTES"}
    return [parse_case(p) for p in paths if p.stem not in skip]
