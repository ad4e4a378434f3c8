"""In-memory stand-ins for a transport and docker, answering with real Dokku captures.

They let the client's logic (argv building, caching, call counting, version
fallbacks, error mapping) be tested without processes; the transports
themselves are tested with real processes in ``test_transports.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from pruvon_core.dokku.models import Result
from pruvon_core.dokku.transports import DockerCli, Transport
from pruvon_testing.reference import load_cases

CASES = {case.name: case for case in load_cases()}
Answer = tuple[int, str, str]


def case(name: str) -> Answer:
    ref = CASES[name]
    return ref.exit_code, ref.stdout.decode(), ref.stderr.decode()


class FakeTransport(Transport):
    """Answers Dokku argv from a table (exact argv first, then by command name)."""

    name = "fake"

    def __init__(self, version: str = "0.38.27", docker: bool = True) -> None:
        super().__init__(["dokku"])
        self.can_run_docker = docker
        self.answers: dict[tuple[str, ...] | str, Answer | Callable[[list[str]], Answer]] = {
            "version": (0, f"dokku version {version}\n", ""),
        }
        self.seen: list[list[str]] = []
        self.stdin_seen: list[bytes] = []

    def answer(
        self, key: Sequence[str] | str, value: Answer | Callable[[list[str]], Answer]
    ) -> None:
        self.answers[key if isinstance(key, str) else tuple(key)] = value

    def run(self, args, stdin=None, timeout=60, *, read=False):
        args = list(args)
        self.seen.append(args)
        if stdin is not None:
            self.stdin_seen.append(stdin if isinstance(stdin, bytes) else stdin.read())
        value = self.answers.get(tuple(args), self.answers.get(args[0], (0, "", "")))
        code, out, err = value(args) if callable(value) else value
        return Result(tuple(self.command(args)), code, out, err, 0.001)


class FakeDocker(DockerCli):
    """``docker ps`` over a list of ``(app, dyno, state)`` containers."""

    def __init__(self, containers: list[tuple[str, str, str]] | None = None) -> None:
        super().__init__(["docker"])
        self.containers = containers or []
        self.seen: list[list[str]] = []

    def run(self, args, timeout=30):
        self.seen.append(list(args))
        lines = []
        for index, (app, dyno, state) in enumerate(self.containers):
            kind = dyno.split(".")[0]
            labels = (
                f"com.dokku.app-name={app},com.dokku.process-type={kind},"
                f"com.dokku.dyno={dyno},com.dokku.container-type="
                + ("run" if kind == "run" else "deploy")
            )
            lines.append(
                json.dumps(
                    {
                        "ID": f"{index:012x}",
                        "Names": f"{app}.{dyno}",
                        "Image": f"dokku/{app}:latest",
                        "Labels": labels,
                        "State": state,
                        "Status": "Up 1 second",
                    }
                )
            )
        return Result(("docker", *args), 0, "\n".join(lines) + "\n", "", 0.001)
