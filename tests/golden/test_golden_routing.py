"""Golden tests: domains, ports, urls, proxy, nginx, certs, docker-options, storage, ssh-keys.

The captures of these families were taken in one chronological session on the same apps
(INDEX.md "Capture order"): later cases depend on what earlier ones changed.  So the module
replays that session once on a fresh simulator - the setup commands (apps:create,
git:from-image, ps:scale, apps:clone) interleaved with the captured commands in capture
order - records every captured command's result, and each test compares one of them.

Normalisations (narrow, applied to both sides):
* the random proxy port ``apps:create ref-empty`` picked (real: 45643) is mapped to the
  capture's value in ``ports-report-never-deployed`` and ``urls-never-deployed``;
* nginx's ``YYYY/MM/DD HH:MM:SS [level] PID#TID:`` prefix in ``domains-add-invalid-double-dot``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pruvon_testing.sim.core import SimState
from tests.golden.harness import CASES, Replay, assert_matches, sub

KEY1 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA8Qau9fwN1X9zbFfP9yze72PC9hV4Wc0cTZ0EgztLLy ref@example"
)
KEY2 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsmp+D/6BsXqiW260nqz2lmNbnI41N/ULYwCM8MpkN9 ref2@example"
)

# ("setup", argv) steps build state; plain names run that capture's own argv.
SESSION: list[str | tuple[str, list[str]]] = [
    ("setup", ["apps:create", "svc-app"]),
    ("setup", ["git:from-image", "svc-app", "example/web:1"]),
    ("setup", ["apps:create", "ref-empty"]),
    ("setup", ["apps:create", "ref-web"]),
    ("setup", ["git:from-image", "ref-web", "example/web:1"]),
    ("setup", ["apps:create", "ref-multi"]),
    ("setup", ["git:from-image", "ref-multi", "example/web:1"]),
    ("setup", ["ps:scale", "ref-multi", "web=2"]),
    "domains-report",
    "domains-report-json",
    "domains-report-all",
    "domains-report-all-json",
    "domains-report-global",
    "domains-report-global-json",
    "domains-add",
    "domains-add-again",
    "domains-report-after-add",
    "domains-report-after-add-json",
    "domains-set",
    "domains-report-after-set",
    "domains-remove",
    "domains-remove-missing",
    "domains-clear",
    "domains-report-after-clear",
    "domains-add-invalid-space",
    "domains-add-invalid-leading-dash",
    "domains-add-invalid-upper",
    "domains-add-invalid-double-dot",
    "domains-report-after-invalid",
    "domains-remove-invalid-double-dot",
    "domains-set-invalid",
    "domains-clear-2",
    "domains-set-global",
    "domains-report-global-after-set",
    "domains-clear-global",
    "domains-report-global-after-clear",
    "domains-set-global-invalid",
    "ports-report",
    "ports-report-json",
    "ports-list",
    "ports-list-never-deployed",
    "ports-report-never-deployed",
    "urls",
    "url",
    "urls-multi",
    "urls-never-deployed",
    "ports-report-multi",
    "proxy-report",
    "proxy-report-json",
    "ports-add",
    "ports-list-after-add",
    "ports-report-after-add-json",
    "ports-add-second",
    "ports-list-after-add-second",
    "ports-list-json",
    "ports-remove",
    "ports-remove-by-host-port",
    "ports-list-after-remove",
    "ports-set",
    "ports-list-after-set",
    "ports-add-invalid-format",
    "ports-add-invalid-scheme",
    "ports-add-invalid-parts",
    "ports-add-invalid-toomany",
    "ports-add-noargs",
    "ports-remove-missing",
    "ports-list-after-invalid",
    "ports-report-after-invalid-json",
    "ports-clear",
    "ports-list-after-clear",
    "ports-report-after-clear",
    "ports-set-single",
    "urls-after-port-set",
    "url-after-port-set",
    "storage-list-empty",
    "storage-list-empty-json",
    "storage-ensure-directory",
    "storage-mount",
    "storage-mount-again",
    "storage-list",
    "storage-list-json",
    "storage-report",
    "storage-report-json",
    "storage-unmount",
    "storage-unmount-missing",
    "storage-list-after-unmount",
    "storage-mount-invalid",
    "storage-mount-noarg",
    "storage-list-missing-app",
    "storage-help",
    "storage-list-entries",
    "storage-list-entries-json",
    "nginx-report",
    "nginx-report-json",
    "certs-report",
    "certs-report-json",
    "docker-options-report",
    "docker-options-report-json",
    "ssh-keys-list-empty",
    "ssh-keys-list-empty-json",
    "ssh-keys-add",
    "ssh-keys-add-duplicate-name",
    "ssh-keys-list",
    "ssh-keys-list-json",
    "ssh-keys-list-name",
    "ssh-keys-add-second",
    "ssh-keys-list-two",
    "ssh-keys-list-two-json",
    "ssh-keys-add-same-key-new-name",
    "ssh-keys-add-invalid-file",
    "ssh-keys-remove",
    "ssh-keys-remove-missing",
    ("setup", ["apps:clone", "ref-web", "ref-clone"]),
    "urls-clone",
    "domains-report-missing-app",
    "ports-report-missing-app",
    "nginx-report-missing-app",
    "proxy-report-missing-app",
    "certs-report-missing-app",
    "docker-options-report-missing-app",
    "storage-report-missing-app",
    "urls-missing-app",
    "url-missing-app",
    "ports-list-missing-app",
    "domains-add-missing-app",
    "domains-report-flag",
    "storage-destroy-entry",
    "ssh-keys-remove-last",
    "ssh-keys-list-after-cleanup",
    "storage-destroy-entry-no-force",
    "storage-destroy-entry-force",
]

CLAIMED = [step for step in SESSION if isinstance(step, str)]

RANDOM_PORT_CASES = {"ports-report-never-deployed", "urls-never-deployed"}
CAPTURED_RANDOM_PORT = b"45643"
NGINX_LOG_PREFIX = sub(
    rb"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: ", rb"<time> [\1] <pid>#<tid>: "
)


def _argv(name: str, keys: Path) -> list[str]:
    """The capture's argv, with the host's key-file paths mapped to this test's files."""
    return [
        str(keys / Path(arg).name) if arg.startswith("/root/keys/") else arg
        for arg in CASES[name].argv
    ]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    """Replay the capture session once on a fresh simulator."""
    replay = Replay(tmp_path_factory.mktemp("routing-sim"))
    keys = tmp_path_factory.mktemp("keys")
    (keys / "k1.pub").write_text(KEY1 + "\n")
    (keys / "k2.pub").write_text(KEY2 + "\n")
    for step in SESSION:
        if isinstance(step, tuple):
            replay.setup(step[1])
        else:
            replay.replay(step, _argv(step, keys))
    return replay


def _normalisers(name: str, session: Replay) -> list:
    if name in RANDOM_PORT_CASES:
        state = SimState(session.root)
        port = state.prop_get("proxy", "ref-empty", "proxy-port").strip().encode()
        return [sub(rb"\b" + re.escape(port) + rb"\b", CAPTURED_RANDOM_PORT)]
    if name == "domains-add-invalid-double-dot":
        return [NGINX_LOG_PREFIX]
    return []


@pytest.mark.parametrize("name", CLAIMED, ids=CLAIMED)
def test_golden_routing(name: str, session: Replay) -> None:
    assert_matches(CASES[name], session.result(name), _normalisers(name, session))
