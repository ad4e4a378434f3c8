"""Parsers checked against real Dokku 0.38.27 captures (the spec), JSON and text alike."""

from __future__ import annotations

import json

import pytest

from pruvon_core.dokku import parsers
from pruvon_core.dokku.models import PortMapping, ProcessStatus
from pruvon_testing.reference import load_cases

CASES = {case.name: case for case in load_cases()}


def out(name: str) -> str:
    return CASES[name].stdout.decode()


def test_version_from_both_spellings():
    assert parsers.parse_version(out("version")) == "0.38.27"
    assert parsers.parse_version(out("version-flag")) == "0.38.27"
    assert parsers.version_tuple("0.35.0") < parsers.version_tuple("0.38.27")
    with pytest.raises(parsers.ParseError):
        parsers.parse_version("not a version")


@pytest.mark.parametrize(
    ("text_case", "json_case"),
    [("apps-list", "apps-list-json"), ("apps-list-after-cleanup", "apps-list-json-after-cleanup")],
)
def test_apps_list_text_and_json_agree(text_case, json_case):
    text = parsers.parse_apps_list_text(out(text_case))
    assert text == parsers.parse_apps_list_json(out(json_case))
    assert text and all(not name.startswith("=") for name in text)


def test_apps_list_empty_and_quiet_and_bad_format_fallback():
    assert parsers.parse_apps_list_text(out("apps-list-empty")) == []
    assert parsers.parse_apps_list_text(
        out("global-quiet-apps-list")
    ) == parsers.parse_apps_list_text(out("apps-list-current"))
    # --format yaml silently prints text: the JSON parser must refuse it, not misread it
    with pytest.raises(parsers.ParseError):
        parsers.parse_apps_list_json(out("apps-list-bad-format"))


def _statuses(report):
    return [(s.process_type, s.index, s.state) for s in report.statuses]


@pytest.mark.parametrize(
    ("text_case", "json_case"),
    [
        ("ps-report-scaled", "ps-report-scaled-json"),
        ("ps-report-stopped", "ps-report-stopped-json"),
        ("ps-report-never-deployed", "ps-report-never-deployed-json"),
    ],
)
def test_ps_report_text_and_json_give_the_same_model(text_case, json_case):
    app = CASES[text_case].argv[1]
    from_text = parsers.ps_report(app, parsers.parse_report_text(out(text_case)))
    from_json = parsers.ps_report(app, parsers.parse_json(out(json_case), "ps"))
    assert from_text == from_json


def test_ps_report_values():
    scaled = parsers.ps_report("ref-multi", parsers.parse_json(out("ps-report-scaled-json"), "x"))
    assert scaled.deployed and scaled.running and scaled.processes == 2
    assert scaled.statuses == [
        ProcessStatus("web", 1, "running", "91afa3365eb"),
        ProcessStatus("web", 2, "running", "00f47b2b689"),
    ]
    assert scaled.restart_policy == "on-failure:10"
    stopped = parsers.ps_report("ref-web", parsers.parse_json(out("ps-report-stopped-json"), "x"))
    assert not stopped.running and _statuses(stopped) == [("web", 1, "exited")]
    never = parsers.ps_report(
        "ref-empty", parsers.parse_report_text(out("ps-report-never-deployed"))
    )
    assert not never.deployed and never.statuses == []


def test_ps_report_only_prefixed_keys_like_older_dokku():
    """Before 0.38.8 some keys existed only as ``ps-<key>``: the model must not change."""
    data = parsers.parse_json(out("ps-report-scaled-json"), "x")
    prefixed_only = {
        k if k.startswith(("ps-", "status-")) else f"ps-{k}": v for k, v in data.items()
    }
    unprefixed_only = {k: v for k, v in data.items() if not k.startswith("ps-")}
    expected = parsers.ps_report("a", data)
    assert parsers.ps_report("a", prefixed_only) == expected
    assert parsers.ps_report("a", unprefixed_only) == expected


def test_ps_report_all_apps_text_blocks_carry_app_names():
    blocks = parsers.parse_report_blocks(out("ps-report-all"))
    names = [name for name, _ in blocks]
    assert names == parsers.parse_apps_list_text(out("apps-list"))
    reports = {name: parsers.ps_report(name, data) for name, data in blocks}
    ndjson = parsers.parse_ndjson(out("ps-report-all-json"), "x")
    assert [parsers.ps_report(n, d) for n, d in zip(names, ndjson, strict=True)] == list(
        reports.values()
    )


def test_label_to_key_matches_json_keys():
    assert parsers.label_to_key("Status web 1") == "status-web.1"
    assert parsers.label_to_key("Ps computed restart policy") == "ps-computed-restart-policy"
    text = parsers.parse_report_text(out("apps-report-app"))
    data = parsers.parse_json(out("apps-report-app-json"), "x")
    assert parsers.normalize_report(text, "apps") == parsers.normalize_report(data, "apps")


def test_app_report():
    report = parsers.app_report("ref-web", parsers.parse_json(out("apps-report-app-json"), "x"))
    assert report.dir == "/home/dokku/ref-web"
    assert report.deploy_source == "docker-image"
    assert report.deploy_source_metadata == "example/web:1"
    assert report.created_at == 1795345956 and report.locked is False


def test_domains_report_json_and_text():
    after_set = parsers.domains_report(parsers.parse_json(out("domains-report-after-set"), "x"))
    assert after_set.app_enabled and after_set.app_vhosts == ["a.example.com", "b.example.com"]
    text = parsers.domains_report(parsers.parse_report_text(out("domains-report-after-add")))
    json_ = parsers.domains_report(parsers.parse_json(out("domains-report-after-add-json"), "x"))
    assert text == json_ and text.app_vhosts == ["ref-web.example.com"]
    glob = parsers.parse_report_blocks(out("domains-report-global"))
    assert glob[0][0] == "--global"
    assert parsers.domains_report(glob[0][1]).global_enabled is False


def test_ports_report_json_with_nested_json_strings():
    plain = parsers.ports_report(parsers.parse_json(out("ports-report-json"), "x"))
    assert plain.configured == [] and plain.detected == [PortMapping("http", 80, 5000)]
    added = parsers.ports_report(parsers.parse_json(out("ports-report-after-add-json"), "x"))
    assert added.configured == [PortMapping("http", 8081, 5000)]
    assert str(added.configured[0]) == "http:8081:5000"


def test_ports_list_text():
    assert parsers.parse_ports_list_text(out("ports-list-after-add-second")) == [
        PortMapping("http", 8081, 5000),
        PortMapping("http", 8082, 5000),
        PortMapping("https", 8443, 5000),
    ]
    assert parsers.parse_ports_list_text(out("ports-list")) == []
    with pytest.raises(parsers.ParseError):
        parsers.parse_port_map("http:abc:5000")


def test_storage_list_json_and_text_agree_on_paths():
    from_json = parsers.parse_storage_list_json(out("storage-list-json"))
    from_text = parsers.parse_storage_list_text(out("storage-list"))
    assert [(m.host_path, m.container_path) for m in from_json] == [
        (m.host_path, m.container_path) for m in from_text
    ]
    assert from_json[0].entry_name == "legacy-4b101fcc80"
    assert parsers.parse_storage_list_json(out("storage-list-empty-json")) == []
    assert parsers.parse_storage_list_text(out("storage-list-empty")) == []


@pytest.mark.parametrize(
    ("text_case", "json_case"),
    [
        ("ps-scale-show", "ps-scale-show-json"),
        ("ps-scale-show-never-deployed", "ps-scale-show-never-deployed-json"),
    ],
)
def test_scale_text_and_json_agree(text_case, json_case):
    assert parsers.parse_scale_text(out(text_case)) == parsers.parse_scale_json(out(json_case))


def test_scale_after_negative_scale():
    assert parsers.parse_scale_text(out("ps-scale-show-after-negative")) == {"web": 1, "worker": 1}


def test_plugin_list_text_and_json_agree():
    from_json = parsers.parse_plugin_list_json(out("plugin-list-json"))
    from_text = parsers.parse_plugin_list_text(out("plugin-list"))
    assert [(p.name, p.version, p.enabled) for p in from_text] == [
        (p.name, p.version, p.enabled) for p in from_json
    ]
    postgres = next(p for p in from_json if p.name == "postgres")
    assert postgres.version == "1.48.0" and postgres.core is False
    assert next(p for p in from_json if p.name == "builds").version == "0.34.0"


def test_config_export_json_keeps_special_values():
    values = parsers.parse_json(out("config-export-json-special"), "x")
    assert values["NEWLINE"] == "line1\nline2"
    assert values["DOLLAR"] == "$HOME `id`"
    assert values["UNICODE"] == "héllo wörld ✓ 日本"
    assert values["EMPTY"] == ""


def test_service_list_names():
    assert parsers.parse_service_list(out("pg-list")) == ["svc-db"]
    assert parsers.parse_service_list(out("pg-list-two")) == ["-x", "svc-db"]
    assert parsers.parse_service_list(out("pg-list-empty")) == []
    assert parsers.parse_service_list(out("redis-list")) == ["svc-redis"]


def test_service_info_trailing_padding_and_dashes():
    info = parsers.parse_service_info("postgres", "svc-db", out("pg-info"))
    assert info.status == "running" and info.version == "postgres:18.4"
    assert info.dsn.startswith("postgres://postgres:") and info.dsn.endswith("/svc_db")
    assert info.links == [] and info.exposed_ports == ""
    assert info.internal_ip == "172.17.0.5"
    assert info.service_root == "/var/lib/dokku/services/postgres/svc-db"
    assert info.extra["initial-network"] == "" and "post-start-network" in info.extra
    redis = parsers.parse_service_info("redis", "svc-redis", out("redis-info"))
    assert redis.config_dir.endswith("/config") and redis.version == "redis:8.8.0"


def test_service_links_lines():
    assert parsers.parse_lines(out("pg-links")) == ["svc-app"]
    assert parsers.parse_lines(out("pg-app-links-empty")) == []


def _docker_line(**overrides):
    item = {
        "Command": '"httpd -f"',
        "CreatedAt": "2026-11-22 11:20:00 +0000 UTC",
        "ID": "91afa3365eb0",
        "Image": "dokku/ref-multi:latest",
        "Labels": "com.dokku.app-name=ref-multi,com.dokku.process-type=web,"
        "com.dokku.dyno=web.1,com.dokku.container-type=deploy,org.label=a,b",
        "Names": "ref-multi.web.1",
        "State": "running",
        "Status": "Up 3 minutes",
    }
    item.update(overrides)
    return json.dumps(item)


def test_docker_ps_json_lines():
    text = "\n".join(
        [
            _docker_line(),
            _docker_line(ID="00f4", Names="ref-multi.web.2", State="exited", Status="Exited (0)"),
            _docker_line(Labels="maintainer=x", Names="unrelated"),
        ]
    )
    containers = parsers.parse_docker_ps(text + "\n")
    assert [(c.name, c.app, c.dyno, c.state) for c in containers] == [
        ("ref-multi.web.1", "ref-multi", "web.1", "running"),
        ("ref-multi.web.2", "ref-multi", "web.1", "exited"),
    ]
    assert containers[0].running and not containers[1].running
    assert parsers.parse_docker_labels("a=1,b=x,y,c=2") == {"a": "1", "b": "x,y", "c": "2"}


def test_docker_ps_without_state_field_uses_status():
    line = json.loads(_docker_line())
    del line["State"]
    assert parsers.parse_docker_ps(json.dumps(line))[0].state == "running"
    line["Status"] = "Exited (137) 2 hours ago"
    assert parsers.parse_docker_ps(json.dumps(line))[0].state == "exited"
