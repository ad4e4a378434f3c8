"""Issue 16: the settings tab took 4.5 s on the demo - twelve Dokku calls one after
another, three of them reports already read.  Each report is now read once (and the
reads run side by side)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def test_settings_tab_reads_each_report_once(http, login_as, dokku_calls: Path) -> None:
    login_as("admin")
    dokku_calls.write_text("")
    assert http.get("/apps/blog?tab=settings").status_code == 200
    commands = Counter(line.split()[0] for line in dokku_calls.read_text().splitlines())
    reports = {name: n for name, n in commands.items() if name.endswith(":report")}
    assert {"nginx:report", "docker-options:report", "resource:report"} <= set(reports)
    assert {name: n for name, n in reports.items() if n > 1} == {}
