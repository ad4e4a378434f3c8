"""``pruvon check --url URL``: check the running service the way an operator reaches it.

After changing credentials, the listen address or the proxy config, operators
are told to restart and check.  This walks the path a browser takes -- the
sign-in page through the proxy, a Secure session cookie over HTTPS, a
WebSocket upgrade with the page's Origin -- and reports what is wrong in the
proxy or Pruvon config, not merely that something failed.  Standard library
only: it must run on a host where the web extra is not importable.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from pruvon_auth.check import Finding

TIMEOUT = 15.0
UPGRADE_FIX = ('in the proxy\'s location block: proxy_http_version 1.1; '
               'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; '
               "(docs/reverse-proxy.md), then reload it")


class BadUrl(ValueError):
    """The URL given to ``--url`` cannot be checked (the message says why)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    netloc: str
    base_path: str

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def parse_url(url: str) -> Target:
    """``https://host[:port][/prefix]`` or ``http://…``; anything else is refused by name."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise BadUrl(f"--url {url!r}: use http:// or https:// (e.g. https://pruvon.example.internal)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BadUrl(f"--url {url!r}: {exc}") from None
    if not parts.hostname:
        raise BadUrl(f"--url {url!r} has no host name")
    if parts.query or parts.fragment:
        raise BadUrl(f"--url {url!r}: give the base address only, without ? or #")
    return Target(parts.scheme, parts.hostname, port, parts.netloc, parts.path.rstrip("/"))


def _connection(target: Target, insecure: bool) -> http.client.HTTPConnection:
    if target.scheme == "http":
        return http.client.HTTPConnection(target.host, target.port, timeout=TIMEOUT)
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return http.client.HTTPSConnection(target.host, target.port, timeout=TIMEOUT, context=context)


def fetch(target: Target, path: str, insecure: bool, headers: dict[str, str] | None = None) -> Answer:
    """One GET, no redirects followed (a redirect is itself a finding)."""
    conn = _connection(target, insecure)
    try:
        conn.request("GET", target.base_path + path, headers={"Host": target.netloc, **(headers or {})})
        response = conn.getresponse()
        body = response.read(65536) if response.status != 101 else b""
        return Answer(response.status, response.getheaders(), body.decode(errors="replace"))
    finally:
        conn.close()


def _unreachable(target: Target, exc: Exception) -> Finding:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Finding("url.tls", "high",
                       f"{target.origin}: the TLS certificate is not trusted ({exc.verify_message})",
                       "use a certificate browsers trust, or --insecure to check a self-signed one")
    return Finding("url.unreachable", "high", f"{target.origin}: cannot connect ({exc})",
                   "is the proxy (or pruvon serve) running and listening there? "
                   "systemctl status pruvon nginx")


def _json_error(answer: Answer) -> str:
    try:
        return str(json.loads(answer.body).get("error", ""))
    except (ValueError, AttributeError):
        return ""


def check_page(target: Target, answer: Answer) -> list[Finding]:
    """The sign-in page: reached Pruvon (not a proxy error), and HTTPS seen as HTTPS."""
    where = f"{target.origin}{target.base_path}/login"
    if answer.status == 400 and "is not served here" in answer.body:
        return [Finding("url.host", "high", f"{where}: {answer.body.strip()}",
                        f"security: {{allowed_hosts: [{target.host}]}} in the config file")]
    if answer.status == 403 and "pruvon" not in answer.body.lower():
        return [Finding("url.denied", "high",
                        f"{where}: 403 from the proxy, not from Pruvon: this machine's address is "
                        "not in the proxy's allowlist",
                        "add the address to the allow lines of the proxy config, or check from "
                        "an allowed machine")]
    if answer.status in (502, 503, 504):
        return [Finding("url.upstream", "high",
                        f"{where}: {answer.status}: the proxy cannot reach Pruvon",
                        "make proxy_pass match pruvon.listen (default 127.0.0.1:8080) and "
                        "check systemctl status pruvon")]
    if answer.status != 200 or 'name="csrf_token"' not in answer.body:
        return [Finding("url.page", "high",
                        f"{where}: answered {answer.status}, not Pruvon's sign-in page",
                        "check that the URL and the proxy's location / proxy_pass point at Pruvon")]
    if target.scheme == "https" and not _secure_cookie(answer):
        return [Finding("url.forwarded_proto", "high",
                        f"{where}: Pruvon did not see HTTPS (its session cookie is not Secure, no "
                        "HSTS header): X-Forwarded-Proto https did not arrive from a trusted proxy",
                        "in the proxy: proxy_set_header X-Forwarded-Proto $scheme; in the config: "
                        "security: {trusted_proxies: [127.0.0.1, '::1']} (the proxy's address)")]
    return []


def _secure_cookie(answer: Answer) -> bool:
    cookies = [c for c in answer.all("Set-Cookie") if c.startswith("pruvon_session=")]
    secure = bool(cookies) and all("secure" in c.lower().split("; ") for c in cookies)
    return secure and bool(answer.header("Strict-Transport-Security"))


def check_websocket(target: Target, insecure: bool) -> list[Finding]:
    """An upgrade with the page's Origin and no credentials: Pruvon must answer 401."""
    key = base64.b64encode(os.urandom(16)).decode()
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": key, "Origin": target.origin}
    where = f"{target.origin}{target.base_path}/ws/ping"
    try:
        answer = fetch(target, "/ws/ping", insecure, headers)
    except (OSError, http.client.HTTPException) as exc:
        return [Finding("url.websocket", "high", f"{where}: the WebSocket upgrade failed ({exc})",
                        UPGRADE_FIX)]
    error = _json_error(answer)
    if answer.status in (101, 401):
        return []
    if answer.status == 426:
        return [Finding("url.websocket.headers", "high",
                        f"{where}: the proxy did not pass the WebSocket headers "
                        f"({', '.join(json.loads(answer.body).get('missing', []))} missing): "
                        "terminals, live logs and progress cannot work", UPGRADE_FIX)]
    if answer.status == 403 and error.startswith("WebSocket origin not allowed"):
        fix = ("in the proxy: proxy_set_header Host $http_host; (keeps the port), or "
               f"security: {{allowed_origins: ['{target.origin}']}}"
               if "without that port" in error else
               f"security: {{allowed_origins: ['{target.origin}']}}, or see the message")
        return [Finding("url.websocket.origin", "high",
                        f"{where}: the page's origin {target.origin} is refused: {error}", fix)]
    return [Finding("url.websocket", "high",
                    f"{where}: the WebSocket upgrade got {answer.status} "
                    f"{error or answer.body[:200].strip()}", UPGRADE_FIX)]


def check_url(url: str, insecure: bool = False) -> list[Finding]:
    """Every finding for the service at ``url`` (raises :class:`BadUrl` for a bad URL)."""
    target = parse_url(url)
    try:
        answer = fetch(target, "/login", insecure)
    except (TimeoutError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
        return [_unreachable(target, exc)]
    found = check_page(target, answer)
    if found:
        return found
    return check_websocket(target, insecure)
