"""Unit tests of the simulated service plugins beyond the reference captures:
the SQL engine, pg_dump archives, RDB files, the redis interpreter, links and
triggers, and the real-process paths (console script, follow, docker view)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pruvon_testing.sim import containers
from pruvon_testing.sim import services_rdb as rdb
from pruvon_testing.sim.main import run
from pruvon_testing.sim.services_pgdump import RestoreError, dump, read_archive, restore
from pruvon_testing.sim.services_psql import Database, Session
from pruvon_testing.sim.services_redis import Interpreter, Reply, raw_reply, tty_reply

REF = Path(__file__).resolve().parents[1] / "fixtures" / "dokku-reference" / "services" / "_bin"


def sh(root: Path, *argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    code, out, err = run(list(argv), root=root, stdin=stdin)
    return code, out.decode(), err.decode()


def ok(root: Path, *argv: str, stdin: bytes = b"") -> str:
    code, out, err = sh(root, *argv, stdin=stdin)
    assert code == 0, (argv, out, err)
    return out


# -- psql on sqlite -------------------------------------------------------------------------------------
def psql(db: Database, sql: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = Session(db).run(sql.splitlines(keepends=True), out.write, err.write)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "db.sqlite3")
    database.set_meta("database", "svc_db")
    yield database
    database.close()


def test_psql_alignment_nulls_and_names(db: Database) -> None:
    psql(db, "create table t (id serial primary key, label varchar(10), score real);")
    code, out, _ = psql(
        db,
        "insert into t (label, score) values ('a;b', 1.5), (NULL, 10);"
        "select id, label as tag, score, upper(label) from t order by id;",
    )
    assert code == 0
    assert out == (
        "INSERT 0 2\n"
        " id | tag | score | upper \n"
        "----+-----+-------+-------\n"
        "  1 | a;b |   1.5 | A;B\n"
        "  2 |     |    10 | \n"
        "(2 rows)\n\n"
    )


def test_serial_columns_outside_the_primary_key(db: Database) -> None:
    psql(db, "create table e (code text primary key, n serial, m bigserial);")
    psql(db, "insert into e (code) values ('a'), ('b');")
    assert psql(db, "select n, m from e order by code;")[1].splitlines()[2:4] == [
        " 1 | 1",
        " 2 | 2",
    ]
    entries = [e.desc for e in read_archive(dump(db, "svc_db", 0))]
    assert entries.count("SEQUENCE") == 2 and entries.count("DEFAULT") == 2


def test_booleans_print_as_t_and_f(db: Database) -> None:
    psql(db, "create table f (name text, on_ boolean);")
    psql(db, "insert into f values ('a', true), ('b', false);")
    assert psql(db, "select * from f order by name;")[1].splitlines()[2:4] == [
        " a    | t",
        " b    | f",
    ]


def test_psql_on_error_stop_skips_the_rest(db: Database) -> None:
    code, out, err = psql(db, "select nosuch from nowhere;\nselect 1;\n")
    assert code == 3
    assert out == ""
    assert err.startswith('ERROR:  relation "nowhere" does not exist\nLINE 1: ')


def test_psql_errors_and_tags(db: Database) -> None:
    psql(db, "create table t (id integer primary key, name text not null);")
    assert psql(db, "create table t (x int);")[2] == 'ERROR:  relation "t" already exists\n'
    assert (
        'NOTICE:  relation "t" already exists, skipping'
        in psql(db, "create table if not exists t (x int);")[2]
    )
    code, _, err = psql(db, "insert into t (id) values (1);")
    assert code == 3
    assert 'null value in column "name" of relation "t" violates not-null constraint' in err
    psql(db, "insert into t values (1, 'x'), (2, 'y');")
    assert psql(db, "update t set name = 'z' where id > 0;")[1] == "UPDATE 2\n"
    assert psql(db, "delete from t where id = 1;")[1] == "DELETE 1\n"
    assert psql(db, "selec 1;")[2].startswith('ERROR:  syntax error at or near "selec"')
    assert psql(db, "drop table if exists nope;")[2] == (
        'NOTICE:  table "nope" does not exist, skipping\n'
    )
    assert psql(db, "drop table t;")[1] == "DROP TABLE\n"
    assert psql(db, "drop table t;")[2] == 'ERROR:  table "t" does not exist\n'


def test_psql_meta_commands(db: Database) -> None:
    assert psql(db, "\\dt\n")[2] == "Did not find any relations.\n"
    psql(db, "create table items (id int);")
    assert psql(db, "\\dt\n")[1] == (
        "        List of relations\n"
        " Schema | Name  | Type  |  Owner   \n"
        "--------+-------+-------+----------\n"
        " public | items | table | postgres\n"
        "(1 row)\n\n"
    )
    assert psql(db, "\\q\nselect 1;\n") == (0, "", "")


def test_quoted_semicolons_stay_inside_one_statement(db: Database) -> None:
    psql(db, "create table y (id int);")
    code, out, _ = psql(db, 'create table "x; drop table y" (id int);\nselect count(*) from y;')
    assert code == 0
    assert out.startswith("CREATE TABLE\n count \n")


# -- pg_dump / pg_restore ---------------------------------------------------------------------------------
def test_restore_of_the_real_capture_and_round_trip(db: Database, tmp_path: Path) -> None:
    restore(db, (REF / "pg-export.bin").read_bytes())
    assert psql(db, "select * from items order by id;")[1].endswith("  3 | gamma\n(3 rows)\n\n")
    assert dump(db, "svc_db", 1795346478) == (REF / "pg-export.bin").read_bytes()
    psql(db, "insert into items (name) values ('delta');")
    other = Database(tmp_path / "other.sqlite3")
    restore(other, dump(db, "svc_db", 0))
    restore(other, dump(db, "svc_db", 0))  # -c --if-exists: twice is fine
    assert psql(other, "select count(*), max(id) from items;")[1].splitlines()[2] == "     4 |   4"
    assert psql(other, "insert into items (name) values ('e') returning id;")[1].startswith(" id")
    other.close()


def test_dump_types_and_escapes(db: Database, tmp_path: Path) -> None:
    psql(db, "create table k (name text, flag boolean, n bigint, at timestamp);")
    psql(db, "insert into k values ('tab\there\nnewline\\', true, null, '2026-01-01');")
    entries = {e.desc: e for e in read_archive(dump(db, "svc_db", 0))}
    assert entries["TABLE"].defn == (
        "CREATE TABLE public.k (\n    name text,\n    flag boolean,\n    n bigint,\n"
        "    at timestamp without time zone\n);\n"
    )
    assert entries["TABLE DATA"].data == b"tab\\there\\nnewline\\\\\tt\t\\N\t2026-01-01\n\\.\n\n\n"
    other = Database(tmp_path / "o.sqlite3")
    restore(other, dump(db, "svc_db", 0))
    assert other.conn.execute("select name, flag, n from k").fetchone() == (
        "tab\there\nnewline\\",
        1,
        None,
    )
    other.close()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "input file is too short (read 0, expected 5)"),
        (b"PGD", "input file is too short (read 3, expected 5)"),
        (
            b"--\n-- PostgreSQL database dump\n",
            "appears to be a text format dump. Please use psql.",
        ),
        (b"x" * 600, "input file does not appear to be a valid archive"),
        (b"PGDMP\x01\x10\x00\x04\x08\x01\x01\x00", "could not read from input file: end of file"),
    ],
)
def test_pg_restore_errors(db: Database, data: bytes, message: str) -> None:
    with pytest.raises(RestoreError, match=message.replace("(", r"\(").replace(")", r"\)")):
        restore(db, data)


# -- RDB ---------------------------------------------------------------------------------------------------
def test_crc64_reference_vector() -> None:
    assert rdb.crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_rdb_round_trip_of_every_encoding() -> None:
    data = rdb.Dataset()
    data.data = {
        b"int": b"-70000",
        b"big": b"x" * 20000,
        b"list": [str(i).encode() for i in range(300)] + [b"y" * 5000],
        b"ints": {b"1", b"-5", b"100000"},
        b"set": {b"a", b"b"},
        b"bigset": {b"m" * 70},
        b"hash": {b"f": b"1", b"g": b"two"},
        b"bighash": {b"k": b"v" * 100},
        b"zset": rdb.ZSet({b"a": 1.0, b"b": 2.5}),
        b"bigzset": rdb.ZSet({str(i).encode(): i / 3 for i in range(200)}),
    }
    data.expires = {b"int": 4102444800000}
    loaded = rdb.load(rdb.dump(data, 1))
    assert loaded.data == data.data
    assert loaded.expires == data.expires


def test_rdb_reads_lzf_and_rejects_damage() -> None:
    # LZF: literal "abc" then a back-reference copying 3 bytes from 3 back
    assert rdb.lzf_decompress(bytes([2]) + b"abc" + bytes([0x20, 2]), 6) == b"abcabc"
    good = (REF / "redis-export.bin").read_bytes()
    with pytest.raises(rdb.RdbError, match="Wrong signature"):
        rdb.load(b"not a dump")
    with pytest.raises(rdb.RdbError, match="checksum"):
        rdb.load(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(rdb.RdbError, match=r"^Short read or OOM loading DB"):
        rdb.load(good[:30])  # truncated: redis-server's own message


# -- redis interpreter --------------------------------------------------------------------------------------
def test_redis_replies_raw_and_tty() -> None:
    interp = Interpreter(rdb.Dataset(), lambda: 0)
    assert raw_reply(interp.execute([b"RPUSH", b"l", b"a", b"b"])) == "2"
    assert tty_reply(interp.execute([b"LRANGE", b"l", b"0", b"-1"])) == '1) "a"\n2) "b"'
    assert tty_reply(interp.execute([b"GET", b"nope"])) == "(nil)"
    assert raw_reply(interp.execute([b"GET"])) == (
        "ERR wrong number of arguments for 'get' command\n"
    )
    with pytest.raises(TypeError, match="WRONGTYPE"):
        interp.execute([b"GET", b"l"])
    assert tty_reply(interp.execute([b"INCR", b"n"])) == "(integer) 1"
    assert raw_reply(interp.execute([b"INCR", b"l2"])) == "1"
    assert interp.execute([b"SET", b"s", b"x"]).kind == "status"
    assert raw_reply(interp.execute([b"INCR", b"s"])) == (
        "ERR value is not an integer or out of range\n"
    )
    assert interp.execute([b"SET", b"s", b"y", b"NX"]).kind == "nil"
    assert isinstance(interp.execute([b"TTL", b"s"]), Reply)
    assert raw_reply(interp.execute([b"ZADD", b"z", b"2", b"b", b"1", b"a"])) == "2"
    assert raw_reply(interp.execute([b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"])) == "a\n1\nb\n2"
    assert raw_reply(interp.execute([b"ZINCRBY", b"z", b"0.5", b"a"])) == "1.5"
    assert raw_reply(interp.execute([b"TYPE", b"z"])) == "zset"


# -- commands ------------------------------------------------------------------------------------------------
@pytest.fixture
def host(tmp_path: Path) -> Path:
    ok(tmp_path, "apps:create", "web")
    ok(tmp_path, "postgres:create", "db1")
    return tmp_path


def test_invalid_names_are_never_paths(host: Path) -> None:
    for name in ("..", ".", "a/b", "../postgres"):
        assert sh(host, "postgres:destroy", name, "--force")[2] == (
            f" !     Postgres service {name} does not exist\n"
        )
    assert (host / "services" / "postgres" / "db1").is_dir()


def test_links_aliases_and_promote(host: Path) -> None:
    ok(host, "postgres:create", "db2")
    ok(host, "postgres:link", "db1", "web", "--no-restart", "true")
    assert "Skipping restart of linked app" in ok(host, "postgres:link", "db2", "web", "-n", "true")
    env = ok(host, "config:show", "web")
    assert "DATABASE_URL:" in env and "DOKKU_POSTGRES_AQUA_URL:" in env
    assert ok(host, "postgres:app-links", "web") == "db1\ndb2\n"
    assert re.search(r"^ +Docker options run: +--link dokku.postgres.db1:dokku-postgres-db1 "
                     r"--link dokku.postgres.db2:dokku-postgres-db2 *$",
                     ok(host, "docker-options:report", "web"), re.M)
    assert sh(host, "postgres:promote", "db1", "web")[2] == (
        " !     Service db1 already promoted as DATABASE_URL\n"
    )
    ok(host, "postgres:promote", "db2", "web")
    dsn2 = ok(host, "postgres:info", "db2", "--dsn").strip()
    assert re.search(rf"^DATABASE_URL: +{dsn2}$", ok(host, "config:show", "web"), re.M)
    assert (
        sh(host, "postgres:destroy", "db2", "--force")[2] == " !     Cannot delete linked service\n"
    )


def test_link_honours_the_apps_scheme(host: Path) -> None:
    ok(host, "config:set", "--no-restart", "web", "POSTGRES_DATABASE_SCHEME=postgis")
    ok(host, "postgres:link", "db1", "web", "-n", "true")
    assert re.search(r"^DATABASE_URL: +postgis://postgres:", ok(host, "config:show", "web"), re.M)
    assert ok(host, "postgres:linked", "db1", "web") == "-----> Service db1 is linked to web\n"


def test_app_destroy_unlinks_every_service(host: Path) -> None:
    ok(host, "postgres:link", "db1", "web", "-n", "true")
    out = ok(host, "apps:destroy", "web", "--force")
    assert "       Unlinking from db1\n" in out
    assert ok(host, "postgres:links", "db1") == ""


def test_expose_rejects_a_bad_port(host: Path) -> None:
    code, _, err = sh(host, "postgres:expose", "db1", "not-a-port")
    assert (code, err) == (125, "docker: invalid hostPort: not-a-port.\nSee 'docker run --help'.\n")


def test_service_containers_are_docker_containers(host: Path) -> None:
    ok(host, "postgres:expose", "db1", "15432")
    found = {c.name: c for c in containers.all_containers(containers_state(host))}
    assert found["dokku.postgres.db1"].labels == {"dokku": "service", "dokku.service": "postgres"}
    assert found["dokku.postgres.db1.ambassador"].image == "dokku/ambassador:0.8.2"
    ok(host, "postgres:destroy", "db1", "--force")
    assert not [c for c in containers.all_containers(containers_state(host)) if "db1" in c.name]


def containers_state(root: Path):
    from pruvon_testing.sim.core import SimState

    return SimState(root)


def test_enter_maps_the_data_mount(host: Path) -> None:
    assert ok(host, "postgres:enter", "db1", "ls", "/var/lib/postgresql/18/docker").split("\n")[
        1:3
    ] == ["PG_VERSION", "base"]
    code, _, err = sh(host, "postgres:enter", "db1", "cat", "/etc/passwd")
    assert code == 1 and "No such file or directory" in err
    assert sh(host, "postgres:enter", "db1", "nosuch")[0] == 127
    assert ok(host, "postgres:enter", "db1", stdin=b"ls\n") == (
        "-----> Filesystem changes may not persist after container restarts\n18\n"
    )


def test_backup_files_and_stand_in(host: Path) -> None:
    ok(host, "postgres:backup-auth", "db1", "KEY", "SECRET", "eu-west-1")
    backup = host / "services" / "postgres" / "db1" / "backup"
    assert (backup / "AWS_DEFAULT_REGION").read_text() == "eu-west-1\n"
    assert sh(host, "postgres:backup", "db1", "bucket")[0] == 1
    ok(host, "postgres:backup-deauth", "db1")
    assert (
        sh(host, "postgres:backup", "db1", "bucket")[2] == " !     Missing AWS_ACCESS_KEY_ID file\n"
    )
    ok(host, "postgres:backup-schedule", "db1", "0 1 * * *", "b", "-u")
    assert ok(host, "postgres:backup-schedule-cat", "db1") == (
        "0 1 * * * dokku /usr/local/bin/dokku postgres:backup db1 b -u\n"
    )
    ok(host, "postgres:destroy", "db1", "--force")
    assert not (host / "etc" / "cron.d" / "dokku-postgres-db1").exists()


def test_redis_import_permission_and_garbage(tmp_path: Path) -> None:
    ok(tmp_path, "redis:create", "r")
    ok(tmp_path, "redis:connect", "r", stdin=b"SET a 1\n")
    assert sh(tmp_path, "redis:import", "r", stdin=b"x")[0] == 1
    assert ok(tmp_path, "redis:info", "r", "--status") == "missing\n"
    ok(tmp_path, "redis:start", "r")
    assert ok(tmp_path, "redis:connect", "r", stdin=b"DBSIZE\n") == "0\n"  # dump.rdb was deleted
    (tmp_path / "services" / "redis" / "r" / "data").chmod(0o777)
    assert sh(tmp_path, "redis:import", "r", stdin=b"garbage")[0] == 0
    assert ok(tmp_path, "redis:info", "r", "--status") == "exited\n"
    code, out, err = sh(tmp_path, "redis:logs", "r")
    assert "# Wrong signature trying to load DB from file" in out
    assert err == " !     Service logs may not be output as service is not running\n"
    code, _, err = sh(tmp_path, "redis:connect", "r", stdin=b"PING\n")
    assert code == 1 and "is not running" in err


def test_clone_and_help_pages(host: Path) -> None:
    ok(
        host,
        "postgres:connect",
        "db1",
        stdin=b"create table t (v text); insert into t values ('x');",
    )
    ok(host, "postgres:clone", "db1", "db9")
    assert ok(host, "postgres:connect", "db9", stdin=b"select v from t;").splitlines()[2] == " x"
    assert sh(host, "postgres:clone", "db1", "db9")[2] == (
        " !     Invalid service name db9. Verify the service name is not already in use.\n"
    )
    assert "\x1b[1musage:\x1b[m dokku redis:link <service> <app>" in ok(host, "redis:help", "link")
    assert sh(host, "postgres:help", "nosuch")[0] == 1


# -- real processes -------------------------------------------------------------------------------------------
def sim_process(root: Path, *argv: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PRUVON_SIM_ROOT=str(root))
    return subprocess.Popen(
        [sys.executable, "-m", "pruvon_testing.sim", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_connect_is_a_real_process_reading_stdin(host: Path) -> None:
    proc = sim_process(host, "postgres:connect", "db1", stdin=subprocess.PIPE)
    out, err = proc.communicate(
        b"create table a (x int);\ninsert into a values (7);\nselect x from a;\n", timeout=60
    )
    assert proc.returncode == 0, err
    assert out.decode().endswith(" x \n---\n 7\n(1 row)\n\n")


def test_export_import_stream_between_processes(host: Path) -> None:
    ok(host, "postgres:connect", "db1", stdin=b"create table a (x int); insert into a values (1);")
    ok(host, "postgres:create", "db2")
    export = sim_process(host, "postgres:export", "db1")
    importer = sim_process(host, "postgres:import", "db2", stdin=export.stdout)
    export.stdout.close()
    assert importer.wait(timeout=60) == 0 and export.wait(timeout=60) == 0
    assert ok(host, "postgres:connect", "db2", stdin=b"select count(*) from a;").splitlines()[
        2
    ] == ("     1")


def test_logs_tail_follows_until_the_container_stops(tmp_path: Path) -> None:
    ok(tmp_path, "redis:create", "r")
    proc = sim_process(tmp_path, "redis:logs", "r", "-t")
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the existing log is out: the follower is running
    assert first
    assert run(["redis:export", "r"], root=tmp_path)[0] == 0
    threading.Timer(0.5, lambda: ok(tmp_path, "redis:stop", "r")).start()
    rest, _ = proc.communicate(timeout=60)
    out = first + rest
    assert b"Background saving started" in out
    assert b"Redis is now ready to exit" in out


def test_follow_resumes_where_the_printed_log_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line written between ``logs``' first read and the follow loop is not lost."""
    from pruvon_testing.sim.core import Ctx, SimState
    from pruvon_testing.sim.services_commands import follow_log
    from pruvon_testing.sim.services_store import Service
    from pruvon_testing.sim.services_types import REDIS

    ok(tmp_path, "redis:create", "r")
    state = SimState(tmp_path)
    service = Service(state, REDIS, "r")
    printed, offset = service.read_log()
    assert printed
    container = service.docker_container()
    assert container is not None
    containers.append_log(state, container.id, "written in between")
    monkeypatch.setattr(Service, "status", lambda self: "exited")  # one pass of the loop
    out = io.BytesIO()
    follow_log(Ctx(state=state, args=[], command="redis:logs", stdout=out), service, offset, 0)
    assert out.getvalue() == b"written in between\n"
