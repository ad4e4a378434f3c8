"""``pruvon serve`` options: listen address checks, the exposure warning, gunicorn settings."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from pruvon_web.serve import check_listen, gunicorn_options, listen_warning


def test_loopback_bind_has_no_warning():
    assert listen_warning("127.0.0.1:8080", None) is None
    assert listen_warning("[::1]:8080", []) is None


def test_public_bind_warns_with_the_advice():
    warning = listen_warning("0.0.0.0:8080", None)
    assert warning is not None
    assert "127.0.0.1:8080" in warning and "reverse proxy" in warning
    assert "VPN" in warning and "security.trusted_proxies" in warning


def test_public_bind_with_trusted_proxies_is_deliberate():
    assert listen_warning("10.0.0.5:8080", ["10.0.0.1"]) is None


@pytest.mark.parametrize("bad", ["8080", ":8080", "host:", "host:99999", "host:http",
                                 "host:\u00b2", "host:\u0663\u0663"])
def test_bad_listen_addresses_are_named(bad):
    with pytest.raises(click.BadParameter) as error:
        check_listen(bad)
    assert bad in str(error.value)


def test_gunicorn_uses_threaded_workers():
    options = gunicorn_options("127.0.0.1:9000", threads=16)
    assert options["worker_class"] == "gthread" and options["threads"] == 16
    assert options["bind"] == ["127.0.0.1:9000"]


def test_serve_is_a_pruvon_command():
    from pruvon_core.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--listen" in result.output and "--demo" in result.output


def test_demo_without_pruvon_testing_says_what_to_install(tmp_path):
    """The simulator is pruvon-testing, absent from a production install: --demo
    refuses with the fix, no traceback, and creates no sandbox."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['pruvon_testing'] = None\n"  # as if not installed
        "from pruvon_core.cli import main; main(['serve', '--demo', '--listen', '127.0.0.1:59999'])"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode == 1
    assert "pip install pruvon-testing" in proc.stderr and "--demo" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
