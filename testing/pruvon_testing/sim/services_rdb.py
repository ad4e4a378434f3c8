"""Redis RDB files (format version 12, as written by redis 8.0).

The simulated redis service keeps its data in ``data/dump.rdb`` - the same file
``redis:export`` streams and ``redis:import`` replaces - so exports round-trip
and real dumps can be imported.  Strings, lists, sets and hashes are
supported, with the encodings redis picks for them (integers, listpacks,
quicklists, intsets); strings are written without LZF compression (valid RDB,
larger than redis' own for long repetitive values) but LZF is read.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from pruvon_testing.sim.binreader import ByteReader

SHORT_READ = "Short read or OOM loading DB. Unrecoverable error, aborting now."

RDB_VERSION = 12
REDIS_VERSION = "8.0.6"
USED_MEM = 852000  # the reference dump's used-mem aux field
TYPE_STRING, TYPE_LIST, TYPE_SET, TYPE_HASH = 0, 1, 2, 4
TYPE_INTSET, TYPE_HASH_LISTPACK, TYPE_LIST_QUICKLIST_2, TYPE_SET_LISTPACK = 11, 16, 18, 20
TYPE_ZSET_2, TYPE_ZSET_LISTPACK = 5, 17
OP_AUX, OP_RESIZEDB, OP_EXPIRE_MS, OP_EXPIRE, OP_SELECTDB, OP_EOF = (
    0xFA,
    0xFB,
    0xFC,
    0xFD,
    0xFE,
    0xFF,
)
LISTPACK_MAX_ENTRIES, LISTPACK_MAX_VALUE = 128, 64


class RdbError(Exception):
    """The file is not an RDB the simulator can load."""


class ZSet:
    """A sorted set: member => score (kept apart from hashes, which are plain dicts)."""

    def __init__(self, scores: dict[bytes, float] | None = None) -> None:
        self.scores: dict[bytes, float] = dict(scores or {})

    def ordered(self) -> list[tuple[bytes, float]]:
        return sorted(self.scores.items(), key=lambda item: (item[1], item[0]))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ZSet) and other.scores == self.scores

    __hash__ = None  # mutable


def score_text(score: float) -> bytes:
    """redis' score formatting: integral scores without a fraction."""
    if score == int(score) and abs(score) < 2**53:
        return str(int(score)).encode()
    return repr(score).encode()


@dataclass
class Dataset:
    """Database 0: key => value (bytes | list[bytes] | set[bytes] | dict[bytes, bytes])."""

    data: dict[bytes, object] = field(default_factory=dict)
    expires: dict[bytes, int] = field(default_factory=dict)  # key => unix ms


# -- CRC-64 (Jones polynomial, reflected), as redis' crc64.c ---------------------------------------
def crc64_table(poly: int = 0x95AC9329AC4BC9B5) -> list[int]:
    """Reflected CRC-64 table; the default is Jones (0xad93d23594c935a9 reflected)."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = crc64_table()


def crc64(data: bytes, crc: int = 0, table: list[int] = _CRC_TABLE) -> int:
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


# -- writing ---------------------------------------------------------------------------------------
def enc_length(length: int) -> bytes:
    if length < 1 << 6:
        return bytes([length])
    if length < 1 << 14:
        return bytes([0x40 | (length >> 8), length & 0xFF])
    if length <= 0xFFFFFFFF:
        return b"\x80" + struct.pack(">I", length)
    return b"\x81" + struct.pack(">Q", length)


def as_int(value: bytes) -> int | None:
    """redis' string2ll: canonical decimal integers only ("007" and "+1" are strings)."""
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text or len(text) > 20:
        return None
    try:
        number = int(text)
    except ValueError:
        return None
    return number if str(number) == text and -(2**63) <= number < 2**63 else None


def enc_string(value: bytes) -> bytes:
    number = as_int(value) if len(value) <= 11 else None
    if number is not None:
        if -(2**7) <= number < 2**7:
            return b"\xc0" + struct.pack("<b", number)
        if -(2**15) <= number < 2**15:
            return b"\xc1" + struct.pack("<h", number)
        if -(2**31) <= number < 2**31:
            return b"\xc2" + struct.pack("<i", number)
    return enc_length(len(value)) + value


def lp_backlen(size: int) -> bytes:
    """Listpack back-length: 7 bits per byte, most significant group first."""
    if size <= 127:
        return bytes([size])
    out = []
    while size:
        out.append(size & 0x7F)
        size >>= 7
    groups = list(reversed(out))
    return bytes([groups[0]] + [g | 0x80 for g in groups[1:]])


def lp_entry(value: bytes) -> bytes:
    number = as_int(value)
    if number is not None:
        if 0 <= number <= 127:
            body = bytes([number])
        elif -4096 <= number < 4096:
            unsigned = number & 0x1FFF
            body = bytes([0xC0 | (unsigned >> 8), unsigned & 0xFF])
        elif -(2**15) <= number < 2**15:
            body = b"\xf1" + struct.pack("<h", number)
        elif -(2**23) <= number < 2**23:
            body = b"\xf2" + (number & 0xFFFFFF).to_bytes(3, "little")
        elif -(2**31) <= number < 2**31:
            body = b"\xf3" + struct.pack("<i", number)
        else:
            body = b"\xf4" + struct.pack("<q", number)
    elif len(value) < 64:
        body = bytes([0x80 | len(value)]) + value
    elif len(value) < 4096:
        body = bytes([0xE0 | (len(value) >> 8), len(value) & 0xFF]) + value
    else:
        body = b"\xf0" + struct.pack("<I", len(value)) + value
    return body + lp_backlen(len(body))


def listpack(values: list[bytes]) -> bytes:
    entries = b"".join(lp_entry(v) for v in values)
    total = 4 + 2 + len(entries) + 1
    return struct.pack("<IH", total, min(len(values), 0xFFFF)) + entries + b"\xff"


def enc_value(value: object) -> tuple[int, bytes]:
    """(type byte, payload) with the encoding redis would have used."""
    if isinstance(value, bytes):
        return TYPE_STRING, enc_string(value)
    if isinstance(value, list):
        nodes = [
            value[i : i + LISTPACK_MAX_ENTRIES] for i in range(0, len(value), LISTPACK_MAX_ENTRIES)
        ]
        payload = enc_length(len(nodes))
        for node in nodes:
            packed = listpack(node)
            payload += enc_length(2) + enc_length(len(packed)) + packed
        return TYPE_LIST_QUICKLIST_2, payload
    if isinstance(value, set):
        members = sorted(value)
        if members and all(as_int(m) is not None for m in members) and len(members) <= 512:
            return TYPE_INTSET, enc_string(intset(sorted(as_int(m) for m in members)))
        if len(members) <= LISTPACK_MAX_ENTRIES and all(
            len(m) <= LISTPACK_MAX_VALUE for m in members
        ):
            return TYPE_SET_LISTPACK, enc_string(listpack(members))
        return TYPE_SET, enc_length(len(members)) + b"".join(enc_string(m) for m in members)
    if isinstance(value, ZSet):
        pairs = value.ordered()
        if len(pairs) <= LISTPACK_MAX_ENTRIES and all(
            len(m) <= LISTPACK_MAX_VALUE for m, _ in pairs
        ):
            return TYPE_ZSET_LISTPACK, enc_string(
                listpack([x for m, sc in pairs for x in (m, score_text(sc))])
            )
        body = b"".join(enc_string(m) + struct.pack("<d", sc) for m, sc in reversed(pairs))
        return TYPE_ZSET_2, enc_length(len(pairs)) + body
    if isinstance(value, dict):
        flat = [item for pair in value.items() for item in pair]
        if len(value) <= LISTPACK_MAX_ENTRIES and all(len(x) <= LISTPACK_MAX_VALUE for x in flat):
            return TYPE_HASH_LISTPACK, enc_string(listpack(flat))
        return TYPE_HASH, enc_length(len(value)) + b"".join(enc_string(x) for x in flat)
    raise RdbError(f"cannot store {type(value).__name__}")


def intset(numbers: list[int]) -> bytes:
    width = 2 if all(-(2**15) <= n < 2**15 for n in numbers) else 4
    if not all(-(2**31) <= n < 2**31 for n in numbers):
        width = 8
    fmt = {2: "<h", 4: "<i", 8: "<q"}[width]
    return struct.pack("<II", width, len(numbers)) + b"".join(struct.pack(fmt, n) for n in numbers)


def aux(key: str, value: bytes) -> bytes:
    return bytes([OP_AUX]) + enc_string(key.encode()) + enc_string(value)


def dump(dataset: Dataset, ctime: int) -> bytes:
    """A complete RDB file as ``BGSAVE`` writes it."""
    out = io.BytesIO()
    out.write(b"REDIS%04d" % RDB_VERSION)
    out.write(aux("redis-ver", REDIS_VERSION.encode()))
    out.write(aux("redis-bits", b"64"))
    out.write(aux("ctime", str(ctime).encode()))
    out.write(aux("used-mem", str(USED_MEM).encode()))
    out.write(aux("aof-base", b"0"))
    if dataset.data:
        out.write(bytes([OP_SELECTDB]) + enc_length(0))
        out.write(
            bytes([OP_RESIZEDB]) + enc_length(len(dataset.data)) + enc_length(len(dataset.expires))
        )
        for key, value in dataset.data.items():
            if key in dataset.expires:
                out.write(bytes([OP_EXPIRE_MS]) + struct.pack("<Q", dataset.expires[key]))
            kind, payload = enc_value(value)
            out.write(bytes([kind]) + enc_string(key) + payload)
    out.write(bytes([OP_EOF]))
    body = out.getvalue()
    return body + struct.pack("<Q", crc64(body))


# -- reading -----------------------------------------------------------------------------------------
class Reader(ByteReader):
    def __init__(self, data: bytes) -> None:
        super().__init__(data, lambda: RdbError(SHORT_READ))

    def length(self) -> tuple[int, bool]:
        """(value, is_encoded) of a length field."""
        first = self.byte()
        kind = first >> 6
        if kind == 0:
            return first & 0x3F, False
        if kind == 1:
            return ((first & 0x3F) << 8) | self.byte(), False
        if kind == 3:
            return first & 0x3F, True
        if first == 0x80:
            return struct.unpack(">I", self.take(4))[0], False
        if first == 0x81:
            return struct.unpack(">Q", self.take(8))[0], False
        raise RdbError(f"Unknown length encoding {first}")

    def string(self) -> bytes:
        value, encoded = self.length()
        if not encoded:
            return self.take(value)
        if value == 0:
            return str(struct.unpack("<b", self.take(1))[0]).encode()
        if value == 1:
            return str(struct.unpack("<h", self.take(2))[0]).encode()
        if value == 2:
            return str(struct.unpack("<i", self.take(4))[0]).encode()
        if value == 3:
            compressed_len, _ = self.length()
            plain_len, _ = self.length()
            return lzf_decompress(self.take(compressed_len), plain_len)
        raise RdbError(f"Unknown string encoding {value}")


def lzf_decompress(data: bytes, expected: int) -> bytes:
    out = bytearray()
    index = 0
    while index < len(data):
        ctrl = data[index]
        index += 1
        if ctrl < 32:
            out += data[index : index + ctrl + 1]
            index += ctrl + 1
            continue
        length = ctrl >> 5
        if length == 7:
            length += data[index]
            index += 1
        ref = len(out) - ((ctrl & 0x1F) << 8) - data[index] - 1
        index += 1
        if ref < 0:
            raise RdbError("Invalid LZF compressed string")
        for _ in range(length + 2):
            out.append(out[ref])
            ref += 1
    if len(out) != expected:
        raise RdbError("Invalid LZF compressed string")
    return bytes(out)


def lp_values(blob: bytes) -> list[bytes]:
    values: list[bytes] = []
    pos = 6
    while pos < len(blob) and blob[pos] != 0xFF:
        first = blob[pos]
        if first < 0x80:
            value, size = str(first).encode(), 1
        elif first < 0xC0:
            length = first & 0x3F
            value, size = blob[pos + 1 : pos + 1 + length], 1 + length
        elif first < 0xE0:
            number = ((first & 0x1F) << 8) | blob[pos + 1]
            number = number - 8192 if number >= 4096 else number
            value, size = str(number).encode(), 2
        elif first < 0xF0:
            length = ((first & 0x0F) << 8) | blob[pos + 1]
            value, size = blob[pos + 2 : pos + 2 + length], 2 + length
        elif first == 0xF0:
            length = struct.unpack("<I", blob[pos + 1 : pos + 5])[0]
            value, size = blob[pos + 5 : pos + 5 + length], 5 + length
        else:
            width = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}.get(first)
            if width is None:
                raise RdbError("Bad listpack entry")
            number = int.from_bytes(blob[pos + 1 : pos + 1 + width], "little", signed=True)
            value, size = str(number).encode(), 1 + width
        values.append(value)
        pos += size + len(lp_backlen(size))
    return values


def read_intset(blob: bytes) -> set[bytes]:
    width, count = struct.unpack("<II", blob[:8])
    fmt = {2: "<h", 4: "<i", 8: "<q"}.get(width)
    if fmt is None:
        raise RdbError("Bad intset encoding")
    return {
        str(struct.unpack(fmt, blob[8 + i * width : 8 + (i + 1) * width])[0]).encode()
        for i in range(count)
    }


def read_value(reader: Reader, kind: int) -> object:
    if kind == TYPE_STRING:
        return reader.string()
    if kind == TYPE_LIST:
        return [reader.string() for _ in range(reader.length()[0])]
    if kind == TYPE_SET:
        return {reader.string() for _ in range(reader.length()[0])}
    if kind == TYPE_HASH:
        count = reader.length()[0]
        return {reader.string(): reader.string() for _ in range(count)}
    if kind == TYPE_INTSET:
        return read_intset(reader.string())
    if kind == TYPE_SET_LISTPACK:
        return set(lp_values(reader.string()))
    if kind == TYPE_HASH_LISTPACK:
        flat = lp_values(reader.string())
        return dict(zip(flat[::2], flat[1::2], strict=True))
    if kind == TYPE_ZSET_LISTPACK:
        flat = lp_values(reader.string())
        return ZSet({m: float(sc) for m, sc in zip(flat[::2], flat[1::2], strict=True)})
    if kind == TYPE_ZSET_2:
        count = reader.length()[0]
        return ZSet({reader.string(): struct.unpack("<d", reader.take(8))[0] for _ in range(count)})
    if kind == TYPE_LIST_QUICKLIST_2:
        values: list[bytes] = []
        for _ in range(reader.length()[0]):
            container = reader.length()[0]
            blob = reader.string()
            values += lp_values(blob) if container == 2 else [blob]
        return values
    raise RdbError(f"Unknown RDB type {kind} (not supported by the simulator)")


def load(data: bytes) -> Dataset:
    """Parse an RDB file (redis' own messages for the fatal cases)."""
    if data[:5] != b"REDIS" or not data[5:9].isdigit():
        raise RdbError("Wrong signature trying to load DB from file")
    version = int(data[5:9])
    if version > RDB_VERSION:
        raise RdbError(f"Can't handle RDB format version {version}")
    reader = Reader(data)
    reader.pos = 9
    dataset = Dataset()
    expire: int | None = None
    while True:
        opcode = reader.byte()
        if opcode == OP_EOF:
            break
        if opcode == OP_AUX:
            reader.string(), reader.string()
        elif opcode == OP_SELECTDB:
            reader.length()
        elif opcode == OP_RESIZEDB:
            reader.length(), reader.length()
        elif opcode == OP_EXPIRE_MS:
            expire = struct.unpack("<Q", reader.take(8))[0]
        elif opcode == OP_EXPIRE:
            expire = struct.unpack("<I", reader.take(4))[0] * 1000
        else:
            key = reader.string()
            dataset.data[key] = read_value(reader, opcode)
            if expire is not None:
                dataset.expires[key] = expire
                expire = None
    if version >= 5 and len(data) >= reader.pos + 8:
        stored = struct.unpack("<Q", data[reader.pos : reader.pos + 8])[0]
        if stored and stored != crc64(data[: reader.pos]):
            raise RdbError("Wrong RDB checksum. Aborting now.")
    return dataset
