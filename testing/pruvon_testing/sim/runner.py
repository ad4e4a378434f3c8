"""Run a detached container's command and keep its output as the container log.

``python -m pruvon_testing.sim.runner LOGFILE -- CMD [ARG...]`` runs CMD
(argv, never a shell string) and appends every line it prints to LOGFILE in
docker's ``json-file`` format, so ``docker logs`` of a ``run:detached``
container shows its output.  The runner's pid is the container's pid: the
container runs exactly as long as the command does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


def _stamp() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond * 1000:09d}Z"


def _pump(stream: IO[bytes], name: str, log: Path, lock: threading.Lock) -> None:
    for raw in iter(stream.readline, b""):
        record = {"log": raw.decode("utf-8", "replace"), "stream": name, "time": _stamp()}
        with lock, log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        sys.stderr.write("usage: runner LOGFILE -- CMD [ARG...]\n")
        return 2
    log = Path(args[0])
    try:
        proc = subprocess.Popen(
            args[2:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        record = {"log": f"{exc}\n", "stream": "stderr", "time": _stamp()}
        with log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        return 127
    lock = threading.Lock()
    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(target=_pump, args=(proc.stdout, "stdout", log, lock)),
        threading.Thread(target=_pump, args=(proc.stderr, "stderr", log, lock)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
