"""The MongoDB engine behind ``mongo:*``: BSON collections, mongodump archives, mongosh.

Each collection of the service database is a file of concatenated BSON documents
under ``data/<database>/<collection>.bson`` - the same bytes a ``mongodump``
archive carries - with a small ``.meta.json`` (document count and the running
CRC-64-ECMA of those bytes, which the archive's EOF header holds).  So
``:export`` (``mongodump --gzip --archive``: the gzip of an archive that starts
with the magic 0x8199e26d, little-endian bytes ``6d e2 99 81``) streams the files,
and ``:import`` (``mongorestore --gzip --archive``) appends the documents of each
namespace segment to the file as they arrive: nothing is held whole in memory and
export -> import -> export gives the same archive.  ``:connect`` answers a small
``mongosh`` subset (``db.runCommand({ping: 1})``, ``db.stats()``, insert/find/count/
delete/drop, ``show collections``).
"""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pruvon_testing.sim.binreader import read_up_to
from pruvon_testing.sim.core import Ctx
from pruvon_testing.sim.services_rdb import crc64, crc64_table
from pruvon_testing.sim.services_store import Service, now
from pruvon_testing.sim.services_types import ServiceType

MAGIC = struct.pack("<I", 0x8199E26D)  # bytes 6d e2 99 81
TERMINATOR = b"\xff\xff\xff\xff"
SERVER_VERSION = "8.2.9"
TOOL_VERSION = "100.13.0"
MONGOSH_VERSION = "2.5.10"
ECMA_TABLE = crc64_table(0xC96C5795D7870F42)  # Go's crc64.ECMA
MASK = (1 << 64) - 1
SEGMENT_BYTES = 1 << 20  # documents per namespace segment, as mongodump's buffer


class MongoError(Exception):
    """A mongosh / mongorestore error line."""


# -- BSON ----------------------------------------------------------------------------------------
class ObjectId(str):
    """24 hex digits; printed ``ObjectId('…')``."""

    @classmethod
    def new(cls, moment: float) -> ObjectId:
        return cls(struct.pack(">I", int(moment)).hex() + os.urandom(8).hex())


class Long(int):
    """An int64 (BSON 0x12), printed ``Long('…')`` by mongosh."""


def encode_doc(doc: dict) -> bytes:
    body = b"".join(encode_element(str(k), v) for k, v in doc.items())
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def encode_element(key: str, value: object) -> bytes:
    name = key.encode() + b"\x00"
    if isinstance(value, bool):
        return b"\x08" + name + (b"\x01" if value else b"\x00")
    if isinstance(value, ObjectId):
        return b"\x07" + name + bytes.fromhex(value)
    if isinstance(value, Long):
        return b"\x12" + name + struct.pack("<q", value)
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return b"\x10" + name + struct.pack("<i", value)
        return b"\x12" + name + struct.pack("<q", value)
    if isinstance(value, float):
        return b"\x01" + name + struct.pack("<d", value)
    if isinstance(value, str):
        raw = value.encode() + b"\x00"
        return b"\x02" + name + struct.pack("<i", len(raw)) + raw
    if isinstance(value, dict):
        return b"\x03" + name + encode_doc(value)
    if isinstance(value, list):
        return b"\x04" + name + encode_doc({str(i): v for i, v in enumerate(value)})
    if isinstance(value, datetime):
        return b"\x09" + name + struct.pack("<q", int(value.timestamp() * 1000))
    if value is None:
        return b"\x0a" + name
    raise MongoError(f"cannot store a {type(value).__name__}")


def decode_doc(data: bytes, pos: int = 0) -> tuple[dict, int]:
    """(document, position after it)."""
    (size,) = struct.unpack_from("<i", data, pos)
    end, pos, doc = pos + size, pos + 4, {}
    while data[pos] != 0:
        kind = data[pos]
        key_end = data.index(b"\x00", pos + 1)
        key = data[pos + 1 : key_end].decode()
        doc[key], pos = decode_value(kind, data, key_end + 1)
    return doc, end


def decode_value(kind: int, data: bytes, pos: int) -> tuple[object, int]:
    if kind == 0x01:
        return struct.unpack_from("<d", data, pos)[0], pos + 8
    if kind == 0x02:
        (length,) = struct.unpack_from("<i", data, pos)
        return data[pos + 4 : pos + 3 + length].decode(), pos + 4 + length
    if kind in (0x03, 0x04):
        doc, end = decode_doc(data, pos)
        return (doc if kind == 0x03 else list(doc.values())), end
    if kind == 0x07:
        return ObjectId(data[pos : pos + 12].hex()), pos + 12
    if kind == 0x08:
        return data[pos] == 1, pos + 1
    if kind == 0x09:
        millis = struct.unpack_from("<q", data, pos)[0]
        return datetime.fromtimestamp(millis / 1000, UTC), pos + 8
    if kind == 0x0A:
        return None, pos
    if kind == 0x10:
        return struct.unpack_from("<i", data, pos)[0], pos + 4
    if kind == 0x12:
        return Long(struct.unpack_from("<q", data, pos)[0]), pos + 8
    if kind == 0x05:
        (length,) = struct.unpack_from("<i", data, pos)
        return data[pos + 5 : pos + 5 + length], pos + 5 + length
    raise MongoError(f"unsupported BSON type 0x{kind:02x}")


def read_doc_bytes(stream) -> bytes | None:
    """One BSON document (or the terminator) from a stream; None at the end."""
    head = read_exact(stream, 4)
    if not head:
        return None
    if head == TERMINATOR:
        return head
    (size,) = struct.unpack("<i", head)
    if size < 5:
        raise MongoError("corruption found in archive; invalid BSON length")
    return head + read_exact(stream, size - 4, required=True)


def read_exact(stream, count: int, required: bool = False) -> bytes:
    data = read_up_to(stream, count)
    if required and len(data) < count:
        raise MongoError("unexpected EOF")
    return data


# -- mongosh values --------------------------------------------------------------------------------
TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<name>[A-Za-z_$][\w$]*)|(?P<punct>[{}\[\]():,.]))"
)


class Parser:
    """A JavaScript literal subset: objects, arrays, strings, numbers, true/false/null,
    ``ObjectId('…')``, ``new Date()``/``ISODate('…')``, ``Long('…')``."""

    def __init__(self, text: str, moment: float) -> None:
        self.tokens = [
            (m.lastgroup, m.group(m.lastgroup)) for m in TOKEN_RE.finditer(text) if m.lastgroup
        ]
        if "".join(t[1] for t in self.tokens).replace(" ", "") != re.sub(r"\s+", "", text):
            raise MongoError("SyntaxError: Unexpected token")
        self.pos, self.moment = 0, moment

    def peek(self) -> str:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise MongoError("SyntaxError: Unexpected end of input")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise MongoError(f"SyntaxError: Unexpected token '{token[1]}'")
        self.pos += 1
        return token

    def value(self) -> object:
        kind, text = self.take()
        if text == "{":
            return self.object()
        if text == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return items
        if kind == "num":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "str":
            return json.loads('"' + text[1:-1].replace('"', '\\"').replace("\\'", "'") + '"')
        if kind == "name":
            return self.named(text)
        raise MongoError(f"SyntaxError: Unexpected token '{text}'")

    def named(self, name: str) -> object:
        constants = {"true": True, "false": False, "null": None}
        if name in constants:
            return constants[name]
        if name == "new":
            name = self.take()[1]
        if name in ("ObjectId", "Date", "ISODate", "Long", "NumberLong", "NumberInt"):
            self.take("(")
            arg = self.value() if self.peek() != ")" else None
            self.take(")")
            if name == "ObjectId":
                return ObjectId(arg) if arg else ObjectId.new(self.moment)
            if name in ("Long", "NumberLong"):
                return Long(int(arg or 0))
            if name == "NumberInt":
                return int(arg or 0)
            if arg is None:
                return datetime.fromtimestamp(int(self.moment * 1000) / 1000, UTC)
            return datetime.fromisoformat(str(arg).replace("Z", "+00:00"))
        raise MongoError(f"ReferenceError: {name} is not defined")

    def object(self) -> dict:
        doc: dict = {}
        while self.peek() != "}":
            kind, key = self.take()
            if kind == "str":
                key = key[1:-1]
            elif kind not in ("name", "num"):
                raise MongoError(f"SyntaxError: Unexpected token '{key}'")
            self.take(":")
            doc[key] = self.value()
            if self.peek() == ",":
                self.take()
        self.take("}")
        return doc

    def arguments(self) -> list[object]:
        args = []
        while self.peek() != ")":
            args.append(self.value())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return args


def show(value: object, indent: int = 0) -> str:
    """mongosh's inspect output: single quotes, bare keys, ``ObjectId('…')``."""
    if isinstance(value, ObjectId):
        return f"ObjectId('{value}')"
    if isinstance(value, Long):
        return f"Long('{int(value)}')"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return f"ISODate('{value.strftime('%Y-%m-%dT%H:%M:%S.')}{value.microsecond // 1000:03d}Z')"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a JavaScript number
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[ " + ", ".join(show(v, indent) for v in value) + " ]" if value else "[]"
    if isinstance(value, dict):
        parts = [f"{show_key(k)}: {show(v, indent + 2)}" for k, v in value.items()]
        flat = "{ " + ", ".join(parts) + " }" if parts else "{}"
        if len(flat) + indent <= 72:
            return flat
        pad = " " * (indent + 2)
        return "{\n" + ",\n".join(pad + p for p in parts) + "\n" + " " * indent + "}"
    return str(value)


def show_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z_$][\w$]*$", key) else f"'{key}'"


def matches(doc: dict, query: dict) -> bool:
    return all(doc.get(key) == value for key, value in query.items())


# -- the service database ----------------------------------------------------------------------------
class Collections:
    """The BSON files of one service database."""

    def __init__(self, service: Service) -> None:
        self.dir = service.data_dir / service.database
        self.dir.mkdir(parents=True, exist_ok=True)
        self.database = service.database

    def path(self, name: str) -> Path:
        return self.dir / f"{name}.bson"

    def names(self) -> list[str]:
        return sorted(p.name[: -len(".bson")] for p in self.dir.glob("*.bson"))

    def meta(self, name: str) -> dict:
        try:
            return json.loads((self.dir / f"{name}.meta.json").read_text())
        except FileNotFoundError:
            return {"count": 0, "crc": MASK}

    def set_meta(self, name: str, meta: dict) -> None:
        (self.dir / f"{name}.meta.json").write_text(json.dumps(meta))

    def append(self, name: str, raw_docs: list[bytes]) -> None:
        """Documents at the end of the collection (mongosh writes); the running CRC
        (the register, pre-inverted as Go's crc64 does) follows them."""
        meta = self.meta(name)
        with self.path(name).open("ab") as handle:
            for raw in raw_docs:
                handle.write(raw)
                meta["crc"] = crc64(raw, meta["crc"], ECMA_TABLE)
                meta["count"] += 1
        self.set_meta(name, meta)

    def documents(self, name: str) -> Iterator[dict]:
        path = self.path(name)
        if not path.exists():
            return
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            doc, pos = decode_doc(data, pos)
            yield doc

    def rewrite(self, name: str, docs: list[dict]) -> None:
        self.drop(name)
        self.path(name).write_bytes(b"")
        self.append(name, [encode_doc(d) for d in docs])

    def drop(self, name: str) -> bool:
        existed = self.path(name).exists()
        self.path(name).unlink(missing_ok=True)
        (self.dir / f"{name}.meta.json").unlink(missing_ok=True)
        return existed

    def crc(self, name: str) -> int:
        return self.meta(name)["crc"] ^ MASK


# -- mongosh ------------------------------------------------------------------------------------------
CALL_RE = re.compile(r"^db\.(?:(\w+)\.)?(\w+)\((.*)\)\s*;?$", re.S)


class Shell:
    """One mongosh session against :class:`Collections`."""

    def __init__(self, store: Collections, moment: float) -> None:
        self.store, self.moment = store, moment

    def evaluate(self, line: str) -> str:
        text = line.strip().rstrip(";").strip()
        if not text:
            return ""
        if text in ("show collections", "show tables"):
            return "\n".join(self.store.names())
        if text == "show dbs":
            size = sum(self.store.path(n).stat().st_size for n in self.store.names())
            return f"{self.store.database}  {max(size, 8192) / 1024:.2f} KiB"
        if text in ("db", "db.getName()"):
            return self.store.database
        call = CALL_RE.match(text)
        if not call:
            name = re.match(r"^[A-Za-z_$][\w$]*", text)
            if name and name.group(0) != "db":
                raise MongoError(f"ReferenceError: {name.group(0)} is not defined")
            raise MongoError("SyntaxError: Unexpected token")
        collection, method, rest = call.groups()
        parser = Parser(rest + ")", self.moment)
        args = parser.arguments()
        if collection is None:
            return self.database_method(method, args)
        return self.collection_method(collection, method, args)

    def database_method(self, method: str, args: list) -> str:
        if method in ("runCommand", "adminCommand") and args and isinstance(args[0], dict):
            command = next(iter(args[0]), "")
            if command in ("ping", "ismaster", "isMaster", "hello"):
                return show({"ok": 1})
            raise MongoError(f"MongoServerError[CommandNotFound]: no such command: '{command}'")
        if method == "stats":
            return show(self.stats())
        if method in ("getCollectionNames",):
            return show(self.store.names())
        raise MongoError(f"TypeError: db.{method} is not a function")

    def stats(self) -> dict:
        names = self.store.names()
        objects = sum(self.store.meta(n)["count"] for n in names)
        size = sum(self.store.path(n).stat().st_size for n in names)
        return {
            "db": self.store.database,
            "collections": Long(len(names)),
            "views": Long(0),
            "objects": Long(objects),
            "avgObjSize": size / objects if objects else 0,
            "dataSize": size,
            "storageSize": 4096 * len(names) + 4096 * bool(names),
            "indexes": Long(len(names)),
            "indexSize": 4096 * len(names),
            "totalSize": 8192 * len(names) + 4096 * bool(names),
            "scaleFactor": Long(1),
            "ok": 1,
        }

    def collection_method(self, name: str, method: str, args: list) -> str:
        store = self.store
        if method in ("insertOne", "insertMany"):
            docs = args[0] if method == "insertMany" else [args[0]]
            if not args or not all(isinstance(d, dict) for d in docs):
                raise MongoError(f"MongoInvalidArgumentError: Argument of {method} must be valid")
            ids = []
            for doc in docs:
                doc.setdefault("_id", ObjectId.new(self.moment))
                ids.append(doc["_id"])
            store.append(name, [encode_doc({"_id": d.pop("_id"), **d}) for d in docs])
            if method == "insertOne":
                return show({"acknowledged": True, "insertedId": ids[0]})
            return show({"acknowledged": True, "insertedIds": {str(i): v for i, v in enumerate(ids)}})
        query = args[0] if args and isinstance(args[0], dict) else {}
        docs = [d for d in store.documents(name) if matches(d, query)]
        if method == "find":
            return "[\n" + ",\n".join("  " + show(d, 2) for d in docs) + "\n]" if docs else ""
        if method == "findOne":
            return show(docs[0]) if docs else "null"
        if method in ("countDocuments", "count"):
            return str(len(docs))
        if method in ("deleteMany", "deleteOne"):
            gone = docs if method == "deleteMany" else docs[:1]
            keep = [d for d in store.documents(name) if not any(d is g or d == g for g in gone)]
            store.rewrite(name, keep)
            return show({"acknowledged": True, "deletedCount": len(gone)})
        if method == "drop":
            return "true" if store.drop(name) else "false"
        raise MongoError(f"TypeError: db.{name}.{method} is not a function")


# -- the engine --------------------------------------------------------------------------------------
def tool_stamp(moment: float) -> str:
    """mongo-tools' log prefix: ``2026-12-03T12:00:00.000+0000``."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


class MongoEngine:
    """``mongo:*`` inside the service container."""

    def __init__(self, stype: ServiceType) -> None:
        self.stype = stype

    def init_service(self, service: Service, env: dict[str, str]) -> None:
        Collections(service)

    def create_database(self, service: Service) -> bool:
        return True

    def log_line(self, moment: float, component: str, ident: int, msg: str, attr: dict) -> str:
        stamp = datetime.fromtimestamp(moment, UTC)
        date = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+00:00"
        record = {"t": {"$date": date}, "s": "I", "c": component, "id": ident,
                  "ctx": "initandlisten", "msg": msg, "attr": attr}
        return json.dumps(record, separators=(",", ":")) + "\n"

    def log_container_start(self, service: Service, env: dict[str, str], fresh: bool) -> None:
        moment = now(env)
        text = self.log_line(moment, "CONTROL", 4615611, "MongoDB starting",
                             {"pid": 1, "port": 27017, "dbPath": "/data/db", "architecture":
                              "64-bit", "host": self.stype.container_name(service.name)})
        text += self.log_line(moment, "CONTROL", 23403, "Build Info",
                              {"buildInfo": {"version": SERVER_VERSION}})
        text += self.log_line(moment, "NETWORK", 23016, "Waiting for connections",
                              {"port": 27017, "ssl": "off"})
        service.log(text)

    def log_container_stop(self, service: Service, env: dict[str, str]) -> None:
        moment = now(env)
        text = self.log_line(moment, "CONTROL", 23377, "Received signal",
                             {"signal": 15, "error": "Terminated"})
        text += self.log_line(moment, "CONTROL", 20565, "Now exiting", {})
        service.log(text)

    def connect(self, ctx: Ctx, service: Service, admin: bool = False) -> int:
        """mongosh: the connection banner, then a REPL that prints its ``<db>> `` prompt
        before every line it reads - also when stdin is a pipe (the input is not echoed
        then) - with results and errors on stdout; end of input ends it, exit 0.
        ``connect-admin`` connects as ``admin`` to the database named after the service."""
        database = service.name if admin else service.database
        shell = Shell(Collections(service), now(ctx.env))
        write = lambda text: (ctx.stdout.write(text.encode()), ctx.stdout.flush())  # noqa: E731
        write(f"Current Mongosh Log ID:\t{ObjectId.new(now(ctx.env))}\n"
              f"Connecting to:\t\tmongodb://<credentials>@127.0.0.1:27017/{database}"
              "?directConnection=true&serverSelectionTimeoutMS=2000"
              f"&authSource={'admin' if admin else database}&appName=mongosh+{MONGOSH_VERSION}\n"
              f"Using MongoDB:\t\t{SERVER_VERSION}\nUsing Mongosh:\t\t{MONGOSH_VERSION}\n\n"
              "For mongosh info see: https://www.mongodb.com/docs/mongodb-shell/\n\n")
        while True:
            write(f"{database}> ")
            line = ctx.stdin.readline()
            if not line:
                write("\n")
                return 0
            text = line.decode(errors="replace")
            if text.strip() in ("exit", "quit", "exit()", "quit()"):
                return 0
            try:
                with service.state.lock():
                    output = shell.evaluate(text)
            except MongoError as error:
                output = str(error)
            if output:
                write(output + "\n")

    def export(self, ctx: Ctx, service: Service) -> int:
        """``mongodump --gzip --archive`` (its own errors go to /dev/null in the plugin)."""
        for chunk in self.archive_chunks(service):
            ctx.stdout.write(chunk)
        ctx.stdout.flush()
        return 0

    def archive_chunks(self, service: Service) -> Iterator[bytes]:
        gzip = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip container, as Go's gzip.Writer
        for raw in self.archive(service):
            packed = gzip.compress(raw)
            if packed:
                yield packed
        yield gzip.flush()

    def archive(self, service: Service) -> Iterator[bytes]:
        store = Collections(service)
        database, names = service.database, store.names()
        yield MAGIC + encode_doc({
            "concurrent_collections": 4, "version": "0.1",
            "server_version": SERVER_VERSION, "tool_version": TOOL_VERSION,
        })
        for name in names:
            metadata = json.dumps({"indexes": [{"v": {"$numberInt": "2"}, "key": {"_id": {
                "$numberInt": "1"}}, "name": "_id_"}], "uuid": "", "collectionName": name,
                "type": "collection"}, separators=(",", ":"))
            size = store.path(name).stat().st_size
            yield encode_doc({"db": database, "collection": name, "metadata": metadata,
                              "size": size, "type": "collection"})
        yield TERMINATOR
        for name in names:
            header = encode_doc({"db": database, "collection": name, "EOF": False, "CRC": Long(0)})
            for segment in segments(store.path(name)):
                yield header + segment + TERMINATOR
            yield encode_doc({"db": database, "collection": name, "EOF": True,
                              "CRC": Long(signed(store.crc(name)))}) + TERMINATOR

    def export_size(self, service: Service, env: dict[str, str]) -> int:
        return sum(len(chunk) for chunk in self.archive_chunks(service))

    def import_(self, ctx: Ctx, service: Service) -> int:
        """``mongorestore --gzip --archive --nsFrom '$db$.$coll$' --nsTo '<db>.$coll$'``:
        progress lines on stderr; "Failed: …" and exit 1 for what is not such an archive."""
        from pruvon_testing.sim.services_commands import docker_exec_check

        docker_exec_check(ctx, service)
        log = lambda text: ctx.err(f"{tool_stamp(now(ctx.env))}\t{text}")  # noqa: E731
        try:
            restored = self.restore(_Gunzip(ctx.stdin), Collections(service), log)
        except MongoError as error:
            log(f"Failed: {error}")
            return 1
        log(f"{restored} document(s) restored successfully. 0 document(s) failed to restore.")
        return 0

    def restore(self, stream, store: Collections, log) -> int:
        """Namespace segments are appended to the collection files as they arrive; each
        EOF header's CRC (mongodump's, of that namespace's documents) is folded into the
        collection's running CRC, so no byte is checksummed in Python on the way in."""
        if read_exact(stream, 4) != MAGIC:
            raise MongoError("stream or file does not appear to be a mongodump archive")
        read_doc_bytes(stream)  # the header
        names = []
        while (raw := read_doc_bytes(stream)) not in (TERMINATOR, None):
            names.append(decode_doc(raw)[0]["collection"])
        log("preparing collections to restore from")
        for name in names:
            log(f"reading metadata for {store.database}.{name} from archive on stdin")
        with Restore(store, log) as restore:
            current = None
            while (raw := read_doc_bytes(stream)) is not None:
                if raw == TERMINATOR:
                    current = None
                elif current is None:
                    header = decode_doc(raw)[0]
                    current = header["collection"]
                    if header.get("EOF"):
                        restore.finish(current, int(header.get("CRC", 0)))
                else:
                    restore.add(current, raw)
        for name in names:
            log(f"no indexes to restore for collection {store.database}.{name}")
        return sum(restore.counts.values())

    def copy_data(self, source: Service, target: Service, env: dict[str, str]) -> None:
        """``clone``: export piped into import (output suppressed by the plugin)."""
        import io
        from contextlib import suppress

        data = b"".join(self.archive_chunks(source))
        # the plugin pipes export|import with ``|| true`` and >/dev/null 2>&1
        with suppress(MongoError):
            self.restore(_Gunzip(io.BytesIO(data)), Collections(target), lambda _text: None)


class Restore:
    """The collections one mongorestore run writes: open files, counts, bytes."""

    def __init__(self, store: Collections, log) -> None:
        self.store, self.log = store, log
        self.handles: dict[str, BinaryIO] = {}
        self.counts: dict[str, int] = {}
        self.sizes: dict[str, int] = {}

    def __enter__(self) -> Restore:
        return self

    def add(self, name: str, raw: bytes) -> None:
        handle = self.handles.get(name)
        if handle is None:
            self.log(f"restoring {self.store.database}.{name} from archive on stdin")
            handle = self.handles[name] = self.store.path(name).open("ab")
            self.counts[name], self.sizes[name] = 0, 0
        handle.write(raw)
        self.counts[name] += 1
        self.sizes[name] += len(raw)

    def finish(self, name: str, checksum: int) -> None:
        """EOF of a namespace: fold its documents' CRC and count into the collection."""
        handle = self.handles.pop(name, None)
        if handle is not None:
            handle.close()
        count, size = self.counts.get(name, 0), self.sizes.get(name, 0)
        meta = self.store.meta(name)
        before = meta["crc"] ^ MASK
        meta["crc"] = crc64_combine(before, checksum & MASK, size) ^ MASK
        meta["count"] += count
        self.store.set_meta(name, meta)
        self.sizes[name] = 0
        self.log(f"finished restoring {self.store.database}.{name} ({count} document"
                 f"{'s' if count != 1 else ''}, 0 failures)")

    def __exit__(self, *exc: object) -> None:
        """A namespace cut off before its EOF: its documents are there, checksum them."""
        for name, handle in list(self.handles.items()):
            handle.close()
            size = self.sizes[name]
            path = self.store.path(name)
            with path.open("rb") as source:
                source.seek(path.stat().st_size - size)
                tail_crc = crc64(source.read(), MASK, ECMA_TABLE) ^ MASK
            meta = self.store.meta(name)
            meta["crc"] = crc64_combine(meta["crc"] ^ MASK, tail_crc, size) ^ MASK
            meta["count"] += self.counts[name]
            self.store.set_meta(name, meta)
        self.handles.clear()


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, index = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector >>= 1
        index += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


def crc64_combine(crc1: int, crc2: int, length2: int) -> int:
    """CRC-64-ECMA of A+B from CRC(A), CRC(B) and len(B) (zlib's crc32_combine method:
    length2 zero bytes applied to crc1 with squared one-zero-bit operators)."""
    operator = [0xC96C5795D7870F42] + [1 << n for n in range(63)]  # one zero bit
    for _ in range(3):
        operator = _gf2_square(operator)  # 2, 4, 8 zero bits: one zero byte
    while length2:
        if length2 & 1:
            crc1 = _gf2_times(operator, crc1)
        length2 >>= 1
        if length2:
            operator = _gf2_square(operator)
    return crc1 ^ crc2


def segments(path: Path) -> Iterator[bytes]:
    """Whole documents of a collection file in runs of about ``SEGMENT_BYTES``."""
    with path.open("rb") as handle:
        run: list[bytes] = []
        size = 0
        while (raw := read_doc_bytes(handle)) is not None:
            run.append(raw)
            size += len(raw)
            if size >= SEGMENT_BYTES:
                yield b"".join(run)
                run, size = [], 0
        if run:
            yield b"".join(run)


def signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


class _Gunzip:
    """A ``read(n)`` stream of the gunzipped input, read in chunks (Go's gzip.Reader
    errors: ``EOF`` for empty input, ``gzip: invalid header`` for anything else)."""

    def __init__(self, raw) -> None:
        self.raw, self.buffer, self.offset, self.started = raw, b"", 0, False
        self.inflate = zlib.decompressobj(31)

    def read(self, count: int) -> bytes:
        while len(self.buffer) - self.offset < count:
            self.buffer, self.offset = self.buffer[self.offset :], 0
            chunk = self.raw.read(1 << 16)
            if not self.started:
                if not chunk:
                    raise MongoError("EOF")
                if not chunk.startswith(b"\x1f\x8b"):
                    raise MongoError("gzip: invalid header")
                self.started = True
            if not chunk:
                break
            try:
                self.buffer += self.inflate.decompress(chunk)
            except zlib.error as error:
                raise MongoError("gzip: invalid checksum") from error
        data = self.buffer[self.offset : self.offset + count]
        self.offset += len(data)
        return data
