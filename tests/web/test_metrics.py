"""Host metrics: /proc readings, the bounded ring, and a dashboard that reads only the ring."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pruvon_web import metrics
from pruvon_web.charts import sparkline

STAT = "cpu  {u} 0 {s} {i} 0 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1\n"
MEMINFO = "MemTotal:        1000000 kB\nMemFree:          100000 kB\nMemAvailable:     250000 kB\n"


def host(tmp_path: Path, user: int, system: int, idle: int, load: str = "0.50 0.40 0.30 1/99 7"
         ) -> metrics.Reader:
    (tmp_path / "stat").write_text(STAT.format(u=user, s=system, i=idle))
    (tmp_path / "loadavg").write_text(load + "\n")
    (tmp_path / "meminfo").write_text(MEMINFO)
    return metrics.Reader(tmp_path / "stat", tmp_path / "loadavg", tmp_path / "meminfo",
                          str(tmp_path))


def test_cpu_percent_from_two_readings(tmp_path: Path) -> None:
    reader = host(tmp_path, 100, 100, 800)
    first = reader()
    assert first.cpu_percent is None  # one reading says nothing about a rate
    (tmp_path / "stat").write_text(STAT.format(u=130, s=130, i=840))  # 60 busy of 100
    second = reader()
    assert second.cpu_percent == 60.0
    assert second.load == (0.5, 0.4, 0.3)
    assert second.mem_total == 1_024_000_000 and second.mem_percent == 75.0


def test_unreadable_proc_gives_no_rate_not_an_error(tmp_path: Path) -> None:
    reader = metrics.Reader(tmp_path / "missing", tmp_path / "missing", tmp_path / "missing",
                            str(tmp_path))
    sample = reader()
    assert sample.cpu_percent is None and sample.load == (0.0, 0.0, 0.0)
    assert sample.mem_total is None and sample.disk_total > 0


def test_ring_is_bounded_and_sampled_by_its_thread(tmp_path: Path) -> None:
    ring = metrics.MetricsRing(host(tmp_path, 1, 1, 1), interval=0.02, size=5)
    ring.ensure_running()
    try:
        deadline = time.monotonic() + 5
        while ring.reads < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        ring.stop()
    assert ring.reads >= 8 and len(ring.history()) == 5


def test_ring_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        metrics.MetricsRing(interval=0)
    with pytest.raises(ValueError):
        metrics.MetricsRing(size=1)


def test_sparkline_scales_and_escapes() -> None:
    svg = str(sparkline([None, 0.0, 50.0, 100.0, 250.0], 100, "CPU <%>", "cpu-chart"))
    assert 'id="cpu-chart"' in svg and 'data-points="4"' in svg
    assert "CPU &lt;%&gt;: 250.0" in svg and "<script" not in svg
    points = svg.split('<polyline points="')[1].split('"')[0].split()
    assert [float(p.split(",")[1]) for p in points] == [47.0, 24.0, 1.0, 1.0]  # clipped at top


def test_dashboard_reads_the_ring_not_proc(client, login_as, monkeypatch, tmp_path) -> None:
    ring = metrics.MetricsRing(host(tmp_path, 100, 100, 800), interval=3600, size=10)
    monkeypatch.setattr(metrics, "_ring", ring)
    login_as("admin")
    first = client.get("/").get_data(as_text=True)
    assert ring.reads == 1  # the first view of a fresh process takes the first sample
    (tmp_path / "stat").write_text(STAT.format(u=150, s=150, i=800))
    ring.sample()  # what the sampler thread does every interval
    for _ in range(3):
        html = client.get("/").get_data(as_text=True)
    assert ring.reads == 2  # three views, no reading
    assert 'id="cpu-chart"' in first and 'id="load-chart"' in html
    assert 'id="memory-chart"' in html and 'id="disk-chart"' in html
    assert "CPU <strong>100.0%</strong>" in html and "Load <strong>0.50</strong>" in html
    ring.stop()


def test_one_reading_is_drawn_as_a_level() -> None:
    svg = str(sparkline([None, 40.0], 100, "CPU %", "cpu-chart"))
    points = svg.split('<polyline points="')[1].split('"')[0].split()
    assert len(points) == 2 and points[0].split(",")[1] == points[1].split(",")[1]
    assert 'data-points="1"' in svg


def test_api_returns_the_ring_without_reading(client, login_as, monkeypatch, tmp_path) -> None:
    ring = metrics.MetricsRing(host(tmp_path, 100, 100, 800), interval=3600, size=10)
    monkeypatch.setattr(metrics, "_ring", ring)
    login_as("admin")
    first = client.get("/api/v1/metrics").get_json()
    ring.sample()
    second = client.get("/api/v1/metrics").get_json()
    assert ring.reads == 2 and (first["interval"], first["size"]) == (3600, 10)
    assert [len(first["samples"]), len(second["samples"])] == [1, 2]
    assert set(second["samples"][-1]) >= {"cpu_percent", "load", "mem_percent", "disk_percent"}
    ring.stop()
