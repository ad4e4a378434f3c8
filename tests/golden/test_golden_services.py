"""Golden tests: the simulated dokku-postgres / dokku-redis plugins against the
captures in ``tests/fixtures/dokku-reference/services/``.

Every capture is replayed on a fresh simulator: a builder re-creates the host
state it was taken in (simulated commands only, in the capture session's
order), then the captured command runs with the captured stdin.  Exit code,
stdout and stderr must match byte for byte after these narrow normalisations,
applied to both sides:

* ``PASSWORD``: the random service password inside DSNs (``openssl rand -hex``);
* ``ID64`` / ``ID12``: docker container ids (full, and the short ids of the
  app redeploy that link/unlink trigger);
* ``IP``: the bridge address (and its padding in the info block), which
  depends on how many containers the capture host was running;
* ``PG_TIME`` / ``REDIS_TIME``: timestamps in container logs;
* ``RANDOM_PORT``: ``expose`` without a port picks a random host port;
* ``DEPLOY``: the redeploy's retire epoch, ``upcoming-<random>`` suffix and the
  order of the two concurrent healthchecks (varies between real deploys);
* ``LS_TIME``: the ``ls -l`` time column in the s3backup stand-in's listing.

Export captures hold a summary (size, sha256, xxd head) instead of the bytes;
with ``SOURCE_DATE_EPOCH`` pinned to the capture time the simulator's export
is compared byte for byte with ``_bin/`` (and with the summary's size/sha256).
The ``*-import-tty`` captures ran under script(1): compared through a real pty,
rendered like ``cat -A``; the leading NUL is the root->sudo re-exec artefact of
the capture host's ``dokku`` wrapper (see NOTES.md), not plugin output.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from pruvon_testing.reference import REFERENCE_DIR
from tests.golden.harness import (
    CASES,
    ID12,
    ID64,
    SHA40,
    UPCOMING,
    Builder,
    Normaliser,
    chain,
    check_capture,
    nothing,
    setup,
    sim,
    steps,
    sub,
)
from tests.golden.simhost import run_tty

BIN = REFERENCE_DIR / "services" / "_bin"
PG_DUMP = BIN / "pg-export.bin"
REDIS_DUMP = BIN / "redis-export.bin"
PG_EXPORT_EPOCH = "1795346478"  # 2026-11-22 11:21:18 UTC, the dump header's timestamp
REDIS_EXPORT_EPOCH = "1795346832"  # the RDB's ctime aux field

PASSWORD = sub(rb"(postgres://postgres:|redis://:)[0-9a-f]{32,64}@", rb"\1<pw>@")
IP = sub(rb"172\.17\.0\.\d+ *", b"<ip>")
PG_TIME = sub(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})? UTC", b"<ts>")
REDIS_TIME = sub(rb"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3}", b"<ts>")
RANDOM_PORT = sub(rb"(5432|6379)->\d+ ", rb"\1-><port> ")
LS_TIME = sub(rb"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d", b"<time>")
_HEALTH = re.compile(rb"(?:       (?:Running healthcheck|Healthcheck succeeded) [^\n]*\n)+")


def _sort_health(data: bytes) -> bytes:
    return _HEALTH.sub(lambda m: b"".join(sorted(m.group(0).splitlines(keepends=True))), data)


DEPLOY: list[Normaliser] = [
    ID12,
    sub(rb"(\.web\.1\.)\d{10}\b", rb"\1<epoch>"),
    UPCOMING,
    _sort_health,
]
INFO = (PASSWORD, ID64, IP)

# -- state builders (the capture session, step by step) ---------------------------------------------
def svc_app(root: Path) -> None:
    """``svc-app``: deployed from an image with vhosts disabled (``NO_VHOST=1``)."""
    setup(
        root,
        ["apps:create", "svc-app"],
        ["domains:disable", "svc-app"],
        ["git:from-image", "svc-app", "example/web:1"],
    )


WRITE_SQL = (
    b"create table items (id serial primary key, name text not null);\n"
    b"insert into items (name) values ('alpha'), ('beta'), ('gamma');\n"
    b"select count(*) from items;\n"
)
WRITE_REDIS = b"SET greeting hello\nRPUSH mylist a b c\nDBSIZE\n"

db = steps(["postgres:create", "svc-db"])
db_items = steps(
    ["postgres:create", "svc-db"], ["postgres:connect", "svc-db"], stdin={1: WRITE_SQL}
)
db_app = chain(svc_app, db)
db_linked = chain(db_app, steps(["postgres:link", "svc-db", "svc-app"]))
db_unlinked = chain(db_linked, steps(["postgres:unlink", "svc-db", "svc-app"]))
db_exposed = chain(db, steps(["postgres:expose", "svc-db", "15432"]))
db_paused = chain(db, steps(["postgres:pause", "svc-db"]))
db_stopped = chain(db, steps(["postgres:stop", "svc-db"]))
db_auth = chain(db, steps(["postgres:backup-auth", "svc-db", "AKIAFAKEKEY000000000", "fake"]))
db_sched = chain(db, steps(["postgres:backup-schedule", "svc-db", "0 3 * * *", "svc-bucket"]))
db3 = chain(db_items, steps(["postgres:clone", "svc-db", "svc-db3"]))
db3_net = chain(db3, steps(["postgres:set", "svc-db3", "initial-network", "svc-nonexistent-net"]))
db2 = chain(db_items, steps(["postgres:create", "svc-db2"]))
db2_imported = chain(db2, steps(["postgres:import", "svc-db2"], stdin={0: PG_DUMP.read_bytes()}))
dashx = steps(["postgres:create", "-x"])

redis = steps(["redis:create", "svc-redis"])
redis_data = chain(redis, steps(["redis:connect", "svc-redis"], stdin={0: WRITE_REDIS}))
redis_app = chain(svc_app, redis)
redis_linked = chain(redis_app, steps(["redis:link", "svc-redis", "svc-app"]))
redis_unlinked = chain(redis_linked, steps(["redis:unlink", "svc-redis", "svc-app"]))
redis2 = chain(redis_data, steps(["redis:create", "svc-redis2"]))


def db_error(root: Path) -> None:
    """svc-db after the captured failing query (its ERROR/STATEMENT reach the log)."""
    db(root)
    code, _, _ = sim(root, "postgres:connect", "svc-db", stdin=b"select * from nosuchtable;\n")
    assert code == 3


def redis2_failed_import(root: Path) -> None:
    redis2(root)
    code, _, _ = sim(root, "redis:import", "svc-redis2", stdin=REDIS_DUMP.read_bytes())
    assert code == 1  # the captured Permission denied (dokku-redis#248)


def redis2_chmod(root: Path) -> None:
    """The capture's workaround, run as root on the host: ``chmod 777 .../data``."""
    redis2_failed_import(root)
    (root / "services" / "redis" / "svc-redis2" / "data").chmod(0o777)


redis2_imported = chain(
    redis2_chmod, steps(["redis:import", "svc-redis2"], stdin={0: REDIS_DUMP.read_bytes()})
)


def redis_exported(root: Path) -> None:
    redis_data(root)
    assert sim(root, "redis:export", "svc-redis")[0] == 0


# -- the cases: name => (builder, normalisers) --------------------------------------------------------
PG: dict[str, tuple[Builder, tuple[Normaliser, ...]]] = {
    "pg-app-links-empty": (db_unlinked, ()),
    "pg-app-links": (db_linked, ()),
    "pg-backup-auth-full": (db_auth, ()),
    "pg-backup-auth-missing-args": (db, ()),
    "pg-backup-auth": (db, ()),
    "pg-backup-deauth": (db_auth, ()),
    "pg-backup-schedule-badflag": (db, ()),
    "pg-backup-schedule-cat-after-unschedule": (
        chain(db_sched, steps(["postgres:backup-unschedule", "svc-db"])), ()),
    "pg-backup-schedule-cat-iam": (
        chain(db, steps(["postgres:backup-schedule", "svc-db", "30 4 * * 1", "svc-bucket",
                         "--use-iam"])), ()),
    "pg-backup-schedule-cat-none": (db, ()),
    "pg-backup-schedule-cat": (db_sched, ()),
    "pg-backup-schedule-iam": (db, ()),
    "pg-backup-schedule": (db, ()),
    "pg-backup-set-encryption-noarg": (db, ()),
    "pg-backup-set-encryption": (db, ()),
    "pg-backup-unschedule": (db_sched, ()),
    "pg-backup-unset-encryption": (
        chain(db, steps(["postgres:backup-set-encryption", "svc-db", "s3cr3t-passphrase"])), ()),
    "pg-backup": (chain(db_items, steps(["postgres:backup-auth", "svc-db", "K", "S"])), (LS_TIME,)),
    "pg-bare": (nothing, ()),
    "pg-clone": (db_items, INFO),
    "pg-config-show-linked": (db_linked, (PASSWORD, SHA40)),
    "pg-config-show-unlinked": (db_unlinked, (SHA40,)),
    "pg-connect-error": (db_items, ()),
    "pg-connect-nullstdin": (db, ()),
    "pg-connect-select1": (db, ()),
    "pg-connect-write": (db, ()),
    "pg-create-dashx-again": (nothing, INFO),
    "pg-create-db2-again": (db_items, INFO),
    "pg-create-db2": (db_items, INFO),
    "pg-create-exists": (db, ()),
    "pg-create-invalid-dashx": (nothing, INFO),
    "pg-create-invalid-space": (nothing, ()),
    "pg-create-noarg": (nothing, ()),
    "pg-create": (nothing, INFO),
    "pg-destroy-dashx-force": (dashx, ()),
    "pg-destroy-f": (db3, ()),
    "pg-destroy-force": (db, ()),
    "pg-destroy-linked-force": (db_linked, ()),
    "pg-destroy-linked": (db_linked, ()),
    "pg-destroy-missing": (nothing, ()),
    "pg-destroy-noforce-confirm": (db2, ()),
    "pg-destroy-noforce-devnull": (db, ()),
    "pg-destroy-noforce-wrong": (db, ()),
    "pg-enter-cmd": (db, ()),
    "pg-exists-no": (db, ()),
    "pg-exists-yes": (db, ()),
    "pg-export-missing": (nothing, ()),
    "pg-expose-again": (db_exposed, ()),
    "pg-expose-hostport": (db, ()),
    "pg-expose-random": (db, (RANDOM_PORT,)),
    "pg-expose": (db, ()),
    "pg-help-create": (nothing, ()),
    "pg-help": (nothing, ()),
    "pg-import-again": (db2_imported, ()),
    "pg-import-devnull": (db2, ()),
    "pg-import-emptypipe": (db2, ()),
    "pg-import-garbage": (db2, ()),
    "pg-import-verify": (db2_imported, ()),
    "pg-import": (db2, ()),
    "pg-info-bogus": (db, ()),
    "pg-info-config-dir": (db, ()),
    "pg-info-config-options": (db, ()),
    "pg-info-data-dir": (db, ()),
    "pg-info-dsn": (db, (PASSWORD,)),
    "pg-info-exposed-ports-exposed": (db_exposed, ()),
    "pg-info-exposed-ports": (db, ()),
    "pg-info-exposed-random": (chain(db, steps(["postgres:expose", "svc-db"])), (RANDOM_PORT,)),
    "pg-info-id": (db, (ID64,)),
    "pg-info-initial-network-set": (db3_net, ()),
    "pg-info-initial-network": (db, ()),
    "pg-info-internal-ip": (db, (IP,)),
    "pg-info-links-linked": (db_linked, ()),
    "pg-info-links": (db, ()),
    "pg-info-missing": (nothing, ()),
    "pg-info-post-create-network": (db, ()),
    "pg-info-post-start-network": (db, ()),
    "pg-info-service-root": (db, ()),
    "pg-info-status-paused": (db_paused, ()),
    "pg-info-status-stopped": (db_stopped, ()),
    "pg-info-status": (db, ()),
    "pg-info-version": (db, ()),
    "pg-info": (db, INFO),
    "pg-link-again": (db_linked, ()),
    "pg-link-missing-app": (db, ()),
    "pg-link": (db_app, (PASSWORD, *DEPLOY)),
    "pg-linked-no": (db_app, ()),
    "pg-linked-yes": (db_linked, ()),
    "pg-links-empty": (db_unlinked, ()),
    "pg-links": (db_linked, ()),
    "pg-list-empty-final": (nothing, ()),
    "pg-list-empty": (nothing, ()),
    "pg-list-two": (chain(db, dashx), ()),
    "pg-list": (db, ()),
    "pg-logs-default": (db_error, (PG_TIME,)),
    "pg-logs-n5": (db_error, (PG_TIME,)),
    "pg-logs-num5": (db_error, (PG_TIME,)),
    "pg-pause": (db, ()),
    "pg-promote-notlinked": (db_app, ()),
    "pg-restart": (db, ()),
    "pg-set-initial-network": (db3, ()),
    "pg-set-unset": (db3_net, ()),
    "pg-start-after-pause": (db_paused, ()),
    "pg-start-again": (db, ()),
    "pg-start": (chain(db_linked, steps(["postgres:stop", "svc-db"])), INFO),
    "pg-stop-again": (db_stopped, ()),
    "pg-stop": (db, ()),
    "pg-unexpose-again": (db, ()),
    "pg-unexpose": (db_exposed, ()),
    "pg-unexpose2": (chain(db, steps(["postgres:expose", "svc-db"])), ()),
    "pg-unexpose3": (chain(db, steps(["postgres:expose", "svc-db", "127.0.0.1:15434"])), ()),
    "pg-unknown-subcommand": (nothing, ()),
    "pg-unlink-again": (db_app, ()),
    "pg-unlink": (db_linked, DEPLOY),
}  # fmt: skip

REDIS: dict[str, tuple[Builder, tuple[Normaliser, ...]]] = {
    "redis-app-links": (redis_linked, ()),
    "redis-backup-auth": (redis, ()),
    "redis-backup-deauth": (chain(redis, steps(["redis:backup-auth", "svc-redis", "K", "S"])), ()),
    "redis-backup-schedule-cat": (
        chain(redis, steps(["redis:backup-schedule", "svc-redis", "0 3 * * *", "svc-bucket"])), ()),
    "redis-backup-schedule": (redis, ()),
    "redis-backup-set-encryption": (redis, ()),
    "redis-backup-unschedule": (
        chain(redis, steps(["redis:backup-schedule", "svc-redis", "0 3 * * *", "svc-bucket"])), ()),
    "redis-backup-unset-encryption": (
        chain(redis, steps(["redis:backup-set-encryption", "svc-redis", "s3cr3t"])), ()),
    "redis-config-show-linked": (redis_linked, (PASSWORD, SHA40)),
    "redis-config-show-unlinked": (redis_unlinked, (SHA40,)),
    "redis-connect-error": (redis, ()),
    "redis-connect-ping": (redis, ()),
    "redis-connect-write": (redis, ()),
    "redis-create-2": (redis_data, INFO),
    "redis-create-exists": (redis, ()),
    "redis-create-invalid-dashx": (nothing, INFO),
    "redis-create-invalid-dot": (nothing, ()),
    "redis-create-invalid-space": (nothing, ()),
    "redis-create-noarg": (nothing, ()),
    "redis-create": (nothing, INFO),
    "redis-destroy-dashx-force": (steps(["redis:create", "-x"]), ()),
    "redis-destroy-force": (redis, ()),
    "redis-destroy-linked": (redis_linked, ()),
    "redis-destroy-missing": (nothing, ()),
    "redis-destroy-noforce-confirm": (redis2, ()),
    "redis-destroy-noforce-devnull": (redis, ()),
    "redis-destroy-noforce-wrong": (redis, ()),
    "redis-exists-no": (redis, ()),
    "redis-exists-yes": (redis, ()),
    "redis-expose": (redis, ()),
    "redis-help-create": (nothing, ()),
    "redis-help": (nothing, ()),
    "redis-import-after-chmod777": (redis2_chmod, ()),
    "redis-import-devnull": (redis2, ()),
    "redis-import-emptypipe": (redis2, ()),
    "redis-import-verify": (redis2_imported, ()),
    "redis-import": (redis2, ()),
    "redis-info-bogus": (redis, ()),
    "redis-info-config-dir": (redis, ()),
    "redis-info-config-options": (redis, ()),
    "redis-info-data-dir": (redis, ()),
    "redis-info-dsn": (redis, (PASSWORD,)),
    "redis-info-exposed-ports-exposed": (
        chain(redis, steps(["redis:expose", "svc-redis", "16379"])), ()),
    "redis-info-exposed-ports": (redis, ()),
    "redis-info-id": (redis, (ID64,)),
    "redis-info-initial-network": (redis, ()),
    "redis-info-internal-ip": (redis, (IP,)),
    "redis-info-links": (redis, ()),
    "redis-info-post-create-network": (redis, ()),
    "redis-info-post-start-network": (redis, ()),
    "redis-info-service-root": (redis, ()),
    "redis-info-status-after-devnull-import": (
        chain(redis2, lambda root: sim(root, "redis:import", "svc-redis2")), ()),
    "redis-info-status-after-failed-import": (redis2_failed_import, ()),
    "redis-info-status-stopped": (chain(redis, steps(["redis:stop", "svc-redis"])), ()),
    "redis-info-status": (redis, ()),
    "redis-info-version": (redis, ()),
    "redis-info": (redis, INFO),
    "redis-link-again": (redis_linked, ()),
    "redis-link": (redis_app, (PASSWORD, *DEPLOY)),
    "redis-linked-no": (redis_app, ()),
    "redis-linked-yes": (redis_linked, ()),
    "redis-links": (redis_linked, ()),
    "redis-list-empty-final": (nothing, ()),
    "redis-list-empty": (nothing, ()),
    "redis-list": (redis, ()),
    "redis-logs-n5": (redis_exported, (REDIS_TIME,)),
    "redis-restart": (redis, ()),
    "redis-start-after-failed-import": (redis2_failed_import, INFO),
    "redis-start-again": (redis, ()),
    "redis-start": (chain(redis_linked, steps(["redis:stop", "svc-redis"])), INFO),
    "redis-stop": (redis, ()),
    "redis-unexpose": (chain(redis, steps(["redis:expose", "svc-redis", "16379"])), ()),
    "redis-unlink-again": (redis_unlinked, ()),
    "redis-unlink": (redis_linked, DEPLOY),
}  # fmt: skip

SCENARIOS = {**PG, **REDIS}

# stdin the capture fed from a file (``< /root/...``), not from a pipe in the $ line
FILE_STDIN = {
    "pg-import": PG_DUMP,
    "pg-import-again": PG_DUMP,
    "redis-import": REDIS_DUMP,
    "redis-import-after-chmod777": REDIS_DUMP,
}
EXPORTS = {
    "pg-export": (db_items, PG_DUMP, PG_EXPORT_EPOCH, b""),
    "redis-export": (redis_data, REDIS_DUMP, REDIS_EXPORT_EPOCH, None),
}
TTY = {"pg-import-tty": db, "redis-import-tty": redis}

CLAIMED = sorted([*SCENARIOS, *EXPORTS, *TTY])


def stdin_for(name: str) -> bytes:
    if name in FILE_STDIN:
        return FILE_STDIN[name].read_bytes()
    return CASES[name].stdin_bytes


@pytest.mark.parametrize("name", sorted(SCENARIOS), ids=sorted(SCENARIOS))
def test_capture(name: str, tmp_path: Path) -> None:
    build, normalisers = SCENARIOS[name]
    check_capture(name, tmp_path, build, normalisers, stdin=stdin_for(name))


def export_summary(case_stdout: bytes) -> tuple[int, str]:
    match = re.search(rb"\[binary stdout, (\d+) bytes, sha256 ([0-9a-f]{64})", case_stdout)
    assert match, "export capture without a size/sha256 summary"
    return int(match.group(1)), match.group(2).decode()


@pytest.mark.parametrize("name", sorted(EXPORTS), ids=sorted(EXPORTS))
def test_export_bytes(name: str, tmp_path: Path) -> None:
    """The export stream equals the captured bytes when the clock is the capture's."""
    build, reference, epoch, _ = EXPORTS[name]
    case = CASES[name]
    build(tmp_path)
    from pruvon_testing.sim.main import run

    code, out, err = run(case.argv, root=tmp_path, env={"SOURCE_DATE_EPOCH": epoch})
    size, sha = export_summary(case.stdout)
    assert code == case.exit_code
    assert err == case.stderr
    assert (len(out), hashlib.sha256(out).hexdigest()) == (size, sha)
    assert out == reference.read_bytes()


def cat_a(data: bytes) -> bytes:
    """``cat -A``: ``^X`` for control characters, ``$`` before each newline."""
    out = bytearray()
    for byte in data:
        if byte == 10:
            out += b"$\n"
        elif byte < 32 or byte == 127:
            out += b"^" + bytes([byte ^ 0x40])
        elif byte > 127:
            out += b"M-" + cat_a(bytes([byte - 128]))
        else:
            out.append(byte)
    return bytes(out)


@pytest.mark.parametrize("name", sorted(TTY), ids=sorted(TTY))
def test_import_tty(name: str, tmp_path: Path) -> None:
    """Under a pty the plugin refuses to read an import from the terminal."""
    TTY[name](tmp_path)
    case = CASES[name]
    code, output = run_tty(tmp_path, *case.argv)
    expected = case.stdout.removeprefix(b"^@")
    assert code == case.exit_code
    assert cat_a(output) == expected
