"""The reference-capture reader: argv, stdin producers, exact streams."""

from __future__ import annotations

from pruvon_testing.reference import load_cases, split_command

CASES = {case.name: case for case in load_cases()}


def test_every_capture_is_read() -> None:
    assert len(CASES) == 598
    assert sum(1 for c in CASES.values() if c.group == "services") == 191


def test_ansi_c_quoting_is_decoded_like_bash() -> None:
    assert split_command("a $'x\\ny' 'b c' $'it\\'s'") == ["a", "x\ny", "b c", "it's"]
    assert "NEWLINE=line1\nline2" in CASES["config-set-no-restart"].argv


def test_piped_stdin_and_redirects() -> None:
    case = CASES["redis-connect-ping"]
    assert case.argv == ["redis:connect", "svc-redis"]
    assert case.stdin_bytes == b"PING\n"
    assert CASES["redis-import"].stdin_redirect == "< /root/svc-redis.rdb"


def test_raw_streams_keep_missing_final_newline() -> None:
    shell = CASES["config-export-shell"]
    assert shell.stdout.endswith(b"' ")
    assert shell.exit_code == 0 and shell.stderr == b""
    assert CASES["apps-exists-no"].exit_code == 20
