"""CLI output: every table cell is escaped before it reaches a terminal."""

from __future__ import annotations

import click
from click.testing import CliRunner

from pruvon_core.output import echo_table, printable


def test_printable_escapes_controls_format_and_separators() -> None:
    assert printable("a\x1b[2Jb\nc\u202ed\u2028") == "a\\x1b[2Jb\\x0ac\\u202ed\\u2028"
    assert printable(["ok", "\x07"]) == ["ok", "\\x07"]
    assert printable(3) == 3
    assert printable("héllo ✓ 日本") == "héllo ✓ 日本"


def test_every_table_is_safe() -> None:
    @click.command()
    def show() -> None:
        echo_table([{"name": "evil\x1b]0;owned\x07\nFAKE row", "n": 1}], ["name", "n"])

    output = CliRunner().invoke(show).output
    assert "\x1b" not in output and "\x07" not in output
    assert output.count("\n") == 2  # header + one row: no forged line


def test_human_bytes_in_binary_units_and_an_unknown_size() -> None:
    from pruvon_core.output import human_bytes

    assert [human_bytes(v) for v in (0, 1023, 1536, 5 << 20, 3 << 30, 2 << 40)] == [
        "0 B", "1023 B", "1.5 KiB", "5.0 MiB", "3.0 GiB", "2.0 TiB"]
    assert human_bytes(None) == "—" and human_bytes(None, missing="?") == "?"
