"""Shell-injection corpus in every argument position of every client method.

A payload in a *name* position (app, service, key, domain, process type, port,
path, ...) must be rejected before anything runs.  A payload in a *free text*
position (config values, command words) must arrive verbatim as one argv
element, executed by nothing - checked with a real child process and a canary
file that any shell interpretation would create.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pruvon_core.dokku import CommandTransport, DokkuClient, errors
from tests.unit.dokku.fakes import FakeDocker, FakeTransport

CANARY = "/tmp/pruvon-injection-canary"  # replaced per test in the subprocess test


def corpus(canary: str = CANARY) -> list[str]:
    return [
        f"$(touch {canary})",
        f"`touch {canary}`",
        f"a; touch {canary}",
        f"a | touch {canary}",
        f"a && touch {canary}",
        f"a\ntouch {canary}",
        "it's",
        'say "hi"',
        "-x",
        "--force",
        "../etc/passwd",
        "a/../../b",
        "a b",
        "",
    ]


P = "\x00PAYLOAD\x00"  # marks the position under test in the table below
NAME_POSITIONS = [
    ("app_exists", (P,)),
    ("app_report", (P,)),
    ("apps_create", (P,)),
    ("apps_destroy", (P,)),
    ("apps_rename", (P, "new")),
    ("apps_rename", ("old", P)),
    ("apps_lock", (P,)),
    ("ps_report", (P,)),
    ("scale", (P,)),
    ("ps_scale", (P, {"web": 1})),
    ("ps_scale", ("app", {P: 1})),
    ("ps_start", (P,)),
    ("ps_stop", (P,)),
    ("ps_restart", (P,)),
    ("ps_rebuild", (P,)),
    ("deploy_image", (P, "example/web:1")),
    ("deploy_image", ("app", P)),
    ("config", (P,)),
    ("config_get", (P, "KEY")),
    ("config_get", ("app", P)),
    ("config_set", (P, {"KEY": "v"})),
    ("config_set", ("app", {P: "v"})),
    ("config_unset", (P, ["KEY"])),
    ("config_unset", ("app", [P])),
    ("domains", (P,)),
    ("domains_add", (P, ["a.example.com"])),
    ("domains_add", ("app", [P])),
    ("domains_set", ("app", ["ok.example.com", P])),
    ("domains_remove", ("app", [P])),
    ("domains_clear", (P,)),
    ("ports", (P,)),
    ("urls", (P,)),
    ("ports_add", (P, [("http", 80, 5000)])),
    ("ports_add", ("app", [(P, 80, 5000)])),
    ("ports_set", ("app", [("http", P, 5000)])),
    ("ports_remove", ("app", [("http", 80, P)])),
    ("ports_clear", (P,)),
    ("storage", (P,)),
    ("storage_mount", (P, "/srv/data", "/data")),
    ("storage_mount", ("app", P, "/data")),
    ("storage_unmount", ("app", "/srv/data", P)),
    ("services", (P,)),
    ("service_info", (P, "svc")),
    ("service_info", ("postgres", P)),
    ("service_exists", ("postgres", P)),
    ("service_links", ("postgres", P)),
    ("service_create", (P, "svc")),
    ("service_create", ("postgres", P)),
    ("service_destroy", ("postgres", P)),
    ("service_link", (P, "svc", "app")),
    ("service_link", ("postgres", P, "app")),
    ("service_link", ("postgres", "svc", P)),
    ("service_unlink", ("postgres", "svc", P)),
    ("service_action", ("postgres", P, "start")),
    ("service_action", ("postgres", "svc", P)),
    ("service_export", ("postgres", P)),
    ("service_import", ("postgres", P, None)),
    ("logs", (P,)),
    ("containers", (P,)),
    ("enter_args", (P,)),
    ("enter_args", ("app", P)),
    ("run_args", (P,)),
    ("connect_args", (P, "svc")),
    ("connect_args", ("postgres", P)),
    ("git_sync", (P, "https://example.com/x.git")),
    ("git_sync", ("app", P)),
    ("git_sync", ("app", "https://example.com/x.git", P)),
    ("nginx_set", (P, "hsts", "true")),
    ("nginx_set", ("app", P, "1")),
    ("resource_set", ("limit", P, {"memory": "1g"})),
    ("resource_set", ("limit", "app", {"memory": "1g"}, P)),
    ("resource_set", ("limit", "app", {"memory": P})),
    ("resource_clear", ("limit", P)),
    ("docker_options_change", ("add", P, ["deploy"], "--restart=always")),
    ("docker_options_change", ("add", "app", [P], "--restart=always")),
    ("cron_list", (P,)),
    ("letsencrypt", (P, True)),
    ("redirect_set", (P, "a.example.com", "b.example.com")),
    ("redirect_set", ("app", P, "b.example.com")),
    ("redirect_unset", ("app", P)),
]


def _fill(value, payload):
    if value == P:
        return payload
    if isinstance(value, dict):
        return {_fill(k, payload): _fill(v, payload) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fill(v, payload) for v in value)
    return value


@pytest.mark.parametrize(("method", "template"), NAME_POSITIONS, ids=lambda v: str(v)[:40])
def test_payload_in_a_name_position_is_rejected_before_any_call(method, template):
    transport = FakeTransport()
    docker = FakeDocker()
    client = DokkuClient(transport, docker)
    for payload in corpus():
        args = _fill(template, payload)
        with pytest.raises((errors.InvalidName, errors.InvalidValue)):
            getattr(client, method)(*args)
    assert transport.seen == [] and docker.seen == [] and client.calls == []


def test_payload_in_logs_process_position_is_rejected():
    client = DokkuClient(FakeTransport(), FakeDocker())
    for payload in corpus():
        with pytest.raises((errors.InvalidName, errors.InvalidValue)):
            client.logs("app", process=payload)
    assert client.calls == []


RECORDER = """
import json, sys
with open(sys.argv[1], "a") as log:
    log.write(json.dumps(sys.argv[2:]) + "\\n")
"""


def test_free_text_payloads_reach_argv_verbatim_and_execute_nothing(tmp_path: Path):
    canary = tmp_path / "pwned"
    log = tmp_path / "argv.jsonl"
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER)
    client = DokkuClient(CommandTransport([sys.executable, str(script), str(log)]))
    payloads = [p for p in corpus(str(canary)) if not p.endswith('"')]
    for payload in payloads:
        client.config_set("app", {"KEY": payload})
        client.config_set(None, {"KEY": payload})
    recorded = [json.loads(line) for line in log.read_text().splitlines()]
    expected = []
    for payload in payloads:
        expected.append(["config:set", "--no-restart", "app", f"KEY={payload}"])
        expected.append(["config:set", "--no-restart", "--global", f"KEY={payload}"])
    assert recorded == expected
    assert not canary.exists()


def test_command_words_of_run_and_enter_stay_single_words():
    for payload in corpus():
        if payload.startswith("-") or not payload:
            continue
        assert DokkuClient.run_args("app", ["echo", payload]) == ["run", "app", "echo", payload]
        assert DokkuClient.enter_args("app", "web", ["echo", payload])[-1] == payload
