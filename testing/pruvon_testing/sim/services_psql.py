"""A small PostgreSQL stand-in: SQL on sqlite3, answered the way ``psql`` prints.

``postgres:connect`` runs ``psql -v ON_ERROR_STOP=1`` in the service container.
The simulator keeps each service database in a sqlite file under the service's
``data/`` dir and keeps a PostgreSQL-shaped catalog next to it (column types,
serial sequences, primary keys, OIDs) so that ``pg_dump``-style archives can be
written and restored (``services_pgdump``).  It covers what Pruvon and its
tests do through ``connect`` - DDL, DML, SELECT with psql's aligned output and
psql's error texts - not the whole of PostgreSQL.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SERVER_VERSION = "18.6 (Debian 18.6-3)"
VERSION_STRING = (
    f"PostgreSQL {SERVER_VERSION} on x86_64-pc-linux-gnu, compiled by "
    "x86_64-linux-gnu-gcc (Debian 16.2.0-1) 16.2.0, 64-bit"
)
FIRST_OID = 16389  # what the first user relation gets in a fresh cluster + createdb

TYPE_NAMES = {
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
    "smallserial": "smallint",
    "int": "integer",
    "int4": "integer",
    "integer": "integer",
    "int8": "bigint",
    "bigint": "bigint",
    "int2": "smallint",
    "smallint": "smallint",
    "text": "text",
    "bool": "boolean",
    "boolean": "boolean",
    "float8": "double precision",
    "float4": "real",
    "real": "real",
    "numeric": "numeric",
    "decimal": "numeric",
    "date": "date",
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
    "bytea": "bytea",
}
NUMERIC_TYPES = {"integer", "bigint", "smallint", "real", "double precision", "numeric"}


class PgError(Exception):
    """An ERROR as the server reports it: message, optional DETAIL, caret position."""

    def __init__(self, message: str, position: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.detail = detail


@dataclass
class Column:
    name: str
    type: str  # PostgreSQL spelling, e.g. "integer", "character varying(20)"
    notnull: bool = False
    sequence: str = ""  # owning serial sequence, if any


@dataclass
class Table:
    name: str
    oid: int
    columns: list[Column]
    pkey: list[str] = field(default_factory=list)
    pkey_oid: int = 0
    default_oids: dict[str, int] = field(default_factory=dict)
    seq_oids: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {
            "name": self.name,
            "oid": self.oid,
            "columns": [c.__dict__ for c in self.columns],
            "pkey": self.pkey,
            "pkey_oid": self.pkey_oid,
            "default_oids": self.default_oids,
            "seq_oids": self.seq_oids,
        }
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Table:
        data = json.loads(text)
        data["columns"] = [Column(**c) for c in data["columns"]]
        return cls(**data)


def pg_type(spec: str) -> str:
    """``varchar(20)`` => ``character varying(20)`` etc.; unknown types pass through."""
    spec = spec.strip().lower()
    match = re.match(r"(?:character varying|varchar)\s*(\(\d+\))?$", spec)
    if match:
        return "character varying" + (match.group(1) or "")
    match = re.match(r"(?:character|char)\s*(\(\d+\))?$", spec)
    if match:
        return "character" + (match.group(1) or "(1)")
    return TYPE_NAMES.get(spec, spec)


class Database:
    """One service database: a sqlite file plus the PostgreSQL-shaped catalog."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _sim_catalog (name TEXT PRIMARY KEY, data TEXT NOT NULL)"
        )
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _sim_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        self.conn.create_function("version", 0, lambda: VERSION_STRING)
        self.conn.create_function("current_database", 0, lambda: self.meta("database", ""))
        self.conn.create_function("now", 0, _sqlite_now)

    def close(self) -> None:
        self.conn.close()

    # -- meta / catalog ----------------------------------------------------------------
    def meta(self, key: str, default: str = "") -> str:
        row = self.conn.execute("SELECT value FROM _sim_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO _sim_meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def next_oid(self, count: int = 1) -> int:
        """Allocate ``count`` OIDs; returns the first."""
        first = int(self.meta("next_oid", str(FIRST_OID)))
        self.set_meta("next_oid", str(first + count))
        return first

    def tables(self) -> list[Table]:
        rows = self.conn.execute("SELECT data FROM _sim_catalog").fetchall()
        return sorted((Table.from_json(r[0]) for r in rows), key=lambda t: t.oid)

    def table(self, name: str) -> Table | None:
        row = self.conn.execute("SELECT data FROM _sim_catalog WHERE name = ?", (name,)).fetchone()
        return Table.from_json(row[0]) if row else None

    def save_table(self, table: Table) -> None:
        self.conn.execute(
            "INSERT INTO _sim_catalog(name, data) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET data = excluded.data",
            (table.name, table.to_json()),
        )

    def drop_table(self, name: str) -> None:
        self.conn.execute("DELETE FROM _sim_catalog WHERE name = ?", (name,))
        self.conn.execute(f"DROP TABLE IF EXISTS {ident(name)}")

    def sequence_value(self, name: str) -> tuple[int, bool]:
        """(last_value, is_called) of a serial sequence, from the table's max id."""
        value = self.meta(f"seq:{name}", "")
        return (int(value), True) if value else (1, False)

    def set_sequence(self, name: str, value: int) -> None:
        self.set_meta(f"seq:{name}", str(value))

    # -- building tables -----------------------------------------------------------------
    def create_table(self, table: Table) -> None:
        """Create the sqlite table for a catalog entry (serial pk => INTEGER PRIMARY KEY)."""
        parts = []
        inline_pk = False
        sequenced = []
        for column in table.columns:
            decl = f"{ident(column.name)} {sqlite_type(column.type)}"
            if table.pkey == [column.name] and column.type in ("integer", "bigint"):
                decl += " PRIMARY KEY"  # sqlite's rowid alias: ids 1, 2, 3 like a serial
                inline_pk = True
            elif column.sequence:
                sequenced.append(column.name)  # filled by the trigger below
            if column.notnull and column.name not in sequenced:
                decl += " NOT NULL"
            parts.append(decl)
        if table.pkey and not inline_pk:
            parts.append("PRIMARY KEY (" + ", ".join(ident(c) for c in table.pkey) + ")")
        self.conn.execute(f"CREATE TABLE {ident(table.name)} (" + ", ".join(parts) + ")")
        for name in sequenced:
            self.serial_trigger(table.name, name)
        self.save_table(table)

    def serial_trigger(self, table: str, column: str) -> None:
        """``DEFAULT nextval(...)`` for a serial that is not the rowid: the next value
        after the highest one used, assigned right after the insert."""
        t, c = ident(table), ident(column)
        trigger = ident(f"{table}_{column}_nextval")
        self.conn.execute(  # identifiers validated by ident()
            f"CREATE TRIGGER {trigger} AFTER INSERT ON {t} WHEN NEW.{c} IS NULL BEGIN "  # noqa: S608
            f"UPDATE {t} SET {c} = (SELECT coalesce(max({c}), 0) + 1 FROM {t}) "
            "WHERE rowid = NEW.rowid; END"
        )

    def insert_rows(self, table: Table, columns: list[str], rows: Iterable[list]) -> int:
        names = ", ".join(ident(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {ident(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
        counted = _Counted(rows)
        # one transaction, as one COPY is: all rows or none (and no fsync per row)
        self.conn.execute("BEGIN")
        try:
            self.conn.executemany(statement, counted)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        self.bump_sequences(table)
        return counted.count

    def bump_sequences(self, table: Table) -> None:
        """Serial sequences follow the highest value used (what nextval would have done)."""
        for column in table.columns:
            if column.sequence:
                query = f"SELECT max({ident(column.name)}) FROM {ident(table.name)}"  # noqa: S608
                row = self.conn.execute(query).fetchone()
                current, called = self.sequence_value(column.sequence)
                if row and row[0] is not None and (not called or int(row[0]) > current):
                    self.set_sequence(column.sequence, int(row[0]))

    def rows(self, table: Table) -> list[tuple]:
        return list(self.iter_rows(table))

    def iter_rows(self, table: Table) -> Iterator[tuple]:
        """Rows in insertion order, fetched as they are consumed (exports of any size)."""
        names = ", ".join(ident(c.name) for c in table.columns)
        query = f"SELECT {names} FROM {ident(table.name)} ORDER BY rowid"  # noqa: S608
        yield from self.conn.execute(query)


class _Counted:
    """An iterator that counts what it hands out (rows fed to ``executemany``)."""

    def __init__(self, rows: Iterable[list]) -> None:
        self.rows, self.count = iter(rows), 0

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> list:
        row = next(self.rows)
        self.count += 1
        return row


IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def ident(name: str) -> str:
    """A double-quoted identifier; anything but a plain name is refused, so identifiers
    interpolated into the sqlite statements below can never carry SQL."""
    if not IDENT_RE.match(name):
        raise PgError(f'invalid identifier "{name}"')
    return f'"{name}"'


def sqlite_type(pgtype: str) -> str:
    if pgtype in ("integer", "bigint", "smallint"):
        return "INTEGER"
    if pgtype in ("real", "double precision", "numeric"):
        return "REAL"
    if pgtype == "boolean":
        return "BOOLEAN"
    return "TEXT"


def _sqlite_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


# -- statement splitting -----------------------------------------------------------------------
def split_statements(lines: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Yield (statement, terminated) like psql's lexer: ``;`` outside quotes ends one.

    Backslash meta-commands at the start of a line are yielded on their own.
    """
    buffer = ""
    quote = ""
    for line in lines:
        if not buffer.strip() and line.lstrip().startswith("\\"):
            yield line.strip(), True
            continue
        for char in line:
            if quote:
                buffer += char
                if char == quote:
                    quote = ""
                continue
            if char in ("'", '"'):
                quote = char
            if char == ";":
                yield buffer + ";", True
                buffer = ""
                continue
            buffer += char
        if not buffer.strip():
            buffer = ""
    if buffer.strip():
        yield buffer, False


# -- CREATE TABLE parsing ----------------------------------------------------------------------------
CREATE_RE = re.compile(
    r"^\s*create\s+table\s+(if\s+not\s+exists\s+)?(?:public\.)?\"?(\w+)\"?\s*\((.*)\)\s*;?\s*$",
    re.I | re.S,
)


def split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or quotes."""
    parts, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            current += char
            quote = "" if char == quote else quote
            continue
        if char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current)
    return [p.strip() for p in parts]


TYPE_RE = re.compile(
    r"^(character varying\s*(?:\(\d+\))?|double precision|timestamp with(?:out)? time zone|"
    r"\w+\s*(?:\(\d+(?:,\s*\d+)?\))?)(.*)$",
    re.I | re.S,
)


def parse_create(db: Database, sql: str, allocate: bool = True) -> Table | None:
    """Model a ``CREATE TABLE`` for the catalog; None when it is not one we understand.

    ``allocate=False`` leaves the OIDs to the caller (pg_restore folds defaults and
    constraints in first)."""
    match = CREATE_RE.match(sql)
    if not match:
        return None
    name = match.group(2).lower()
    columns: list[Column] = []
    pkey: list[str] = []
    for part in split_top(match.group(3)):
        lower = part.lower()
        if lower.startswith("primary key"):
            pkey = [c.strip().strip('"').lower() for c in part[part.index("(") + 1 : -1].split(",")]
            continue
        if lower.startswith(("constraint", "unique", "foreign key", "check")):
            continue
        col_name, _, rest = part.partition(" ")
        type_match = TYPE_RE.match(rest.strip())
        if not type_match:
            raise PgError(f'syntax error at or near "{part}"')
        raw_type, tail = type_match.group(1), type_match.group(2).lower()
        column = Column(col_name.strip('"').lower(), pg_type(raw_type))
        column.notnull = "not null" in tail or "primary key" in tail
        if raw_type.strip().lower() in ("serial", "serial4", "bigserial", "serial8", "smallserial"):
            column.notnull = True
            column.sequence = f"{name}_{column.name}_seq"
        if "primary key" in tail:
            pkey = [column.name]
        columns.append(column)
    table = Table(name, 0, columns, pkey)
    return allocate_table_oids(db, table) if allocate else table


def allocate_table_oids(db: Database, table: Table) -> Table:
    """OIDs in PostgreSQL's creation order: sequences, relation (+ row types), defaults,
    toast, then the primary key index and constraint."""
    for column in table.columns:
        if column.sequence:
            table.seq_oids[column.sequence] = db.next_oid()
    table.oid = db.next_oid()
    db.next_oid(2)  # the row type and its array type
    for column in table.columns:
        if column.sequence:
            table.default_oids[column.name] = db.next_oid()
    if any(c.type not in NUMERIC_TYPES | {"boolean", "date"} for c in table.columns):
        db.next_oid(3)  # toast table, its type and index
    if table.pkey:
        db.next_oid(2)  # the index and its bookkeeping entry
        table.pkey_oid = db.next_oid()  # the constraint
    return table


# -- psql output -------------------------------------------------------------------------------------
def format_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return str(value)


def format_table(names: list[str], rows: list[tuple]) -> str:
    """psql's ``aligned`` format with the default border 1 and the row-count footer."""
    right = [
        bool(rows) and all(isinstance(r[i], int | float) for r in rows if r[i] is not None)
        for i in range(len(names))
    ]
    cells = [[format_value(v) for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    header = []
    for name, width in zip(names, widths, strict=True):
        space = width - len(name)
        header.append(" " * (space // 2) + name + " " * ((space + 1) // 2))
    lines = [" " + " | ".join(header) + " ", "+".join("-" * (w + 2) for w in widths)]
    for row in cells:
        parts = []
        for index, value in enumerate(row):
            last = index == len(row) - 1
            if right[index]:
                parts.append(value.rjust(widths[index]))
            else:
                parts.append(value if last else value.ljust(widths[index]))
        lines.append(" " + " | ".join(parts))
    count = len(rows)
    lines.append(f"({count} row{'' if count == 1 else 's'})")
    return "\n".join(lines) + "\n\n"


def select_names(sql: str, raw: list[str]) -> list[str]:
    """PostgreSQL's result column names: alias, column, function name or ``?column?``."""
    match = re.match(r"\s*select\s+(?:distinct\s+)?(.*?)(?:\s+from\s+.*)?;?\s*$", sql, re.I | re.S)
    if not match:
        return raw
    items = split_top(match.group(1))
    if any(item.strip() == "*" or item.strip().endswith(".*") for item in items):
        return raw
    if len(items) != len(raw):
        return raw
    names = []
    for item in items:
        alias = re.search(r"\s+as\s+\"?(\w+)\"?\s*$", item, re.I)
        if alias:
            names.append(alias.group(1) if '"' in item else alias.group(1).lower())
        elif re.fullmatch(r"(?:[A-Za-z_]\w*\.)*\"?([A-Za-z_]\w*)\"?", item.strip()):
            names.append(item.strip().split(".")[-1].strip('"').lower())
        elif re.match(r"^\s*(\w+)\s*\(", item) and not item.strip()[0].isdigit():
            names.append(re.match(r"^\s*(\w+)", item).group(1).lower())
        else:
            names.append("?column?")
    return names


def translate(sql: str) -> str:
    """The few PostgreSQL spellings sqlite does not accept."""
    sql = re.sub(r"\bpublic\.", "", sql)
    sql = re.sub(r"::\s*[a-z_]+(\s*\(\d+\))?(\[\])?", "", sql, flags=re.I)
    sql = re.sub(r"\bilike\b", "like", sql, flags=re.I)
    return sql


def error_from_sqlite(exc: sqlite3.Error, sql: str) -> PgError:
    """Map sqlite's message to PostgreSQL's wording and caret position."""
    text = str(exc)

    def pos(word: str) -> int | None:
        found = re.search(re.escape(word), sql, re.I)
        return found.start() + 1 if found else None

    if text.startswith("no such table: "):
        name = text.split(": ", 1)[1]
        return PgError(f'relation "{name}" does not exist', pos(name))
    if text.startswith("no such column: "):
        name = text.split(": ", 1)[1]
        return PgError(f'column "{name}" does not exist', pos(name))
    match = re.match(r'near "(.*)": syntax error', text)
    if match:
        return PgError(f'syntax error at or near "{match.group(1)}"', pos(match.group(1)))
    if text == "incomplete input":
        return PgError("syntax error at end of input", len(sql.rstrip(";")) + 1)
    match = re.match(r"NOT NULL constraint failed: (\w+)\.(\w+)", text)
    if match:
        table, column = match.groups()
        return PgError(
            f'null value in column "{column}" of relation "{table}" violates not-null constraint'
        )
    match = re.match(r"UNIQUE constraint failed: (\w+)\.(\w+)", text)
    if match:
        return PgError(f'duplicate key value violates unique constraint "{match.group(1)}_pkey"')
    return PgError(text)


class Session:
    """One ``psql -v ON_ERROR_STOP=1`` run against a :class:`Database`."""

    def __init__(self, db: Database, log_error=None) -> None:
        self.db = db
        self.log_error = log_error or (lambda statement, error: None)

    def execute(self, statement: str) -> tuple[str, str]:
        """Run one statement; return (stdout text, stderr notices). Raises PgError."""
        sql = statement.strip()
        if not sql.rstrip(";").strip():
            return "", ""
        keyword = sql.split(None, 1)[0].lower().rstrip(";")
        if keyword == "create" and re.match(r"create\s+table", sql, re.I):
            return self.create_table(sql)
        if keyword == "drop" and re.match(r"drop\s+table", sql, re.I):
            return self.drop_tables(sql)
        if keyword in ("begin", "start", "commit", "end", "rollback"):
            tags = {"start": "BEGIN", "end": "COMMIT"}
            self.run_sqlite(sql)
            return tags.get(keyword, keyword.upper()) + "\n", ""
        if keyword == "truncate":
            names = re.sub(r"^truncate\s+(table\s+)?", "", sql.rstrip(";"), flags=re.I)
            for name in split_top(names):
                self.run_sqlite(f"DELETE FROM {ident(name.strip().strip(chr(34)))}")  # noqa: S608
            return "TRUNCATE TABLE\n", ""
        if keyword == "set":
            return "SET\n", ""
        cursor = self.run_sqlite(sql)
        if cursor.description:
            raw = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            names = select_names(sql, raw) if keyword == "select" else raw
            rows = self.booleans(sql, raw, rows)
            text = format_table(names, rows)
            if keyword == "insert":
                text += f"INSERT 0 {len(rows)}\n"
            return text, ""
        if keyword == "insert":
            self.after_insert(sql)
            return f"INSERT 0 {cursor.rowcount}\n", ""
        if keyword in ("update", "delete"):
            return f"{keyword.upper()} {cursor.rowcount}\n", ""
        words = sql.rstrip(";").split()
        return " ".join(w.upper() for w in words[:2]) + "\n", ""

    def booleans(self, sql: str, raw: list[str], rows: list[tuple]) -> list[tuple]:
        """sqlite keeps booleans as 0/1; psql prints ``t``/``f`` for boolean columns
        read straight from a single table."""
        match = re.search(
            r"\bfrom\s+(?:public\.)?\"?(\w+)\"?\s*(?:$|;|where|order|limit|group)", sql, re.I
        )
        table = self.db.table(match.group(1).lower()) if match else None
        if table is None:
            return rows
        flags = {c.name for c in table.columns if c.type == "boolean"}
        positions = [i for i, name in enumerate(raw) if name in flags]
        if not positions:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for index in positions:
                if values[index] in (0, 1):
                    values[index] = "t" if values[index] else "f"
            converted.append(tuple(values))
        return converted

    def run_sqlite(self, sql: str) -> sqlite3.Cursor:
        try:
            return self.db.conn.execute(translate(sql))
        except sqlite3.Error as exc:
            raise error_from_sqlite(exc, sql) from None

    def after_insert(self, sql: str) -> None:
        match = re.match(r"\s*insert\s+into\s+(?:public\.)?\"?(\w+)", sql, re.I)
        table = self.db.table(match.group(1).lower()) if match else None
        if table:
            self.db.bump_sequences(table)

    def create_table(self, sql: str) -> tuple[str, str]:
        match = CREATE_RE.match(sql)
        if match and self.db.table(match.group(2).lower()):
            name = match.group(2).lower()
            if match.group(1):
                return "CREATE TABLE\n", f'NOTICE:  relation "{name}" already exists, skipping\n'
            raise PgError(f'relation "{name}" already exists')
        table = parse_create(self.db, sql)
        if table is None:
            self.run_sqlite(sql)
            return "CREATE TABLE\n", ""
        try:
            self.db.create_table(table)
        except sqlite3.Error as exc:
            raise error_from_sqlite(exc, sql) from None
        return "CREATE TABLE\n", ""

    def drop_tables(self, sql: str) -> tuple[str, str]:
        body = re.sub(r"^\s*drop\s+table\s+", "", sql.rstrip().rstrip(";"), flags=re.I)
        if_exists = bool(re.match(r"if\s+exists\s+", body, re.I))
        body = re.sub(r"^if\s+exists\s+", "", body, flags=re.I)
        body = re.sub(r"\s+(cascade|restrict)\s*$", "", body, flags=re.I)
        notices = ""
        for raw in split_top(body):
            name = raw.replace("public.", "").strip('"').lower()
            if self.db.table(name) is None and not self._sqlite_has(name):
                if if_exists:
                    notices += f'NOTICE:  table "{name}" does not exist, skipping\n'
                    continue
                raise PgError(f'table "{name}" does not exist')
            self.db.drop_table(name)
        return "DROP TABLE\n", notices

    def _sqlite_has(self, name: str) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self.db.conn.execute(query, (name,)).fetchone() is not None

    # -- meta-commands --------------------------------------------------------------------------
    def meta_command(self, command: str) -> tuple[str, str, bool]:
        """(stdout, stderr, quit) for a psql backslash command."""
        name = command.split()[0]
        if name == "\\q":
            return "", "", True
        if name in ("\\dt", "\\d") and len(command.split()) == 1:
            tables = self.db.tables()
            if not tables:
                return "", "Did not find any relations.\n", False
            rows = [("public", t.name, "table", "postgres") for t in tables]
            return titled("List of relations", ["Schema", "Name", "Type", "Owner"], rows), "", False
        if name == "\\conninfo":
            text = (
                f'You are connected to database "{self.db.meta("database")}" as user "postgres" '
                'on host "localhost" (address "::1") at port "5432".\n'
            )
            return text, "", False
        return "", f"invalid command {name}\nTry \\? for help.\n", False

    # -- the psql loop ---------------------------------------------------------------------------
    def run(self, lines: Iterable[str], write_out, write_err) -> int:
        """Read statements, print results; stop with exit 3 at the first ERROR."""
        for statement, _terminated in split_statements(lines):
            if statement.startswith("\\"):
                out, err, quit_now = self.meta_command(statement)
                write_out(out)
                write_err(err)
                if quit_now:
                    return 0
                continue
            try:
                out, err = self.execute(statement)
            except PgError as error:
                write_err(render_error(statement.strip(), error))
                self.log_error(statement.strip(), error)
                return 3
            write_err(err)
            write_out(out)
        return 0


def titled(title: str, names: list[str], rows: list[tuple]) -> str:
    table = format_table(names, rows)
    width = len(table.split("\n", 1)[0]) - 2  # psql's width_total leaves out the outer spaces
    pad = max(0, (width - len(title)) // 2)
    return " " * pad + title + "\n" + table


def render_error(statement: str, error: PgError) -> str:
    """``ERROR:  msg`` then psql's ``LINE n:`` excerpt with the caret."""
    text = f"ERROR:  {error.message}\n"
    if error.position:
        before = statement[: error.position - 1]
        line_no = before.count("\n") + 1
        line_start = before.rfind("\n") + 1
        line = statement[line_start:].split("\n", 1)[0]
        prefix = f"LINE {line_no}: "
        column = error.position - 1 - line_start
        text += f"{prefix}{line}\n{' ' * (len(prefix) + column)}^\n"
    if error.detail:
        text += f"DETAIL:  {error.detail}\n"
    return text
