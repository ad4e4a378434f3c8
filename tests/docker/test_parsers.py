"""docker's ``--format '{{json .}}'`` lines (as the docker CLI 25 prints them) → models."""

from __future__ import annotations

import pytest
from pruvon_docker import host, parsers

from pruvon_core.dokku.errors import ContainerNotFound
from pruvon_core.dokku.parsers import ParseError

PS_LINE = (
    '{"Command":"\\"docker-entrypoint.s…\\"","CreatedAt":"2026-11-30 10:00:00 +0000 UTC",'
    '"ID":"4f1c0a9e8d7b","Image":"postgres:16","Labels":"com.dokku.app-name=blog,'
    'com.dokku.dyno=web.1,com.dokku.process-type=web","LocalVolumes":"1",'
    '"Mounts":"pgdata","Names":"blog.web.1","Networks":"bridge,backend","Ports":"",'
    '"RunningFor":"3 days ago","Size":"0B","State":"running","Status":"Up 3 days (healthy)"}'
)
STATS_LINE = ('{"BlockIO":"1.2MB / 0B","CPUPerc":"12.50%","Container":"4f1c0a9e8d7b",'
              '"ID":"4f1c0a9e8d7b","MemPerc":"1.20%","MemUsage":"192.5MiB / 15.62GiB",'
              '"Name":"blog.web.1","NetIO":"1kB / 2kB","PIDs":"7"}')


def test_ps_line_keeps_app_networks_mounts_and_uptime() -> None:
    (container,) = parsers.parse_ps(PS_LINE)
    assert (container.app, container.dyno, container.process_type) == ("blog", "web.1", "web")
    assert container.networks == ("bridge", "backend") and container.mounts == ("pgdata",)
    assert container.uptime == "3 days"


def test_stats_line_in_bytes() -> None:
    usage = parsers.parse_stats(STATS_LINE)["4f1c0a9e8d7b"]
    assert usage.cpu_percent == 12.5 and usage.pids == 7
    assert usage.mem_used == int(192.5 * 2**20) and usage.mem_limit == int(15.62 * 2**30)


@pytest.mark.parametrize(("text", "value"), [("0B", 0), ("146MB", 146_000_000),
                                             ("1.5kB", 1500), ("4.186MiB", int(4.186 * 2**20)),
                                             ("N/A", None), ("", None), ("12 parsecs", None)])
def test_sizes(text: str, value: int | None) -> None:
    assert parsers.size(text) == value


def test_garbage_is_a_parse_error_not_data() -> None:
    for parse in (parsers.parse_ps, parsers.parse_stats, parsers.parse_networks):
        with pytest.raises(ParseError):
            parse("Cannot connect to the Docker daemon\n")
    with pytest.raises(ParseError):
        parsers.parse_system_df('{"Images": "many"}')


@pytest.mark.parametrize("ref", ["-rf", "--privileged", "a b", "a;b", "", "x" * 129, "../etc",
                                 "$(id)", "name\n"])
def test_container_refs_refused_before_any_argv(ref: str) -> None:
    with pytest.raises(ValueError):
        host.logs_args(ref)
    with pytest.raises(ValueError):
        host.exec_args(ref)


def test_only_allowlisted_shells() -> None:
    assert host.exec_args("redis-cache", "/bin/bash") == ["exec", "-it", "redis-cache",
                                                           "/bin/bash"]
    for shell in ("/usr/bin/python3", "sh -c id", "/bin/sh;id"):
        with pytest.raises(host.DockerInputError):
            host.exec_args("redis-cache", shell)


class Known:
    """A client whose ``docker ps`` holds three containers (no process started)."""

    docker = object()

    def docker_read(self, args: list[str], parse: object) -> list:
        return [parsers.parse_ps(line)[0] for line in (
            '{"ID":"abc123abc1231111","Names":"web","Image":"x","State":"running"}',
            '{"ID":"abc123abc1232222","Names":"abc123abc123","Image":"x","State":"running"}',
            '{"ID":"def456def4563333","Names":"db","Image":"x","State":"exited"}')]


def test_find_prefers_exact_id_or_name_then_a_unique_prefix() -> None:
    client = Known()
    assert host.find(client, "abc123abc123").id == "abc123abc1232222"  # the name wins
    assert host.find(client, "def456def456").name == "db"
    assert host.find(client, "abc123abc1231").name == "web"  # a unique prefix
    with pytest.raises(host.DockerInputError, match="matches 2 containers"):
        host.find(client, "abc123abc12")
    with pytest.raises(ContainerNotFound):
        host.find(client, "0123456789ab")
