"""Debian's real nginx in front of a real ``pruvon serve``: etc/nginx/pruvon.conf rendered
for loopback ports with a self-signed certificate, run as a throwaway unprivileged process."""

from __future__ import annotations

import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.web.server import free_port, stop_process

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "etc" / "nginx" / "pruvon.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UPGRADE_LINES = re.compile(r"^\s*proxy_set_header (Upgrade|Connection) .*\n", re.MULTILINE)

MAIN_CONF = """\
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
{includes}
}}
"""


def _sub(pattern: str, replacement: str, text: str, count: int = 1, flags: int = 0) -> str:
    """Replace exactly ``count`` matches: a drifted etc/nginx/pruvon.conf fails loudly."""
    result, found = re.subn(pattern, replacement, text, flags=flags)
    assert found == count, f"{pattern!r} matched {found} times in {SITE}, expected {count}"
    return result


def render_site(port: int, upstream: int, cert: Path, key: Path, allow: tuple[str, ...],
                upgrade: bool = True, host_var: str | None = None) -> str:
    """The repository's site config with only the deployment-specific lines changed."""
    text = SITE.read_text()
    text = _sub(r"\n# Optional: redirect HTTP to HTTPS\nserver \{.*?\n\}\n", "\n", text,
                flags=re.DOTALL)
    text = _sub(r"listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;", text)
    text = _sub(r"ssl_certificate .*;", f"ssl_certificate {cert};", text)
    text = _sub(r"ssl_certificate_key .*;", f"ssl_certificate_key {key};", text)
    text = _sub(r"(    allow [^;]+;[^\n]*\n)+", "".join(f"    allow {a};\n" for a in allow), text)
    text = _sub(r"proxy_pass http://127\.0\.0\.1:8080;", f"proxy_pass http://127.0.0.1:{upstream};",
                text)
    if not upgrade:
        text = _sub(UPGRADE_LINES.pattern, "", text, count=2, flags=re.MULTILINE)
    if host_var is not None:
        text = _sub(r"proxy_set_header Host \$\w+;", f"proxy_set_header Host {host_var};", text)
    return text


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=pruvon.example.internal", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@dataclass
class Nginx:
    directory: Path
    process: subprocess.Popen
    ports: dict[str, int]

    def url(self, site: str) -> str:
        return f"https://127.0.0.1:{self.ports[site]}"

    def log(self) -> str:
        return (self.directory / "error.log").read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process, signal.SIGQUIT, 10)
        shutil.rmtree(self.directory, ignore_errors=True)


def _unprivileged() -> tuple[int, int] | None:
    """nobody's uid/gid when we are root (nginx then never runs privileged), else None."""
    if os.getuid() != 0:
        return None
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def start_nginx(upstream: int, sites: dict[str, dict], allow: tuple[str, ...]) -> Nginx:
    """One nginx serving each named site variant (``render_site`` keyword arguments).

    Its prefix, pid, logs and temp paths live in a private directory; as root it
    runs as ``nobody`` (the directory is then outside pytest's root-only tmp tree).
    """
    owner = _unprivileged()
    directory = Path(tempfile.mkdtemp(prefix="pruvon-nginx-"))
    (directory / "tmp").mkdir()
    cert, key = self_signed(directory)
    ports = {name: free_port() for name in sites}
    includes = []
    for name, options in sites.items():
        site = directory / f"site-{name}.conf"
        site.write_text(render_site(ports[name], upstream, cert, key, allow, **options))
        includes.append(f"    include {site};")
    conf = directory / "nginx.conf"
    conf.write_text(MAIN_CONF.format(dir=directory, includes="\n".join(includes)))
    if owner is not None:
        directory.chmod(0o700)
        for path in [directory, *directory.rglob("*")]:
            os.chown(path, *owner)
    argv = [NGINX, "-p", str(directory), "-c", str(conf)]
    user = {"user": owner[0], "group": owner[1]} if owner else {}
    test = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False, **user)
    assert test.returncode == 0, test.stderr
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **user)
    nginx = Nginx(directory=directory, process=process, ports=ports)
    _wait_listening(nginx)
    return nginx


def _wait_listening(nginx: Nginx, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    for port in nginx.ports.values():
        while True:
            if nginx.process.poll() is not None:
                raise RuntimeError(f"nginx exited {nginx.process.returncode}:\n{nginx.log()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    nginx.stop()
                    raise RuntimeError(f"nginx not listening on {port}") from None
                time.sleep(0.05)


def insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def get_from(source: str, port: int, path: str) -> tuple[int, str]:
    """GET over https with the TCP source address ``source`` (another loopback address)."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=15, context=insecure_context(),
                                       source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()
