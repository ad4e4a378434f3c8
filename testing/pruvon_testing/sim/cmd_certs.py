"""Simulated ``certs:*`` (Dokku 0.38.27 ``plugins/certs``).

A certificate is real files in ``home/dokku/<app>/tls/`` (``server.crt``/``server.key``);
the report reads them with the ``openssl`` binary exactly as Dokku's Go report does, and
installing one switches the app to https (ports, urls, ``Creating https nginx.conf``)
through the same triggers as Dokku (``post-certs-update``, ``post-domains-update``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from pruvon_testing.sim import routing
from pruvon_testing.sim.core import Ctx, command, fire_trigger, on_trigger
from pruvon_testing.sim.routing import PortMap

OPENSSL_TIMEOUT = 20


def tls_dir(ctx: Ctx, app: str) -> Path:
    return ctx.state.app_dir(app) / "tls"


def openssl(*args: str) -> str:
    """Run ``openssl`` (argv only); empty output when it is missing or fails."""
    try:
        proc = subprocess.run(
            ["openssl", *args], capture_output=True, text=True, timeout=OPENSSL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout if proc.returncode == 0 else ""


def _cert_text(crt: Path) -> str:
    return openssl("x509", "-in", str(crt), "-noout", "-text")


def _field_after(text: str, marker: str, separator: str) -> str:
    for line in text.split("\n"):
        if marker in line:
            parts = line.split(separator)
            if len(parts) >= 2:
                return parts[1]
    return ""


def _issuer(text: str) -> str:
    for line in text.split("\n"):
        if "Issuer:" in line:
            return line.replace("Issuer: ", "", 1).lstrip(" \t")
    return ""


def _subject(crt: Path) -> str:
    out = openssl("x509", "-in", str(crt), "-noout", "-subject", "-nameopt", "compat").strip()
    out = out.removeprefix("subject=").strip().removeprefix("/")
    return out.replace("/", "; ")


def ssl_hostnames(crt: Path, text: str) -> list[str]:
    """CN plus the DNS names of the SubjectAltName extension, sorted and unique."""
    names: set[str] = set()
    subject = openssl("x509", "-in", str(crt), "-noout", "-subject", "-nameopt", "RFC2253")
    for rdn in re.split(r"[,/]", subject.strip().removeprefix("subject=")):
        key, found, value = rdn.partition("=")
        if found and key.strip() == "CN":
            names.add(value.strip())
            break
    lines = text.split("\n")
    for index, line in enumerate(lines[:-1]):
        if "509v3 Subject Alternative Name:" in line:
            san = re.sub(r"\s*DNS:", "", lines[index + 1])
            names.update(n.strip() for n in san.split(",") if n.strip())
    return sorted(names)


def _verified(tls: Path) -> str:
    out = openssl("verify", "-verbose", "-purpose", "sslserver", str(tls / "server.crt"))
    last = out.rstrip("\n").split("\n")[-1] if out.strip() else ""
    parts = last.split(":")
    if len(parts) >= 2 and parts[1].strip() == "OK":
        return "verified by a certificate authority"
    return "self signed"


def _collect(ctx: Ctx, app: str) -> dict[str, str]:
    tls = tls_dir(ctx, app)
    flags = {
        "--ssl-dir": f"/home/dokku/{app}/tls",
        "--ssl-enabled": "false",
        "--ssl-expires-at": "",
        "--ssl-hostnames": "",
        "--ssl-issuer": "",
        "--ssl-starts-at": "",
        "--ssl-subject": "",
        "--ssl-verified": "",
    }
    if not routing.certs_exist(ctx.state, app):
        return flags
    crt = tls / "server.crt"
    text = _cert_text(crt)
    flags.update(
        {
            "--ssl-enabled": "true",
            "--ssl-expires-at": _field_after(text, "Not After :", " : "),
            "--ssl-hostnames": " ".join(ssl_hostnames(crt, text)),
            "--ssl-issuer": _issuer(text),
            "--ssl-starts-at": _field_after(text, "Not Before:", ": "),
            "--ssl-subject": _subject(crt),
            "--ssl-verified": _verified(tls),
        }
    )
    return flags


@command("certs:report")
def certs_report(ctx: Ctx) -> int:
    """Titled ``ssl information``; unprefixed JSON keys only."""
    return routing.report_command(ctx, "ssl", lambda app: _collect(ctx, app), legacy_prefix=False)


def _install(ctx: Ctx, app: str, crt_file: str, key_file: str) -> int:
    """``fn-certs-set``: copy the pair into ``tls/``, then post-certs-update + rebuild."""
    if not crt_file or not key_file:
        ctx.fail("Both CRT and KEY file paths are required")
    crt, key = Path(crt_file), Path(key_file)
    if not crt.is_file():
        ctx.fail("CRT file specified not found, please check file paths")
    if not key.is_file():
        ctx.fail("KEY file specified not found, please check file paths")
    tls = tls_dir(ctx, app)
    tls.mkdir(parents=True, exist_ok=True)
    tls.chmod(0o750)
    for source, name in ((crt, "server.crt"), (key, "server.key")):
        target = tls / name
        target.unlink(missing_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o640)
    return fire_trigger(ctx, "post-certs-update", app) or routing.post_domains_update(
        ctx, app, "certs"
    )


@command("certs:add", "certs:update")
def certs_add(ctx: Ctx) -> int:
    """``certs:add <app> CRT KEY`` (file import; the tarball-on-stdin form is not simulated)."""
    app = routing.verify_app_bash(ctx, ctx.args[0] if ctx.args else "")
    if len(ctx.args) < 3:
        ctx.fail("Tar archive containing server.crt and server.key expected on stdin")
    return _install(ctx, app, ctx.args[1], ctx.args[2])


@command("certs:remove")
def certs_remove(ctx: Ctx) -> int:
    app = routing.verify_app_bash(ctx, ctx.args[0] if ctx.args else "")
    tls = tls_dir(ctx, app)
    if not tls.is_dir():
        ctx.fail("An app-specific SSL endpoint is not defined")
    ctx.info1(f"Removing SSL endpoint from {app}")
    shutil.rmtree(tls, ignore_errors=True)
    return fire_trigger(ctx, "post-certs-remove", app) or routing.post_domains_update(
        ctx, app, "certs"
    )


@command("certs:show")
def certs_show(ctx: Ctx) -> int:
    app = routing.verify_app_bash(ctx, ctx.args[0] if ctx.args else "")
    kind = ctx.args[1] if len(ctx.args) > 1 else ""
    if kind not in ("key", "crt"):
        ctx.fail("specify either 'key' or 'crt'")
    if not routing.certs_exist(ctx.state, app):
        ctx.fail(f"{app} doesn't have an SSL endpoint defined")
    ctx.stdout.write((tls_dir(ctx, app) / f"server.{kind}").read_bytes())
    return 0


@on_trigger("post-app-clone-setup", "certs")
def _certs_clone(ctx: Ctx, old: str, new: str) -> int:
    """A clone never keeps the certificate (Dokku removes the copied ``tls``)."""
    shutil.rmtree(tls_dir(ctx, new), ignore_errors=True)
    return fire_trigger(ctx, "post-certs-remove", new)


@on_trigger("post-app-rename-setup", "certs")
def _certs_rename(ctx: Ctx, old: str, new: str) -> int:
    """Dokku moves the app directory on rename, so the certificate follows the app."""
    source = tls_dir(ctx, old)
    if source.is_dir() and not tls_dir(ctx, new).exists():
        shutil.copytree(source, tls_dir(ctx, new))
    return 0


# -- ports plugin reactions (plugins/ports/triggers.go) -----------------------------------------


@on_trigger("post-certs-update", "ports")
def _ports_post_certs_update(ctx: Ctx, app: str) -> int:
    """Drop the default 80/443 proxy ports; mirror ``http:80`` maps as ``https:443``."""
    state = ctx.state
    if state.prop_get("proxy", app, "proxy-port") == "80":
        state.prop_delete("proxy", app, "proxy-port")
    if state.prop_get("proxy", app, "proxy-ssl-port") == "443":
        state.prop_delete("proxy", app, "proxy-ssl-port")
    maps = routing.port_maps(state, app) or []
    if any(m.scheme == "https" and m.host_port == 443 for m in maps):
        return 0
    seen: set[int] = set()
    twins = []
    for port_map in maps:
        if port_map.scheme == "http" and port_map.host_port == 80 and 80 not in seen:
            seen.add(80)
            twins.append(PortMap("https", 443, port_map.container_port))
    if twins:
        routing.set_port_maps(state, app, maps + twins)
    return 0


@on_trigger("post-certs-remove", "ports")
def _ports_post_certs_remove(ctx: Ctx, app: str) -> int:
    """Forget the ssl port and the ``https:443`` maps."""
    state = ctx.state
    state.prop_delete("proxy", app, "proxy-ssl-port")
    maps = routing.port_maps(state, app) or []
    keep = [m for m in maps if not (m.scheme == "https" and m.host_port == 443)]
    if keep:
        routing.set_port_maps(state, app, keep)
    else:
        state.prop_delete("ports", app, "map")
    return 0


CERTS_HELP = [
    (
        "certs:add <app> CRT KEY",
        "Add an ssl endpoint to an app. Can also import from a tarball on stdin",
    ),
    (
        "certs:chain CRT [CRT ...]",
        "[NOT IMPLEMENTED] Print the ordered and complete chain for the given certificate",
    ),
    (
        "certs:generate <app> DOMAIN",
        "Generate a key and certificate signing request (and self-signed certificate)",
    ),
    (
        "certs:key <app> CRT KEY [KEY ...]",
        "[NOT IMPLEMENTED] Print the correct key for the given certificate",
    ),
    ("certs:remove <app>", "Remove an SSL Endpoint from an app"),
    ("certs:report [<app>] [<flag>]", "Displays an ssl report for one or more apps"),
    ("certs:rollback <app>", "[NOT IMPLEMENTED] Rollback an SSL Endpoint for an app"),
    ("certs:show <app> <crt|key>", "Show the server.crt or server.key on stdout"),
    (
        "certs:update <app> CRT KEY",
        "Update an SSL Endpoint on an app. Can also import from a tarball on stdin",
    ),
]


routing.help_commands("certs", "Manage SSL (TLS) certs", CERTS_HELP, shell_plugin=True)
