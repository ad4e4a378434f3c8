"""Lost updates in state files: concurrent writers of the domain index keep every change.

``DomainIndex.update`` read the index, changed one app and wrote the whole
index back without the lock, so two processes updating different apps at
once dropped one of the changes (the pattern of issue 19, item 1).
API keys, TOTP and terminals already edit under their lock.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from pruvon_apps.service import DomainIndex

WRITERS = 4
APPS_EACH = 15


def _writer(state: str, index: int) -> None:
    store = DomainIndex(Path(state))
    for n in range(APPS_EACH):
        store.update(f"app-{index}-{n}", [f"{index}-{n}.example.com"])


def test_concurrent_index_updates_from_several_processes_lose_nothing(tmp_path):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), i)) for i in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    apps, _ = DomainIndex(tmp_path).load()
    missing = [f"app-{i}-{n}" for i in range(WRITERS) for n in range(APPS_EACH)
               if f"app-{i}-{n}" not in apps]
    assert missing == [], f"{len(missing)} of {WRITERS * APPS_EACH} updates lost"
