"""Golden tests: ``apps:*`` and ``config:*`` against the real Dokku 0.38.27 captures.

Every case rebuilds the state the capture was taken in with simulated commands
(``tests/golden/simhost.py``), runs the captured argv (with the captured stdin)
and compares exit code and exact bytes.

Normalisations, applied to both sides and only where a case needs them:

* ``Random port NNNNN`` - the free port Dokku picked at random;
* ``created at`` / ``created-at`` epochs (10 digits) - creation time of the app;
* 40-hex git SHAs - ``GIT_REV`` of a deploy;
* container ids (12 and 64 hex), ``upcoming-NNNNN`` names and the epoch suffix of
  renamed old containers - docker-generated per deploy;
* the two "System has not been booted with systemd" lines on stderr of
  ``apps:destroy``/``apps:rename``: noise of the capture host (a container without
  systemd), not Dokku output - removed from the expected stderr.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pruvon_testing.sim.core import SimState
from tests.golden.harness import (
    ID12,
    ID64,
    RANDOM_PORT,
    SHA40,
    UPCOMING,
    Builder,
    check_capture,
    check_capture_tty,
    nothing,
    setup,
    sub,
)
from tests.golden.simhost import (
    EPOCH,
    SPECIAL_VALUES,
    SYSTEMD_NOISE,
    current_env,
    deploy_history,
    ref_apps,
    svc_plugins,
    svc_redis,
)

OLD_SUFFIX = sub(rb"(\.web\.\d+)\.\d{10}\b", rb"\1.<epoch>")
DEPLOY = (SHA40, ID64, ID12, UPCOMING, OLD_SUFFIX)


def base(root: Path) -> None:
    """After ``ps-scale-set-web2``: ref-empty, ref-web, ref-multi."""
    ref_apps(root)


def base_svc(root: Path) -> None:
    """Later in the session: the services captures added svc-app and two redis services."""
    ref_apps(root)
    svc_plugins(root)


def special(root: Path) -> None:
    """After ``config-set-no-restart``: ref-web holds the special values."""
    ref_apps(root)
    setup(root, ["config:set", "--no-restart", "ref-web", *SPECIAL_VALUES])


def corrupted(root: Path) -> None:
    """After ``config-set-no-restart-quote-probe``: ref-web's ENV no longer parses."""
    special(root)
    setup(root, ["config:set", "--no-restart", "ref-web", 'ENDQ=abc"', 'MIDQ=a"b', 'ONLYQ="',
                 'QUOTED="wrapped"'])


def quirk(steps: int) -> Builder:
    """The first ``steps`` commands of the trailing-double-quote repro on ref-empty."""
    sequence = [
        ["config:set", "--no-restart", "ref-empty", 'TQ=ends with "quote"'],
        ["config:get", "ref-empty", "TQ"],
        ["config:set", "--no-restart", "ref-empty", "OTHER=1"],
    ]

    def build(root: Path) -> None:
        ref_apps(root)
        setup(root, *sequence[:steps])

    return build


def with_key(app: str, *pairs: str) -> Builder:
    def build(root: Path) -> None:
        ref_apps(root)
        setup(root, ["config:set", "--no-restart", app, *pairs])

    return build


def global_set(root: Path) -> None:
    ref_apps(root)
    setup(root, ["config:set", "--global", "REF_GLOBAL_TEST=1"])


def current(root: Path) -> None:
    base_svc(root)
    current_env(root)


def locked(root: Path) -> None:
    ref_apps(root)
    setup(root, ["apps:lock", "ref-web"])


def destroy_host(root: Path) -> None:
    """The state of the destroy captures: with the two redis services around."""
    base_svc(root)
    svc_redis(root)


def end_of_session(root: Path) -> None:
    """The clean-up at the end: every deploy of the session happened long before.

    Dokku retires an old container only once its scheduled shutdown time has
    passed; the real clean-up ran minutes after the last deploy, hence the
    simulated clock is moved forward (the renamed app's destroy, seconds after
    its deploy, is the counter-example).
    """
    destroy_host(root)
    deploy_history(root)
    SimState(root).set_knobs(time_offset=3600)


def tmp_app(root: Path) -> None:
    base_svc(root)
    setup(root, ["apps:create", "ref-tmp"])


def tmp_app_redis(root: Path) -> None:
    tmp_app(root)
    svc_redis(root)


def clone_source(root: Path) -> None:
    """ref-web after ``ports:set ref-web http:8081:5000`` (the clone inherits 8081)."""
    base_svc(root)
    setup(root, ["ports:set", "ref-web", "http:8081:5000"])


def cloned(root: Path) -> None:
    clone_source(root)
    setup(root, ["apps:clone", "ref-web", "ref-clone"])


def cloned_redis(root: Path) -> None:
    cloned(root)
    svc_redis(root)


def renamed(root: Path) -> None:
    cloned_redis(root)
    setup(root, ["apps:rename", "ref-clone", "ref-renamed"])


def cleanup(root: Path) -> None:
    """After the clean-up: only the services captures' svc-app is left."""
    svc_plugins(root)


N_DEPLOY = (*DEPLOY, RANDOM_PORT)
N_DESTROY = (ID64,)

# case -> (state builder, normalisers, stdin fed to the command)
SCENARIOS: dict[str, tuple[Builder, tuple, bytes]] = {
    "apps-bare": (base_svc, (), b""),
    "apps-clone-source-missing": (base_svc, (), b""),
    "apps-clone-target-exists": (base_svc, (), b""),
    "apps-clone": (clone_source, N_DEPLOY, b""),
    "apps-create-invalid-dash": (nothing, (), b""),
    "apps-create-invalid-semicolon": (nothing, (), b""),
    "apps-create-invalid-underscore": (nothing, (), b""),
    "apps-create-invalid-upper": (nothing, (), b""),
    "apps-create-new": (nothing, (RANDOM_PORT,), b""),
    "apps-create-noarg": (nothing, (), b""),
    "apps-create-ref-multi": (nothing, (RANDOM_PORT,), b""),
    "apps-create-ref-tmp": (base_svc, (RANDOM_PORT,), b""),
    "apps-create-ref-web": (nothing, (RANDOM_PORT,), b""),
    "apps-create-taken": (base, (), b""),
    "apps-destroy-confirm-stdin": (tmp_app_redis, (SYSTEMD_NOISE,), b"ref-tmp\n"),
    "apps-destroy-confirm-wrong": (tmp_app, (), b"wrong-name\n"),
    "apps-destroy-force-deployed": (end_of_session, (ID64, SYSTEMD_NOISE), b""),
    "apps-destroy-force-deployed-multi": (end_of_session, (ID64, SYSTEMD_NOISE), b""),
    "apps-destroy-force-flag-first": (base_svc, (), b""),
    "apps-destroy-force-missing": (base_svc, (), b""),
    "apps-destroy-force-never-deployed": (destroy_host, (SYSTEMD_NOISE,), b""),
    "apps-destroy-force": (renamed, (SYSTEMD_NOISE,), b""),
    "apps-destroy-no-force": (tmp_app, (), b""),
    "apps-exists-after-destroy-no-force": (tmp_app, (), b""),
    "apps-exists-no": (base, (), b""),
    "apps-exists-yes": (base, (), b""),
    "apps-help": (nothing, (), b""),
    "apps-list-after-cleanup": (cleanup, (), b""),
    "apps-list-after-rename": (renamed, (), b""),
    "apps-list-bad-format": (base_svc, (), b""),
    "apps-list-current": (base_svc, (), b""),
    "apps-list-empty": (nothing, (), b""),
    "apps-list-extra-arg": (base_svc, (), b""),
    "apps-list-json-after-cleanup": (cleanup, (), b""),
    "apps-list-json": (base, (), b""),
    "apps-list": (base, (), b""),
    "apps-lock-again": (locked, (), b""),
    "apps-lock-missing-app": (base, (), b""),
    "apps-lock": (base, (), b""),
    "apps-locked-missing-app": (base, (), b""),
    "apps-locked-no": (base, (), b""),
    "apps-locked-yes": (locked, (), b""),
    "apps-rename-invalid-target": (cloned, (), b""),
    "apps-rename-source-missing": (cloned, (), b""),
    "apps-rename-target-exists": (cloned, (), b""),
    "apps-rename": (cloned_redis, (*N_DEPLOY, SYSTEMD_NOISE), b""),
    "apps-report-all-json": (base, (EPOCH,), b""),
    "apps-report-all": (base, (EPOCH,), b""),
    "apps-report-app-dir": (base, (), b""),
    "apps-report-app-json": (base, (EPOCH,), b""),
    "apps-report-app": (base, (EPOCH,), b""),
    "apps-report-bad-flag": (base, (), b""),
    "apps-report-json-flag-first": (base, (EPOCH,), b""),
    "apps-report-locked": (locked, (), b""),
    "apps-report-missing-app": (base, (), b""),
    "apps-unlock-again": (base, (), b""),
    "apps-unlock-missing-app": (base, (), b""),
    "apps-unlock": (locked, (), b""),
    # -- config ---------------------------------------------------------------
    "config-bare-noapp": (base, (), b""),
    "config-bare": (base, (SHA40,), b""),
    "config-export-default": (base, (SHA40,), b""),
    "config-export-docker-args-special": (special, (SHA40,), b""),
    "config-export-docker-args": (base, (SHA40,), b""),
    "config-export-envfile-special": (special, (SHA40,), b""),
    "config-export-envfile": (base, (SHA40,), b""),
    "config-export-exports-special": (special, (SHA40,), b""),
    "config-export-exports": (base, (SHA40,), b""),
    "config-export-global-json": (base, (), b""),
    "config-export-json-corrupted-env": (corrupted, (SHA40,), b""),
    "config-export-json-list-special": (special, (SHA40,), b""),
    "config-export-json-list": (base, (SHA40,), b""),
    "config-export-json-special": (special, (SHA40,), b""),
    "config-export-json": (base, (SHA40,), b""),
    "config-export-missing-app": (base, (), b""),
    "config-export-pretty-special": (special, (SHA40,), b""),
    "config-export-pretty": (base, (SHA40,), b""),
    "config-export-shell-special": (special, (SHA40,), b""),
    "config-export-shell": (base, (SHA40,), b""),
    "config-get-global": (global_set, (), b""),
    "config-get-missing-app": (base, (), b""),
    "config-get-missing": (base, (), b""),
    "config-get-present": (base, (), b""),
    "config-get-quoted-special-newline": (special, (), b""),
    "config-get-quoted-special-squote": (special, (), b""),
    "config-get-quoted": (base, (SHA40,), b""),
    "config-get-special-empty": (special, (), b""),
    "config-get-special-newline": (special, (), b""),
    "config-help": (nothing, (), b""),
    "config-keys-missing-app": (base, (), b""),
    "config-keys-special": (special, (), b""),
    "config-keys": (base, (), b""),
    "config-quirk-trailing-dquote-1-set": (quirk(0), (), b""),
    "config-quirk-trailing-dquote-2-get": (quirk(1), (), b""),
    "config-quirk-trailing-dquote-3-set-other": (quirk(2), (), b""),
    "config-quirk-trailing-dquote-4-get": (quirk(3), (), b""),
    "config-quirk-trailing-dquote-5-set-third": (quirk(3), (), b""),
    "config-quirk-trailing-dquote-6-get": (quirk(3), (), b""),
    "config-set-global": (base, (), b""),
    "config-set-invalid-key-dash": (base, (), b""),
    "config-set-invalid-key-digit": (base, (), b""),
    "config-set-missing-app": (base, (), b""),
    "config-set-no-equals": (base, (), b""),
    "config-set-no-restart-quote-probe": (special, (), b""),
    "config-set-no-restart": (base, (), b""),
    "config-set-noargs": (base, (), b""),
    "config-set-with-restart": (current, DEPLOY, b""),
    "config-show-current": (current, (SHA40,), b""),
    "config-show-empty-app": (base, (), b""),
    "config-show-global-after-set": (global_set, (), b""),
    "config-show-global": (base, (), b""),
    "config-show-missing-app": (base, (), b""),
    "config-show-special": (special, (SHA40,), b""),
    "config-show": (base, (SHA40,), b""),
    "config-unset-corrupted-env": (corrupted, (SHA40,), b""),
    "config-unset-global": (global_set, (), b""),
    "config-unset-missing": (base, (), b""),
    "config-unset-noargs": (base, (), b""),
    "config-unset-other": (with_key("ref-empty", "OTHER=1"), (), b""),
    "config-unset-present": (with_key("ref-web", "SIMPLE=value"), (), b""),
}

TTY_SCENARIOS: dict[str, tuple[Builder, tuple]] = {
    "apps-list-tty": (base_svc, ()),
    "config-show-tty": (current, (SHA40,)),
}

# The capture was taken as root through sudo's pty relay, which printed a literal
# "^@" first (INDEX.md quirk 17); it is not Dokku output and is removed.
SUDO_ARTIFACT = {"apps-list-tty-as-root-sudo-artifact": (base_svc, (sub(rb"^\^@", b""),))}

CLAIMED = sorted([*SCENARIOS, *TTY_SCENARIOS, *SUDO_ARTIFACT])


# shlex cannot read bash's $'...' quoting of the captured command line: the argv
# of this case is spelled out (same values, same order as typed in the capture).
ARGV = {"config-set-no-restart": ["config:set", "--no-restart", "ref-web", *SPECIAL_VALUES]}


@pytest.mark.parametrize("name", sorted(SCENARIOS), ids=sorted(SCENARIOS))
def test_capture(name: str, tmp_path: Path) -> None:
    build, normalisers, stdin = SCENARIOS[name]
    check_capture(name, tmp_path, build, normalisers, argv=ARGV.get(name), stdin=stdin)


TTY_ALL = {**TTY_SCENARIOS, **SUDO_ARTIFACT}


@pytest.mark.parametrize("name", sorted(TTY_ALL), ids=sorted(TTY_ALL))
def test_capture_tty(name: str, tmp_path: Path) -> None:
    """Under a pty stdout and stderr merge and every newline becomes CRLF."""
    check_capture_tty(name, tmp_path, *TTY_ALL[name])
