"""Strict parsers: real Dokku output still parses, anything else is refused.

Every capture in ``tests/fixtures/dokku-reference`` that a parser reads (exit
0, no tty) must parse; garbage of the kind issue 19 found (a Dokku wrapper
printing ``<<garbage>>`` or control bytes with exit 0) must raise
:class:`ParseError` pointing at the line, never become data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from pruvon_core.dokku import client, parsers
from pruvon_testing.reference import ReferenceCase, load_cases

GARBAGE = ["<<garbage>>", "\x01\x02", "Segmentation fault", "ref web"]


def _json_report(case: ReferenceCase) -> Any:
    model = {
        "ps:report": lambda d: parsers.ps_report("a", d),
        "apps:report": lambda d: parsers.app_report("a", d),
        "domains:report": parsers.domains_report,
        "ports:report": parsers.ports_report,
    }.get(case.argv[0], lambda d: d)
    out = case.stdout.decode()
    if len([a for a in case.argv if not a.startswith("-") and a != "json"]) == 1:
        return parsers.parse_ndjson(out, "all") if out.strip() else []
    return model(parsers.parse_json_object(out, case.argv[0]))


def _text_report(case: ReferenceCase) -> Any:
    blocks = parsers.parse_report_blocks(case.stdout.decode())
    if case.argv[0] == "ps:report":
        return [parsers.ps_report(name, data) for name, data in blocks]
    return blocks


def parser_for(case: ReferenceCase) -> Callable[[ReferenceCase], Any] | None:
    """The parser Pruvon applies to this capture's stdout, None if it reads none."""
    command, json_ = case.argv[0], "json" in case.argv
    text: dict[str, Callable[[str], Any]] = {
        "apps:list": parsers.parse_apps_list_text,
        "ps:scale": parsers.parse_scale_text,
        "storage:list": parsers.parse_storage_list_text,
        "plugin:list": parsers.parse_plugin_list_text,
        "ports:list": parsers.parse_ports_list_text,
        "postgres:list": parsers.parse_service_list,
        "redis:list": parsers.parse_service_list,
        "postgres:links": lambda o: parsers.parse_lines(o, "links", parsers.NAME_RE),
        "redis:links": lambda o: parsers.parse_lines(o, "links", parsers.NAME_RE),
        "urls": lambda o: parsers.parse_lines(o, "urls", parsers.URL_RE),
        "version": parsers.parse_version,
    }
    as_json: dict[str, Callable[[str], Any]] = {
        "apps:list": client._apps_json_or_text,
        "ps:scale": parsers.parse_scale_json,
        "storage:list": parsers.parse_storage_list_json,
        "plugin:list": parsers.parse_plugin_list_json,
        "config:export": client._config_values,
        "cron:list": client._cron_tasks,
    }
    info_flag = [a for a in case.argv[1:] if a.startswith("--") and a not in ("--format",
                                                                               "--global")]
    if command.endswith(":report"):
        if info_flag:  # `ps:report APP --deployed`: one bare value, not read by Pruvon
            return None
        return _json_report if json_ else _text_report
    if command in ("postgres:info", "redis:info") and len(case.argv) == 2:
        return lambda c: parsers.parse_service_info(command.split(":")[0], c.argv[1],
                                                    c.stdout.decode())
    table = as_json if json_ else text
    if command in table and not (command == "ps:scale" and len(case.argv) > 2 and not json_):
        return lambda c: table[command](c.stdout.decode())
    return None


READ_CASES = [c for c in load_cases() if c.exit_code == 0 and not c.tty and c.argv
              and parser_for(c) is not None]


def test_the_reads_cover_every_parser():
    commands = {c.argv[0] for c in READ_CASES}
    assert {"apps:list", "ps:report", "apps:report", "domains:report", "ports:report",
            "ps:scale", "storage:list", "plugin:list", "postgres:list", "postgres:info",
            "redis:info", "urls", "config:export"} <= commands
    assert len(READ_CASES) > 80


@pytest.mark.parametrize("case", READ_CASES, ids=lambda c: c.name)
def test_real_dokku_output_parses(case: ReferenceCase):
    parser = parser_for(case)
    assert parser is not None
    parser(case)  # must not raise


def test_apps_list_header_and_dokku_warnings_are_not_apps():
    text = "=====> My Apps\nblog\n !     Deprecated: something\n\nshop\n"
    assert parsers.parse_apps_list_text(text) == ["blog", "shop"]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_apps_list_garbage_names_the_line(garbage):
    with pytest.raises(parsers.ParseError) as info:
        parsers.parse_apps_list_text(f"=====> My Apps\n{garbage}\nblog\n")
    assert info.value.detail == f"line 2 {garbage!r}"
    with pytest.raises(parsers.ParseError):
        client._apps_json_or_text(f"=====> My Apps\n{garbage}\n")
    with pytest.raises(parsers.ParseError):
        client._apps_json_or_text(json.dumps(["blog", garbage]))


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parsers.parse_report_blocks, "=====> blog ps information\n       Deployed: true\n<<x>>\n"),
        (parsers.parse_report_blocks, "<<garbage>>\n"),
        (lambda t: parsers.ps_report("a", parsers.parse_json_object(t, "ps")), '{"x": 1}'),
        (lambda t: parsers.ps_report("a", parsers.parse_json_object(t, "ps")), "[1]"),
        (lambda t: parsers.app_report("a", parsers.parse_json_object(t, "a")), "{}"),
        (lambda t: parsers.domains_report(parsers.parse_json_object(t, "d")), '{"a": 1}'),
        (lambda t: parsers.ports_report(parsers.parse_json_object(t, "p")), '{"a": 1}'),
        (parsers.parse_scale_text, "-----> Scaling for a\nproctype: qty\n<<garbage>>\n"),
        (parsers.parse_scale_json, '{"web": 1}'),
        (parsers.parse_storage_list_text, "-----> a volume bind-mounts:\n<<garbage>>\n"),
        (parsers.parse_storage_list_json, '"x"'),
        (parsers.parse_plugin_list_text, "  apps  0.38.27 enabled  core\n<<garbage>>\n"),
        (parsers.parse_plugin_list_json, "[1, 2]"),
        (parsers.parse_ports_list_text, "-----> Port mappings for a\n<<garbage>>\n"),
        (parsers.parse_service_list, "=====> Postgres services\n\x01\x02\n"),
        (lambda t: parsers.parse_service_info("postgres", "db", t), "<<garbage>>\n"),
        (lambda t: parsers.parse_lines(t, "urls", parsers.URL_RE), "<<garbage>>\n"),
        (lambda t: parsers.parse_lines(t, "links", parsers.NAME_RE), "blog\n<<x>>\n"),
        (parsers.parse_docker_ps, "<<garbage>>\n"),
        (parsers.parse_docker_ps, '{"Names": "no id"}\n'),
        (parsers.parse_docker_ps, "[]\n"),
        (client._config_values, "<<garbage>>"),
        (client._cron_tasks, '{"a": 1}'),
        (parsers.parse_version, "<<garbage>>"),
    ],
)
def test_every_parser_refuses_garbage(parse, text):
    with pytest.raises(parsers.ParseError):
        parse(text)
