"""``python -m benchmarks [bench_x ...]``: run the ``bench_*`` modules, print their tables,
record them in ``benchmarks/results.md`` and copy them into README.md and docs/terminals.md.

``python -m benchmarks --sync-docs`` only copies the recorded tables into the docs.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main() -> int:
    from benchmarks import results

    if sys.argv[1:] == ["--sync-docs"]:
        print("updated:", ", ".join(results.sync_docs()) or "nothing")
        return 0
    package = Path(__file__).parent
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(package)]) if m.name.startswith("bench_")
    )
    selected = [n for n in names if not sys.argv[1:] or n in sys.argv[1:]]
    for name in selected:
        module = importlib.import_module(f"benchmarks.{name}")
        start = time.perf_counter()
        title, text = module.run_all()
        seconds = time.perf_counter() - start
        print(f"### {title}\n\n{text}\n\n_{name}: {seconds:.0f} s_\n", flush=True)
        results.record(name, title, text, seconds)
    print("recorded in benchmarks/results.md; docs updated:",
          ", ".join(results.sync_docs()) or "nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
