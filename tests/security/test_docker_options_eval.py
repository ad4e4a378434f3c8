"""Issue 14: stored docker options replayed through the ``eval`` Dokku runs at deploy.

Dokku's scheduler builds ``docker run`` arguments with
``eval "ARG_ARRAY=($DOCKER_ARGS)"``, ``DOCKER_ARGS`` being every stored option
joined with spaces (plus ``-v HOST:CONTAINER`` for each storage mount).  These
tests run exactly that in a real bash, with ``DOCKER_ARGS`` passed through the
environment, and read the resulting argv with a Docker-grammar parser written
here independently of ``pruvon_core.dokku.docker_policy``: nothing a scoped
user can store may name a host path outside the app's storage directory, and
nothing anyone can store may run a command.
"""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pruvon_core.dokku import docker_policy
from pruvon_core.dokku.errors import InvalidValue
from tests.apps.conftest import http, login_as, sim_root, web_app
from tests.security.test_host_reach import (
    HOST_REACHING,
    OPERATOR_OPTIONS,
    SHELL_CODE,
    STORAGE,
    add_option,
    alice,
    dokku_json,
    host,
    mount,
    signed_in,
)

__all__ = ["alice", "host", "http", "login_as", "sim_root", "web_app"]  # fixtures by name

EVAL = ('eval "ARG_ARRAY=($DOCKER_ARGS)"; '
        '[[ ${#ARG_ARRAY[@]} -eq 0 ]] || printf "%s\\0" "${ARG_ARRAY[@]}"')
OWN = f"{STORAGE}/blog"


def bash_eval(docker_args: str, cwd: Path) -> list[str]:
    """The argv Dokku's scheduler would hand to ``docker run``."""
    done = subprocess.run(["bash", "-c", EVAL], env={"DOCKER_ARGS": docker_args, "PATH":
                                                     os.environ["PATH"]},
                          capture_output=True, cwd=cwd, timeout=30, check=False)
    assert done.returncode == 0, (docker_args, done.stderr)
    text = done.stdout.decode()
    return text.split("\0")[:-1] if text else []


# --------------------------------------------------------------------------- independent parser
# docker run's boolean flags (no value); every other flag takes one
BOOLEAN = {"--privileged", "--init", "--read-only", "--rm", "--detach", "--interactive",
           "--tty", "--publish-all", "--no-healthcheck", "--oom-kill-disable", "--sig-proxy",
           "--quiet", "--help", "--disable-content-trust", "--use-api-socket"}
SHORT_BOOLEAN = set("ditPq")
SHORT_NAMES = {"v": "--volume", "e": "--env", "m": "--memory", "c": "--cpu-shares",
               "l": "--label", "p": "--publish", "h": "--hostname", "u": "--user",
               "w": "--workdir", "a": "--attach", "d": "--detach", "i": "--interactive",
               "t": "--tty", "P": "--publish-all", "q": "--quiet"}
HOST_FLAGS = {"--privileged", "--cap-add", "--device", "--device-cgroup-rule", "--pid",
              "--network", "--net", "--ipc", "--uts", "--userns", "--volumes-from",
              "--env-file", "--publish", "--publish-all", "--cgroup-parent", "--cgroupns",
              "--runtime", "--sysctl", "--gpus", "--link", "--volume-driver", "--label-file"}


def docker_flags(argv: list[str]) -> list[tuple[str, str | None]]:
    """(flag, value) pairs as pflag reads ``docker run`` arguments; positionals as ``""``."""
    pairs: list[tuple[str, str | None]] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        nxt = argv[index + 1] if index + 1 < len(argv) else None
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if eq or name in BOOLEAN:
                pairs.append((name, value if eq else None))
                index += 1
            else:
                pairs.append((name, nxt))
                index += 2
        elif word.startswith("-") and len(word) > 1:
            index += _short(word, nxt, pairs)
        else:
            pairs.append(("", word))
            index += 1
    return pairs


def _short(word: str, nxt: str | None, pairs: list[tuple[str, str | None]]) -> int:
    for position, letter in enumerate(word[1:], start=1):
        name = SHORT_NAMES.get(letter, f"-{letter}")
        if letter in SHORT_BOOLEAN:
            pairs.append((name, None))
            continue
        rest = word[position + 1:]
        if rest:
            pairs.append((name, rest[1:] if rest.startswith("=") else rest))
            return 1
        pairs.append((name, nxt))
        return 2
    return 1


def violations(argv: list[str], app: str = "blog") -> list[str]:
    """Everything in a ``docker run`` argv that reaches past ``app``'s own storage dir."""
    own = f"{STORAGE}/{app}"
    found: list[str] = []
    for flag, value in docker_flags(argv):
        if flag in HOST_FLAGS or flag == "":
            found.append(f"{flag or 'positional'} {value}")
        elif flag == "--security-opt" and not (value or "").startswith("no-new-privileges"):
            found.append(f"--security-opt {value}")
        elif flag == "--volume":
            found += _volume_problems(value or "", own, app)
        elif flag == "--mount":
            found += _mount_problems(value or "", own, app)
    return found


def _named(name: str, app: str) -> bool:
    return name == app or name.startswith(f"{app}_")


def _volume_problems(value: str, own: str, app: str) -> list[str]:
    parts = value.split(":")
    if len(parts) == 1:
        return [] if value.startswith("/") else [f"-v {value}"]
    source = parts[0]
    if source.startswith("/"):
        return [] if os.path.normpath(source) == own and source == own else [f"-v {value}"]
    return [] if _named(source, app) else [f"-v {value}"]


def _mount_problems(value: str, own: str, app: str) -> list[str]:
    try:
        fields = next(csv.reader([value], strict=True))
    except (csv.Error, StopIteration):
        return []  # Docker refuses it: nothing is mounted
    settings_: dict[str, str] = {}
    for field in fields:
        key, _, setting = field.partition("=")
        key = key.lower()  # older docker CLIs lower-case the keys
        if key.startswith(("volume-opt", "volume-driver", "bind-propagation", "volume-subpath")):
            return [f"--mount {value}"]
        settings_[{"src": "source", "dst": "target", "destination": "target"}.get(key, key)] = (
            setting)
    kind = settings_.get("type", "volume").lower()
    source = settings_.get("source", "")
    if kind not in ("bind", "volume", "tmpfs"):
        return [f"--mount {value}"]
    if kind == "bind" and source != own:
        return [f"--mount {value}"]
    if kind == "volume" and source and not _named(source, app):
        return [f"--mount {value}"]
    return []


def test_the_independent_parser_sees_the_issues_payloads(tmp_path: Path) -> None:
    """The checker itself must catch the attacks, or the replay tests prove nothing."""
    not_host_paths = ("--label", "--log-driver", "--ulimit", "-e ")  # refused for other reasons
    for option, _ in HOST_REACHING:
        if option.startswith(not_host_paths):
            continue
        try:
            stored = docker_policy.docker_option(option)  # what an admin may store
        except InvalidValue:
            continue
        argv = bash_eval(stored, tmp_path)
        assert violations(argv), (option, argv)
    assert violations(bash_eval(f"-v {OWN}:/a --mount 'type=bind,\"source=/\",target=/h'",
                                tmp_path))
    assert not violations(bash_eval(f"-v {OWN}:/a --restart=always", tmp_path))


# --------------------------------------------------------------------------- replays
def stored_docker_args(root: Path, app: str, phase: str = "deploy") -> str:
    """``DOCKER_ARGS`` as Dokku assembles it: the phase's options, then the mounts."""
    options = dokku_json(root, "docker-options:report", app, "--format", "json")[f"{phase}-list"]
    mounts = dokku_json(root, "storage:list", app, "--format", "json")
    return " ".join([*options, *(f"-v {m['host_path']}:{m['container_path']}" for m in mounts)])


def test_everything_a_scoped_user_can_store_stays_in_the_apps_storage_dir(
    http: Any, alice: dict[str, str], host: Path, tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    tried = [o for o, _ in HOST_REACHING] + OPERATOR_OPTIONS
    tried += [t.format(marker=marker) for t in SHELL_CODE]
    for option in tried:
        add_option(http, alice, option)
    for host_path in ("blog", "shop-web", f"{STORAGE}/blog/x", "blog/../shop-web"):
        mount(http, alice, host_path, "/data")
    argv = bash_eval(stored_docker_args(host, "blog"), tmp_path)
    assert not marker.exists()
    assert f"{OWN}:/app/storage" in argv and f"{OWN}:/data" in argv  # what alice may do
    assert violations(argv) == [], argv
    assert bash_eval(stored_docker_args(host, "shop-web"), tmp_path) == []  # not hers


def test_what_an_admin_stores_is_evaluated_as_the_words_they_gave(
    host: Path, tmp_path: Path, web_app: Any, pruvon_config: Any,
) -> None:
    marker = tmp_path / "pwned"
    admin_http, admin = signed_in(web_app, pruvon_config, "admin")
    given_options = ["--privileged", f"-v {STORAGE}/shop-web/x:/x", "--label 'a b'",
                     "--label \"it's\"", "--mount 'type=bind,\"source=/srv\",target=/srv'",
                     "--health-cmd 'curl -f http://localhost/ && true'"]
    expected: list[str] = []
    for option in given_options:
        answer = add_option(admin_http, admin, option)
        if answer.status_code == 200:
            expected += docker_policy.option_words(option)
    for template in SHELL_CODE:
        assert add_option(admin_http, admin, template.format(marker=marker)).status_code == 400
    argv = bash_eval(stored_docker_args(host, "blog"), tmp_path)
    assert sorted(argv) == sorted(expected) and not marker.exists()
    assert f"{STORAGE}/shop-web/x:/x" in argv and "a b" in argv and 'it\'s' in argv


ALPHABET = ["/", "/host", STORAGE, OWN, f"{STORAGE}/shop-web", "..", "/..", ":", ",", "=",
            "type=bind", "type=volume", "type=image", "src=", "source=", "SOURCE=", '"', "'",
            "\\", "volume-opt=device=/", "volume-opt=o=bind", "dst=/h", "target=/x", "blog",
            "blog_x", "shop", " ", "ro", "bind-propagation=rshared", "x", "\\ ", "/data", "-",
            "--privileged", "-v", "t", "readonly", "volume-driver=local", "\\\""]
FLAGS = ["-v", "--volume", "--mount", "-tv", "-vt", "--tmpfs", "--label", "-e", "-l",
         "--restart", "--init", "--read-only", "--shm-size", "-m", "--privileged", "--m",
         "--log-opt", "--add-host", "--security-opt", "--health-cmd"]


@st.composite
def options(draw: Any) -> str:
    flag = draw(st.sampled_from(FLAGS))
    joiner = draw(st.sampled_from(["", " ", "="]))
    value = "".join(draw(st.lists(st.sampled_from(ALPHABET), max_size=8)))
    quoting = draw(st.sampled_from(["", "'", '"']))
    return f"{flag}{joiner}{quoting}{value}{quoting}"


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=options())
def test_generated_options_the_allowlist_accepts_never_leave_the_storage_dir(
    option: str, tmp_path: Path,
) -> None:
    """Any option the scoped policy accepts, replayed through bash, stays inside the app."""
    scope = docker_policy.Scope("blog")
    try:
        stored = docker_policy.docker_option(option)
        refusal = docker_policy.scoped_refusal(option, scope)
    except InvalidValue:
        return
    expected = docker_policy.option_words(option)
    assert bash_eval(stored, tmp_path) == expected, (option, stored)
    assert bash_eval(option.strip(), tmp_path) == expected, option  # raw, as older Dokku stores
    if refusal is None:
        argv = bash_eval(f"{stored} --restart=no", tmp_path)
        assert violations(argv) == [], (option, argv)


@pytest.mark.parametrize("option", [o for o, _ in HOST_REACHING] + OPERATOR_OPTIONS)
def test_stored_form_reads_back_through_bash_as_the_policy_read_it(
    option: str, tmp_path: Path,
) -> None:
    stored = docker_policy.docker_option(option)
    assert bash_eval(stored, tmp_path) == docker_policy.option_words(option)
