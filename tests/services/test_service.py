"""The services layer on the simulator: kinds, the bulk list, detail, export/import."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pruvon_services import kinds as kinds_mod
from pruvon_services.public import (
    ServicesError,
    available_kinds,
    check_dump,
    export_stream,
    import_stream,
    kind_facts,
    list_services,
    mask_dsn,
    require_kind,
    service_detail,
)

from pruvon_core.dokku.errors import DokkuError, ServiceNotFound
from tests.services.conftest import sim

PG, REDIS = kind_facts("postgres"), kind_facts("redis")


def dokku_calls(client: Any) -> list[tuple[str, ...]]:
    return [tuple(call.argv) for call in client.calls if call.kind == "dokku"]


def test_official_kinds_carry_their_plugins_facts() -> None:
    assert (PG.console, PG.export_ext, PG.dump_magic) == (True, "dump", (b"PGDMP",))
    assert (REDIS.export_ext, REDIS.dump_magic) == ("rdb", (b"REDIS",))
    assert kind_facts("mysql").export_ext == "sql" and kind_facts("mongo").export_ext == "archive"
    assert not kind_facts("rabbitmq").exportable and not kind_facts("rabbitmq").console
    assert "--image-version" in PG.create_flags and "--shm-size" in PG.create_flags
    unknown = kind_facts("foo")
    assert (unknown.console, unknown.exportable, unknown.official) == (False, False, False)


def test_available_kinds_are_the_enabled_plugins(client: Any) -> None:
    names = [k.name for k in available_kinds(client, max_age=0)]
    assert names == ["postgres", "redis"]
    with pytest.raises(ServicesError, match="mysql plugin is not installed"):
        require_kind(available_kinds(client), "mysql")
    with pytest.raises(ServicesError, match="service type"):
        require_kind(available_kinds(client), "post;gres")


def test_list_shows_status_version_ports_and_links(host: Path, client: Any) -> None:
    sim(host, "postgres:create", "db1")
    sim(host, "postgres:create", "db2")
    sim(host, "redis:create", "cache")
    sim(host, "postgres:link", "db1", "blog")
    sim(host, "redis:link", "cache", "blog")
    sim(host, "redis:link", "cache", "shop-api")
    sim(host, "postgres:expose", "db1", "15432")
    sim(host, "postgres:stop", "db2")
    rows = {(r.type, r.name): r for r in list_services(client, [PG, REDIS])}
    db1, db2, cache = rows["postgres", "db1"], rows["postgres", "db2"], rows["redis", "cache"]
    assert (db1.status, db1.image, db1.version) == ("running", "postgres:18.4", "18.4")
    assert db1.links == ["blog"] and db1.exposed_ports == "5432->15432"
    assert db2.status == "missing" and db2.links == [] and db2.exposed_ports == ""
    assert cache.links == ["blog", "shop-api"] and cache.status == "running"
    # the same facts as Dokku's own per-service info
    info = service_detail(client, PG, "db1")
    assert (info.row.status, info.row.exposed_ports, info.row.links) == (
        db1.status, db1.exposed_ports, db1.links)


def test_list_costs_the_same_dokku_calls_for_1_or_30_services(host: Path, client: Any) -> None:
    sim(host, "postgres:create", "only")
    sim(host, "redis:create", "r0")
    list_services(client, [PG, REDIS])
    few = len(client.calls)
    for number in range(1, 30):
        sim(host, "postgres:create", f"db{number}")
    client.invalidate()
    client.reset_calls()
    rows = list_services(client, [PG, REDIS])
    assert len(rows) == 31
    assert len(client.calls) == few == 4  # 2 x <type>:list, docker ps, docker-options:report
    assert not any(":info" in call[0] for call in dokku_calls(client))


def test_list_filters_to_the_grant_before_any_bulk_read(host: Path, client: Any) -> None:
    sim(host, "postgres:create", "mine")
    sim(host, "postgres:create", "theirs")
    rows = list_services(client, [PG, REDIS], allowed=lambda t, n: n == "mine")
    assert [r.name for r in rows] == ["mine"]
    client.invalidate()
    client.reset_calls()
    assert list_services(client, [PG], allowed=lambda t, n: False) == []
    assert [c[0] for c in dokku_calls(client)] == ["postgres:list"]


def test_list_of_an_older_plugin_reads_its_columns() -> None:
    from pruvon_core.dokku import parsers

    text = ("=====> Postgres services\n"
            "NAME     VERSION        STATUS   EXPOSED PORTS  LINKS\n"
            "db1      postgres:11.6  running  5432->15432    blog shop\n"
            "db2      postgres:11.6  stopped  -              -\n")
    rows = parsers.parse_service_table(text)
    assert rows[0] == {"name": "db1", "version": "postgres:11.6", "status": "running",
                       "exposed_ports": "5432->15432", "links": "blog shop"}
    assert rows[1]["links"] == "" and rows[1]["exposed_ports"] == ""


def test_detail_masks_the_dsn_unless_revealed(host: Path, client: Any) -> None:
    sim(host, "postgres:create", "db1")
    detail = service_detail(client, PG, "db1")
    assert detail.dsn.startswith("postgres://postgres:") and "****" not in detail.dsn
    masked = detail.as_dict()
    assert masked["dsn"] == mask_dsn(detail.dsn) and "****@dokku-postgres-db1" in masked["dsn"]
    assert masked["info"]["dsn"] == masked["dsn"]
    assert detail.as_dict(reveal=True)["dsn"] == detail.dsn
    with pytest.raises(ServiceNotFound, match="Postgres service nope does not exist"):
        service_detail(client, PG, "nope")


def test_export_streams_and_import_refuses_a_file_that_is_not_a_dump(
        host: Path, client: Any) -> None:
    sim(host, "postgres:create", "db1")
    with export_stream(client, PG, "db1") as stream:
        data = b"".join(stream.chunks())
    assert data.startswith(b"PGDMP")
    client.reset_calls()
    with pytest.raises(ServicesError, match="not a Postgres export"):
        import_stream(client, PG, "db1", io.BytesIO(b"SELECT 1;\n"), 10, lambda n: None)
    with pytest.raises(ServicesError, match="empty"):
        import_stream(client, PG, "db1", io.BytesIO(b""), 0, lambda n: None)
    assert client.calls == []  # nothing reached Dokku
    sent: list[int] = []
    import_stream(client, PG, "db1", io.BytesIO(data), len(data), sent.append)
    assert sent and sent[-1] == len(data)


def test_import_failure_carries_dokkus_text(host: Path, client: Any) -> None:
    sim(host, "postgres:create", "db1")
    bad = b"PGDMP" + b"\x00" * 3  # the magic, then garbage: pg_restore's own refusal
    with pytest.raises(DokkuError) as caught:
        import_stream(client, PG, "db1", io.BytesIO(bad), len(bad), lambda n: None)
    assert "pg_restore" in str(caught.value)


@pytest.mark.parametrize("head", [b"-- MySQL dump 10.13", b"/*M!999999\\- enable", b"\n-- x"])
def test_sql_dumps_are_recognised(head: bytes) -> None:
    check_dump(kind_facts("mysql"), head)
    with pytest.raises(ServicesError):
        check_dump(kind_facts("mysql"), b"\x89PNG\r\n")


def test_kinds_without_export_refuse_it() -> None:
    with pytest.raises(ServicesError, match="no import"):
        check_dump(kind_facts("rabbitmq"), b"anything")
    assert kinds_mod.OFFICIAL["rabbitmq"].exportable is False


@pytest.mark.parametrize("kind", ["mysql", "mariadb", "mongo"])
def test_each_kinds_own_export_imports_back_and_a_foreign_one_is_refused(
        host: Path, client: Any, kind: str) -> None:
    sim(host, "plugin:install", f"https://github.com/dokku/dokku-{kind}.git")
    facts = require_kind(available_kinds(client, max_age=0), kind)
    sim(host, f"{kind}:create", "d1")
    with export_stream(client, facts, "d1") as stream:
        data = b"".join(stream.chunks())
    check_dump(facts, data[:64])
    import_stream(client, facts, "d1", io.BytesIO(data), len(data), lambda n: None)
    client.reset_calls()
    with pytest.raises(ServicesError, match=f"not a {facts.title} export"):
        import_stream(client, facts, "d1", io.BytesIO(b"PGDMP\x01\x10"), 7, lambda n: None)
    assert client.calls == []


def test_a_plugin_declared_kind_joins_with_its_facts(client: Any) -> None:
    import pluggy

    from pruvon_core import hookspecs
    from pruvon_core.hookspecs import hookimpl
    from pruvon_core.registry import ServiceType

    class Cockroach:
        @hookimpl
        def pruvon_service_types(self) -> list:
            return [ServiceType("cockroach", "CockroachDB", title="CockroachDB", console=True,
                                export_ext="sql", dump_magic=(b"--",),
                                create_flags=("--image", "--image-version")),
                    ServiceType("broken", "bad facts", dump_magic=("not bytes",)),  # type: ignore[arg-type]
                    ServiceType("postgres", "a second postgres is ignored")]

    pm = pluggy.PluginManager("pruvon")
    pm.add_hookspecs(hookspecs)
    pm.register(Cockroach())
    context = type("Context", (), {"plugins": pm})()
    names = [k.name for k in available_kinds(client, context, max_age=0)]
    assert names == ["postgres", "redis", "cockroach"]
    roach = kind_facts("cockroach", context)
    assert (roach.title, roach.console, roach.export_ext, roach.exportable, roach.official) == (
        "CockroachDB", True, "sql", True, False)
    assert roach.create_flags == ("--image", "--image-version")
    check_dump(roach, b"-- dump")
    with pytest.raises(ServicesError):
        check_dump(roach, b"PGDMP")


def test_without_docker_the_list_still_costs_no_info_calls(host: Path, client: Any) -> None:
    """Over ssh Pruvon cannot run docker: names and links still come, status stays empty."""
    sim(host, "postgres:create", "db1")
    sim(host, "postgres:link", "db1", "blog")
    client.docker = None
    rows = list_services(client, [PG, REDIS])
    assert [(r.name, r.status, r.links) for r in rows] == [("db1", "", ["blog"])]
    assert sorted(c.argv[0] for c in client.calls) == [
        "docker-options:report", "postgres:list", "redis:list"]


def test_a_host_without_service_plugins_lists_nothing(client: Any) -> None:
    assert list_services(client, []) == []
    assert client.calls == []


def test_linked_services_costs_one_call_per_type_plus_one_per_linked_service(
        host: Path, client: Any) -> None:
    """An app's destroy and backup-by-app read its services without one call per service."""
    from pruvon_services.public import linked_services

    for n in range(8):
        sim(host, "postgres:create", f"db{n}")
    sim(host, "redis:create", "cache")
    sim(host, "postgres:link", "db3", "blog")
    sim(host, "redis:link", "cache", "blog")
    sim(host, "redis:link", "cache", "shop-api")
    client.calls.clear()
    found = linked_services(client, "blog")
    assert sorted(found) == [("postgres", "db3", ["blog"]),
                             ("redis", "cache", ["blog", "shop-api"])]
    reads = [c[0] for c in dokku_calls(client)]
    assert sorted(r for r in reads if r not in ("plugin:list", "version")) == [
        "postgres:app-links", "postgres:links", "redis:app-links", "redis:links"]
