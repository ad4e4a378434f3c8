"""``git:from-image``, ``git:sync`` (deploys) and ``git:report`` / ``git:set``.

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
import shutil
import string
import subprocess
import time

from pruvon_testing.sim import containers, deploy, extracted, images
from pruvon_testing.sim.cmd_apps import lock_path
from pruvon_testing.sim.core import Ctx, SimExit, command
from pruvon_testing.sim.reports import run_report, set_property

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
    from pruvon_testing.sim import envfile

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
    extracted.install(state, app, base.files, 0o600)  # copied out of the image: 0600
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


# -- git:sync ----------------------------------------------------------------------------
# Dokku 0.38's cmd-git-sync: the first sync clones (fn-git-clone), later ones fetch
# (fn-git-fetch); ``--build`` then runs the receive-app trigger.  git's own output is
# sent to /dev/null by Dokku, so a failed clone exits with git's code (128) after the
# "Cloning" line and nothing else.  The simulator clones real repositories with the
# real git (tests use local paths / file:// URLs) and builds Dockerfile apps only.

SYNC_FLAGS = ("--build", "--build-if-changes", "--skip-deploy-branch")


def _sync_dir(ctx: Ctx, app: str):
    return ctx.state.app_dir(app) / ".sim-git-sync"


def _git(args: list[str], cwd=None) -> subprocess.CompletedProcess:
    """Run the real git (argv list, no prompts, no user config)."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def _parse_sync(ctx: Ctx) -> tuple[dict[str, bool], str, str, str]:
    flags = {flag: False for flag in SYNC_FLAGS}
    positional = []
    for arg in ctx.args:
        if arg in flags:
            flags[arg] = True
        else:
            positional.append(arg)
    app, remote, ref = ([*positional, "", "", ""])[:3]
    app = ctx.verify_app(app)
    if not remote:
        ctx.fail("Missing GIT_REMOTE parameter")
    return flags, app, remote, ref


def _deploy_branch(ctx: Ctx, app: str) -> str:
    state = ctx.state
    return (state.prop_get("git", app, "deploy-branch")
            or state.prop_get("git", "--global", "deploy-branch") or "master")


def _clone(ctx: Ctx, app: str, remote: str, ref: str, skip_branch: bool) -> str:
    """fn-git-clone: returns the commit; a failed clone or checkout exits like git did."""
    ref = ref or _deploy_branch(ctx, app)
    ctx.info1_quiet(f"Cloning {app} from {remote}#{ref}")
    target = _sync_dir(ctx, app)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    done = _git(["clone", "-n", "-q", "--", remote, str(target)])
    if done.returncode:
        shutil.rmtree(target, ignore_errors=True)
        raise SimExit(done.returncode)
    branch = _git(["-C", str(target), "show-ref", "--verify", "-q", f"refs/remotes/origin/{ref}"])
    if branch.returncode == 0 and not skip_branch:
        ctx.verbose(f"Detected branch, setting deploy-branch to {ref}")
        ctx.state.prop_set("git", app, "deploy-branch", ref)
    return _resolve(ctx, app, ref, is_branch=branch.returncode == 0)


def _fetch(ctx: Ctx, app: str, remote: str, ref: str) -> str:
    """fn-git-fetch: fetch the deploy branch (or everything, then point it at ``ref``)."""
    target = _sync_dir(ctx, app)
    done = _git(["-C", str(target), "fetch", "-q", "--", remote,
                 "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"])
    if done.returncode:
        ctx.err(done.stderr.rstrip("\n"))
        raise SimExit(done.returncode)
    wanted = ref or _deploy_branch(ctx, app)
    is_branch = _git(["-C", str(target), "show-ref", "--verify", "-q",
                      f"refs/remotes/origin/{wanted}"]).returncode == 0
    return _resolve(ctx, app, wanted, is_branch=is_branch)


def _resolve(ctx: Ctx, app: str, ref: str, *, is_branch: bool) -> str:
    name = f"refs/remotes/origin/{ref}" if is_branch else ref
    done = _git(["-C", str(_sync_dir(ctx, app)), "rev-parse", "--verify", "-q",
                 f"{name}^{{commit}}"])
    if done.returncode:
        ctx.err(f"error: pathspec '{ref}' did not match any file(s) known to git")
        raise SimExit(1)
    return done.stdout.strip()


def _dockerfile_base(ctx: Ctx, app: str, sha: str) -> images.Image:
    """The image named by the Dockerfile's first FROM at ``sha`` (only builder simulated)."""
    shown = _git(["-C", str(_sync_dir(ctx, app)), "show", f"{sha}:Dockerfile"])
    if shown.returncode:
        ctx.fail("Simulator: only Dockerfile builds are simulated (no Dockerfile at "
                 f"{sha[:7]})")
    words = next((line.split() for line in shown.stdout.splitlines()
                  if line.strip().upper().startswith("FROM ")), [])
    ref = words[1] if len(words) > 1 else ""
    base = images.lookup(ctx.state, ref)
    if base is None:
        ctx.info1(f"Building {app} from Dockerfile")
        ctx.out(OFFLINE_PULL_ERROR)
        ctx.fail(f"Failed to pull image: {ref or '(no FROM line)'}")
    return base


def _source_files(ctx: Ctx, app: str, sha: str) -> dict[str, str]:
    """The ``Procfile`` / ``app.json`` of the synced commit (absent ones left out)."""
    found = {}
    for name in extracted.FILES:
        shown = _git(["-C", str(_sync_dir(ctx, app)), "show", f"{sha}:{name}"])
        if shown.returncode == 0:
            found[name] = shown.stdout
    return found


@command("git:sync")
def git_sync(ctx: Ctx) -> int:
    """``git:sync [--build|--build-if-changes] [--skip-deploy-branch] APP REPO [REF]``."""
    flags, app, remote, ref = _parse_sync(ctx)
    previous_sha = ctx.state.prop_get("git", app, "sha")
    if _sync_dir(ctx, app).is_dir() and previous_sha:
        sha = _fetch(ctx, app, remote, ref)
    else:
        sha = _clone(ctx, app, remote, ref, flags["--skip-deploy-branch"])
    ctx.state.prop_set("git", app, "sha", sha)
    ctx.state.prop_set("git", app, "last-updated-at", str(int(time.time())))
    build = flags["--build"] or (flags["--build-if-changes"] and sha != previous_sha)
    if not build:
        return 0
    try:
        return _build_synced(ctx, app, remote, ref, sha)
    finally:
        lock_path(ctx, app).unlink(missing_ok=True)


def _build_synced(ctx: Ctx, app: str, remote: str, ref: str, sha: str) -> int:
    base = _dockerfile_base(ctx, app, sha)
    first_deploy = not containers.is_deployed(ctx.state, app)
    ctx.state.prop_set("git", app, "source-image", base.ref)
    _set_git_rev(ctx, app, sha)
    deploy.print_build(ctx, app, base)
    status = deploy.release_and_deploy(ctx, app, heroku_postdeploy=first_deploy)
    if status:
        return status
    extracted.install(ctx.state, app, _source_files(ctx, app, sha), 0o644)
    ctx.state.prop_set("apps", app, "deploy-source", "git-sync")
    ctx.state.prop_set("apps", app, "deploy-source-metadata",
                       f"{remote}#{ref or _deploy_branch(ctx, app)}")
    return 0
