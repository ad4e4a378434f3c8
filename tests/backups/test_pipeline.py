"""The byte plumbing of a backup on its own: compressed pieces, reads across them, hand-offs.

The compressing reader keeps zstd's output as pieces instead of a growing
buffer (issue 13's throughput work): pyrage reads it 8 KiB at a time, the
unencrypted path takes whole pieces.  Whatever the read sizes, the bytes must
be one valid zstd frame of exactly the export, and an export's own error must
still surface.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

import pyrage
import pytest
import zstandard
from pruvon_backups.pipeline import CHUNK, BackgroundSink, CompressingReader, FanOut, store


def _export(size: int = 5 * CHUNK + 12345, seed: int = 7) -> list[bytes]:
    """Chunks of a dump-like text of ``size`` bytes, cut at uneven places like a pipe's reads."""
    rng = random.Random(seed)
    text = b"".join(b"%d\tuser%d@example.com\t%f\n" % (i, rng.randint(1, 9999), rng.random())
                    for i in range(size // 20))[:size]
    cuts, at = [], 0
    while at < len(text):
        step = rng.choice([1, 100, 4096, CHUNK - 1, CHUNK])
        cuts.append(text[at:at + step])
        at += step
    return cuts


def _plain(compressed: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(compressed)


@pytest.mark.parametrize("size", [1, 8192, 65536, CHUNK + 3, -1])
def test_reads_of_any_size_give_one_frame_of_exactly_the_export(size: int) -> None:
    chunks = _export()
    reader = CompressingReader(iter(chunks))
    parts = []
    while part := reader.read(size):
        assert size < 0 or len(part) <= size
        parts.append(part)
    assert _plain(b"".join(parts)) == b"".join(chunks)
    assert reader.raw == sum(map(len, chunks))


def test_pieces_and_reads_mixed_lose_no_byte() -> None:
    """A read that ends inside a piece leaves the rest for the next read, in order."""
    chunks = _export(seed=11)
    reader = CompressingReader(iter(chunks))
    got = [reader.read(3), reader.read(CHUNK * 2), reader.read(7)]
    got += list(iter(lambda: reader.read(8192), b""))
    assert _plain(b"".join(got)) == b"".join(chunks)


def test_pieces_are_zstds_own_output_uncopied_and_complete() -> None:
    chunks = _export(seed=3)
    pieces = list(CompressingReader(iter(chunks)).pieces())
    assert all(type(p) is bytes and p for p in pieces)
    assert _plain(b"".join(pieces)) == b"".join(chunks)


def _failing(chunks: list[bytes]) -> Iterator[bytes]:
    yield from chunks
    raise RuntimeError(" !     Postgres service nope does not exist")


@pytest.mark.parametrize("encrypt", [False, True])
def test_an_export_failure_is_raised_with_dokkus_text_and_nothing_committed(encrypt: bool) -> None:
    """The export dies after 2 MiB: ``store`` raises Dokku's message (pyrage's own hidden)."""

    class Keeping:
        def __init__(self) -> None:
            self.data: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.data.append(data)

        def commit(self) -> None:
            raise AssertionError("store never commits")

        def abort(self) -> None:
            pass

    to = [pyrage.x25519.Identity.generate().to_public()] if encrypt else []
    source = CompressingReader(_failing(_export(2 * CHUNK)))
    with pytest.raises(RuntimeError, match="Postgres service nope does not exist"):
        store(source, FanOut([Keeping()]), to)
    assert isinstance(source.error, RuntimeError)


def test_fanout_hashes_once_and_hands_every_writer_bytes_never_a_view() -> None:
    """A writer may keep what it gets (an S3 part): a view of a reused buffer would change under it."""

    class Keeping:
        def __init__(self) -> None:
            self.data: list[object] = []

        def write(self, data: bytes) -> None:
            self.data.append(data)

        def commit(self) -> None: ...

        def abort(self) -> None: ...

    writers = [Keeping(), Keeping()]
    fan = FanOut(writers)  # type: ignore[list-item]
    buffer = bytearray(b"abc")
    sink = BackgroundSink(fan)
    sink.write(memoryview(buffer))
    sink.write(b"def")
    sink.close()
    buffer[:] = b"xyz"
    for writer in writers:
        assert [type(d) for d in writer.data] == [bytes, bytes]
        assert b"".join(writer.data) == b"abcdef"  # type: ignore[arg-type]
    assert fan.sha256.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()
    assert fan.size == 6
