"""The MySQL / MariaDB engine behind ``mysql:*`` and ``mariadb:*``.

Both plugins run the same kind of server; what differs is data (the client and
dump tool names, the user, version strings, the password warning MySQL's tools
print), kept in one :class:`Flavour` per kind.

Storage is shaped for streaming, because a 1 GiB ``:import`` must run at disk
speed without holding the stream in memory: every table of the service database
is two files under ``data/<database>/`` - ``<table>.schema.sql`` (the
``CREATE TABLE`` statement as ``SHOW CREATE TABLE`` prints it) and
``<table>.rows.sql`` (its ``INSERT INTO `t` VALUES (...),(...);`` statements).
``:import`` appends dump INSERT statements to the rows file without parsing their
values, ``:export`` writes the dump header, then each table's files and the
footer, so export -> import -> export is byte-identical (pin the ``Dump
completed on`` date with ``SOURCE_DATE_EPOCH``).  Statements that need a real
engine (``SELECT``, ``UPDATE``, ``DELETE``, column-list inserts) load the tables
into an in-memory sqlite3 database and write the touched tables back.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pruvon_testing.sim.core import Ctx
from pruvon_testing.sim.services_psql import split_top
from pruvon_testing.sim.services_store import Service, now
from pruvon_testing.sim.services_types import ServiceType

ROWS_PER_STATEMENT_BYTES = 1_000_000  # mysqldump --net-buffer-length: extended INSERT size


@dataclass(frozen=True)
class Flavour:
    """What the MySQL and MariaDB images print differently."""

    client: str  # connect/import client (``mysql`` / ``mariadb``)
    dump_tool: str
    user: str  # MYSQL_USER of the container: the DSN user
    server_version: str
    dump_header: str  # first line(s) of the dump before ``-- Host:``
    server_name: str  # "MySQL" / "MariaDB" in syntax errors
    password_warning: bool  # MySQL's tools warn about --password on stderr
    set_names_version: str  # ``/*!50503 SET NAMES utf8mb4 */`` (MySQL) or 40101 (MariaDB)
    int_widths: bool  # MariaDB's SHOW CREATE TABLE prints int(11)
    # MariaDB's dump: one row per line after ``VALUES``, NOTE_VERBOSITY instead of
    # SQL_NOTES, the hour of "Dump completed on" padded with a space
    multiline_inserts: bool
    notes_set: str  # header line saving the server's notes setting
    notes_restore: str  # footer line restoring it
    completed_format: str
    bare_blobs: bool  # MySQL: nullable TEXT/BLOB/JSON columns show no DEFAULT NULL
    banner: str
    prompt: str


MYSQL_FLAVOUR = Flavour(
    client="mysql",
    dump_tool="mysqldump",
    user="mysql",
    server_version="9.7.0",
    dump_header="-- MySQL dump 10.13  Distrib 9.7.0, for Linux (x86_64)\n",
    server_name="MySQL",
    password_warning=True,
    set_names_version="50503",
    int_widths=False,
    multiline_inserts=False,
    notes_set="/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;",
    notes_restore="/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;",
    completed_format="%Y-%m-%d %H:%M:%S",
    bare_blobs=True,
    banner=(
        "Welcome to the MySQL monitor.  Commands end with ; or \\g.\n"
        "Your MySQL connection id is 9\n"
        "Server version: 9.7.0 MySQL Community Server - GPL\n\n"
        "Copyright (c) 2000, 2026, Oracle and/or its affiliates.\n\n"
        "Type 'help;' or '\\h' for help. Type '\\c' to clear the current input statement.\n\n"
    ),
    prompt="mysql> ",
)
MARIADB_FLAVOUR = Flavour(
    client="mariadb",
    dump_tool="mariadb-dump",
    user="mariadb",
    server_version="12.2.2-MariaDB-ubu2404",
    dump_header=(
        "/*M!999999\\- enable the sandbox mode */ \n"
        "-- MariaDB dump 10.19-12.2.2-MariaDB, for debian-linux-gnu (x86_64)\n"
    ),
    server_name="MariaDB",
    password_warning=False,
    set_names_version="40101",
    int_widths=True,
    multiline_inserts=True,
    notes_set="/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;",
    notes_restore="/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;",
    completed_format="%Y-%m-%d {hour:>2}:%M:%S",
    bare_blobs=False,
    banner=(
        "Welcome to the MariaDB monitor.  Commands end with ; or \\g.\n"
        "Your MariaDB connection id is 9\n"
        "Server version: 12.2.2-MariaDB-ubu2404 mariadb.org binary distribution\n\n"
        "Copyright (c) 2000, 2018, Oracle, MariaDB Corporation Ab and others.\n\n"
        "Type 'help;' or '\\h' for help. Type '\\c' to clear the current input statement.\n\n"
    ),
    prompt="MariaDB [{db}]> ",
)
FLAVOURS = {"mysql": MYSQL_FLAVOUR, "mariadb": MARIADB_FLAVOUR}

INT_WIDTHS = {"tinyint": 4, "smallint": 6, "mediumint": 9, "int": 11, "bigint": 20}
TYPE_ALIASES = {"integer": "int", "bool": "tinyint(1)", "boolean": "tinyint(1)"}
TABLE_OPTIONS = "ENGINE=InnoDB{auto} DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
NAME = r"`?(\w+)`?"


class MySQLError(Exception):
    """A server error: ``ERROR <code> (<state>)`` and its message."""

    def __init__(self, code: int, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.code, self.sqlstate, self.message = code, sqlstate, message

    def render(self, line: int | None) -> str:
        where = f" at line {line}" if line is not None else ""
        return f"ERROR {self.code} ({self.sqlstate}){where}: {self.message}\n"


def syntax_error(flavour: Flavour, statement: str) -> MySQLError:
    near = statement.strip().rstrip(";").strip()[:80]
    return MySQLError(
        1064,
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your "
        f"{flavour.server_name} server version for the right syntax to use near '{near}' "
        "at line 1",
    )


# -- tables -----------------------------------------------------------------------------------
@dataclass
class Column:
    name: str
    type: str
    notnull: bool = False
    auto_increment: bool = False
    default: str | None = None


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    pkey: list[str] = field(default_factory=list)
    next_id: int = 0  # AUTO_INCREMENT=<n> of the table options; 0: not shown

    def create_sql(self, flavour: Flavour) -> str:
        """``SHOW CREATE TABLE``: one column per line, the key, the table options."""
        lines = []
        for column in self.columns:
            text = f"  `{column.name}` {column_type(column.type, flavour)}"
            if column.notnull:
                text += " NOT NULL"
            if column.auto_increment:
                text += " AUTO_INCREMENT"
            elif column.default is not None:
                text += f" DEFAULT {column.default}"
            elif not column.notnull and not (flavour.bare_blobs and is_blob(column.type)):
                text += " DEFAULT NULL"  # MySQL prints none for TEXT/BLOB/JSON columns
            lines.append(text)
        if self.pkey:
            lines.append("  PRIMARY KEY (" + ",".join(f"`{c}`" for c in self.pkey) + ")")
        auto = f" AUTO_INCREMENT={self.next_id}" if self.next_id > 1 else ""
        body = ",\n".join(lines)
        return f"CREATE TABLE `{self.name}` (\n{body}\n) {TABLE_OPTIONS.format(auto=auto)};"

    def sqlite_ddl(self) -> str:
        parts = []
        for column in self.columns:
            kind = sqlite_affinity(column.type)
            if column.auto_increment and self.pkey == [column.name]:
                parts.append(f'"{column.name}" INTEGER PRIMARY KEY AUTOINCREMENT')
                continue
            text = f'"{column.name}" {kind}'
            if column.notnull:
                text += " NOT NULL"
            if column.default is not None:
                text += f" DEFAULT {column.default}"
            parts.append(text)
        auto_pk = any(c.auto_increment and self.pkey == [c.name] for c in self.columns)
        if self.pkey and not auto_pk:
            parts.append("PRIMARY KEY (" + ",".join(f'"{c}"' for c in self.pkey) + ")")
        return f'CREATE TABLE "{self.name}" ({", ".join(parts)})'


def is_blob(spec: str) -> bool:
    base = spec.lower().split("(")[0].strip()
    return base.endswith(("text", "blob")) or base in ("json", "geometry")


def column_type(spec: str, flavour: Flavour) -> str:
    spec = TYPE_ALIASES.get(spec.lower(), spec.lower())
    base = spec.split("(")[0].split()[0]
    if flavour.int_widths and base in INT_WIDTHS and "(" not in spec:
        return spec.replace(base, f"{base}({INT_WIDTHS[base]})", 1)
    if not flavour.int_widths and base in INT_WIDTHS and spec.startswith(f"{base}("):
        return re.sub(rf"^{base}\(\d+\)", base, spec)  # MySQL 8+ drops display widths
    return spec


def sqlite_affinity(spec: str) -> str:
    base = spec.lower().split("(")[0]
    if "int" in base or base in ("bool", "boolean", "bit"):
        return "INTEGER"
    if base in ("float", "double", "real", "decimal", "numeric"):
        return "REAL"
    return "TEXT"


CREATE_RE = re.compile(
    rf"^\s*create\s+table\s+(if\s+not\s+exists\s+)?{NAME}\s*\((.*)\)([^)]*)$", re.I | re.S
)
COLUMN_RE = re.compile(r"^`?(\w+)`?\s+(\w+(?:\s*\([^)]*\))?(?:\s+unsigned)?)(.*)$", re.I | re.S)


def parse_create(statement: str, flavour: Flavour) -> tuple[Table, bool]:
    """``CREATE TABLE`` (typed by a user or from a dump) => Table, IF NOT EXISTS."""
    match = CREATE_RE.match(statement.strip().rstrip(";"))
    if not match:
        raise syntax_error(flavour, statement)
    if_not_exists, name, body, options = match.groups()
    table = Table(name)
    for item in split_top(body):
        upper = item.upper()
        key = re.match(r"^PRIMARY\s+KEY\s*\((.*)\)", item, re.I)
        if key:
            table.pkey = [c.strip(" `") for c in key.group(1).split(",")]
            continue
        if upper.startswith(("KEY ", "UNIQUE", "INDEX", "CONSTRAINT", "FOREIGN")):
            continue
        column = COLUMN_RE.match(item)
        if not column:
            raise syntax_error(flavour, item)
        cname, ctype, rest = column.groups()
        flags = rest.upper()
        default = re.search(r"\bDEFAULT\s+('(?:[^']|'')*'|\S+)", rest, re.I)
        table.columns.append(
            Column(
                name=cname,
                type=ctype,
                notnull="NOT NULL" in flags or "PRIMARY KEY" in flags,
                auto_increment="AUTO_INCREMENT" in flags,
                default=None if not default or default.group(1).upper() == "NULL"
                else default.group(1),
            )
        )
        if "PRIMARY KEY" in flags:
            table.pkey = [cname]
    auto = re.search(r"AUTO_INCREMENT\s*=\s*(\d+)", options, re.I)
    table.next_id = int(auto.group(1)) if auto else 0
    return table, bool(if_not_exists)


# -- literals -----------------------------------------------------------------------------------
MYSQL_UNESCAPE = {"0": "\0", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "b": "\b"}
ESCAPE_RE = re.compile(r"\\(.)", re.S)


def to_sqlite(statement: str) -> str:
    """MySQL string escapes => sqlite literals (backslashes only occur inside strings in
    the SQL the simulator accepts); backtick identifiers are understood by sqlite."""

    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        if char == "'":
            return "''"
        return MYSQL_UNESCAPE.get(char, char)

    statement = ESCAPE_RE.sub(replace, statement)
    statement = re.sub(r"\bNOW\(\)", "datetime('now')", statement, flags=re.I)
    return statement


def literal(value: object) -> str:
    """A value as mysqldump writes it in an INSERT."""
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    for raw, escaped in (("\\", "\\\\"), ("\0", "\\0"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(raw, escaped)
    return "'" + text.replace("'", "\\'").replace('"', '\\"').replace("\x1a", "\\Z") + "'"


def batch_value(value: object) -> str:
    """The client's batch (tab-separated) rendering of one value."""
    if value is None:
        return "NULL"
    text = str(value)
    for raw, escaped in (("\\", "\\\\"), ("\n", "\\n"), ("\t", "\\t"), ("\0", "\\0")):
        text = text.replace(raw, escaped)
    return text


# -- the service database -------------------------------------------------------------------
class Store:
    """The table files of one service database, and a sqlite copy when one is needed."""

    def __init__(self, service: Service, flavour: Flavour) -> None:
        self.service, self.flavour = service, flavour
        self.dir = service.data_dir / service.database
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db: sqlite3.Connection | None = None
        self.touched: set[str] = set()
        self.appending: dict[str, BinaryIO] = {}  # rows files open for the fast path

    def schema_path(self, name: str) -> Path:
        return self.dir / f"{name}.schema.sql"

    def rows_path(self, name: str) -> Path:
        return self.dir / f"{name}.rows.sql"

    def names(self) -> list[str]:
        return sorted(p.name[: -len(".schema.sql")] for p in self.dir.glob("*.schema.sql"))

    def table(self, name: str) -> Table | None:
        path = self.schema_path(name)
        if not path.exists():
            return None
        return parse_create(path.read_text(), self.flavour)[0]

    def exists(self, name: str) -> bool:
        return self.schema_path(name).exists()

    def create(self, table: Table) -> None:
        self.flush()
        self.schema_path(table.name).write_text(table.create_sql(self.flavour) + "\n")
        self.rows_path(table.name).write_text("")
        if self.db is not None:
            self.db.execute(table.sqlite_ddl())

    def drop(self, name: str) -> None:
        self.flush()
        for path in (self.schema_path(name), self.rows_path(name)):
            path.unlink(missing_ok=True)
        if self.db is not None:
            self.db.execute(f'DROP TABLE IF EXISTS "{name}"')
        self.touched.discard(name)

    def append_rows(self, name: str, statement: bytes) -> None:
        """The fast path of a dump: the INSERT statement's bytes verbatim, values unparsed,
        into a rows file kept open while the import streams."""
        handle = self.appending.get(name)
        if handle is None:
            handle = self.appending[name] = self.rows_path(name).open("ab")
        handle.write(statement if statement.endswith(b"\n") else statement + b"\n")

    def flush(self) -> None:
        """Close the fast path's rows files (before anything reads or rewrites them)."""
        for handle in self.appending.values():
            handle.close()
        self.appending.clear()

    # -- the sqlite copy -----------------------------------------------------------------
    def sqlite(self) -> sqlite3.Connection:
        self.flush()
        if self.db is None:
            self.db = sqlite3.connect(":memory:")
            for name in self.names():
                table = self.table(name)
                assert table is not None
                self.db.execute(table.sqlite_ddl())
                with self.rows_path(name).open("rb") as handle:
                    for statement, _line in statements(handle):  # MariaDB's span lines
                        self.db.execute(to_sqlite(statement.decode(errors="replace")))
        return self.db

    def write_back(self) -> None:
        """Rewrite the files of the tables changed through sqlite, as mysqldump would."""
        self.flush()
        if self.db is None:
            return
        for name in sorted(self.touched):
            table = self.table(name)
            if table is None:
                continue
            # table names only ever come from the ``\w+`` captures of the statement regexes
            rows = self.db.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608
            auto = [i for i, c in enumerate(table.columns) if c.auto_increment]
            if auto:
                top = max((r[auto[0]] or 0 for r in rows), default=0)
                table.next_id = max(table.next_id, top + 1) if rows else table.next_id
            self.schema_path(name).write_text(table.create_sql(self.flavour) + "\n")
            with self.rows_path(name).open("w") as handle:
                for statement in insert_statements(name, rows, self.flavour.multiline_inserts):
                    handle.write(statement)
        self.touched.clear()

    def close(self) -> None:
        self.flush()
        if self.db is not None:
            self.db.close()
            self.db = None


def insert_statements(name: str, rows: list[tuple], multiline: bool = False) -> Iterator[str]:
    """Extended INSERTs of at most ~1 MB each (mysqldump's default net buffer); MariaDB
    puts each row on a line of its own."""
    head = f"INSERT INTO `{name}` VALUES" + ("\n" if multiline else " ")
    separator = ",\n" if multiline else ","
    chunk: list[str] = []
    size = 0
    for row in rows:
        text = "(" + ",".join(literal(v) for v in row) + ")"
        if chunk and size + len(text) > ROWS_PER_STATEMENT_BYTES:
            yield head + separator.join(chunk) + ";\n"
            chunk, size = [], 0
        chunk.append(text)
        size += len(text) + 1
    if chunk:
        yield head + separator.join(chunk) + ";\n"


# -- statements -----------------------------------------------------------------------------------
NOOP_RE = re.compile(
    r"^\s*(/\*M?!.*\*/|lock\s+tables|unlock\s+tables|set\s|use\s|start\s+transaction|begin|commit)",
    re.I | re.S,
)
# mysqldump's own INSERT form (as this module writes it): kept verbatim, never parsed
FAST_INSERT_RE = re.compile(rb"^INSERT INTO `(\w+)` VALUES[ \n]\(")
DROP_RE = re.compile(rf"^\s*drop\s+table\s+(if\s+exists\s+)?{NAME}\s*;?\s*$", re.I)
TABLE_REF_RE = re.compile(rf"\b(?:from|into|update|join)\s+{NAME}", re.I)
WRITE_RE = re.compile(rf"^\s*(?:insert\s+into|update|delete\s+from|replace\s+into)\s+{NAME}", re.I)
KEYWORDS = ("select", "insert", "update", "delete", "replace", "show", "create", "drop", "alter",
            "truncate", "describe", "desc", "explain")


@dataclass
class Result:
    """What one statement produced: a result set, an affected-row count, or nothing."""

    names: list[str] | None = None
    rows: list[tuple] = field(default_factory=list)
    affected: int | None = None


class Executor:
    """Runs statements against a :class:`Store` with MySQL's error texts."""

    def __init__(self, store: Store, count_rows: bool = False) -> None:
        self.store, self.flavour = store, store.flavour
        self.database = store.service.database
        self.count_rows = count_rows  # "Query OK, N rows affected" is only shown on a TTY

    def run(self, statement: bytes) -> Iterator[Result]:
        """What the client sends for one input statement: a dump's INSERT as it is, other
        text split on every ``;`` outside quotes (``SELECT 1; SELECT 2;`` is two)."""
        if FAST_INSERT_RE.match(statement):
            yield self.execute(statement)
            return
        for part in split_sql(statement.decode(errors="replace")):
            yield self.execute(part)

    def execute(self, statement: str | bytes) -> Result:
        """One statement; a dump's INSERT arrives as bytes and is stored undecoded."""
        if isinstance(statement, bytes):
            fast = FAST_INSERT_RE.match(statement)
            if fast and self.store.db is None:
                name = fast.group(1).decode()
                self.require_table(name)
                self.store.append_rows(name, statement)
                return Result(affected=statement.count(b"),(") + 1 if self.count_rows else 0)
            statement = statement.decode(errors="replace")
        text = statement.strip()
        if not text or NOOP_RE.match(text):
            return Result()
        first = text.split(None, 1)[0].lower().rstrip(";")
        if first not in KEYWORDS:
            raise syntax_error(self.flavour, text)
        if first == "create":
            return self.create(text)
        drop = DROP_RE.match(text)
        if drop:
            return self.drop(bool(drop.group(1)), drop.group(2))
        if first == "show":
            return self.show(text)
        return self.through_sqlite(text)

    def require_table(self, name: str) -> None:
        if not self.store.exists(name):
            raise MySQLError(1146, "42S02", f"Table '{self.database}.{name}' doesn't exist")

    def create(self, text: str) -> Result:
        if not re.match(r"^create\s+table\b", text, re.I):
            raise syntax_error(self.flavour, text)
        table, if_not_exists = parse_create(text, self.flavour)
        if self.store.exists(table.name):
            if if_not_exists:
                return Result(affected=0)
            raise MySQLError(1050, "42S01", f"Table '{table.name}' already exists")
        self.store.create(table)
        return Result(affected=0)

    def drop(self, if_exists: bool, name: str) -> Result:
        if not self.store.exists(name):
            if if_exists:
                return Result(affected=0)
            raise MySQLError(1051, "42S02", f"Unknown table '{self.database}.{name}'")
        self.store.drop(name)
        return Result(affected=0)

    def show(self, text: str) -> Result:
        words = text.rstrip(";").split()
        if [w.lower() for w in words[1:]] == ["tables"]:
            return Result([f"Tables_in_{self.database}"], [(n,) for n in self.store.names()])
        if [w.lower() for w in words[1:]] == ["databases"]:
            names = ["information_schema", self.database, "performance_schema"]
            return Result(["Database"], [(n,) for n in names])
        raise syntax_error(self.flavour, text)

    def through_sqlite(self, text: str) -> Result:
        for name in TABLE_REF_RE.findall(text):
            self.require_table(name)
        db = self.store.sqlite()
        sql = to_sqlite(text.rstrip().rstrip(";"))
        sql = re.sub(r"\bversion\(\)", f"'{self.flavour.server_version}'", sql, flags=re.I)
        sql = re.sub(r"\bdatabase\(\)", f"'{self.database}'", sql, flags=re.I)
        try:
            cursor = db.execute(sql)
        except sqlite3.Error as error:
            raise self.translate(error, text) from None
        written = WRITE_RE.match(text)
        if written:
            self.store.touched.add(written.group(1))
            self.store.write_back()
            return Result(affected=cursor.rowcount)
        names = [d[0] for d in cursor.description or []]
        return Result(names, cursor.fetchall())

    def translate(self, error: sqlite3.Error, text: str) -> MySQLError:
        message = str(error)
        column = re.search(r"no such column: (\S+)", message)
        if column:
            return MySQLError(1054, "42S22", f"Unknown column '{column.group(1)}' in 'field list'")
        if "UNIQUE constraint failed" in message:
            return MySQLError(1062, "23000", "Duplicate entry for key 'PRIMARY'")
        if "NOT NULL constraint failed" in message:
            name = message.rsplit(".", 1)[-1]
            return MySQLError(1048, "23000", f"Column '{name}' cannot be null")
        return syntax_error(self.flavour, text)


# -- the client: statements from a stream --------------------------------------------------------
def split_sql(text: str) -> list[str]:
    """Statements of a line of SQL: ``;`` ends one unless inside '…', "…" or `…`
    (backslash escapes honoured, as in MySQL string literals)."""
    parts, current, quote, escaped = [], [], "", False
    for char in text:
        current.append(char)
        if escaped:
            escaped = False
        elif quote:
            if char == "\\" and quote != "`":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == ";":
            parts.append("".join(current))
            current = []
    rest = "".join(current)
    if rest.strip():
        parts.append(rest)
    return parts


ESCAPED_RE = re.compile(rb"\\.", re.S)


def statements(stream) -> Iterator[tuple[bytes, int]]:
    """(statement bytes, line number of its end) from a binary stream, line by line: a
    statement ends with ``;`` at the end of a line outside a string literal.  Comment
    lines between statements are skipped.  A line that is a whole mysqldump INSERT
    (``INSERT INTO `t` VALUES (…);``, its strings' newlines escaped) is passed on
    without looking at its characters: a 1 GiB dump streams at disk speed."""
    pending: list[bytes] = []
    open_quote = dump_rows = False
    number = 0
    for line in iter(stream.readline, b""):
        number += 1
        if pending and dump_rows and line.startswith(b"(") and line.endswith((b"),\n", b");\n")):
            pending.append(line)  # MariaDB's row-per-line INSERT: a whole row, escaped
            if line.endswith(b";\n"):
                yield b"".join(pending), number
                pending, dump_rows = [], False
            continue
        if not pending:
            if line.startswith(b"INSERT INTO `") and line.endswith(b");\n"):
                yield line, number
                continue
            dump_rows = line.startswith(b"INSERT INTO `") and line.endswith(b"` VALUES\n")
            stripped = line.strip()
            if not stripped or stripped.startswith((b"--", b"#")):
                continue
            if stripped.startswith(b"/*") and stripped.endswith(b"*/"):
                continue  # MariaDB's sandbox-mode line, plain comments
        pending.append(line)
        if b"'" in line:
            quotes = ESCAPED_RE.sub(b"", line).count(b"'")
            open_quote ^= bool(quotes % 2)
        if not open_quote and line.rstrip().endswith(b";"):
            yield b"".join(pending), number
            pending = []
    if pending and b"".join(pending).strip():
        yield b"".join(pending), number


def format_table(result: Result) -> str:
    """The interactive client's boxed result set."""
    names = result.names or []
    cells = [[batch_value(v) for v in row] for row in result.rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"
    out = rule + "|" + "|".join(f" {n:<{w}} " for n, w in zip(names, widths, strict=True)) + "|\n"
    out += rule
    for row in cells:
        out += "|" + "|".join(f" {v:<{w}} " for v, w in zip(row, widths, strict=True)) + "|\n"
    count = len(cells)
    return out + rule + f"{count} row{'s' if count != 1 else ''} in set (0.00 sec)\n\n"


def interactive_text(result: Result) -> str:
    if result.names is not None:
        return format_table(result) if result.rows else "Empty set (0.00 sec)\n\n"
    count = result.affected or 0
    return f"Query OK, {count} row{'s' if count != 1 else ''} affected (0.00 sec)\n\n"


def batch_text(result: Result) -> str:
    if result.names is None:
        return ""
    lines = ["\t".join(result.names)]
    lines += ["\t".join(batch_value(v) for v in row) for row in result.rows]
    return "\n".join(lines) + "\n"


# -- the engine -------------------------------------------------------------------------------------
class MySQLEngine:
    """``mysql:*`` / ``mariadb:*`` inside the service container."""

    def __init__(self, stype: ServiceType) -> None:
        self.stype = stype
        self.flavour = FLAVOURS[stype.kind]

    def init_service(self, service: Service, env: dict[str, str]) -> None:
        (service.data_dir / service.database).mkdir(parents=True, exist_ok=True)

    def create_database(self, service: Service) -> bool:
        return True

    def log_container_start(self, service: Service, env: dict[str, str], fresh: bool) -> None:
        stamp = log_stamp(now(env))
        name = "mysqld" if self.flavour is MYSQL_FLAVOUR else "mariadbd"
        lines = []
        if fresh and not service.read(".sim/initialized"):
            lines.append(f"{stamp} 0 [Note] [Entrypoint]: Initializing database files")
            lines.append(f"{stamp} 0 [Note] [Entrypoint]: Creating database {service.database}")
            lines.append(f"{stamp} 0 [Note] [Entrypoint]: Creating user {self.flavour.user}")
            lines.append(f"{stamp} 0 [Note] [Entrypoint]: Giving user {self.flavour.user} "
                         f"access to schema {service.database}")
            service.write(".sim/initialized", "yes\n")
        lines.append(f"{stamp} 0 [System] [MY-010116] [Server] /usr/sbin/{name} "
                     f"(mysqld {self.flavour.server_version}) starting as process 1")
        lines.append(f"{stamp} 0 [System] [MY-010931] [Server] /usr/sbin/{name}: ready for "
                     "connections. Version: '" + self.flavour.server_version + "'  socket: "
                     "'/var/run/mysqld/mysqld.sock'  port: 3306")
        service.log("\n".join(lines) + "\n")

    def log_container_stop(self, service: Service, env: dict[str, str]) -> None:
        stamp = log_stamp(now(env))
        service.log(f"{stamp} 0 [System] [MY-013172] [Server] Received SHUTDOWN from user "
                    "<via user signal>. Shutting down mysqld.\n")

    def warn_password(self, ctx: Ctx, tool: str) -> None:
        if self.flavour.password_warning:
            ctx.err(f"{tool}: [Warning] Using a password on the command line interface "
                    "can be insecure.")

    def connect(self, ctx: Ctx, service: Service, admin: bool = False) -> int:
        """The client in batch mode (stdin not a TTY) or as the interactive monitor."""
        from pruvon_testing.sim.services_engines import is_tty

        self.warn_password(ctx, self.flavour.client)
        with service.state.lock():
            store = Store(service, self.flavour)
        try:
            if is_tty(ctx):
                return self.interactive(ctx, store)
            return self.run_batch(ctx, store)
        finally:
            store.close()

    def run_batch(self, ctx: Ctx, store: Store) -> int:
        """``mysql < file``: statements in order, stop at the first error (exit 1)."""
        executor = Executor(store)
        for statement, line in statements(ctx.stdin):
            try:
                for result in executor.run(statement):
                    text = batch_text(result)
                    if text:
                        ctx.stdout.write(text.encode())
            except MySQLError as error:
                store.write_back()
                ctx.err(error.render(line).rstrip("\n"))
                return 1
        store.write_back()
        ctx.stdout.flush()
        return 0

    def interactive(self, ctx: Ctx, store: Store) -> int:
        """The monitor on a terminal: banner, prompts, boxed results, errors keep going."""
        executor = Executor(store, count_rows=True)
        prompt = self.flavour.prompt.format(db=store.service.database)
        write = lambda text: (ctx.stdout.write(text.encode()), ctx.stdout.flush())  # noqa: E731
        write(self.flavour.banner)
        buffer = ""
        while True:
            write(prompt if not buffer.strip() else "    -> ")
            line = ctx.stdin.readline()
            if not line:
                write("Bye\n")
                return 0
            text = line.decode(errors="replace")
            if not buffer.strip() and text.strip().rstrip(";").lower() in ("quit", "exit", "\\q"):
                write("Bye\n")
                return 0
            buffer += text
            if not buffer.rstrip().endswith(";"):
                continue
            try:
                for result in executor.run(buffer.encode()):
                    write(interactive_text(result))
            except MySQLError as error:
                write(error.render(None))
            buffer = ""

    def export(self, ctx: Ctx, service: Service) -> int:
        self.warn_password(ctx, self.flavour.dump_tool)
        with service.state.lock():
            for chunk in self.dump_chunks(service, now(ctx.env)):
                ctx.stdout.write(chunk)
        ctx.stdout.flush()
        return 0

    def dump_chunks(self, service: Service, moment: float) -> Iterator[bytes]:
        """The dump as mysqldump writes it; table rows are streamed from their files."""
        store = Store(service, self.flavour)
        yield self.dump_header(service.database).encode()
        for name in store.names():
            yield table_head(name, store.schema_path(name).read_text(), self.flavour).encode()
            with store.rows_path(name).open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    yield chunk
            yield (f"/*!40000 ALTER TABLE `{name}` ENABLE KEYS */;\nUNLOCK TABLES;\n").encode()
        yield dump_footer(self.flavour, moment).encode()

    def dump_header(self, database: str) -> str:
        return (
            self.flavour.dump_header
            + "--\n"
            + f"-- Host: localhost    Database: {database}\n"
            + "-- ------------------------------------------------------\n"
            + f"-- Server version\t{self.flavour.server_version}\n\n"
            + "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
            + "/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;\n"
            + "/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n"
            + f"/*!{self.flavour.set_names_version} SET NAMES utf8mb4 */;\n"
            + "/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n"
            + "/*!40103 SET TIME_ZONE='+00:00' */;\n"
            + "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n"
            + "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
            + "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
            + self.flavour.notes_set + "\n"
        )

    def export_size(self, service: Service, env: dict[str, str]) -> int:
        return sum(len(chunk) for chunk in self.dump_chunks(service, now(env)))

    def import_(self, ctx: Ctx, service: Service) -> int:
        """``<client> --user=… <db>`` reading stdin: empty input is a silent success."""
        from pruvon_testing.sim.services_commands import docker_exec_check

        docker_exec_check(ctx, service)
        return self.connect(ctx, service)

    def copy_data(self, source: Service, target: Service, env: dict[str, str]) -> None:
        """``clone``: export piped into import (output suppressed by the plugin)."""
        store = Store(target, self.flavour)
        executor = Executor(store)
        reader = _ChunkReader(self.dump_chunks(source, now(env)))
        try:
            for statement, _line in statements(reader):
                for _result in executor.run(statement):
                    pass
        except MySQLError:
            pass  # the plugin pipes export|import with ``|| true`` and >/dev/null 2>&1
        finally:
            store.write_back()
            store.close()


def table_head(name: str, create: str, flavour: Flavour) -> str:
    """A table's section of the dump up to its INSERT statements."""
    charset = "/*!50503 SET character_set_client = utf8mb4 */;\n"
    if flavour.int_widths:
        charset = "/*!40101 SET character_set_client = utf8mb4 */;\n"
    return (
        f"\n--\n-- Table structure for table `{name}`\n--\n\n"
        f"DROP TABLE IF EXISTS `{name}`;\n"
        "/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
        + charset
        + create.rstrip("\n") + "\n"
        + "/*!40101 SET character_set_client = @saved_cs_client */;\n\n"
        f"--\n-- Dumping data for table `{name}`\n--\n\n"
        f"LOCK TABLES `{name}` WRITE;\n"
        f"/*!40000 ALTER TABLE `{name}` DISABLE KEYS */;\n"
    )


def dump_footer(flavour: Flavour, moment: float) -> str:
    when = datetime.fromtimestamp(moment, UTC)
    stamp = when.strftime(flavour.completed_format.format(hour=when.hour))
    return (
        "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n"
        "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
        "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n"
        "/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n"
        "/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n"
        "/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;\n"
        "/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n"
        f"{flavour.notes_restore}\n\n"
        f"-- Dump completed on {stamp}\n"
    )


def log_stamp(moment: float) -> str:
    """``2026-12-03T12:00:00.123456Z`` as in mysqld's error log."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _ChunkReader:
    """``readline`` over an iterator of byte chunks (export piped into import)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.buffer = chunks, b""

    def readline(self) -> bytes:
        while b"\n" not in self.buffer:
            chunk = next(self.chunks, b"")
            if not chunk:
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"
