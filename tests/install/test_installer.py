"""scripts/install.sh run whole into a throwaway root (``--root``): every file it writes."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
import yaml
from pruvon_auth.check import EXAMPLE_HASHES

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "scripts" / "install.sh"
VENV = Path(sys.executable).parent.parent
PASSWORD_RE = re.compile(r"Pruvon admin password: (\S+)")

# path under the root -> mode; None marks a directory the installer only creates as a parent
EXPECTED = {
    "etc/pruvon.yml": 0o777,  # a symlink to pruvon/pruvon.yml
    "etc/pruvon": 0o700,
    "etc/pruvon/pruvon.yml": 0o600,
    "etc/default/pruvon": 0o644,
    "etc/systemd/system/pruvon.service": 0o644,
    "etc/systemd/system/pruvon-backup.service": 0o644,
    "etc/systemd/system/pruvon-backup.timer": 0o644,
    "etc/sudoers.d/pruvon": 0o440,
    "etc/sudoers.d": 0o750,
    "var/lib/pruvon": 0o700,
    "var/backups/pruvon": 0o700,
    "etc": 0o755,
    "etc/default": 0o755,
    "etc/systemd": 0o755,
    "etc/systemd/system": 0o755,
    "var": 0o755,
    "var/lib": 0o755,
    "var/backups": 0o755,
}


def run_install(root: Path, *args: str, venv: Path = VENV) -> subprocess.CompletedProcess:
    return subprocess.run([str(INSTALL), "--root", str(root), "--venv", str(venv), *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "root"
    path.mkdir()
    return path


@pytest.fixture
def installed(root: Path) -> tuple[Path, str]:
    proc = run_install(root)
    assert proc.returncode == 0, proc.stderr
    passwords = PASSWORD_RE.findall(proc.stdout)
    assert len(passwords) == 1
    return root, passwords[0]


def tree(root: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(root)): (stat.S_IMODE(p.lstat().st_mode), p.lstat().st_uid,
                                       p.lstat().st_gid)
            for p in sorted(root.rglob("*"))}


def test_every_file_written_has_its_owner_and_mode(installed):
    root, _ = installed
    found = tree(root)
    assert set(found) == set(EXPECTED), "the installer wrote an unexpected path"
    for path, mode in EXPECTED.items():
        assert found[path][0] == mode, f"{path}: {found[path][0]:o} != {mode:o}"
        assert found[path][1:] == (os.getuid(), os.getgid()), path


def test_config_has_a_fresh_admin_hash_and_a_loopback_listen(installed):
    root, password = installed
    config = yaml.safe_load((root / "etc/pruvon.yml").read_text())
    assert config["pruvon"]["listen"] == "127.0.0.1:8080"
    digest = config["admin"]["password"]
    assert digest not in EXAMPLE_HASHES and digest.startswith("$2b$12$")
    assert bcrypt.checkpw(password.encode(), digest.encode())
    assert "security" not in config  # no proxy named: nothing trusted
    validate = subprocess.run([str(VENV / "bin/pruvon"), "--config", str(root / "etc/pruvon.yml"),
                               "config", "validate"], capture_output=True, text=True, check=False)
    assert validate.returncode == 0, validate.stderr


def test_a_second_install_gets_a_different_password(root, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    first, second = run_install(root), run_install(other)
    assert PASSWORD_RE.findall(first.stdout) != PASSWORD_RE.findall(second.stdout)


def test_defaults_file_points_the_shim_and_service_at_the_venv(installed):
    root, _ = installed
    text = (root / "etc/default/pruvon").read_text()
    assert f"PRUVON_BIN={VENV}/bin/pruvon\n" in text
    assert "PRUVON_CONFIG=/etc/pruvon.yml\n" in text
    assert "PRUVON_STATE_DIR=/var/lib/pruvon\n" in text


@pytest.mark.skipif(shutil.which("visudo") is None, reason="sudo (visudo) is not installed")
def test_sudoers_rule_is_valid(installed):
    root, _ = installed
    proc = subprocess.run(["visudo", "-c", "-f", str(root / "etc/sudoers.d/pruvon")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_every_unit_of_etc_systemd_is_installed_and_verifies(installed):
    root, _ = installed
    units = sorted(p.name for p in (REPO / "etc/systemd").iterdir())
    assert units and sorted(p.name for p in (root / "etc/systemd/system").iterdir()) == units
    for name in units:
        unit = root / "etc/systemd/system" / name
        if name.endswith(".service"):  # every service runs this venv's pruvon (serve, backup auto)
            assert f"ExecStart={VENV}/bin/pruvon " in unit.read_text()
        proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    system = root / "etc/systemd/system"
    assert f"ExecStart={VENV}/bin/pruvon serve\n" in (system / "pruvon.service").read_text()
    assert f"ExecStart={VENV}/bin/pruvon backup auto\n" in (system / "pruvon-backup.service").read_text()
    assert "Persistent=true\n" in (system / "pruvon-backup.timer").read_text()


def test_running_again_changes_nothing_the_operator_owns(installed):
    root, _ = installed
    config = root / "etc/pruvon.yml"
    # the operator's own edits and the service's state since the first run
    config.write_text(config.read_text() + "# operator's note\n")
    (root / "var/lib/pruvon/session.key").write_bytes(b"secret")
    (root / "var/lib/pruvon/session.key").chmod(0o600)
    (root / "var/backups/pruvon/daily").mkdir(mode=0o700)
    (root / "var/backups/pruvon/daily/blog.dump").write_bytes(b"dump")
    owned = [config, *sorted((root / "var").rglob("*"))]
    before = {p: (p.read_bytes() if p.is_file() else None, p.stat().st_mode, p.stat().st_uid,
                  p.stat().st_mtime_ns) for p in owned}
    proc = run_install(root)
    assert proc.returncode == 0, proc.stderr
    assert "password" not in proc.stdout.lower().replace("user passwd", "")
    assert "kept /etc/pruvon.yml" in proc.stdout
    after = {p: (p.read_bytes() if p.is_file() else None, p.stat().st_mode, p.stat().st_uid,
                 p.stat().st_mtime_ns) for p in owned}
    assert after == before
    assert set(tree(root)) == set(EXPECTED) | {str(p.relative_to(root)) for p in owned}


def test_non_loopback_listen_refused_without_the_explicit_flag(root):
    proc = run_install(root, "--listen", "0.0.0.0:8080")
    assert proc.returncode == 1
    assert "not a loopback address" in proc.stderr and "--allow-public-listen" in proc.stderr
    assert list(root.iterdir()) == []  # refused before anything was written
    proc = run_install(root, "--listen", "0.0.0.0:8080", "--allow-public-listen")
    assert proc.returncode == 0, proc.stderr
    assert "listen: 0.0.0.0:8080\n" in (root / "etc/pruvon.yml").read_text()


def test_loopback_listen_and_public_name_for_a_proxy(root):
    proc = run_install(root, "--listen", "127.0.0.1:9090", "--public-name",
                       "pruvon.example.internal")
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load((root / "etc/pruvon.yml").read_text())
    assert config["pruvon"]["listen"] == "127.0.0.1:9090"
    assert config["security"] == {"trusted_proxies": ["127.0.0.1", "::1"],
                                  "allowed_hosts": ["pruvon.example.internal"]}


@pytest.mark.parametrize(("args", "message"), [
    (("--listen", "127.0.0.1:80\nadmin: x"), "is not HOST:PORT"),
    (("--listen", "127.0.0.1:99999"), "port must be 1-65535"),
    (("--public-name", "x]\nsecurity: {}"), "is not a host name"),
    (("--public-name", "$(id)"), "is not a host name"),
    (("--purge",), "--purge only goes with --uninstall"),
    (("--bogus",), "unknown option '--bogus'"),
    (("--listen",), "--listen needs a value"),
])
def test_bad_arguments_are_refused_before_anything_is_written(root, args, message):
    proc = run_install(root, *args)
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(root.iterdir()) == []


def test_bad_root_and_venv_refused(tmp_path):
    proc = subprocess.run([str(INSTALL), "--root", "relative/dir"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 1 and "--root 'relative/dir' must be an absolute path" in proc.stderr
    proc = run_install(tmp_path, venv=tmp_path / "no-venv")
    assert proc.returncode == 1 and "has no bin/pruvon" in proc.stderr


def test_unsupported_system_refused_with_a_clear_message(root):
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('PRETTY_NAME="Fedora Linux 40"\nID=fedora\n')
    proc = run_install(root)
    assert proc.returncode == 1
    assert "unsupported system: Fedora Linux 40" in proc.stderr
    assert "Debian and Ubuntu" in proc.stderr
    assert sorted(p.name for p in root.rglob("*")) == ["etc", "os-release"]


def test_uninstall_keeps_config_state_and_backups_unless_purged(installed):
    root, _ = installed
    (root / "var/backups/pruvon/blog.dump").write_bytes(b"dump")
    proc = run_install(root, "--uninstall")
    assert proc.returncode == 0, proc.stderr
    left = {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}
    assert left == {"etc/pruvon.yml", "etc/pruvon/pruvon.yml", "var/backups/pruvon/blog.dump"}
    assert (root / "var/lib/pruvon").is_dir()
    proc = run_install(root, "--uninstall", "--purge")
    assert proc.returncode == 0, proc.stderr
    assert not [p for p in root.rglob("*") if "pruvon" in p.name]


def test_help_describes_every_option():
    proc = subprocess.run([str(INSTALL), "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    for option in ("--listen", "--allow-public-listen", "--public-name", "--venv",
                   "--uninstall", "--purge", "--root"):
        assert option in proc.stdout


def test_the_config_lives_in_a_directory_the_service_may_write(installed):
    """ProtectSystem=full leaves /etc read-only: the web UI rewrites the config by a
    rename in /etc/pruvon (ReadWritePaths), reached through /etc/pruvon.yml."""
    root, _ = installed
    assert os.readlink(root / "etc/pruvon.yml") == "pruvon/pruvon.yml"
    unit = (root / "etc/systemd/system/pruvon.service").read_text()
    assert "\nReadWritePaths=/etc/pruvon /var/lib/pruvon /var/backups/pruvon\n" in unit


def test_an_existing_config_file_moves_into_the_directory_unchanged(root):
    """An upgrade from an install (or Pruvon) that kept a plain /etc/pruvon.yml."""
    (root / "etc").mkdir()
    config = root / "etc/pruvon.yml"
    text = "# my Pruvon config\npruvon:\n  listen: 127.0.0.1:8080\n"
    config.write_text(text)
    config.chmod(0o600)
    proc = run_install(root)
    assert proc.returncode == 0, proc.stderr
    assert "moved /etc/pruvon.yml to /etc/pruvon/pruvon.yml (unchanged)" in proc.stdout
    assert "password" not in proc.stdout.lower().replace("user passwd", "")
    assert os.readlink(config) == "pruvon/pruvon.yml"
    assert (root / "etc/pruvon/pruvon.yml").read_text() == text


def test_an_operators_own_config_symlink_is_kept(root, tmp_path):
    elsewhere = tmp_path / "srv-pruvon.yml"
    elsewhere.write_text("pruvon:\n  listen: 127.0.0.1:8080\n")
    (root / "etc").mkdir()
    (root / "etc/pruvon.yml").symlink_to(elsewhere)
    proc = run_install(root)
    assert proc.returncode == 0, proc.stderr
    assert os.readlink(root / "etc/pruvon.yml") == str(elsewhere)
    assert not (root / "etc/pruvon").exists()
    assert "your own link" in proc.stdout
