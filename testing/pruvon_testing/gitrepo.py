"""Make small local git repositories for tests of ``git:sync`` (no network).

The simulator builds Dockerfile apps only, from an image it knows
(``example/web:1`` by default), so the repository holds a Dockerfile.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Pruvon Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Pruvon Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity and no user config; returns stdout."""
    done = subprocess.run(["git", "-C", str(repo), *args], env={**os.environ, **GIT_ENV},
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(path: Path, base: str = "example/web:1", branch: str = "main") -> Path:
    """A repository with one commit on ``branch`` whose Dockerfile is ``FROM base``."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    commit(path, {"Dockerfile": f"FROM {base}\n"}, "first")
    return path


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    """Write ``files``, commit them, return the new commit's sha."""
    for name, text in files.items():
        (repo / name).write_text(text)
    git(repo, "add", "--", *files)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")
