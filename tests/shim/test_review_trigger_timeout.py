"""Review: PRUVON_TRIGGER_TIMEOUT with a leading zero keeps its timeout.

``[[ "08" -gt 0 ]]`` is a bash error ("value too great for base": a leading
zero means octal), so ``08`` or ``09`` silently dropped the timeout - a hanging
Pruvon could then hold a Dokku deploy forever - and printed a bash error.
"""

from __future__ import annotations

import time

import pytest


@pytest.mark.parametrize("value", ["08", "09", "007"])
def test_leading_zero_is_decimal_and_not_an_error(shim, value):
    shim.use_recorder()
    proc = shim.run("post-create", "blog", extra_env={"PRUVON_TRIGGER_TIMEOUT": value})
    assert proc.returncode == 0
    assert "value too great" not in proc.stderr and "syntax error" not in proc.stderr
    assert shim.recorded_argv() == ["trigger", "post-create", "--", "blog"]


def test_leading_zero_timeout_still_cuts_a_hang_off(shim):
    shim.use_recorder()
    started = time.monotonic()
    proc = shim.run("post-deploy", "blog", extra_env={
        "RECORD_SLEEP": "30", "PRUVON_TRIGGER_TIMEOUT": "01"}, timeout=20)
    assert time.monotonic() - started < 15
    assert "timed out after 1s" in proc.stderr
