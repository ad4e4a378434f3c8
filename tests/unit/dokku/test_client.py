"""Client logic over an in-memory transport answering with real Dokku captures."""

from __future__ import annotations

import io
import json

import pytest

from pruvon_core.dokku import DokkuClient, errors
from pruvon_core.dokku.models import PortMapping, ProcessCount, Result
from tests.unit.dokku.fakes import FakeDocker, FakeTransport, case


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(version="0.38.27", containers=None, docker=True, **kwargs):
    transport = FakeTransport(version, docker=docker)
    dock = FakeDocker(containers)
    return DokkuClient(transport, dock, **kwargs), transport, dock


def commands(client):
    return [
        call.argv[0] if call.kind == "dokku" else "docker " + call.argv[0] for call in client.calls
    ]


def test_version_is_detected_once():
    client, transport, _ = make()
    assert client.version() == "0.38.27"
    assert client.version() == "0.38.27"
    assert transport.seen.count(["version"]) == 1


def test_apps_list_json_on_new_dokku():
    client, transport, _ = make()
    transport.answer(["apps:list", "--format", "json"], case("apps-list-json"))
    assert client.list_apps() == ["ref-empty", "ref-multi", "ref-web"]
    assert ["apps:list", "--format", "json"] in transport.seen


def test_apps_list_text_on_dokku_035():
    client, transport, _ = make("0.35.0")
    transport.answer(["apps:list"], case("apps-list"))
    assert client.list_apps() == ["ref-empty", "ref-multi", "ref-web"]
    assert all("--format" not in argv for argv in transport.seen)


def test_json_flag_ignored_falls_back_to_text():
    client, transport, _ = make()
    transport.answer("apps:list", case("apps-list-bad-format"))  # text even with --format
    assert client.list_apps() == ["ref-empty", "ref-multi", "ref-web", "svc-app"]
    assert commands(client) == ["version", "apps:list"]  # the same output, parsed as text


def test_empty_app_list_is_not_an_error():
    client, transport, _ = make("0.35.0")
    transport.answer(["apps:list"], case("apps-list-empty"))
    assert client.list_apps() == []


def test_old_dokku_scale_and_plugins_use_text():
    client, transport, _ = make("0.35.0")
    transport.answer(["ps:scale", "ref-multi"], case("ps-scale-show"))
    transport.answer(["plugin:list"], case("plugin-list"))
    assert client.scale("ref-multi") == {"web": 2}
    assert any(p.name == "postgres" for p in client.plugins())
    new, transport2, _ = make()
    transport2.answer(["ps:scale", "ref-multi", "--format", "json"], case("ps-scale-show-json"))
    assert new.scale("ref-multi") == {"web": 2}


def test_calls_record_argv_duration_exit():
    client, transport, _ = make()
    transport.answer("apps:exists", case("apps-exists-no"))
    assert client.app_exists("ref-nope") is False
    call = client.calls[-1]
    assert call.argv == ("apps:exists", "ref-nope") and call.exit == 20 and call.kind == "dokku"
    assert call.duration >= 0
    client.reset_calls()
    assert client.calls == []


def test_reads_are_cached_and_any_mutation_invalidates():
    client, transport, _ = make()
    transport.answer("config:export", case("config-export-json"))
    assert client.config("ref-web")["NO_VHOST"] == "1"
    client.config("ref-web")
    assert commands(client).count("config:export") == 1
    client.config_set("ref-web", {"A": "1"})
    client.config("ref-web")
    assert commands(client).count("config:export") == 2


def test_cache_expires_after_ttl():
    clock = Clock()
    client, transport, _ = make(clock=clock, cache_ttl=2.0)
    transport.answer("domains:report", case("domains-report-after-set"))
    assert client.domains("ref-web").app_vhosts == ["a.example.com", "b.example.com"]
    clock.now += 1
    client.domains("ref-web")
    clock.now += 5
    client.domains("ref-web")
    assert commands(client).count("domains:report") == 2


def test_config_set_argv_and_special_values_verbatim():
    client, transport, _ = make()
    client.config_set("ref-web", {"SIMPLE": "value", "DOLLAR": "$HOME `id`", "NL": "a\nb"})
    assert transport.seen[-1] == [
        "config:set",
        "--no-restart",
        "ref-web",
        "SIMPLE=value",
        "DOLLAR=$HOME `id`",
        "NL=a\nb",
    ]
    client.config_set(None, {"G": "1"}, restart=True)
    assert transport.seen[-1] == ["config:set", "--global", "G=1"]
    client.config_unset("ref-web", ["A", "B"])
    assert transport.seen[-1] == ["config:unset", "--no-restart", "ref-web", "A", "B"]


def test_config_value_that_dokku_would_corrupt_is_refused():
    client, transport, _ = make()
    with pytest.raises(errors.InvalidValue, match="corrupted"):
        client.config_set("ref-web", {"TQ": 'ends with "quote"'})
    assert transport.seen == []


def test_config_get_missing_key_is_none_and_value_is_exact():
    client, transport, _ = make()
    transport.answer(["config:get", "ref-web", "NOPE"], case("config-get-missing"))
    transport.answer(["config:get", "ref-web", "NEWLINE"], case("config-get-special-newline"))
    transport.answer(["config:get", "ref-web", "EMPTY"], case("config-get-special-empty"))
    assert client.config_get("ref-web", "NOPE") is None
    assert client.config_get("ref-web", "NEWLINE") == "line1\nline2"
    assert client.config_get("ref-web", "EMPTY") == ""


def test_config_missing_app_raises_app_not_found():
    client, transport, _ = make()
    transport.answer("config:export", case("config-export-missing-app"))
    with pytest.raises(errors.AppNotFound, match="App ref-nope does not exist"):
        client.config("ref-nope")


@pytest.mark.parametrize(
    ("method", "capture"),
    [
        ("ps_stop", "ps-stop-never-deployed"),  # exit 0, message on stderr
        ("ps_start", "ps-start-never-deployed"),
        ("ps_restart", "ps-restart-never-deployed"),  # exit 0, message on STDOUT
    ],
)
def test_lifecycle_on_never_deployed_app_raises_not_deployed(method, capture):
    client, transport, _ = make()
    transport.answer(f"ps:{method[3:]}", case(capture))
    with pytest.raises(errors.NotDeployed, match="has not been deployed"):
        getattr(client, method)("ref-empty")


def test_lifecycle_ignores_unrelated_warnings():
    client, transport, _ = make()
    noise = " !     Image does not exist, pulling\n\x1b[1m\x1b[31m !     \x1b[0m\x1b[0mNo healthchecks\n"
    transport.answer("ps:restart", (0, noise, ""))
    client.ps_restart("ref-web")


def test_ps_rebuild_missing_app_on_stdout():
    client, transport, _ = make()
    transport.answer("ps:rebuild", case("ps-rebuild-missing-app"))
    with pytest.raises(errors.AppNotFound):
        client.ps_rebuild("ref-nope")


def test_apps_create_taken_and_destroy_argv():
    client, transport, _ = make()
    transport.answer("apps:create", case("apps-create-taken"))
    with pytest.raises(errors.NameTaken):
        client.apps_create("ref-empty")
    client.apps_destroy("ref-web")
    assert transport.seen[-1] == ["apps:destroy", "ref-web", "--force"]
    client.apps_rename("old_app", "new-app")
    assert transport.seen[-1] == ["apps:rename", "old_app", "new-app"]
    with pytest.raises(errors.InvalidName):
        client.apps_create("old_app")  # new apps may not contain '_' (Dokku ≥0.38)


def test_scale_domains_ports_storage_argv():
    client, transport, _ = make()
    client.ps_scale("ref-web", {"web": 2, "worker": 0}, skip_deploy=True)
    assert transport.seen[-1] == ["ps:scale", "--skip-deploy", "ref-web", "web=2", "worker=0"]
    client.domains_add("ref-web", ["A.Example.com", "*.b.example.com"])
    assert transport.seen[-1] == ["domains:add", "ref-web", "a.example.com", "*.b.example.com"]
    client.ports_set("ref-web", [PortMapping("http", 80, 5000), ("https", 443, 5000)])
    assert transport.seen[-1] == ["ports:set", "ref-web", "http:80:5000", "https:443:5000"]
    client.storage_mount("ref-web", "/var/lib/dokku/data/storage/ref-web", "/data")
    assert transport.seen[-1] == [
        "storage:mount",
        "ref-web",
        "/var/lib/dokku/data/storage/ref-web:/data",
    ]
    with pytest.raises(errors.InvalidValue):
        client.ps_scale("ref-web", {"web": -1})  # Dokku would delete the web container


def test_typed_reads_from_captures():
    client, transport, _ = make()
    transport.answer("ps:report", case("ps-report-scaled-json"))
    transport.answer("ports:report", case("ports-report-after-add-json"))
    transport.answer("apps:report", case("apps-report-app-json"))
    transport.answer(["storage:list", "ref-web", "--format", "json"], case("storage-list-json"))
    assert client.ps_report("ref-multi").processes == 2
    assert client.ports("ref-web").configured == [PortMapping("http", 8081, 5000)]
    assert client.app_report("ref-web").deploy_source == "docker-image"
    assert client.storage("ref-web")[0].container_path == "/data"
    transport.answer("urls", case("urls-after-port-set"))
    assert client.urls("ref-web") == ["http://vm:8081"]


def test_services_reads_and_errors():
    client, transport, _ = make()
    transport.answer("postgres:list", case("pg-list"))
    transport.answer("postgres:info", case("pg-info"))
    transport.answer("postgres:exists", case("pg-exists-no"))
    transport.answer("postgres:destroy", case("pg-destroy-linked-force"))
    transport.answer("postgres:link", case("pg-link-again"))
    assert [s.name for s in client.services("postgres")] == ["svc-db"]
    assert client.service_info("postgres", "svc-db").status == "running"
    assert client.service_exists("postgres", "svc-nope") is False
    with pytest.raises(errors.ServiceLinked):
        client.service_destroy("postgres", "svc-db")
    assert transport.seen[-1] == ["postgres:destroy", "svc-db", "--force"]
    with pytest.raises(errors.AlreadyLinked):
        client.service_link("postgres", "svc-db", "svc-app")


def test_service_import_streams_file_to_stdin():
    client, transport, _ = make()
    client.service_import("postgres", "svc-db2", io.BytesIO(b"PGDMP..."))
    assert transport.seen[-1] == ["postgres:import", "svc-db2"]
    assert transport.stdin_seen == [b"PGDMP..."]


def test_terminal_argv_builders():
    assert DokkuClient.enter_args("ref-multi", "web.2", ["echo", "hi"]) == [
        "enter",
        "ref-multi",
        "web.2",
        "echo",
        "hi",
    ]
    assert DokkuClient.enter_args("ref-web") == ["enter", "ref-web", "web", "/bin/sh"]
    assert DokkuClient.run_args("ref-web", ["ls", "-la"]) == ["run", "ref-web", "ls", "-la"]
    assert DokkuClient.connect_args("postgres", "svc-db") == ["postgres:connect", "svc-db"]
    with pytest.raises(errors.InvalidValue):
        DokkuClient.run_args("ref-web", ["--env", "X=1"])


# --------------------------------------------------------------------- app list cost
def _apps(n):
    return [f"app-{i:03d}" for i in range(n)]


@pytest.mark.parametrize("count", [1, 10, 200])
def test_overview_call_count_is_constant_and_never_ps_report(count):
    names = _apps(count)
    containers = [(name, "web.1", "running") for name in names[::2]]
    containers += [(names[0], "worker.1", "exited"), (names[0], "run.1234", "running")]
    client, transport, docker = make(containers=containers)
    transport.answer(["apps:list", "--format", "json"], (0, json.dumps(names), ""))
    overview = client.apps_overview()
    assert [a.name for a in overview] == names
    kinds = commands(client)
    assert kinds == ["version", "apps:list", "docker ps"]
    assert not any("ps:report" in call.argv for call in client.calls)
    first = overview[0]
    assert first.state == "mixed"
    assert first.processes == {"web": ProcessCount(1, 1), "worker": ProcessCount(0, 1)}
    assert all(c.container_type == "deploy" for c in first.containers)  # run.* excluded
    if count > 1:
        assert overview[1].state == "not deployed" and overview[1].source == "docker"
    assert docker.seen[0][:2] == ["ps", "-a"] and "label=com.dokku.app-name" in docker.seen[0]


def test_overview_states():
    client, transport, _ = make(
        containers=[
            ("a", "web.1", "running"),
            ("b", "web.1", "exited"),
            ("c", "web.1", "running"),
            ("c", "web.2", "exited"),
        ]
    )
    transport.answer(["apps:list", "--format", "json"], (0, '["a","b","c","d"]', ""))
    states = {a.name: a.state for a in client.apps_overview()}
    assert states == {"a": "running", "b": "stopped", "c": "mixed", "d": "not deployed"}


def test_overview_over_ssh_serves_reports_stale_while_revalidate():
    clock = Clock()
    client, transport, docker = make(docker=False, clock=clock, report_max_age=30)
    transport.answer(["apps:list", "--format", "json"], case("apps-list-json"))
    transport.answer(["ps:report"], case("ps-report-all"))
    first = {a.name: a for a in client.apps_overview()}
    assert first["ref-multi"].state == "running" and first["ref-multi"].source == "report"
    assert first["ref-multi"].processes == {"web": ProcessCount(2, 2)}
    assert first["ref-empty"].state == "not deployed" and first["ref-multi"].age == 0
    clock.now += 10
    again = client.apps_overview()
    assert again[1].age == 10 and commands(client).count("ps:report") == 1
    clock.now += 60  # older than max_age: served at once, refreshed in the background
    stale = client.apps_overview()
    assert stale[1].age == 70
    client._reports.wait(5)
    assert commands(client).count("ps:report") == 2
    assert client.apps_overview()[1].age == 0
    assert docker.seen == []
    with pytest.raises(errors.DokkuError, match="cannot run docker"):
        client.containers()


def test_overview_falls_back_to_reports_when_docker_is_refused():
    client, transport, docker = make()
    denied = "permission denied while trying to connect to the Docker daemon socket"
    docker.run = lambda args, timeout=30: Result(("docker", *args), 1, "", denied, 0.001)
    transport.answer(["apps:list", "--format", "json"], case("apps-list-json"))
    transport.answer(["ps:report"], case("ps-report-all"))
    overview = {a.name: a for a in client.apps_overview()}
    assert overview["ref-multi"].state == "running" and overview["ref-multi"].source == "report"
    assert isinstance(client.docker_error, errors.DokkuUnavailable)
    assert "docker group" in client.docker_error.hint and denied in client.docker_error.message
