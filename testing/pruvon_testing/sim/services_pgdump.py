"""``pg_dump -Fc`` / ``pg_restore`` for the simulated postgres services.

``postgres:export`` streams a real PostgreSQL *custom-format* archive (magic
``PGDMP``, archive version 1.16, gzip-compressed table data), laid out entry by
entry like pg_dump 18 lays out the reference capture (``_bin/pg-export.bin``):
the same TOC entries, dump ids, OIDs and bytes for the same database.
``postgres:import`` reads such archives - the simulator's own and real ones -
and restores them the way ``pg_restore -cO --if-exists`` does.
"""

from __future__ import annotations

import io
import re
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pruvon_testing.sim.binreader import ByteReader, read_up_to
from pruvon_testing.sim.services_psql import (
    SERVER_VERSION,
    Column,
    Database,
    PgError,
    Table,
    allocate_table_oids,
    parse_create,
)

MAGIC = b"PGDMP"
VERSION = (1, 16, 0)
INT_SIZE, OFF_SIZE = 4, 8
FORMAT_CUSTOM, COMPRESSION_GZIP, COMPRESSION_NONE = 1, 1, 0
SECTION_PRE, SECTION_DATA, SECTION_POST, SECTION_NONE = 2, 3, 4, 1
OFFSET_NOT_SET, OFFSET_NO_DATA = 1, 3
BLK_DATA = 1
CHUNK = 4096  # pg_dump's ZLIB_OUT_SIZE
# dump ids pg_dump 18 gives a fresh database's first user objects (see the module doc)
FIRST_RELATION_ID, FIRST_LATE_ID, FIRST_DATA_ID = 219, 3326, 3477


class RestoreError(Exception):
    """A ``pg_restore: error: ...`` line."""


# -- low-level encoding ------------------------------------------------------------------------
def w_int(value: int) -> bytes:
    return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(INT_SIZE, "little")


def w_str(value: str | None) -> bytes:
    if value is None:
        return w_int(-1)
    data = value.encode()
    return w_int(len(data)) + data


@dataclass
class TocEntry:
    dump_id: int
    tag: str
    desc: str
    section: int
    defn: str | None = None
    drop: str | None = None
    copy: str | None = None
    namespace: str | None = None
    tablespace: str | None = None
    tableam: str | None = None
    relkind: int = 0
    owner: str | None = "postgres"
    tableoid: str = "0"
    oid: str = "0"
    deps: list[int] = field(default_factory=list)
    had_dumper: int = 0
    data: bytes | None = None
    # written archives: the COPY text produced piece by piece (tables of any size)
    source: Callable[[], Iterator[bytes]] | None = None

    def pieces(self) -> Iterator[bytes]:
        if self.source is not None:
            yield from self.source()
        elif self.data is not None:
            yield self.data

    def encode(self) -> bytes:
        parts = [
            w_int(self.dump_id),
            w_int(self.had_dumper),
            w_str(self.tableoid),
            w_str(self.oid),
            w_str(self.tag),
            w_str(self.desc),
            w_int(self.section),
            w_str(self.defn),
            w_str(self.drop),
            w_str(self.copy),
            w_str(self.namespace),
            w_str(self.tablespace),
            w_str(self.tableam),
            w_int(self.relkind),
            w_str(self.owner),
            w_str("false"),
            *(w_str(str(dep)) for dep in self.deps),
            w_str(None),
            bytes([OFFSET_NOT_SET if self.had_dumper else OFFSET_NO_DATA]),
            bytes(OFF_SIZE),
        ]
        return b"".join(parts)


# -- writing -------------------------------------------------------------------------------------
def copy_value(value: object, pgtype: str) -> str:
    """COPY text format: ``\\N`` for NULL, booleans as t/f, escaped control characters."""
    if value is None:
        return "\\N"
    if pgtype == "boolean":
        return "t" if value in (1, True, "t", "true") else "f"
    if isinstance(value, float) and value == int(value) and pgtype != "numeric":
        text = str(int(value))
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def table_ddl(table: Table) -> str:
    cols = []
    for column in table.columns:
        cols.append(f"    {column.name} {column.type}" + (" NOT NULL" if column.notnull else ""))
    return f"CREATE TABLE public.{table.name} (\n" + ",\n".join(cols) + "\n);\n"


def sequence_ddl(name: str, pgtype: str) -> str:
    as_type = f"    AS {pgtype}\n" if pgtype != "bigint" else ""
    return (
        f"CREATE SEQUENCE public.{name}\n{as_type}    START WITH 1\n    INCREMENT BY 1\n"
        "    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n"
    )


Owned = list[tuple[Table, Column, int]]


def build_entries(db: Database, database: str) -> list[TocEntry]:
    """The TOC pg_dump writes for this database, in pg_dump's order: encoding and
    database entries, tables and sequences by name, defaults, data, sequence values,
    then the post-data constraints."""
    tables = db.tables()
    ids = relation_ids(tables)
    pre, defaults, constraints, owned, late = schema_entries(tables, ids)
    data_id = FIRST_DATA_ID + max(0, late - FIRST_LATE_ID - 3)
    data = [data_entry(db, t, data_id + i, ids[t.oid]) for i, t in enumerate(tables)]
    special_id = data_id + len(tables) + 2
    owned_by, seq_sets = sequence_entries(db, owned, special_id + 4)
    ordered = []
    for name, entry in sorted(pre, key=lambda item: item[0]):
        ordered.append(entry)
        if entry.desc == "SEQUENCE":
            ordered.append(owned_by[name])
    by_tag = lambda e: e.tag  # noqa: E731
    return [
        *header_entries(database, special_id),
        *ordered,
        *sorted(defaults, key=by_tag),
        *data,
        *seq_sets,
        *sorted(constraints, key=by_tag),
    ]


def relation_ids(tables: list[Table]) -> dict[int, int]:
    """Dump ids of tables and sequences: pg_dump numbers relations in OID order."""
    oids = sorted([t.oid for t in tables] + [o for t in tables for o in t.seq_oids.values()])
    return {oid: FIRST_RELATION_ID + index for index, oid in enumerate(oids)}


def schema_entries(
    tables: list[Table], ids: dict[int, int]
) -> tuple[list[tuple[str, TocEntry]], list[TocEntry], list[TocEntry], Owned, int]:
    """TABLE/SEQUENCE (keyed by name), DEFAULT and CONSTRAINT entries, the serial
    sequences, and the next free id of the attrdef/constraint range."""
    late = FIRST_LATE_ID
    pre: list[tuple[str, TocEntry]] = []
    defaults: list[TocEntry] = []
    constraints: list[TocEntry] = []
    owned: Owned = []
    for table in tables:
        table_id = ids[table.oid]
        pre.append((table.name, table_entry(table, table_id)))
        for column in (c for c in table.columns if c.sequence):
            seq_id = ids[table.seq_oids[column.sequence]]
            pre.append((column.sequence, sequence_entry(table, column, seq_id)))
            defaults.append(default_entry(table, column, late, table_id, seq_id))
            owned.append((table, column, seq_id))
            late += 1
        if table.pkey:
            constraints.append(constraint_entry(table, late + 1, table_id))
            late += 2  # the index gets the id in between
    return pre, defaults, constraints, owned, late


def header_entries(database: str, first_id: int) -> list[TocEntry]:
    statements = [
        ("ENCODING", "SET client_encoding = 'UTF8';\n"),
        ("STDSTRINGS", "SET standard_conforming_strings = 'on';\n"),
        ("SEARCHPATH", "SELECT pg_catalog.set_config('search_path', '', false);\n"),
    ]
    entries = [
        TocEntry(first_id + i, tag, tag, SECTION_PRE, sql, owner=None)
        for i, (tag, sql) in enumerate(statements)
    ]
    entries.append(
        TocEntry(
            first_id + 3,
            database,
            "DATABASE",
            SECTION_PRE,
            f"CREATE DATABASE {database} WITH TEMPLATE = template0 ENCODING = 'UTF8' "
            "LOCALE_PROVIDER = libc LOCALE = 'en_US.utf8';\n",
            drop=f"DROP DATABASE {database};\n",
            tableoid="1262",
            oid="16384",
        )
    )
    return entries


def sequence_entries(
    db: Database, owned: Owned, first_id: int
) -> tuple[dict[str, TocEntry], list[TocEntry]]:
    """SEQUENCE OWNED BY entries (by sequence name) and SEQUENCE SET entries."""
    owned_by: dict[str, TocEntry] = {}
    for index, (table, column, seq_id) in enumerate(owned):
        owned_by[column.sequence] = TocEntry(
            first_id + index,
            column.sequence,
            "SEQUENCE OWNED BY",
            SECTION_PRE,
            f"ALTER SEQUENCE public.{column.sequence} OWNED BY public.{table.name}.{column.name};\n",
            namespace="public",
            deps=[seq_id],
        )
    seq_sets = []
    for index, (_table, column, seq_id) in enumerate(owned, start=first_id + len(owned)):
        value, called = db.sequence_value(column.sequence)
        seq_sets.append(
            TocEntry(
                index,
                column.sequence,
                "SEQUENCE SET",
                SECTION_DATA,
                f"SELECT pg_catalog.setval('public.{column.sequence}', {value}, "
                f"{'true' if called else 'false'});\n",
                namespace="public",
                deps=[seq_id],
            )
        )
    return owned_by, seq_sets


def table_entry(table: Table, dump_id: int) -> TocEntry:
    return TocEntry(
        dump_id,
        table.name,
        "TABLE",
        SECTION_PRE,
        table_ddl(table),
        f"DROP TABLE public.{table.name};\n",
        namespace="public",
        tablespace="",
        tableam="heap",
        relkind=ord("r"),
        tableoid="1259",
        oid=str(table.oid),
    )


def sequence_entry(table: Table, column: Column, dump_id: int) -> TocEntry:
    return TocEntry(
        dump_id,
        column.sequence,
        "SEQUENCE",
        SECTION_PRE,
        sequence_ddl(column.sequence, column.type),
        f"DROP SEQUENCE public.{column.sequence};\n",
        namespace="public",
        tableoid="1259",
        oid=str(table.seq_oids[column.sequence]),
        deps=[table_dump_id_placeholder(table)],
    )


def table_dump_id_placeholder(table: Table) -> int:
    """Sequences depend on their owning table; its dump id is patched in by the caller."""
    return -table.oid


def default_entry(
    table: Table, column: Column, dump_id: int, table_id: int, seq_id: int
) -> TocEntry:
    return TocEntry(
        dump_id,
        f"{table.name} {column.name}",
        "DEFAULT",
        SECTION_PRE,
        f"ALTER TABLE ONLY public.{table.name} ALTER COLUMN {column.name} SET DEFAULT "
        f"nextval('public.{column.sequence}'::regclass);\n",
        f"ALTER TABLE public.{table.name} ALTER COLUMN {column.name} DROP DEFAULT;\n",
        namespace="public",
        tableoid="2604",
        oid=str(table.default_oids[column.name]),
        deps=[table_id, seq_id, table_id],
    )


def constraint_entry(table: Table, dump_id: int, table_id: int) -> TocEntry:
    name = f"{table.name}_pkey"
    cols = ", ".join(table.pkey)
    return TocEntry(
        dump_id,
        f"{table.name} {name}",
        "CONSTRAINT",
        SECTION_POST,
        f"ALTER TABLE ONLY public.{table.name}\n    ADD CONSTRAINT {name} PRIMARY KEY ({cols});\n",
        f"ALTER TABLE ONLY public.{table.name} DROP CONSTRAINT {name};\n",
        namespace="public",
        tablespace="",
        tableoid="2606",
        oid=str(table.pkey_oid),
        deps=[table_id],
    )


def copy_payload(db: Database, table: Table, rows_per_piece: int = 2000) -> Iterator[bytes]:
    """The COPY text of a table, a few thousand rows at a time, then the ``\\.`` end."""
    lines: list[str] = []
    for row in db.iter_rows(table):
        lines.append(
            "\t".join(copy_value(v, c.type) for v, c in zip(row, table.columns, strict=True))
            + "\n")
        if len(lines) >= rows_per_piece:
            yield "".join(lines).encode()
            lines = []
    yield ("".join(lines) + "\\.\n\n\n").encode()


def data_entry(db: Database, table: Table, dump_id: int, table_id: int) -> TocEntry:
    names = ", ".join(c.name for c in table.columns)
    return TocEntry(
        dump_id,
        table.name,
        "TABLE DATA",
        SECTION_DATA,
        copy=f"COPY public.{table.name} ({names}) FROM stdin;\n",
        namespace="public",
        oid=str(table.oid),
        deps=[table_id],
        had_dumper=1,
        source=lambda: copy_payload(db, table),
        owner="postgres",
    )


def dump(db: Database, database: str, moment: float) -> bytes:
    """The complete archive, as ``pg_dump -Fc --no-acl --no-owner`` streams it to stdout."""
    return b"".join(dump_chunks(db, database, moment))


def dump_chunks(db: Database, database: str, moment: float) -> Iterator[bytes]:
    """The archive in pieces: the header and TOC, then each table's data compressed as
    its rows are read (in ``CHUNK``-sized blocks, as pg_dump writes them)."""
    entries = build_entries(db, database)
    ids = {e.oid: e.dump_id for e in entries if e.desc == "TABLE"}
    for entry in entries:
        entry.deps = [ids[str(-d)] if d < 0 else d for d in entry.deps]
    stamp = time.gmtime(moment)
    head = [MAGIC + bytes([*VERSION, INT_SIZE, OFF_SIZE, FORMAT_CUSTOM, COMPRESSION_GZIP])]
    for value in (
        stamp.tm_sec,
        stamp.tm_min,
        stamp.tm_hour,
        stamp.tm_mday,
        stamp.tm_mon - 1,
        stamp.tm_year - 1900,
        0,
    ):
        head.append(w_int(value))
    head.append(w_str(database) + w_str(SERVER_VERSION) + w_str(SERVER_VERSION))
    head.append(w_int(len(entries)))
    head.extend(entry.encode() for entry in entries)
    yield b"".join(head)
    for entry in entries:
        if entry.source is None and entry.data is None:
            continue
        yield bytes([BLK_DATA]) + w_int(entry.dump_id)
        yield from compressed_blocks(entry.pieces())
        yield w_int(0)


def compressed_blocks(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """zlib-compress a stream into length-prefixed ``CHUNK``-byte blocks (the same bytes
    as compressing the whole payload at once and cutting it up)."""
    deflate = zlib.compressobj()
    pending = b""
    for piece in pieces:
        pending += deflate.compress(piece)
        while len(pending) >= CHUNK:
            yield w_int(CHUNK) + pending[:CHUNK]
            pending = pending[CHUNK:]
    pending += deflate.flush()
    for start in range(0, len(pending), CHUNK):
        yield w_int(len(pending[start : start + CHUNK])) + pending[start : start + CHUNK]


# -- reading -----------------------------------------------------------------------------------------
class Reader(ByteReader):
    def __init__(self, data: bytes) -> None:
        super().__init__(
            data, lambda: RestoreError("could not read from input file: end of file"))
        self.int_size = INT_SIZE

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def int(self) -> int:
        sign = self.byte()
        value = int.from_bytes(self.take(self.int_size), "little")
        return -value if sign else value

    def str(self) -> str | None:
        length = self.int()
        return None if length < 0 else self.take(length).decode(errors="replace")


class StreamReader(Reader):
    """The archive read from a stream as pg_restore reads stdin: never more than the
    current field and one compressed chunk in memory, whatever the archive's size."""

    def __init__(self, prefix: bytes, stream) -> None:
        super().__init__(prefix)
        self.stream = stream

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            self.data = self.data[self.pos :] + read_up_to(self.stream, max(count, 1 << 16))
            self.pos = 0
            if count > len(self.data):
                raise self._short_read()
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def at_end(self) -> bool:
        if self.pos < len(self.data):
            return False
        self.data, self.pos = read_up_to(self.stream, 1 << 16), 0
        return not self.data


def check_header(data: bytes, stream=None) -> Reader:
    """pg_restore's format detection, with its exact complaints; ``data`` is the whole
    archive, or its first 512 bytes with the rest still in ``stream``."""
    if len(data) < 5:
        raise RestoreError(f"input file is too short (read {len(data)}, expected 5)")
    if data[:5] != MAGIC:
        if data.lstrip().startswith(b"--") or b"PostgreSQL database dump" in data[:200]:
            raise RestoreError("input file appears to be a text format dump. Please use psql.")
        if len(data) < 512:
            raise RestoreError("input file does not appear to be a valid archive (too short?)")
        raise RestoreError("input file does not appear to be a valid archive")
    reader = Reader(data) if stream is None else StreamReader(data, stream)
    reader.pos = 5
    major, minor, _rev = reader.byte(), reader.byte(), reader.byte()
    if (major, minor) < (1, 14) or (major, minor) > VERSION[:2]:
        raise RestoreError(f"unsupported version ({major}.{minor}) in file header")
    reader.int_size, offset_size = reader.byte(), reader.byte()
    if reader.byte() != FORMAT_CUSTOM:
        raise RestoreError("input file does not appear to be a valid archive")
    reader.off_size = offset_size
    compression = reader.byte() if minor >= 15 else reader.int()
    if compression not in (COMPRESSION_NONE, COMPRESSION_GZIP, -1):
        raise RestoreError("cannot restore from compressed archive (compression not supported)")
    reader.compression = compression
    return reader


def read_toc(reader: Reader) -> list[TocEntry]:
    for _ in range(7):
        reader.int()
    reader.str(), reader.str(), reader.str()
    return [read_entry(reader, minor_has_relkind=True) for _ in range(reader.int())]


def data_blocks(reader: Reader) -> Iterator[tuple[int, int, Iterator[bytes]]]:
    """(block type, dump id, the block's uncompressed bytes as they are read)."""
    while not reader.at_end():
        block = reader.byte()
        dump_id = reader.int()
        payload = block_payload(reader)
        yield block, dump_id, payload
        for _ in payload:  # a block nobody read is skipped over
            pass


def block_payload(reader: Reader) -> Iterator[bytes]:
    inflate = zlib.decompressobj() if reader.compression else None
    while length := reader.int():
        piece = reader.take(length)
        yield inflate.decompress(piece) if inflate else piece
    if inflate:
        yield inflate.flush()


def read_archive(data: bytes) -> list[TocEntry]:
    """The whole archive: TOC entries with their data (small archives, tests)."""
    reader = check_header(data)
    entries = read_toc(reader)
    by_id = {e.dump_id: e for e in entries}
    for block, dump_id, payload in data_blocks(reader):
        content = b"".join(payload)
        if block == BLK_DATA and dump_id in by_id:
            by_id[dump_id].data = content
    return entries


def read_entry(reader: Reader, minor_has_relkind: bool) -> TocEntry:
    dump_id, had_dumper = reader.int(), reader.int()
    tableoid, oid, tag, desc = reader.str(), reader.str(), reader.str(), reader.str()
    section = reader.int()
    defn, drop, copy, namespace = reader.str(), reader.str(), reader.str(), reader.str()
    tablespace, tableam = reader.str(), reader.str()
    relkind = reader.int() if minor_has_relkind else 0
    owner, _with_oids = reader.str(), reader.str()
    deps = []
    while (dep := reader.str()) is not None:
        deps.append(int(dep))
    reader.byte()
    reader.take(getattr(reader, "off_size", OFF_SIZE))
    return TocEntry(
        dump_id,
        tag or "",
        desc or "",
        section,
        defn,
        drop,
        copy,
        namespace,
        tablespace,
        tableam,
        relkind,
        owner,
        tableoid or "0",
        oid or "0",
        deps,
        had_dumper,
    )


# -- restoring ----------------------------------------------------------------------------------------
def restore(db: Database, data) -> None:
    """``pg_restore -c --if-exists -O``: drop what the archive holds, recreate, load.

    ``data`` is the archive's bytes or a binary stream (stdin): table data is loaded
    block by block as it is read, so a big archive never sits in memory."""
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    reader = check_header(read_up_to(stream, 512), stream)
    entries = read_toc(reader)
    tables: dict[str, Table] = {}
    for entry in entries:
        if entry.desc == "TABLE" and entry.defn:
            table = parse_create(db, entry.defn, allocate=False)
            if table is None:
                raise RestoreError(f"could not execute query: unsupported table {entry.tag}")
            tables[table.name] = table
    for entry in entries:
        apply_entry(db, entry, tables)
    for name in tables:
        db.drop_table(name)
    for table in sorted(tables.values(), key=lambda t: list(tables).index(t.name)):
        db.create_table(allocate_table_oids(db, table))
    by_id = {e.dump_id: e for e in entries}
    for block, dump_id, payload in data_blocks(reader):
        entry = by_id.get(dump_id)
        if block == BLK_DATA and entry and entry.desc == "TABLE DATA" and entry.tag in tables:
            load_copy(db, tables[entry.tag], entry, payload)
    for entry in entries:
        if entry.desc == "SEQUENCE SET" and entry.defn:
            match = re.search(r"setval\('(?:public\.)?(\w+)', (\d+), (true|false)\)", entry.defn)
            if match and match.group(3) == "true":
                db.set_sequence(match.group(1), int(match.group(2)))


def apply_entry(db: Database, entry: TocEntry, tables: dict[str, Table]) -> None:
    """Fold DEFAULT nextval(...) and PRIMARY KEY constraints into the table models."""
    if entry.desc == "DEFAULT" and entry.defn:
        match = re.search(
            r"ONLY (?:public\.)?(\w+) ALTER COLUMN (\w+) SET DEFAULT nextval\('(?:public\.)?(\w+)'",
            entry.defn,
        )
        if match and match.group(1) in tables:
            for column in tables[match.group(1)].columns:
                if column.name == match.group(2):
                    column.sequence = match.group(3)
    if entry.desc == "CONSTRAINT" and entry.defn:
        match = re.search(
            r"ONLY (?:public\.)?(\w+)\s+ADD CONSTRAINT \w+ PRIMARY KEY \(([^)]*)\)", entry.defn
        )
        if match and match.group(1) in tables:
            tables[match.group(1)].pkey = [c.strip() for c in match.group(2).split(",")]


def parse_copy_value(text: str, pgtype: str) -> object:
    if text == "\\N":
        return None
    value = re.sub(
        r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), text
    )
    if pgtype in ("integer", "bigint", "smallint"):
        return int(value)
    if pgtype in ("real", "double precision"):
        return float(value)
    if pgtype == "boolean":
        return 1 if value == "t" else 0
    return value


def copy_lines(payload: Iterator[bytes]) -> Iterator[str]:
    """Text lines of a COPY block from its uncompressed pieces (lines span pieces)."""
    pending = b""
    for piece in payload:
        pending += piece
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.decode()
    if pending:
        yield pending.decode()


def copy_rows(table: Table, columns: list[str], payload: Iterator[bytes]) -> Iterator[list]:
    types = {c.name: c.type for c in table.columns}
    for line in copy_lines(payload):
        if line == "\\.":
            return
        if not line:
            continue
        fields = line.split("\t")
        yield [
            parse_copy_value(v, types.get(c, "text")) for v, c in zip(fields, columns, strict=False)
        ]


def load_copy(db: Database, table: Table, entry: TocEntry, payload: Iterator[bytes]) -> None:
    match = re.search(r"\(([^)]*)\) FROM stdin", entry.copy or "")
    columns = (
        [c.strip().strip('"') for c in match.group(1).split(",")]
        if match
        else [c.name for c in table.columns]
    )
    try:
        db.insert_rows(table, columns, copy_rows(table, columns, payload))
    except (PgError, ValueError, sqlite3.Error) as exc:
        raise RestoreError(f'COPY failed for table "{table.name}": {exc}') from None
