"""Datastore engines behind the simulated service containers.

The plugin-level commands are shared (``services_commands``); what happens
*inside* a container differs: ``psql``/``pg_dump``/``pg_restore`` for postgres,
``redis-cli`` and RDB files for redis, and the container's own log output.
Each engine implements the same small interface used by the commands.
"""

from __future__ import annotations

import io
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pruvon_testing.sim.core import Ctx
from pruvon_testing.sim.services_store import Service, now, pg_timestamp
from pruvon_testing.sim.services_types import ServiceType


class Engine(Protocol):
    def init_service(self, service: Service, env: dict[str, str]) -> None: ...
    def create_database(self, service: Service) -> bool: ...
    def log_container_start(self, service: Service, env: dict[str, str], fresh: bool) -> None: ...
    def log_container_stop(self, service: Service, env: dict[str, str]) -> None: ...
    def connect(self, ctx: Ctx, service: Service, admin: bool = False) -> int: ...
    def export(self, ctx: Ctx, service: Service) -> int: ...
    def export_size(self, service: Service, env: dict[str, str]) -> int: ...
    def import_(self, ctx: Ctx, service: Service) -> int: ...
    def copy_data(self, source: Service, target: Service, env: dict[str, str]) -> None: ...


def engine(stype: ServiceType) -> Engine:
    """The engine named by the kind's facts (``ServiceType.engine``, else the kind)."""
    name = stype.engine or stype.kind
    if name == "postgres":
        return PostgresEngine()
    if name == "mysql":
        from pruvon_testing.sim.services_mysql import MySQLEngine

        return MySQLEngine(stype)
    if name == "mongo":
        from pruvon_testing.sim.services_mongo import MongoEngine

        return MongoEngine(stype)
    from pruvon_testing.sim.services_redis import RedisEngine

    return RedisEngine()


def ls_time(moment: float) -> str:
    """``ls -l``'s recent-file time column: ``Nov 22 11:22``."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%b %d %H:%M").replace(" 0", "  ", 1)


def stdin_lines(ctx: Ctx):
    """Lines of stdin as text, read as they arrive (a pipe or a terminal)."""
    for raw in iter(ctx.stdin.readline, b""):
        yield raw.decode(errors="replace")


def is_tty(ctx: Ctx) -> bool:
    try:
        return bool(ctx.stdin.isatty())
    except (AttributeError, ValueError):
        return False


# -- postgres ------------------------------------------------------------------------------------------
PG_MAJOR = "18"
PG_START = "starting PostgreSQL 18.6 (Debian 18.6-3) on x86_64-pc-linux-gnu, compiled by x86_64-linux-gnu-gcc (Debian 16.2.0-1) 16.2.0, 64-bit"
PG_SOCKET = 'listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"'
INITDB_TEXT = """The files belonging to this database system will be owned by user "postgres".
This user must also own the server process.

The database cluster will be initialized with locale "en_US.utf8".
The default database encoding has accordingly been set to "UTF8".
The default text search configuration will be set to "english".

Data page checksums are enabled.

fixing permissions on existing directory /var/lib/postgresql/18/docker ... ok
creating subdirectories ... ok
selecting dynamic shared memory implementation ... posix
selecting default "max_connections" ... 100
selecting default "shared_buffers" ... 128MB
selecting default time zone ... Etc/UTC
creating configuration files ... ok
running bootstrap script ... ok
performing post-bootstrap initialization ... ok
syncing data to disk ... ok


Success. You can now start the database server using:

    pg_ctl -D /var/lib/postgresql/18/docker -l logfile start

initdb: warning: enabling "trust" authentication for local connections
initdb: hint: You can change this by editing pg_hba.conf or using the option -A, or --auth-local and --auth-host, the next time you run initdb.
"""
PG_CHECKPOINT_INIT = "checkpoint complete: wrote 0 buffers (0.0%), wrote 3 SLRU buffers; 0 WAL file(s) added, 0 removed, 0 recycled; write=0.001 s, sync=0.001 s, total=0.008 s; sync files=2, longest=0.001 s, average=0.001 s; distance=0 kB, estimate=0 kB; lsn=0/1766488, redo lsn=0/1766488"
PG_CHECKPOINT = "checkpoint complete: wrote 943 buffers (5.8%), wrote 3 SLRU buffers; 0 WAL file(s) added, 0 removed, 0 recycled; write=0.026 s, sync=0.066 s, total=0.096 s; sync files=303, longest=0.003 s, average=0.001 s; distance=4363 kB, estimate=4363 kB; lsn=0/1BA90E0, redo lsn=0/1BA90E0"


class Clock:
    """Log timestamps: start at ``now`` and advance a few milliseconds per line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.moment = now(env)

    def tick(self, ms: float = 2) -> str:
        self.moment += ms / 1000
        return pg_timestamp(self.moment)

    def second(self) -> str:
        return pg_timestamp(self.moment)[:19] + " UTC"


def pg_log(pid: int, clock: Clock, text: str, ms: float = 2) -> str:
    return f"{clock.tick(ms)} [{pid}] {text}\n"


def pg_shutdown(clock: Clock, main: int, checkpointer: int, launcher: int, checkpoint: str) -> str:
    return (
        pg_log(main, clock, "LOG:  received fast shutdown request")
        + pg_log(main, clock, "LOG:  aborting any active transactions", 1)
        + pg_log(
            main,
            clock,
            f'LOG:  background worker "logical replication launcher" (PID {launcher}) exited with exit code 1',
            9,
        )
        + pg_log(checkpointer, clock, "LOG:  shutting down", 1)
        + pg_log(checkpointer, clock, "LOG:  checkpoint starting: shutdown immediate", 2)
        + pg_log(checkpointer, clock, f"LOG:  {checkpoint}", 6)
        + pg_log(main, clock, "LOG:  database system is shut down", 19)
    )


def pg_startup(clock: Clock, startup_pid: int, last_shutdown: str, temporary: bool) -> str:
    """Postmaster start lines; the init-time temporary server only listens on the socket."""
    main = 49 if temporary else 1
    text = pg_log(main, clock, f"LOG:  {PG_START}")
    if not temporary:
        text += pg_log(main, clock, 'LOG:  listening on IPv4 address "0.0.0.0", port 5432')
        text += pg_log(main, clock, 'LOG:  listening on IPv6 address "::", port 5432', 0)
    text += pg_log(main, clock, f"LOG:  {PG_SOCKET}")
    text += pg_log(startup_pid, clock, f"LOG:  database system was shut down at {last_shutdown}", 8)
    text += pg_log(main, clock, "LOG:  database system is ready to accept connections", 6)
    return text


class PostgresEngine:
    """PGDATA lives in ``data/18/docker`` (mounted at /var/lib/postgresql for major >= 18)."""

    @staticmethod
    def pgdata(service: Service) -> Path:
        return service.data_dir / PG_MAJOR / "docker"

    def db_path(self, service: Service) -> Path:
        return self.pgdata(service) / "base" / f"{service.database}.sqlite3"

    def init_service(self, service: Service, env: dict[str, str]) -> None:
        self.pgdata(service).mkdir(parents=True, exist_ok=True)

    def open(self, service: Service):
        from pruvon_testing.sim.services_psql import Database

        db = Database(self.db_path(service))
        if not db.meta("database"):
            db.set_meta("database", service.database)
        return db

    def create_database(self, service: Service) -> bool:
        """``createdb``: False ("Already exists") when the database is there."""
        if self.db_path(service).exists():
            return False
        self.open(service).close()
        return True

    def log_container_start(self, service: Service, env: dict[str, str], fresh: bool) -> None:
        clock = Clock(env)
        version_file = self.pgdata(service) / "PG_VERSION"
        if fresh and not version_file.exists():
            version_file.write_text(PG_MAJOR + "\n")
            (self.pgdata(service) / "postgresql.conf").write_text("ssl = on\n")
            text = INITDB_TEXT + "waiting for server to start...."
            text += pg_startup(clock, 55, clock.second(), temporary=True)
            text += " done\nserver started\n\n"
            text += (
                "/usr/local/bin/docker-entrypoint.sh: ignoring /docker-entrypoint-initdb.d/*\n\n"
            )
            text += "waiting for server to shut down...."
            text += pg_shutdown(clock, 49, 53, 58, PG_CHECKPOINT_INIT)
            text += (
                " done\nserver stopped\n\nPostgreSQL init process complete; ready for start up.\n\n"
            )
            text += pg_startup(clock, 69, clock.second(), temporary=False)
            service.write(".sim/pg-run", "first")
        else:
            text = "\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n"
            text += pg_startup(clock, 32, self.last_shutdown(service, clock), temporary=False)
            service.write(".sim/pg-run", "restarted")
        service.log(text)

    def last_shutdown(self, service: Service, clock: Clock) -> str:
        return service.read(".sim/pg-shutdown").strip() or clock.second()

    def log_container_stop(self, service: Service, env: dict[str, str]) -> None:
        clock = Clock(env)
        if service.read(".sim/pg-run") == "first":
            service.log(pg_shutdown(clock, 1, 67, 72, PG_CHECKPOINT))
        else:
            service.log(pg_shutdown(clock, 1, 30, 35, PG_CHECKPOINT))
        service.write(".sim/pg-shutdown", clock.second())

    def connect(self, ctx: Ctx, service: Service, admin: bool = False) -> int:
        """``psql -v ON_ERROR_STOP=1``: statements from stdin, psql's output and exit codes."""
        from pruvon_testing.sim.services_psql import Session

        db = self.open(service)
        clock = Clock(ctx.env)

        def log_error(statement: str, error) -> None:
            position = f" at character {error.position}" if error.position else ""
            service.log(pg_log(69, clock, f"ERROR:  {error.message}{position}"))
            service.log(pg_log(69, clock, f"STATEMENT:  {statement}", 0))

        session = Session(db, log_error)
        try:
            if is_tty(ctx):
                return self.interactive(ctx, service, session)
            return session.run(stdin_lines(ctx), _writer(ctx.stdout), _writer(ctx.stderr))
        finally:
            db.close()

    def interactive(self, ctx: Ctx, service: Service, session) -> int:
        """psql on a terminal: banner, ``db=#`` prompts, errors do not end the session."""
        out, err = _writer(ctx.stdout), _writer(ctx.stderr)
        out('psql (18.6 (Debian 18.6-3))\nType "help" for help.\n\n')
        buffer = ""
        while True:
            out(f"{service.database}=# " if not buffer.strip() else f"{service.database}-# ")
            line = ctx.stdin.readline()
            if not line:
                out("\n")
                return 0
            text = line.decode(errors="replace")
            if not buffer.strip() and text.strip() == "\\q":
                return 0
            buffer += text
            if buffer.strip().startswith("\\") or buffer.rstrip().endswith(";"):
                session.run([buffer], out, err)
                buffer = ""

    def export(self, ctx: Ctx, service: Service) -> int:
        """``pg_dump -Fc`` to stdout, written as it is produced (tables of any size)."""
        from pruvon_testing.sim.services_pgdump import dump_chunks

        db = self.open(service)
        try:
            for chunk in dump_chunks(db, service.database, now(ctx.env)):
                ctx.stdout.write(chunk)
        finally:
            db.close()
        ctx.stdout.flush()
        return 0

    def export_size(self, service: Service, env: dict[str, str]) -> int:
        from pruvon_testing.sim.services_pgdump import dump_chunks

        db = self.open(service)
        try:
            return sum(len(chunk) for chunk in dump_chunks(db, service.database, now(env)))
        finally:
            db.close()

    def import_(self, ctx: Ctx, service: Service) -> int:
        """``pg_restore -cO --if-exists``: silent on success, pg_restore's errors otherwise."""
        from pruvon_testing.sim.services_pgdump import RestoreError, restore

        if service.status() != "running":
            from pruvon_testing.sim.services_commands import docker_exec_check

            docker_exec_check(ctx, service)
        db = self.open(service)
        try:
            restore(db, ctx.stdin)  # streamed: block by block, never the whole archive
        except RestoreError as error:
            ctx.err(f"pg_restore: error: {error}")
            return 1
        finally:
            db.close()
        return 0

    def copy_data(self, source: Service, target: Service, env: dict[str, str]) -> None:
        from pruvon_testing.sim.services_pgdump import RestoreError, dump, restore

        src = self.open(source)
        try:
            data = dump(src, source.database, now(env))
        finally:
            src.close()
        dst = self.open(target)
        try:
            restore(dst, data)
        except RestoreError:
            pass  # the plugin pipes export|import with ``|| true`` and >/dev/null 2>&1
        finally:
            dst.close()


def _writer(stream):
    def write(text: str) -> None:
        if text:
            stream.write(text.encode())
            stream.flush()

    return write


# -- enter ------------------------------------------------------------------------------------------------
def container_path(service: Service, path: str) -> Path | None:
    """Map a path inside the service container onto the simulator's data dir."""
    mount = service.stype.container_data_dir
    if path == mount or path.startswith(mount + "/"):
        relative = path[len(mount) :].lstrip("/")
        target = (service.data_dir / relative).resolve()
        if target == service.data_dir.resolve() or service.data_dir.resolve() in target.parents:
            return target
    return None


def run_in_container(ctx: Ctx, service: Service, argv: list[str]) -> int:
    """``docker container exec``: a shell (real process) or a few inspection commands.

    Commands run against the service's data as mounted in the container; other
    paths of the container image do not exist in the simulator.
    """
    if not argv:
        return interactive_shell(ctx, service)
    program, args = argv[0], argv[1:]
    if program in ("ls", "cat"):
        targets = [a for a in args if not a.startswith("-")] or [service.stype.container_data_dir]
        for target in targets:
            mapped = container_path(service, target)
            if mapped is None or not mapped.exists():
                ctx.err(
                    f"{program}: cannot access '{target}': No such file or directory"
                    if program == "ls"
                    else f"cat: {target}: No such file or directory"
                )
                return 2 if program == "ls" else 1
            if program == "ls":
                names = sorted(p.name for p in mapped.iterdir()) if mapped.is_dir() else [target]
                ctx.out("\n".join(n for n in names if not n.startswith(".")))
            else:
                ctx.stdout.write(mapped.read_bytes())
        return 0
    if program == "echo":
        ctx.out(" ".join(args))
        return 0
    ctx.err(
        "OCI runtime exec failed: exec failed: unable to start container process: exec: "
        f'"{program}": executable file not found in $PATH: unknown'
    )
    return 127


def interactive_shell(ctx: Ctx, service: Service) -> int:
    """``/bin/bash`` in the container: a real shell working in the service's data dir.

    Real file descriptors are handed to the shell (a terminal stays a terminal);
    in-process callers with byte buffers get the shell's output copied back.
    """
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(service.data_dir),
        "TERM": os.environ.get("TERM", "xterm"),
    }
    options: dict = {"stdin": ctx.stdin} if _has_fileno(ctx.stdin) else {"input": ctx.stdin.read()}
    if not (_has_fileno(ctx.stdout) and _has_fileno(ctx.stderr)):
        options["capture_output"] = True
    proc = subprocess.run(
        ["/bin/sh", "-i"] if is_tty(ctx) else ["/bin/sh"],
        cwd=service.data_dir,
        env=env,
        check=False,
        **options,
    )
    if proc.stdout:
        ctx.stdout.write(proc.stdout)
    if proc.stderr:
        ctx.stderr.write(proc.stderr)
    return proc.returncode


def _has_fileno(stream) -> bool:
    try:
        stream.fileno()
    except (AttributeError, io.UnsupportedOperation, ValueError):
        return False
    return True
