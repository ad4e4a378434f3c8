"""The all-hosts fan-out: parallel, a timeout per host, last good data, no leftovers."""

from __future__ import annotations

import time

from pruvon_core import hosts
from pruvon_core.dokku.transports import run_process
from pruvon_core.fanout import LastGood, fan_out
from pruvon_core.processes import process_start


def test_a_slow_host_costs_its_timeout_and_shows_its_last_good_data():
    memory = LastGood()
    slow = {"on": False}

    def fetch(host):
        if host == "slow" and slow["on"]:
            time.sleep(5)
        return f"apps of {host or 'default'} (acting on {hosts.current()})"

    first = fan_out(["local", "slow"], fetch, key="t", default="local", last_good=memory,
                    timeouts={"local": 2, "slow": 0.5})
    assert [a.data for a in first] == ["apps of default (acting on None)",
                                       "apps of slow (acting on slow)"]
    slow["on"] = True
    time.sleep(0.2)
    start = time.monotonic()
    second = fan_out(["local", "slow"], fetch, key="t", default="local", last_good=memory,
                     timeouts={"local": 2, "slow": 0.5})
    assert time.monotonic() - start < 1.5
    assert second[0].ok and not second[1].ok
    assert second[1].error == "no answer within 0.5 s"
    assert second[1].data == "apps of slow (acting on slow)" and second[1].age >= 0.2


def test_a_failing_host_reports_its_error_while_the_others_answer():
    def fetch(host):
        if host == "down":
            raise ConnectionError("ssh: connect to host down port 22: Connection refused")
        return [host]

    answers = fan_out(["a", "down", "b"], fetch, key="t2", last_good=LastGood())
    assert [(a.host, a.ok) for a in answers] == [("a", True), ("down", False), ("b", True)]
    assert "Connection refused" in answers[1].error and answers[1].data is None


def test_the_calls_of_a_host_that_overran_are_killed(tmp_path):
    marker = tmp_path / "pid"

    def fetch(host):
        script = f"echo $$ > {marker}; exec sleep 30"
        run_process(["sh", "-c", script], None, None, 60)
        return "never"

    start = time.monotonic()
    (answer,) = fan_out(["hung"], fetch, key="t3", timeouts={"hung": 2}, last_good=LastGood())
    assert not answer.ok and time.monotonic() - start < 4
    pid = int(marker.read_text())  # the sleep started within the 2 s: it is killed now
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and process_start(pid) is not None:
        time.sleep(0.05)
    assert process_start(pid) is None  # gone (or a zombie), not sleeping on
