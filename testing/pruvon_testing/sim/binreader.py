"""Sequential reading of a binary dump (the pg_dump archive and RDB readers share it)."""

from __future__ import annotations

from collections.abc import Callable


class ByteReader:
    """A cursor over ``data``; reading past the end raises ``short_read()`` - each format
    reports a truncated file with its own tool's message."""

    def __init__(self, data: bytes, short_read: Callable[[], Exception]) -> None:
        self.data, self.pos = data, 0
        self._short_read = short_read

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise self._short_read()
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]


def read_up_to(stream, count: int) -> bytes:
    """Up to ``count`` bytes of a stream; fewer only at its end (a pipe's ``read`` may
    return less than asked before that)."""
    data = b""
    while len(data) < count:
        chunk = stream.read(count - len(data))
        if not chunk:
            break
        data += chunk
    return data
