"""``pruvon serve [--listen ADDR] [--demo]``: run the web UI under gunicorn.

gunicorn runs in this process (its Python API) with ``gthread`` workers, so a
WebSocket (terminal, log tail) holds a thread, not a whole worker.  One worker
process by default: terminals and live streams are tracked in-process, and a
thread pool of 32 serves a small team comfortably.

``--demo`` builds a throw-away sandbox (the Dokku simulator with sample apps,
a config with a fresh admin password printed once, a temporary state dir) and
removes it on exit; ``make demo`` runs exactly this.  The simulator is the
separate ``pruvon-testing`` distribution (a developer tool, absent from a
production install), imported only here and only for ``--demo``.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from pruvon_core.config import ConfigError, ConfigStore, config_path

DEFAULT_THREADS = 32
LOOPBACK_ADVICE = (
    "Pruvon is privileged infrastructure (apps, services, backups, terminals). Keep "
    "pruvon.listen at 127.0.0.1:8080 and reach it through a VPN or overlay network "
    "(e.g. Tailscale), an SSH tunnel, or a reverse proxy that allows only known source "
    "IPs and terminates TLS (see docs/reverse-proxy.md). Never bind 0.0.0.0 without "
    "additional network controls. If a proxy on another host forwards to this address, "
    "list it in security.trusted_proxies."
)


def listen_warning(listen: str, trusted_proxies: Any) -> str | None:
    """The warning for a non-loopback bind, unless trusted proxies are configured."""
    from pruvon_core.config import is_loopback_listen

    if is_loopback_listen(listen) or trusted_proxies:
        return None
    return f"warning: listening on {listen}, which is reachable from the network. " + LOOPBACK_ADVICE


def _warn_missing_hosts(config: Any) -> None:
    """Behind a proxy without ``security.allowed_hosts`` every proxied page is a 400: say so now."""
    from pruvon_auth.public import check_hosts

    for finding in check_hosts(config):
        click.echo(click.style(f"warning: {finding.message}. Fix: {finding.fix}", fg="yellow"),
                   err=True)


def check_listen(listen: str) -> str:
    """``HOST:PORT`` with a valid port; raises click.BadParameter naming the problem."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host.strip("[]"):
        raise click.BadParameter(f"{listen!r}: use HOST:PORT, e.g. 127.0.0.1:8080",
                                 param_hint="--listen")
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise click.BadParameter(f"{listen!r}: port must be 1-65535", param_hint="--listen")
    return listen


ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'


def gunicorn_options(listen: str, threads: int = DEFAULT_THREADS) -> dict[str, Any]:
    return {
        "bind": [listen],
        "worker_class": "gthread",
        "workers": 1,
        "threads": threads,
        "timeout": 120,  # gthread: the worker heartbeats from its main thread, WebSockets live on
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-",
        # method and path only: no query string, no Referer - a one-off terminal
        # command (?cmd=..., maybe with a password) must not reach the journal
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        "forwarded_allow_ips": "",  # proxy headers are judged by our own middleware
        "proc_name": "pruvon",
        # gunicorn >= 25.1 opens a control socket (workers, reload, shutdown) in
        # $XDG_RUNTIME_DIR or ~/.gunicorn; Pruvon does not use it, and a demo or
        # test must not write the operator's home
        "control_socket_disable": True,
    }


def run_gunicorn(app_factory: Any, options: dict[str, Any]) -> None:
    """Run gunicorn's arbiter in this process until it is stopped."""
    from gunicorn.app.base import BaseApplication

    class PruvonApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key != "control_socket_disable" or key in self.cfg.settings:  # gunicorn < 25.1
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app_factory()

    PruvonApplication().run()


@click.command("serve")
@click.option("--listen", default=None, help="HOST:PORT (default: pruvon.listen from the config).")
@click.option("--demo", is_flag=True,
              help="Serve a throw-away sandbox: simulated Dokku with sample apps.")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True,
              type=click.IntRange(2, 256), help="Worker threads (each WebSocket holds one).")
@click.option("--check-listen", "check_only", is_flag=True,
              help="Only check that the listen address can be bound, then exit (0 free, 1 not).")
@click.pass_context
def serve_command(ctx: click.Context, listen: str | None, demo: bool, threads: int,
                  check_only: bool) -> None:
    """Run the web UI (gunicorn, threaded workers; needs the 'web' extra)."""
    try:
        import flask  # noqa: F401
        import gunicorn  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(
            f"the web UI needs the 'web' extra ({exc.name} is missing): pip install 'pruvon[web]'"
        ) from exc
    if demo:
        serve_demo(listen, threads)
        return
    config_file = ctx.obj.config_file if ctx.obj is not None else config_path()
    try:
        config = ConfigStore(config_file).current()
    except ConfigError as exc:
        raise click.ClickException(f"cannot start: invalid config {config_file}: "
                                   + "; ".join(exc.errors)) from exc
    address = check_listen(listen or config.listen)
    if check_only:
        bind_check(address)
        return
    warning = listen_warning(address, config.get("security.trusted_proxies"))
    if warning:
        click.echo(click.style(warning, fg="yellow"), err=True)
    _warn_missing_hosts(config)

    def factory() -> Any:
        from pruvon_web.app import create_app

        app = create_app(config_file)
        app.config["PRUVON_LISTEN"] = address  # --listen may differ from pruvon.listen
        return app

    recover_operations()
    click.echo(f"pruvon: serving on http://{address}/ (config {config_file})", err=True)
    run_gunicorn(factory, gunicorn_options(address, threads))


def bind_check(address: str) -> None:
    """Bind and release ``address`` (the Go original's ``-check-listen``, for units' ExecStartPre).

    A unit can refuse to start a second server on a taken port with a clear
    message instead of gunicorn's retry loop.
    """
    import socket

    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go's net.Listen
            sock.bind((host, int(port)))
    except OSError as exc:
        raise click.ClickException(
            f"listen check failed: {address} is not available: {exc.strerror or exc}") from exc
    click.echo(f"Listen check succeeded for {address}")


def recover_operations() -> None:
    """Before serving: stop what operations of a killed server left running, mark them."""
    from pruvon_core.config import state_dir
    from pruvon_core.operations import OperationStore

    for op in OperationStore(state_dir()).recover(kill=True):
        click.echo(f"pruvon: operation {op.id} ({op.title}) was {op.error}", err=True)


# --------------------------------------------------------------------------- demo
DEMO_NEEDS_TESTING = (
    "pruvon serve --demo needs the Dokku simulator, which is not installed: "
    "pip install pruvon-testing (from a source checkout: pip install -e ./testing, "
    "or run make demo)"
)


def demo_seeder() -> Any:
    """``seed_demo`` of the simulator, or a clear error when pruvon-testing is missing."""
    try:
        from pruvon_testing.sim.demo import seed_demo
    except ImportError as exc:
        raise click.ClickException(DEMO_NEEDS_TESTING) from exc
    return seed_demo


def sim_command(name: str) -> str:
    """The simulator console script installed beside this Python."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise click.ClickException(f"{path} not found: {DEMO_NEEDS_TESTING}")
    return str(path)


def build_demo(root: Path, listen: str) -> tuple[Path, str]:
    """Create the sandbox under ``root``; return (config file, admin password)."""
    from pruvon_auth.public import hash_password

    from pruvon_core.config import dump
    from pruvon_core.files import atomic_write

    sim_root, state = root / "sim", root / "state"
    sim_root.mkdir(mode=0o700)
    state.mkdir(mode=0o700)
    os.environ.update(
        PRUVON_SIM_ROOT=str(sim_root),
        PRUVON_STATE_DIR=str(state),
        PRUVON_DOKKU_COMMAND=sim_command("pruvon-dokku-sim"),
        PRUVON_DOCKER_COMMAND=sim_command("pruvon-docker-sim"),
    )
    demo_seeder()(sim_root)
    password = secrets.token_urlsafe(15)
    config_file = root / "pruvon.yml"
    data = {
        "pruvon": {"listen": listen},
        "dokku": {"lib_root": str(sim_root)},  # the simulator's DOKKU_LIB_ROOT (app files)
        "users": [{"username": "admin", "password": hash_password(password), "role": "admin"}],
    }
    atomic_write(config_file, "# throw-away demo config (pruvon serve --demo)\n" + dump(data))
    os.environ["PRUVON_CONFIG"] = str(config_file)
    write_demo_env(root)
    return config_file, password


DEMO_ENV_NAMES = ("PRUVON_CONFIG", "PRUVON_STATE_DIR", "PRUVON_SIM_ROOT",
                  "PRUVON_DOKKU_COMMAND", "PRUVON_DOCKER_COMMAND")


def write_demo_env(root: Path) -> Path:
    """``<sandbox>/env.sh``: sourced in another shell, ``pruvon`` and ``dokku`` drive the demo.

    Sets the five variables the demo server runs with and puts ``<sandbox>/bin``
    (``dokku`` -> the simulator) and this Python's scripts (``pruvon``) first on PATH.
    """
    from pruvon_core.files import atomic_write

    bin_dir = root / "bin"
    bin_dir.mkdir(mode=0o700, exist_ok=True)
    (bin_dir / "dokku").symlink_to(os.environ["PRUVON_DOKKU_COMMAND"])
    lines = [f"export {name}={shlex.quote(os.environ[name])}" for name in DEMO_ENV_NAMES]
    path = f"{bin_dir}:{Path(sys.executable).parent}"
    lines.append(f'export PATH={shlex.quote(path)}:"$PATH"')
    env_file = root / "env.sh"
    atomic_write(env_file, "# pruvon serve --demo: source me (. env.sh)\n" + "\n".join(lines) + "\n")
    return env_file


def serve_demo(listen: str | None, threads: int) -> None:
    address = check_listen(listen or "127.0.0.1:8080")
    demo_seeder()  # refuse before creating anything when the simulator is missing
    root = Path(tempfile.mkdtemp(prefix="pruvon-demo-"))
    master = os.getpid()
    try:
        config_file, password = build_demo(root, address)
        warning = listen_warning(address, None)
        if warning:
            click.echo(click.style(warning, fg="yellow"), err=True)
        click.echo(
            "\n  Pruvon demo (simulated Dokku; nothing real is touched)\n"
            f"  URL:      http://{address}/\n"
            "  user:     admin\n"
            f"  password: {password}\n"
            f"  sandbox:  {root} (removed on exit)\n"
            f"  CLI:      . {shlex.quote(str(root / 'env.sh'))}   "
            "(in another shell, then: pruvon apps list, dokku apps:list)\n"
        )

        def factory() -> Any:
            from pruvon_web.app import create_app

            return create_app(config_file, state_dir=root / "state")

        run_gunicorn(factory, gunicorn_options(address, threads))
    finally:
        # gunicorn workers are forked from here and leave through SystemExit: only
        # the master (the process the operator started) removes the sandbox
        if os.getpid() == master:
            shutil.rmtree(root, ignore_errors=True)
