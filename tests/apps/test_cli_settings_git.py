"""``pruvon apps deploy --git`` and ``pruvon apps settings`` as real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pruvon_core import audit
from pruvon_testing.gitrepo import make_repo
from pruvon_testing.sim.main import run
from tests.apps.test_cli import pruvon  # noqa: F401  (the fixture)


def report(root: Path, plugin: str, app: str) -> dict:
    code, out, err = run([f"{plugin}:report", app, "--format", "json"], root=root)
    assert code == 0, err
    return json.loads(out)


def test_deploy_from_git(pruvon: Any, sim_root: Path, tmp_path: Path) -> None:  # noqa: F811
    repo = make_repo(tmp_path / "src")
    done = pruvon("apps", "deploy", "empty", "--git", f"file://{repo}", "--ref", "main")
    assert done.returncode == 0, done.stderr
    assert "Application deployed" in done.stdout
    assert report(sim_root, "apps", "empty")["deploy-source"] == "git-sync"
    both = pruvon("apps", "deploy", "empty", "example/web:1", "--git", f"file://{repo}")
    assert both.returncode == 2 and "either IMAGE or --git" in both.stderr
    bad = pruvon("apps", "deploy", "empty", "--git", "ext::sh -c id")
    assert bad.returncode == 2 and "git repository" in bad.stderr
    missing = pruvon("apps", "deploy", "empty", "--git", f"file://{tmp_path}/absent")
    assert missing.returncode == 1 and "could not clone or fetch" in missing.stderr


def test_settings_show_and_change(pruvon: Any, pruvon_config: Any,  # noqa: F811
                                  sim_root: Path) -> None:
    assert pruvon("apps", "settings", "blog", "nginx", "hsts", "false").returncode == 0
    assert report(sim_root, "nginx", "blog")["hsts"] == "false"
    limited = pruvon("apps", "settings", "blog", "resource", "limit", "memory=256m",
                     "--process-type", "web")
    assert limited.returncode == 0, limited.stderr
    assert report(sim_root, "resource", "blog")["web.limit.memory"] == "256m"
    added = pruvon("apps", "settings", "blog", "docker-options", "add", "deploy,run",
                   "--restart=always")
    assert added.returncode == 0, added.stderr
    assert report(sim_root, "docker-options", "blog")["run-list"] == ["--restart=always"]
    refused = pruvon("apps", "settings", "blog", "docker-options", "add", "deploy",
                     "--label=$(id)")  # shell code: refused for every actor, root's CLI too
    assert refused.returncode == 2 and "must not contain '$'" in refused.stderr
    absent = pruvon("apps", "settings", "blog", "letsencrypt", "enable")
    assert absent.returncode == 2 and "dokku-letsencrypt.git" in absent.stderr
    shown = json.loads(pruvon("apps", "settings", "blog", "--format", "json").stdout)
    assert shown["nginx"]["hsts"] == "false" and shown["plugins"]["letsencrypt"] is False
    text = pruvon("apps", "settings", "blog").stdout
    assert "docker-options run: --restart=always" in text and "cron tasks: 0" in text
    results = [e.result for e in audit.read(state_dir=pruvon_config.state_dir)
               if e.action == "apps.settings.write"]
    assert results == ["ok", "ok", "ok", "failed"]
