"""pruvon_core.operations: persisted records, progress, serialisation, cancel, recovery."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from pruvon_core.operations import (
    Cancelled,
    OperationConflict,
    OperationError,
    OperationManager,
    OperationNotFound,
    OperationStore,
    StepTimeout,
    follow,
)


def wait(store: OperationStore, op_id: str) -> object:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        op = store.get(op_id)
        if not op.active:
            return op
        time.sleep(0.01)
    raise AssertionError("operation did not finish")


def test_foreground_run_records_steps_percent_output_and_result(tmp_path: Path) -> None:
    manager = OperationManager(tmp_path)
    seen = []

    def runner(ctx):
        ctx.step("one")
        ctx.line("hello")
        ctx.fraction(0.5, "half")
        seen.append(ctx.op.percent)
        ctx.done("first done", app="x")
        ctx.step("two")
        ctx.lines(["a", "b"])
        ctx.done()
        return {"answer": 42}

    op = manager.run("test", "app:x", ["one", "two"], runner, actor="user:alice", title="T")
    assert op.status == "succeeded" and op.percent == 100.0
    assert seen == [25.0]
    assert [s.status for s in op.steps] == ["done", "done"]
    again = OperationStore(tmp_path).get(op.id)  # what another worker reads
    assert again.result == {"answer": 42} and again.actor == "user:alice"
    assert again.steps[0].undo == {"app": "x"}
    assert "undo" not in again.as_dict()["steps"][0]
    assert OperationStore(tmp_path).output(op.id) == ["hello", "a", "b"]
    assert OperationStore(tmp_path).output(op.id, after=2) == ["b"]
    mode = os.stat(tmp_path / "operations" / f"{op.id}.json").st_mode & 0o777
    assert mode == 0o600


def test_failure_keeps_the_message_and_marks_the_running_step(tmp_path: Path) -> None:
    def runner(ctx):
        ctx.step("one")
        raise RuntimeError("dokku said no")

    op = OperationManager(tmp_path).run("test", "app:x", ["one", "two"], runner)
    assert op.status == "failed" and op.error == "dokku said no"
    assert [s.status for s in op.steps] == ["failed", "pending"]


def test_timeout_and_cancel_statuses(tmp_path: Path) -> None:
    manager = OperationManager(tmp_path)

    def slow(ctx):
        ctx.step("one")
        raise StepTimeout("blog did not reach the expected state within 5 s")

    assert manager.run("t", "app:a", ["one"], slow).status == "timed_out"

    def cancelled(ctx):
        raise Cancelled("cancelled by request")

    assert manager.run("t", "app:a", ["one"], cancelled).status == "cancelled"


def test_second_operation_on_the_same_target_is_refused_with_a_clear_message(
    tmp_path: Path,
) -> None:
    manager = OperationManager(tmp_path)
    release = threading.Event()

    def blocking(ctx):
        ctx.step("one")
        release.wait(10)

    first = manager.start("apps.ps", "app:blog", ["one"], blocking, actor="user:alice",
                          title="restart blog")
    try:
        with pytest.raises(OperationConflict) as info:
            OperationManager(tmp_path).start("apps.ps", "app:blog", ["one"], blocking)
        assert "restart blog" in str(info.value) and first.id in str(info.value)
        assert "user:alice" in str(info.value)
        assert info.value.running is not None and info.value.running.id == first.id
        assert OperationStore(tmp_path).running("app:blog").id == first.id
        # another target is independent
        other = manager.run("apps.ps", "app:shop", ["one"], lambda ctx: None)
        assert other.status == "succeeded"
    finally:
        release.set()
    wait(manager.store, first.id)
    assert OperationStore(tmp_path).running("app:blog") is None
    assert manager.run("apps.ps", "app:blog", ["one"], lambda ctx: None).status == "succeeded"


def test_cancel_request_from_another_store_reaches_the_runner(tmp_path: Path) -> None:
    manager = OperationManager(tmp_path)
    started = threading.Event()

    def runner(ctx):
        ctx.step("one")
        started.set()
        for _ in range(500):
            ctx.check_cancel()
            time.sleep(0.01)

    op = manager.start("t", "app:a", ["one"], runner)
    started.wait(5)
    OperationStore(tmp_path).request_cancel(op.id)
    final = wait(manager.store, op.id)
    assert final.status == "cancelled"
    assert not (tmp_path / "operations" / f"{op.id}.cancel").exists()  # gone before the save


def test_watch_stops_a_blocking_call_on_cancel(tmp_path: Path) -> None:
    manager = OperationManager(tmp_path)
    stopped = threading.Event()

    def runner(ctx):
        ctx.step("one")
        with ctx.watch(stopped.set, interval=0.01):
            OperationStore(tmp_path).request_cancel(ctx.op.id)
            assert stopped.wait(5)
        ctx.check_cancel()

    assert manager.run("t", "app:a", ["one"], runner).status == "cancelled"


def test_record_of_a_dead_runner_reads_as_interrupted(tmp_path: Path) -> None:
    store = OperationStore(tmp_path)
    record = {"id": "0123456789abcdef", "kind": "t", "target": "app:gone", "actor": "system",
              "title": "restart gone", "steps": [{"name": "run", "status": "running"}],
              "status": "running"}
    (store.root / "0123456789abcdef.json").write_text(json.dumps(record))
    op = store.get("0123456789abcdef")
    assert op.status == "interrupted" and "stopped" in op.error
    assert store.running("app:gone") is None


def test_unknown_and_malformed_ids(tmp_path: Path) -> None:
    store = OperationStore(tmp_path)
    for bad in ("nope", "../../etc/passwd", "0123456789abcdef"):
        with pytest.raises(OperationNotFound):
            store.get(bad)
    with pytest.raises(OperationError):
        OperationManager(tmp_path).run("t", "app:../x", ["one"], lambda ctx: None)
    with pytest.raises(OperationError):
        OperationManager(tmp_path).run("t", "app:x", [], lambda ctx: None)


def test_follow_yields_progress_then_the_final_state(tmp_path: Path) -> None:
    manager = OperationManager(tmp_path)
    go = threading.Event()

    def runner(ctx):
        ctx.step("one")
        ctx.line("first")
        go.wait(5)
        ctx.line("second")
        ctx.done()

    op = manager.start("t", "app:f", ["one"], runner)
    lines, statuses = [], []
    for record, new in follow(manager.store, op.id, interval=0.01):
        lines += new
        statuses.append(record.status)
        go.set()
    assert lines == ["first", "second"]
    assert statuses[-1] == "succeeded"


def test_list_filters_and_prune_keeps_the_newest(tmp_path: Path) -> None:
    manager = OperationManager(tmp_path)
    ids = [manager.run("t", f"app:{n}", ["one"], lambda ctx: None).id for n in ("a", "b", "a")]
    store = manager.store
    assert [o.id for o in store.list(target="app:a")] == [ids[2], ids[0]]
    assert store.list(active=True) == []
    store.prune(keep=1)
    assert [o.id for o in store.list()] == [ids[2]]
