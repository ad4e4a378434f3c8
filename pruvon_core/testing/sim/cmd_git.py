"""``git:from-image`` (the simulator's way to deploy) and ``git:report`` / ``git:set``.

Output follows ``git-from-image-*``: pull failures and "No changes detected"
go to **stdout** with exit 1; the first deploy sets ``deploy-branch`` to
``master``; later ones print git's fetch line; ``apps:lock`` does not block a
deploy, and the deploy removes the lock (success or failure).  When a deploy
fails after the build, the git source is rolled back, so asking for the same
image again reports "No changes detected" (``git-from-image-no-changes``).
"""

from __future__ import annotations

import os
import secrets
import string
import time

from pruvon_core.testing.sim import containers, deploy, images
from pruvon_core.testing.sim.cmd_apps import lock_path
from pruvon_core.testing.sim.core import Ctx, command
from pruvon_core.testing.sim.reports import run_report, set_property

OFFLINE_PULL_ERROR = (
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup '
    "registry-1.docker.io on 10.255.255.53:53: no such host"
)
GIT_KEYS = ("deploy-branch", "keep-git-dir", "rev-env-var", "archive-max-files", "archive-max-size")
GIT_DEFAULTS = {
    "deploy-branch": "master",
    "keep-git-dir": "false",
    "archive-max-files": "10000",
    "archive-max-size": "1073741824",
}


def _parse_from_image(ctx: Ctx) -> tuple[str, str]:
    positional = []
    args = list(ctx.args)
    while args:
        arg = args.pop(0)
        if arg == "--build-dir":
            if args:
                args.pop(0)
            continue
        if arg.startswith("--build-dir="):
            continue
        positional.append(arg)
    app = ctx.require_app(positional[0] if positional else None)
    if len(positional) < 2 or not positional[1]:
        ctx.fail("Please specify a docker image")
    return app, positional[1]


def _set_git_source(ctx: Ctx, app: str, image: str) -> dict[str, str]:
    """Commit the new build context; returns the previous git properties (for rollback)."""
    state = ctx.state
    previous = {k: state.prop_get("git", app, k) for k in ("source-image", "sha", "last-updated-at")}
    sha = secrets.token_hex(20)
    if not previous["sha"]:
        ctx.verbose("Detected branch, setting deploy-branch to master")
        state.prop_set("git", app, "deploy-branch", "master")
    else:
        suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(6))
        ctx.out(f"From /tmp/dokku-{os.getpid()}-trigger-git-git-from-directory.{suffix}")
        ctx.out(f"   {previous['sha'][:7]}..{sha[:7]}  master     -> master")
    state.prop_set("git", app, "source-image", image)
    state.prop_set("git", app, "sha", sha)
    state.prop_set("git", app, "last-updated-at", str(int(time.time())))
    _set_git_rev(ctx, app, sha)
    return previous


def _set_git_rev(ctx: Ctx, app: str, sha: str) -> None:
    """Dokku exports the deployed commit as ``GIT_REV`` into the app's ENV (silently)."""
    from pruvon_core.testing.sim import envfile

    try:
        values = envfile.read_env(ctx.state, app)
    except ValueError:
        return
    key = ctx.state.prop_get("git", app, "rev-env-var") or "GIT_REV"
    if sha:
        values[key] = sha
    else:
        values.pop(key, None)
    envfile.write_env(ctx.state, app, values)


def _rollback(ctx: Ctx, app: str, previous: dict[str, str]) -> None:
    for key, value in previous.items():
        if value:
            ctx.state.prop_set("git", app, key, value)
        else:
            ctx.state.prop_delete("git", app, key)
    _set_git_rev(ctx, app, previous["sha"])


@command("git:from-image")
def git_from_image(ctx: Ctx) -> int:
    """Deploy a docker image: pull check, git commit, build, release, deploy."""
    app, image_ref = _parse_from_image(ctx)
    try:
        return _from_image(ctx, app, image_ref)
    finally:
        lock_path(ctx, app).unlink(missing_ok=True)


def _from_image(ctx: Ctx, app: str, image_ref: str) -> int:
    state = ctx.state
    ctx.info1("Generating build context")
    base = images.lookup(state, image_ref)
    if base is None:
        ctx.info1("Pulling image")
        ctx.out(OFFLINE_PULL_ERROR)
        ctx.out(f" !     Failed to pull image: {image_ref}")
        return 1
    ctx.info1("Image exists on host, skipping pull")
    ctx.info1("Updating git repository with specified build context")
    if state.prop_get("git", app, "source-image") == image_ref:
        ctx.out(" !     No changes detected, skipping git commit")
        ctx.out(" !     Call 'ps:rebuild' on app to rebuild the app from existing source")
        return 1
    first_deploy = not containers.is_deployed(state, app)
    previous = _set_git_source(ctx, app, image_ref)
    deploy.print_build(ctx, app, base)
    status = deploy.release_and_deploy(ctx, app, heroku_postdeploy=first_deploy)
    if status:
        _rollback(ctx, app, previous)
        return status
    state.prop_set("apps", app, "deploy-source", "docker-image")
    state.prop_set("apps", app, "deploy-source-metadata", image_ref)
    return 0


def _git_values(ctx: Ctx, app: str) -> dict[str, str]:
    state = ctx.state
    values: dict[str, str] = {}
    for key in ("archive-max-files", "archive-max-size", "deploy-branch", "keep-git-dir"):
        app_value = state.prop_get("git", app, key)
        global_value = state.prop_get("git", "--global", key)
        if key in ("deploy-branch", "keep-git-dir"):  # archive limits are global-only
            values[f"--git-{key}"] = app_value
        values[f"--git-global-{key}"] = global_value
        values[f"--git-computed-{key}"] = app_value or global_value or GIT_DEFAULTS[key]
    values["--git-rev-env-var"] = state.prop_get("git", app, "rev-env-var") or "GIT_REV"
    values["--git-last-updated-at"] = state.prop_get("git", app, "last-updated-at")
    values["--git-sha"] = state.prop_get("git", app, "sha")
    values["--git-source-image"] = state.prop_get("git", app, "source-image")
    return values


@command("git:report")
def git_report(ctx: Ctx) -> int:
    """``git:report [<app>] [--format json] [<flag>]`` - JSON keys without the ``git-`` prefix."""
    return run_report(ctx, "git", _git_values, legacy_prefix=False)


@command("git:set")
def git_set(ctx: Ctx) -> int:
    """``git:set [--global|<app>] <key> [<value>]`` for the report's properties."""
    return set_property(ctx, "git", GIT_KEYS)
