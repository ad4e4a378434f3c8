"""A real S3 HTTP server for the tests (moto in server mode) and a proxy that cuts uploads.

Never a mocked client: boto3 talks HTTP to the server on a loopback port, as
it would to a real endpoint.  :class:`CuttingProxy` sits between them and
closes the connection once a number of request bytes went through - a target
that becomes unreachable mid-write.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ACCESS, SECRET = "testing-key", "testing-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """``http://127.0.0.1:<free port>`` of a ``moto_server`` process running for the block.

    Its own process, so the memory the tests measure is Pruvon's alone and the
    objects travel over a real socket.
    """
    command = Path(sys.executable).parent / "moto_server"
    port = _free_port()
    proc = subprocess.Popen([str(command), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS, aws_secret_access_key=SECRET)


class CuttingProxy:
    """A TCP proxy to ``upstream`` that drops every connection after ``limit`` request bytes
    in total (``limit=None``: forwards everything)."""

    def __init__(self, upstream: str, limit: int | None = None) -> None:
        host, port = upstream.rsplit("//", 1)[1].split(":")
        self.upstream = (host, int(port))
        self.limit = limit
        self.sent = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        threading.Thread(target=self._pipe, args=(upstream, conn, False), daemon=True).start()
        self._pipe(conn, upstream, True)

    def _pipe(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while data := src.recv(65536):
                if counted and not self._allow(len(data)):
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _allow(self, size: int) -> bool:
        with self._lock:
            self.sent += size
            return self.limit is None or self.sent <= self.limit

    def close(self) -> None:
        self._listener.close()
