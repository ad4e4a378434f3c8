"""`dokku pruvon:*` after an install, run the way Dokku runs plugin commands: as `dokku`.

On a real host Dokku runs plugin commands as its own user, while /etc/pruvon.yml
(0600) and /var/lib/pruvon (0700) belong to `pruvon`: the shim must reach pruvon
through the installer's sudo rule, never by making secrets readable by `dokku`.

These tests build a throwaway host the way an operator's machine looks: a
private mount namespace (``unshare -m``) whose /etc, /var/lib and bin directories are
overlays of the real ones with the host's own files on top - its users
(`dokku`, `pruvon`), what ``scripts/install.sh --root`` wrote, and
/usr/bin/dokku and docker as the simulator.  The real ``sudo`` reads the installed
sudoers rule there, and the simulator, run as root, runs the plugin's scripts
as `dokku` (``pruvon_testing.sim.plugin_user``).  Pruvon itself runs from a
venv of Debian's python3, which unprivileged users can execute.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install.sh"
SYSTEM_PYTHON = Path("/usr/bin/python3")
OVERLAID = ("etc", "var/lib", "usr/bin", "usr/local/bin")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "__pycache__", "*.egg-info",
                                     ".pytest_cache", ".ruff_cache", ".hypothesis", "node_modules")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # the venv is built under load in CI


def _tools_missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (a mount namespace, sudo and setpriv as on a host)"
    for tool in ("unshare", "sudo", "setpriv", "visudo"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is not installed"
    return None


@pytest.fixture(scope="module")
def world_venv() -> Iterator[Path]:
    """Pruvon and the simulator installed (not editable) into a venv any user can run."""
    missing = _tools_missing()
    if missing:
        pytest.skip(missing)
    base = Path(tempfile.mkdtemp(prefix="pruvon-world-venv-"))
    try:
        base.chmod(0o755)
        source = base / "src"
        shutil.copytree(REPO, source, ignore=COPY_IGNORE)
        venv = base / "venv"
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(source),
                        str(source / "testing")], check=True, timeout=600)
        yield venv
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _free_ids(count: int) -> list[int]:
    taken = {entry.pw_uid for entry in pwd.getpwall()}
    return [uid for uid in range(61000, 62000) if uid not in taken][:count]


@dataclass
class Host:
    """A throwaway Dokku host: ``root`` holds what differs from the real machine."""

    root: Path
    venv: Path
    dokku_uid: int
    pruvon_uid: int

    @property
    def sim(self) -> Path:
        return self.root / "sim"

    def run(self, *argv: str, user: int | None = None) -> subprocess.CompletedProcess:
        """``argv`` inside the host's mount namespace, as root or as uid ``user``."""
        mounts = []
        for index, path in enumerate(OVERLAID):
            work = self.root / ".overlay-work" / str(index)
            work.mkdir(parents=True, exist_ok=True)
            mounts.append(f"mount -t overlay overlay -o lowerdir=/{path},"
                          f"upperdir={self.root / path},workdir={work} /{path}")
        if user is not None:
            argv = ("setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *argv)
        script = " && ".join(mounts) + ' && exec "$@"'
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                               "host", *argv], capture_output=True, text=True, timeout=180,
                              check=False, cwd="/", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})

    def dokku(self, *args: str) -> subprocess.CompletedProcess:
        """What an operator typing ``dokku …`` as root gets."""
        return self.run("/usr/bin/dokku", *args)


def _add_users(root: Path, dokku: int, pruvon: int) -> None:
    """The host's users: the machine's, plus `dokku` (Dokku's package) and `pruvon`."""
    etc = root / "etc"
    etc.mkdir(parents=True, mode=0o755)
    entries = {
        "passwd": [f"dokku:x:{dokku}:{dokku}:dokku:/home/dokku:/bin/bash",
                   f"pruvon:x:{pruvon}:{pruvon}::/var/lib/pruvon:/usr/sbin/nologin"],
        "group": [f"dokku:x:{dokku}:", f"pruvon:x:{pruvon}:"],
        "shadow": ["dokku:*:20000:0:99999:7:::", "pruvon:*:20000:0:99999:7:::"],
    }
    for name, lines in entries.items():
        target = etc / name
        shutil.copy2(f"/etc/{name}", target)
        with target.open("a") as file:
            file.write("\n".join(lines) + "\n")


def _wrapper(path: Path, sim_root: Path, program: Path) -> None:
    """/usr/bin/dokku (or docker) of the host: the simulator, its state fixed (sudo resets env)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    path.write_text(f"#!/bin/sh\nPRUVON_SIM_ROOT={sim_root}\nexport PRUVON_SIM_ROOT\n"
                    f"exec {program} \"$@\"\n")
    path.chmod(0o755)


@pytest.fixture(scope="module")
def host(world_venv: Path) -> Iterator[Host]:
    root = Path(tempfile.mkdtemp(prefix="pruvon-host-"))
    try:
        root.chmod(0o755)
        dokku_uid, pruvon_uid = _free_ids(2)
        _add_users(root, dokku_uid, pruvon_uid)
        proc = subprocess.run([str(INSTALL), "--root", str(root), "--venv", str(world_venv)],
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        host = Host(root, world_venv, dokku_uid, pruvon_uid)
        host.sim.mkdir(mode=0o755)
        os.chown(host.sim, dokku_uid, dokku_uid)
        seeded = subprocess.run(
            ["setpriv", f"--reuid={dokku_uid}", f"--regid={dokku_uid}", "--clear-groups",
             str(world_venv / "bin" / "pruvon-dokku-sim"), "apps:create", "shop"],
            capture_output=True, text=True, check=False, cwd="/",
            env={"PATH": "/usr/bin:/bin", "PRUVON_SIM_ROOT": str(host.sim), "HOME": str(host.sim)})
        assert seeded.returncode == 0, seeded.stderr
        plugin = host.sim / "plugins" / "enabled" / "pruvon"
        shutil.copytree(REPO / "dokku-plugin", plugin)  # root-owned, as plugin:install leaves it
        _wrapper(root / "usr/bin/dokku", host.sim, world_venv / "bin" / "pruvon-dokku-sim")
        for bin_dir in ("usr/bin", "usr/local/bin"):  # whichever docker comes first on PATH
            _wrapper(root / bin_dir / "docker", host.sim, world_venv / "bin" / "pruvon-docker-sim")
        yield host
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_installer_lets_dokku_run_pruvon_as_pruvon_and_nothing_more(host):
    rules = (host.root / "etc/sudoers.d/pruvon").read_text()
    assert f"dokku ALL=(pruvon) NOPASSWD: {host.venv}/bin/pruvon\n" in rules
    assert "PRUVON_USER=pruvon\n" in (host.root / "etc/default/pruvon").read_text()
    config = (host.root / "etc/pruvon.yml").stat()
    assert (config.st_uid, config.st_mode & 0o777) == (host.pruvon_uid, 0o600)


def test_the_config_and_state_stay_unreadable_by_dokku(host):
    assert host.run("cat", "/etc/pruvon.yml", user=host.dokku_uid).returncode != 0
    assert host.run("ls", "/var/lib/pruvon", user=host.dokku_uid).returncode != 0
    assert host.run("cat", "/etc/pruvon.yml", user=host.pruvon_uid).returncode == 0


def test_plugin_commands_run_as_the_dokku_user(host):
    probe = host.sim / "plugins" / "enabled" / "whoami"
    probe.mkdir()
    commands = probe / "commands"
    commands.write_text('#!/bin/bash\n[[ "$1" == whoami ]] || exit 10\nid -un; echo "$HOME"\n')
    commands.chmod(0o755)
    try:
        proc = host.dokku("whoami")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["dokku", "/home/dokku"]
    finally:
        shutil.rmtree(probe)


@pytest.mark.parametrize("command", [("pruvon:apps-list",), ("pruvon:report",),
                                     ("pruvon:apps-list", "--format", "json"),
                                     ("pruvon:backup-list",),
                                     ("pruvon:backup-list", "--format", "json")])
def test_dokku_pruvon_commands_work_for_the_operator(host, command):
    proc = host.dokku(*command)
    assert proc.returncode == 0, f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
    if command[0] == "pruvon:apps-list":
        assert "shop" in proc.stdout
    if command == ("pruvon:backup-list", "--format", "json"):
        assert json.loads(proc.stdout) == {"backups": []}  # read as pruvon, from its state


def test_without_the_sudo_step_the_simulator_shows_the_hosts_failure(host):
    """The class of failure a real host showed (root-only config read as dokku) is caught."""
    defaults = host.root / "etc/default/pruvon"
    original = defaults.read_text()
    try:
        defaults.write_text(original.replace("PRUVON_USER=pruvon\n", ""))
        proc = host.dokku("pruvon:apps-list")
        assert proc.returncode != 0
        assert "/etc/pruvon.yml" in proc.stderr or "ermission denied" in proc.stderr, proc.stderr
    finally:
        defaults.write_text(original)
