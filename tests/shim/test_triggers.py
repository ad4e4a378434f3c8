"""Trigger scripts forward to the pruvon_dokku_trigger hook and never break Dokku."""

from __future__ import annotations

import time

import pytest

from tests.shim.conftest import PLUGIN_DIR, TRIGGERS

TRIGGER_ARGS = {
    "install": [],
    "post-create": ["blog"],
    "pre-delete": ["blog", "latest"],
    "post-delete": ["blog", "latest"],
    "post-deploy": ["blog", "5000", "172.17.0.4", "latest"],
    "post-domains-update": ["blog", "add", "blog.example.com www.example.com"],
    "post-config-update": ["blog", "set", "KEY=has spaces", "OTHER=$(id)"],
    "post-app-rename": ["blog", "journal"],
}


def test_every_documented_trigger_has_an_executable_script():
    for name in TRIGGERS:
        script = PLUGIN_DIR / name
        assert script.is_file(), name
        assert script.stat().st_mode & 0o111, name


@pytest.mark.parametrize("name", TRIGGERS)
def test_trigger_reaches_the_hook_with_its_arguments(shim, name):
    shim.use_real_cli()
    args = TRIGGER_ARGS[name]
    proc = shim.run(name, *args)
    assert proc.returncode == 0, proc.stderr
    assert shim.triggers() == [{"name": name, "args": args}]


@pytest.mark.parametrize("name", [t for t in TRIGGERS if t != "install"])
def test_trigger_argv_to_pruvon(shim, name):
    shim.use_recorder()
    args = TRIGGER_ARGS[name]
    proc = shim.run(name, *args)
    assert proc.returncode == 0
    assert shim.recorded_argv() == ["trigger", name, "--", *args]
    # pruvon's stdout is moved to stderr: trigger stdout may be read by Dokku
    assert proc.stdout == ""
    assert "recorder stdout" in proc.stderr


@pytest.mark.parametrize("name", TRIGGERS)
def test_missing_pruvon_never_breaks_dokku(shim, name):
    proc = shim.run(name, *TRIGGER_ARGS[name])
    assert proc.returncode == 0
    assert proc.stdout == "" or name == "install"


def test_missing_pruvon_is_logged(shim):
    proc = shim.run("post-create", "blog")
    assert proc.stderr.startswith(" !     pruvon: trigger post-create not forwarded: ")


@pytest.mark.parametrize("name", ["post-create", "pre-delete", "post-deploy"])
def test_failing_pruvon_never_breaks_dokku(shim, name):
    shim.use_recorder()
    proc = shim.run(name, *TRIGGER_ARGS[name], extra_env={"RECORD_EXIT": "1"})
    assert proc.returncode == 0
    assert f" !     pruvon: trigger {name} failed (exit 1); continuing without it." in proc.stderr


@pytest.mark.parametrize("name", ["post-create", "pre-delete"])
def test_raising_plugin_never_breaks_dokku(shim, name):
    shim.use_real_cli()
    proc = shim.run(name, *TRIGGER_ARGS[name], extra_env={"SHIMTEST_TRIGGER_MODE": "raise"})
    assert proc.returncode == 0
    assert f"plugin shimtest failed on trigger {name}: RuntimeError: shimtest exploded" in proc.stderr


def test_hanging_pruvon_is_cut_off(shim):
    shim.use_recorder()
    started = time.monotonic()
    proc = shim.run("post-deploy", "blog", extra_env={
        "RECORD_SLEEP": "30", "PRUVON_TRIGGER_TIMEOUT": "1"}, timeout=20)
    assert time.monotonic() - started < 15
    assert proc.returncode == 0
    assert "pruvon: trigger post-deploy timed out after 1s" in proc.stderr


def test_bad_timeout_setting_falls_back_with_a_warning(shim):
    shim.use_recorder()
    proc = shim.run("post-create", "blog", extra_env={"PRUVON_TRIGGER_TIMEOUT": "soon"})
    assert proc.returncode == 0
    assert "PRUVON_TRIGGER_TIMEOUT=soon is not a whole number of seconds" in proc.stderr
    assert shim.recorded_argv() == ["trigger", "post-create", "--", "blog"]


def test_plugin_veto_aborts_a_pre_trigger(shim):
    shim.use_real_cli()
    proc = shim.run("pre-delete", "blog", "latest", extra_env={"SHIMTEST_TRIGGER_MODE": "veto"})
    assert proc.returncode != 0
    assert "shimtest: refusing pre-delete" in proc.stderr
    assert " !     Pruvon vetoed pre-delete; the Dokku operation is aborted." in proc.stderr


def test_veto_of_a_post_trigger_is_ignored(shim):
    shim.use_real_cli()
    proc = shim.run("post-delete", "blog", "latest", extra_env={"SHIMTEST_TRIGGER_MODE": "veto"})
    assert proc.returncode == 0
    assert "ignoring a veto of post-delete" in proc.stderr


def test_exit_3_only_vetoes_pre_triggers(shim):
    shim.use_recorder()
    assert shim.run("pre-delete", "blog", "x", extra_env={"RECORD_EXIT": "3"}).returncode == 1
    assert shim.run("post-delete", "blog", "x", extra_env={"RECORD_EXIT": "3"}).returncode == 0


def test_install_checks_the_executable_and_says_what_next(shim):
    shim.use_real_cli()
    proc = shim.run("install")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("-----> Pruvon plugin: using ")
    assert "Next step: dokku pruvon:report" in proc.stdout
    assert shim.triggers() == [{"name": "install", "args": []}]


def test_install_without_pruvon_explains_the_next_step(shim):
    proc = shim.run("install")
    assert proc.returncode == 0
    assert "Pruvon itself is not installed yet" in proc.stdout
    assert "Next step: install Pruvon" in proc.stdout
    assert " !     The pruvon executable was not found" in proc.stderr
