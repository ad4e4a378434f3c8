"""``python -m benchmarks``: run every ``bench_*`` module and print its markdown table."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main() -> int:
    package = Path(__file__).parent
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(package)]) if m.name.startswith("bench_")
    )
    selected = [n for n in names if not sys.argv[1:] or n in sys.argv[1:]]
    for name in selected:
        module = importlib.import_module(f"benchmarks.{name}")
        start = time.perf_counter()
        title, text = module.run_all()
        print(
            f"### {title}\n\n{text}\n\n_{name}: {time.perf_counter() - start:.0f} s_\n", flush=True
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
