"""The simulated redis service: a small command interpreter answering like
``redis-cli`` and the container side of ``redis:export`` / ``redis:import``.

Data lives in the service's ``data/dump.rdb`` (see ``services_rdb``), rewritten
after every write, so ``export`` streams a real RDB file and ``import``
replaces it exactly like the plugin's ``cat > .../data/dump.rdb`` does -
including the plugin's permission failure on a data dir the image chowned.
"""

from __future__ import annotations

import fnmatch
import os
import shlex
import shutil
import stat
import time
from collections.abc import Callable

from pruvon_testing.sim.core import Ctx
from pruvon_testing.sim.services_engines import Clock, is_tty, stdin_lines
from pruvon_testing.sim.services_rdb import Dataset, RdbError, ZSet, dump, load, score_text
from pruvon_testing.sim.services_store import Service, now, redis_timestamp

AUTH_WARNING = (  # redis-cli's warning about ``-a <password>``
    "Warning: Using a password with '-a' or '-u' option on the command line interface "
    "may not be safe."
)
IMPORT_LINE = 189  # the ``cat >`` line of dokku-redis 1.43.0's functions file
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"


class Reply:
    """A RESP reply: kind is status|error|int|bulk|nil|array."""

    def __init__(self, kind: str, value: object = None) -> None:
        self.kind, self.value = kind, value


def ok() -> Reply:
    return Reply("status", "OK")


def bulk(value: bytes | None) -> Reply:
    return Reply("nil") if value is None else Reply("bulk", value)


def array(values: list[bytes]) -> Reply:
    return Reply("array", [Reply("bulk", v) for v in values])


def raw_reply(reply: Reply) -> str:
    """redis-cli without a TTY: bare values; errors get an extra newline."""
    if reply.kind == "error":
        return f"{reply.value}\n"
    if reply.kind == "nil":
        return ""
    if reply.kind == "array":
        return "\n".join(raw_reply(r) for r in reply.value)
    if reply.kind == "bulk":
        return reply.value.decode(errors="replace")
    return str(reply.value)


def tty_reply(reply: Reply, indent: int = 0) -> str:
    """redis-cli on a terminal: ``(integer) 3``, quoted strings, numbered arrays."""
    if reply.kind == "error":
        return f"(error) {reply.value}"
    if reply.kind == "nil":
        return "(nil)"
    if reply.kind == "int":
        return f"(integer) {reply.value}"
    if reply.kind == "status":
        return str(reply.value)
    if reply.kind == "bulk":
        return '"' + reply.value.decode(errors="replace").replace('"', '\\"') + '"'
    if not reply.value:
        return "(empty array)"
    width = len(str(len(reply.value)))
    lines = []
    for index, item in enumerate(reply.value, start=1):
        prefix = " " * indent if index > 1 else ""
        lines.append(f"{prefix}{str(index).rjust(width)}) {tty_reply(item, indent + width + 2)}")
    return "\n".join(lines)


def index_range(items: list, start_arg: bytes, stop_arg: bytes) -> list | None:
    """``LRANGE``/``ZRANGE`` inclusive indexes (negative from the end, clamped), or None
    when an index is not an integer."""
    try:
        start, stop = int(start_arg), int(stop_arg)
    except ValueError:
        return None
    size = len(items)
    start = max(size + start, 0) if start < 0 else start
    stop = size + stop if stop < 0 else min(stop, size - 1)
    return items[start : stop + 1] if start <= stop else []


class Interpreter:
    """The subset of redis commands the simulator understands, on one Dataset."""

    def __init__(self, dataset: Dataset, on_save: Callable[[], int]) -> None:
        self.db = dataset
        self.on_save = on_save
        self.dirty = False
        self.commands: dict[str, tuple[int, Callable[[list[bytes]], Reply]]] = {
            "ping": (-1, self.ping), "echo": (2, lambda a: bulk(a[1])),
            "set": (-3, self.set), "get": (2, self.get), "del": (-2, self.delete),
            "exists": (-2, self.exists), "keys": (2, self.keys), "dbsize": (1, self.dbsize),
            "incr": (2, lambda a: self.incrby(a[1], 1)), "decr": (2, lambda a: self.incrby(a[1], -1)),
            "incrby": (3, lambda a: self.incrby(a[1], a[2])), "append": (3, self.append),
            "strlen": (2, self.strlen), "mset": (-3, self.mset), "mget": (-2, self.mget),
            "expire": (3, self.expire), "ttl": (2, self.ttl), "persist": (2, self.persist),
            "type": (2, self.type), "flushdb": (-1, self.flush), "flushall": (-1, self.flush),
            "lpush": (-3, lambda a: self.push(a, left=True)), "rpush": (-3, lambda a: self.push(a, left=False)),
            "lrange": (4, self.lrange), "llen": (2, self.llen),
            "lpop": (2, lambda a: self.pop(a, left=True)), "rpop": (2, lambda a: self.pop(a, left=False)),
            "sadd": (-3, self.sadd), "srem": (-3, self.srem), "smembers": (2, self.smembers),
            "scard": (2, self.scard), "sismember": (3, self.sismember),
            "hset": (-4, self.hset), "hget": (3, self.hget), "hdel": (-3, self.hdel),
            "hgetall": (2, self.hgetall), "hlen": (2, self.hlen), "hkeys": (2, self.hkeys),
            "zadd": (-4, self.zadd), "zscore": (3, self.zscore), "zcard": (2, self.zcard),
            "zrem": (-3, self.zrem), "zincrby": (4, self.zincrby),
            "zrange": (-4, self.zrange),
            "select": (2, self.select), "lastsave": (1, lambda a: Reply("int", self.on_save_time())),
            "save": (1, self.save), "bgsave": (-1, self.bgsave), "info": (-1, self.info),
        }  # fmt: skip
        self.last_save = 0

    # -- dispatch ---------------------------------------------------------------------------
    def execute(self, args: list[bytes]) -> Reply:
        name = args[0].decode(errors="replace").lower()
        entry = self.commands.get(name)
        if entry is None:
            shown = "".join(f"'{a.decode(errors='replace')}' " for a in args[1:])
            return Reply(
                "error",
                f"ERR unknown command '{args[0].decode(errors='replace')}', "
                f"with args beginning with: {shown}",
            )
        arity, handler = entry
        if (arity > 0 and len(args) != arity) or (arity < 0 and len(args) < -arity):
            return Reply("error", f"ERR wrong number of arguments for '{name}' command")
        self.expire_keys()
        return handler(args)

    def expire_keys(self) -> None:
        current = int(time.time() * 1000)
        for key in [k for k, at in self.db.expires.items() if at <= current]:
            self.db.data.pop(key, None)
            self.db.expires.pop(key, None)
            self.dirty = True

    def typed(self, key: bytes, kind: type) -> object:
        value = self.db.data.get(key)
        if value is not None and not isinstance(value, kind):
            raise TypeError(WRONGTYPE)
        return value

    def write(self, key: bytes, value: object) -> None:
        self.db.data[key] = value
        self.dirty = True

    def write_or_drop(self, key: bytes, value: object, *, keep: bool) -> None:
        """Store a collection, or delete the key once it is empty (redis never keeps
        empty lists/sets/hashes/sorted sets)."""
        if keep:
            self.write(key, value)
        elif key in self.db.data:
            self.db.data.pop(key)
            self.dirty = True

    # -- commands ----------------------------------------------------------------------------
    def ping(self, args: list[bytes]) -> Reply:
        return bulk(args[1]) if len(args) > 1 else Reply("status", "PONG")

    def set(self, args: list[bytes]) -> Reply:
        key, value, options = args[1], args[2], [a.lower() for a in args[3:]]
        exists = key in self.db.data
        if (b"nx" in options and exists) or (b"xx" in options and not exists):
            return Reply("nil")
        expiry = None
        for unit, factor in ((b"ex", 1000), (b"px", 1)):
            if unit in options:
                index = options.index(unit) + 3
                if index + 1 > len(args) or not args[index].isdigit():
                    return Reply("error", "ERR syntax error")
                expiry = int(time.time() * 1000) + int(args[index]) * factor
        self.write(key, value)
        self.db.expires.pop(key, None)
        if expiry is not None:
            self.db.expires[key] = expiry
        return ok()

    def get(self, args: list[bytes]) -> Reply:
        return bulk(self.typed(args[1], bytes))

    def delete(self, args: list[bytes]) -> Reply:
        count = 0
        for key in args[1:]:
            if self.db.data.pop(key, None) is not None:
                self.db.expires.pop(key, None)
                count += 1
        self.dirty = self.dirty or bool(count)
        return Reply("int", count)

    def exists(self, args: list[bytes]) -> Reply:
        return Reply("int", sum(1 for k in args[1:] if k in self.db.data))

    def keys(self, args: list[bytes]) -> Reply:
        pattern = args[1].decode(errors="replace")
        return array(
            [k for k in self.db.data if fnmatch.fnmatchcase(k.decode(errors="replace"), pattern)]
        )

    def dbsize(self, args: list[bytes]) -> Reply:
        return Reply("int", len(self.db.data))

    def incrby(self, key: bytes, delta: int | bytes) -> Reply:
        try:
            step = int(delta)
            current = int(self.typed(key, bytes) or b"0")
        except ValueError:
            return Reply("error", NOT_INT)
        self.write(key, str(current + step).encode())
        return Reply("int", current + step)

    def append(self, args: list[bytes]) -> Reply:
        value = (self.typed(args[1], bytes) or b"") + args[2]
        self.write(args[1], value)
        return Reply("int", len(value))

    def strlen(self, args: list[bytes]) -> Reply:
        return Reply("int", len(self.typed(args[1], bytes) or b""))

    def mset(self, args: list[bytes]) -> Reply:
        if len(args) % 2 == 0:
            return Reply("error", "ERR wrong number of arguments for 'mset' command")
        for key, value in zip(args[1::2], args[2::2], strict=True):
            self.write(key, value)
        return ok()

    def mget(self, args: list[bytes]) -> Reply:
        values = [self.db.data.get(k) for k in args[1:]]
        return Reply("array", [bulk(v if isinstance(v, bytes) else None) for v in values])

    def expire(self, args: list[bytes]) -> Reply:
        if args[1] not in self.db.data:
            return Reply("int", 0)
        if not args[2].lstrip(b"-").isdigit():
            return Reply("error", NOT_INT)
        self.db.expires[args[1]] = int(time.time() * 1000) + int(args[2]) * 1000
        self.dirty = True
        return Reply("int", 1)

    def ttl(self, args: list[bytes]) -> Reply:
        if args[1] not in self.db.data:
            return Reply("int", -2)
        at = self.db.expires.get(args[1])
        return Reply("int", -1 if at is None else max(0, round((at - time.time() * 1000) / 1000)))

    def persist(self, args: list[bytes]) -> Reply:
        removed = self.db.expires.pop(args[1], None) is not None
        self.dirty = self.dirty or removed
        return Reply("int", int(removed))

    def type(self, args: list[bytes]) -> Reply:
        value = self.db.data.get(args[1])
        names = {bytes: "string", list: "list", set: "set", dict: "hash", ZSet: "zset"}
        return Reply("status", "none" if value is None else names[type(value)])

    def flush(self, args: list[bytes]) -> Reply:
        self.db.data.clear()
        self.db.expires.clear()
        self.dirty = True
        return ok()

    def push(self, args: list[bytes], left: bool) -> Reply:
        values = self.typed(args[1], list) or []
        for item in args[2:]:
            values = [item, *values] if left else [*values, item]
        self.write(args[1], values)
        return Reply("int", len(values))

    def lrange(self, args: list[bytes]) -> Reply:
        values = self.typed(args[1], list) or []
        chosen = index_range(values, args[2], args[3])
        return Reply("error", NOT_INT) if chosen is None else array(chosen)

    def llen(self, args: list[bytes]) -> Reply:
        return Reply("int", len(self.typed(args[1], list) or []))

    def pop(self, args: list[bytes], left: bool) -> Reply:
        values = self.typed(args[1], list)
        if not values:
            return Reply("nil")
        item = values.pop(0 if left else -1)
        self.write_or_drop(args[1], values, keep=bool(values))
        return bulk(item)

    def sadd(self, args: list[bytes]) -> Reply:
        members = self.typed(args[1], set) or set()
        added = len(set(args[2:]) - members)
        self.write(args[1], members | set(args[2:]))
        return Reply("int", added)

    def srem(self, args: list[bytes]) -> Reply:
        members = self.typed(args[1], set) or set()
        removed = len(members & set(args[2:]))
        remaining = members - set(args[2:])
        self.write_or_drop(args[1], remaining, keep=bool(remaining))
        return Reply("int", removed)

    def smembers(self, args: list[bytes]) -> Reply:
        return array(sorted(self.typed(args[1], set) or set()))

    def scard(self, args: list[bytes]) -> Reply:
        return Reply("int", len(self.typed(args[1], set) or set()))

    def sismember(self, args: list[bytes]) -> Reply:
        return Reply("int", int(args[2] in (self.typed(args[1], set) or set())))

    def hset(self, args: list[bytes]) -> Reply:
        if len(args) % 2:
            return Reply("error", "ERR wrong number of arguments for 'hset' command")
        fields = self.typed(args[1], dict) or {}
        added = 0
        for name, value in zip(args[2::2], args[3::2], strict=True):
            added += name not in fields
            fields[name] = value
        self.write(args[1], fields)
        return Reply("int", added)

    def hget(self, args: list[bytes]) -> Reply:
        return bulk((self.typed(args[1], dict) or {}).get(args[2]))

    def hdel(self, args: list[bytes]) -> Reply:
        fields = self.typed(args[1], dict) or {}
        removed = sum(1 for name in args[2:] if fields.pop(name, None) is not None)
        self.write_or_drop(args[1], fields, keep=bool(fields))
        return Reply("int", removed)

    def hgetall(self, args: list[bytes]) -> Reply:
        fields = self.typed(args[1], dict) or {}
        return array([item for pair in fields.items() for item in pair])

    def hlen(self, args: list[bytes]) -> Reply:
        return Reply("int", len(self.typed(args[1], dict) or {}))

    def hkeys(self, args: list[bytes]) -> Reply:
        return array(list((self.typed(args[1], dict) or {}).keys()))

    def zadd(self, args: list[bytes]) -> Reply:
        if len(args) % 2:
            return Reply("error", "ERR syntax error")
        zset = self.typed(args[1], ZSet) or ZSet()
        try:
            pairs = [(m, float(sc)) for sc, m in zip(args[2::2], args[3::2], strict=True)]
        except ValueError:
            return Reply("error", "ERR value is not a valid float")
        added = sum(1 for m, _ in pairs if m not in zset.scores)
        zset.scores.update(pairs)
        self.write(args[1], zset)
        return Reply("int", added)

    def zscore(self, args: list[bytes]) -> Reply:
        score = (self.typed(args[1], ZSet) or ZSet()).scores.get(args[2])
        return bulk(None if score is None else score_text(score))

    def zcard(self, args: list[bytes]) -> Reply:
        return Reply("int", len((self.typed(args[1], ZSet) or ZSet()).scores))

    def zrem(self, args: list[bytes]) -> Reply:
        zset = self.typed(args[1], ZSet) or ZSet()
        removed = sum(1 for m in args[2:] if zset.scores.pop(m, None) is not None)
        self.write_or_drop(args[1], zset, keep=bool(zset.scores))
        return Reply("int", removed)

    def zincrby(self, args: list[bytes]) -> Reply:
        zset = self.typed(args[1], ZSet) or ZSet()
        try:
            score = zset.scores.get(args[3], 0.0) + float(args[2])
        except ValueError:
            return Reply("error", "ERR value is not a valid float")
        zset.scores[args[3]] = score
        self.write(args[1], zset)
        return bulk(score_text(score))

    def zrange(self, args: list[bytes]) -> Reply:
        pairs = (self.typed(args[1], ZSet) or ZSet()).ordered()
        chosen = index_range(pairs, args[2], args[3])
        if chosen is None:
            return Reply("error", NOT_INT)
        if any(a.lower() == b"withscores" for a in args[4:]):
            return array([x for m, sc in chosen for x in (m, score_text(sc))])
        return array([m for m, _ in chosen])

    def select(self, args: list[bytes]) -> Reply:
        if args[1] == b"0":
            return ok()
        if not args[1].isdigit():
            return Reply("error", NOT_INT)
        return Reply("error", "ERR the simulator only keeps database 0")

    def on_save_time(self) -> int:
        return self.last_save

    def save(self, args: list[bytes]) -> Reply:
        self.last_save = self.on_save()
        return ok()

    def bgsave(self, args: list[bytes]) -> Reply:
        self.last_save = self.on_save()
        return Reply("status", "Background saving started")

    def info(self, args: list[bytes]) -> Reply:
        text = (
            "# Server\r\nredis_version:8.0.6\r\nredis_mode:standalone\r\ntcp_port:6379\r\n\r\n"
            f"# Keyspace\r\ndb0:keys={len(self.db.data)},expires={len(self.db.expires)},avg_ttl=0\r\n"
        )
        return Reply("bulk", text.encode())


def split_line(line: str) -> list[bytes]:
    """redis-cli's argument splitting (quotes group words)."""
    try:
        return [part.encode() for part in shlex.split(line, posix=True)]
    except ValueError:
        return []


# -- the engine ---------------------------------------------------------------------------------------
class RedisEngine:
    """``/data`` is ``data/``; the server config (requirepass) is ``config/redis.conf``."""

    @staticmethod
    def rdb_path(service: Service):
        return service.data_dir / "dump.rdb"

    def init_service(self, service: Service, env: dict[str, str]) -> None:
        config = service.dir / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "redis.conf").write_text(f"requirepass {service.password}\n")

    def create_database(self, service: Service) -> bool:
        return True

    def dataset(self, service: Service) -> Dataset:
        path = self.rdb_path(service)
        return load(path.read_bytes()) if path.exists() else Dataset()

    def save(self, service: Service, dataset: Dataset, env: dict[str, str]) -> int:
        moment = int(now(env))
        path = self.rdb_path(service)
        tmp = path.with_name(".dump.rdb.tmp")
        tmp.write_bytes(dump(dataset, moment))
        os.replace(tmp, path)
        return moment

    def log_container_start(self, service: Service, env: dict[str, str], fresh: bool) -> None:
        clock = Clock(env)
        stamp = lambda ms=1: redis_timestamp(clock.moment + ms / 1000)  # noqa: E731
        lines = [
            f"1:C {stamp()} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
            f"1:C {stamp()} * Redis version=8.0.6, bits=64, commit=00000000, modified=0, pid=1, just started",
            f"1:C {stamp()} * Configuration loaded",
            f"1:M {stamp(2)} * monotonic clock: POSIX clock_gettime",
            f"1:M {stamp(2)} * Running mode=standalone, port=6379.",
            f"1:M {stamp(3)} * Server initialized",
        ]
        status = "running"
        try:
            keys = len(self.dataset(service).data)
            if self.rdb_path(service).exists():
                lines.append(f"1:M {stamp(3)} * Loading RDB produced by version 8.0.6")
                lines.append(
                    f"1:M {stamp(3)} * Done loading RDB, keys loaded: {keys}, keys expired: 0."
                )
                lines.append(f"1:M {stamp(3)} * DB loaded from disk: 0.000 seconds")
            lines.append(f"1:M {stamp(4)} * Ready to accept connections tcp")
        except RdbError as error:
            lines.append(f"1:M {stamp(3)} # {error}")
            lines.append(
                f"1:M {stamp(3)} # Fatal error loading the DB, check server logs. Exiting."
            )
            status = "exited"
        service.log("".join(f"{line}\n" for line in lines))
        if status != "running":
            service.set_status(status)

    def log_container_stop(self, service: Service, env: dict[str, str]) -> None:
        moment = now(env)
        stamp = redis_timestamp(moment)
        service.log(
            f"1:signal-handler ({int(moment)}) Received SIGTERM scheduling shutdown...\n"
            f"1:M {stamp} * User requested shutdown...\n"
            f"1:M {stamp} * Saving the final RDB snapshot before exiting.\n"
            f"1:M {stamp} * DB saved on disk\n"
            f"1:M {stamp} # Redis is now ready to exit, bye bye...\n"
        )

    def connect(self, ctx: Ctx, service: Service, admin: bool = False) -> int:
        """``redis-cli -a <password>``: the password warning, then one reply per line."""
        ctx.err(AUTH_WARNING)
        tty = is_tty(ctx)
        prompt = b"127.0.0.1:6379> "
        if tty:
            ctx.stdout.write(prompt)
            ctx.stdout.flush()
        for line in stdin_lines(ctx):
            args = split_line(line)
            if args and args[0].lower() in (b"quit", b"exit"):
                break
            if args:
                reply = self.run_command(service, args, ctx.env)
                text = tty_reply(reply) if tty else raw_reply(reply)
                ctx.stdout.write((text + "\n").encode())
            if tty:
                ctx.stdout.write(prompt)
            ctx.stdout.flush()
        return 0

    def run_command(self, service: Service, args: list[bytes], env: dict[str, str]) -> Reply:
        """One command against dump.rdb, under the state lock so that concurrent
        sessions (a terminal and a test, say) see each other's writes."""
        with service.state.lock():
            dataset = self.dataset(service)
            interpreter = Interpreter(dataset, lambda: self.bgsave(service, dataset, env))
            interpreter.last_save = self.last_save(service)
            try:
                reply = interpreter.execute(args)
            except TypeError as error:
                reply = Reply("error", str(error))
            if interpreter.dirty:
                self.save(service, dataset, env)
        return reply

    def last_save(self, service: Service) -> int:
        text = service.read(".sim/lastsave").strip()
        return int(text) if text.isdigit() else 0

    def bgsave(self, service: Service, dataset: Dataset, env: dict[str, str]) -> int:
        """BGSAVE: write dump.rdb, log the fork's lines, remember LASTSAVE."""
        moment = self.save(service, dataset, env)
        child = int(service.read(".sim/bgsave-pid").strip() or "54")
        service.write(".sim/bgsave-pid", str(child + 1))
        base = now(env)
        stamp = lambda ms: redis_timestamp(base + ms / 1000)  # noqa: E731
        service.log(
            f"1:M {stamp(0)} * Background saving started by pid {child}\n"
            f"{child}:C {stamp(7)} * DB saved on disk\n"
            f"{child}:C {stamp(9)} * Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB\n"
            f"1:M {stamp(86)} * Background saving terminated with success\n"
        )
        service.write(".sim/lastsave", str(moment))
        return moment

    def export(self, ctx: Ctx, service: Service) -> int:
        """LASTSAVE, BGSAVE, LASTSAVE again (one password warning per redis-cli), cat."""
        ctx.err(AUTH_WARNING)
        self.bgsave(service, self.dataset(service), ctx.env)
        ctx.err(AUTH_WARNING)
        ctx.stdout.write(self.rdb_path(service).read_bytes())
        ctx.stdout.flush()
        return 0

    def export_size(self, service: Service, env: dict[str, str]) -> int:
        return len(dump(self.dataset(service), int(now(env))))

    def import_(self, ctx: Ctx, service: Service) -> int:
        """The plugin: remove the container, delete dump.rdb, ``cat >`` it as the dokku user.

        The image chowns ``data/`` to its redis user (mode 755), so the write fails
        unless the operator made the dir writable - upstream dokku-redis#248.
        """
        from pruvon_testing.sim.services_commands import remove_container, start_service

        quiet = Ctx(
            ctx.state, [], ctx.command, stdout=_Null(), stderr=_Null(), stdin=ctx.stdin, env=ctx.env
        )
        remove_container(quiet, service)
        path = self.rdb_path(service)
        if path.exists():
            path.unlink()
        if not service.data_dir.stat().st_mode & stat.S_IWOTH:
            host_path = f"{service.stype.host_root(service.name)}/data/dump.rdb"
            ctx.err(
                f"/var/lib/dokku/plugins/enabled/redis/functions: line {IMPORT_LINE}: "
                f"{host_path}: Permission denied"
            )
            return 1
        with path.open("wb") as out:  # ``cat > dump.rdb``: streamed, not held in memory
            shutil.copyfileobj(ctx.stdin, out, 1 << 20)
        start_service(quiet, service)
        return 0

    def copy_data(self, source: Service, target: Service, env: dict[str, str]) -> None:
        """``redis:clone`` pipes export into import, so it meets import's permission
        failure too (output suppressed by the plugin); only a writable data dir copies."""
        import io

        data = dump(self.dataset(source), int(now(env)))
        ctx = Ctx(
            target.state,
            [],
            "redis:import",
            stdout=_Null(),
            stderr=_Null(),
            stdin=io.BytesIO(data),
            env=env,
        )
        self.import_(ctx, target)


class _Null:
    """A sink for ``suppress_output``."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        return None
