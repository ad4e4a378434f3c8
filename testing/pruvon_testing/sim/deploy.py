"""Dokku's build → release → deploy pipeline for the simulator.

Used by ``git:from-image``, ``ps:start/restart/rebuild/scale`` and, through
:func:`rebuild_app`, by ``apps:clone`` / ``apps:rename`` (SIM-A).  The printed
lines reproduce the captures (``git-from-image-deploy``, ``ps-scale-set-web2``,
``ps-start-after-scale-mixup`` ...), including the order quirks:

* the early nginx rebuild only when the ``web`` type is (re)deployed;
* "Scheduling old container shutdown" for a replaced *current* container
  (running or stopped), "Scheduling orphaned container shutdown" for a
  scale-down, and no line at all for a container that was already retired;
* "Found previous container(s)" whenever some container still holds the name.

Real Dokku runs two healthchecks concurrently, so the order of the two
"Running healthcheck" lines varies between captures; the simulator always
prints ``default`` first (the golden tests normalise that pair).
"""

from __future__ import annotations

import secrets
import time
from contextlib import suppress
from dataclasses import dataclass, field

from pruvon_testing.sim import containers, images, routing
from pruvon_testing.sim.containers import Container
from pruvon_testing.sim.core import Ctx, SimState, fire_trigger
from pruvon_testing.sim.routing import locked

SCHEDULER_BIN = "/var/lib/dokku/plugins/available/scheduler-docker-local/bin"
ESC = "\x1b"
DEFAULT_RESTART_POLICY = "on-failure:10"


# -- formation (ps:scale) ---------------------------------------------------------------


def read_formation(state: SimState, app: str) -> dict[str, int]:
    """Process counts; Dokku's default formation for an image without Procfile is ``web=1``."""
    raw = state.prop_get("ps", app, "formation")
    formation: dict[str, int] = {}
    for line in raw.splitlines():
        name, _, count = line.partition("=")
        with suppress(ValueError):
            formation[name] = int(count)
    return formation or {"web": 1}


def write_formation(state: SimState, app: str, formation: dict[str, int]) -> None:
    lines = "".join(f"{name}={count}\n" for name, count in sorted(formation.items()))
    state.prop_set("ps", app, "formation", lines)


def type_order(names: list[str]) -> list[str]:
    """Dokku deploys ``web`` first, then the other types alphabetically."""
    return sorted(names, key=lambda name: (name != "web", name))


# -- git source (git:from-image) ---------------------------------------------------------


def restart_policy(state: SimState, app: str) -> str:
    return (
        state.prop_get("ps", app, "restart-policy")
        or state.prop_get("ps", routing.GLOBAL, "restart-policy")
        or DEFAULT_RESTART_POLICY
    )


# -- output pieces -----------------------------------------------------------------------


def short_hex() -> str:
    return secrets.token_hex(6)


def print_build(ctx: Ctx, app: str, base: images.Image) -> images.Image:
    """``docker build`` of Dokku's Dockerfile (legacy builder), with docker's layer cache."""
    state = ctx.state
    ctx.info1("Cleaning up...")
    ctx.info1(f"Building {app} from Dockerfile")
    ctx.out("DEPRECATED: The legacy builder is deprecated and will be removed in a future release.")
    ctx.out("            Install the buildx component to build images with BuildKit:")
    ctx.out("            https://docs.docker.com/go/buildx/")
    ctx.out("")
    ctx.out("Sending build context to Docker daemon  2.048kB\r\r")
    steps = [
        f"FROM {base.ref}",
        f'LABEL com.dokku.docker-image-labeler/alternate-tags=[\\"{base.ref}\\"]',
        f"LABEL com.dokku.app-name={app}",
        "LABEL com.dokku.builder-type=dockerfile",
        "LABEL com.dokku.image-stage=build",
        "LABEL dokku=",
        "LABEL org.label-schema.schema-version=1.0",
        "LABEL org.label-schema.vendor=dokku",
    ]
    ctx.out(f"Step 1/{len(steps)} : {steps[0]}")
    ctx.out(f" ---> {base.short_id}")
    parent = base.short_id
    with locked(state):
        for number, step in enumerate(steps[1:], start=2):
            key = f"{parent}|{step}"
            ctx.out(f"Step {number}/{len(steps)} : {step}")
            layer = images.cached_layer(state, key)
            if layer:
                ctx.out(" ---> Using cache")
            else:
                intermediate = short_hex()
                ctx.out(f" ---> Running in {intermediate}")
                ctx.out(f"Removing intermediate container {intermediate}")
                layer = short_hex()
                images.store_layer(state, key, layer)
            ctx.out(f" ---> {layer}")
            parent = layer
    ctx.out(f"Successfully built {parent}")
    ctx.out(f"Successfully tagged dokku/{app}:latest")
    built = images.Image(
        ref=base.ref, id=parent + secrets.token_hex(26), cmd=base.cmd, ports=base.ports
    )
    images.set_app_image(state, app, built)
    for port in built.ports:
        routing.set_detected_ports(state, app, f"http:{port}:{port}")
    return built


def print_release(ctx: Ctx, app: str, *, heroku_postdeploy: bool) -> None:
    ctx.info1(f"Releasing {app}...")
    ctx.info1("Checking for predeploy task")
    ctx.verbose("No predeploy task found, skipping")
    ctx.info1("Checking for release task")
    ctx.verbose("No release task found, skipping")
    if heroku_postdeploy:
        ctx.info1("Checking for heroku.postdeploy task")
        ctx.verbose("No heroku.postdeploy task found, skipping")
    ctx.info2("Processing deployment checks")
    for ptype in type_order([t for t, n in read_formation(ctx.state, app).items() if n > 0]):
        ctx.out(
            f"{ESC}[1m{ESC}[31m !     {ESC}[0m{ESC}[0m"
            f"No healthchecks found in app.json for {ptype} process type"
        )
        if ptype == "web":
            ctx.verbose(
                "No web healthchecks found in app.json. Simple container checks will be performed."
            )
            ctx.verbose(
                "For more efficient zero downtime deployments, add healthchecks to your "
                "app.json. See https://dokku.com/docs/deployment/zero-downtime-deploys/ "
                "for examples"
            )


def print_healthchecks(ctx: Ctx, dyno: str, port: int | None) -> None:
    """Dokku's default checks: ``uptime`` always, ``listening`` for web with a port."""
    checks = [("default", "type='uptime' uptime=10")]
    if dyno.startswith("web.") and port:
        checks.append(
            (
                "port listening check",
                f"attempts=3 port={port} retries=2 timeout=5 type='listening' wait=5",
            )
        )
    ctx.verbose(f"Attempting pre-flight checks ({dyno})")
    ctx.info1(f"Executing {len(checks)} healthchecks")
    for name, details in checks:
        ctx.verbose(f"Running healthcheck name='{name}' {details}")
    for name, _ in reversed(checks):
        ctx.verbose(f"Healthcheck succeeded name='{name}'")
    ctx.verbose(f"All checks successful ({dyno})")


def proxy_rebuild(ctx: Ctx, app: str) -> int:
    """Network sync line (only with web listeners), then ``proxy-build-config`` (nginx)."""
    if routing.web_listeners(ctx.state, app):
        ctx.info1(f"Ensuring network configuration is in sync for {app}")
    return fire_trigger(ctx, "proxy-build-config", app)


def print_app_deployed(ctx: Ctx, app: str) -> None:
    ctx.info2("Application deployed:")
    for url in routing.app_urls(ctx.state, app):
        ctx.verbose(url)
    ctx.out("")


# -- the scheduler ------------------------------------------------------------------------


@dataclass
class DeployRun:
    """Bookkeeping of one scheduler-deploy."""

    new: list[Container] = field(default_factory=list)
    scheduled: bool = False


def _container_env(state: SimState, app: str, dyno: str, port: int | None) -> dict[str, str]:
    from pruvon_testing.sim import envfile

    values: dict[str, str] = {}
    for scope in (None, app):
        with suppress(ValueError):
            values.update(envfile.read_env(state, scope))
    return containers.env_for_container(values, dyno, port)


def _start_container(ctx: Ctx, app: str, image: images.Image, dyno: str) -> Container:
    state = ctx.state
    ptype = dyno.split(".", 1)[0]
    port = image.ports[0] if image.ports and ptype == "web" else None
    with locked(state):
        return containers.create(
            state,
            app=app,
            process_type=ptype,
            dyno=dyno,
            container_type="deploy",
            image=f"dokku/{app}:latest",
            name=f"{app}.{dyno}.upcoming-{secrets.randbelow(32000) + 100}",
            command=image.cmd,
            env=_container_env(state, app, dyno, port or (5000 if ptype == "web" else None)),
            port=port,
            image_id=image.id,
            restart_policy=restart_policy(state, app),
            image_labels={
                **containers.IMAGE_LABELS,
                "com.dokku.docker-image-labeler/alternate-tags": f'["{image.ref}"]',
            },
        )


def _fail_no_command(ctx: Ctx, app: str, ptype: str, count: int, index: int) -> int:
    ctx.out("Error response from daemon: No command specified")
    ctx.out("parallel: This job failed:")
    ctx.out(
        f"{SCHEDULER_BIN}/scheduler-deploy-process-container {app} dockerfile "
        f"dokku/{app}:latest latest {ptype} {count} {index}"
    )
    ctx.out("")
    return 1


def deploy_processes(ctx: Ctx, app: str, only: list[str] | None = None) -> int:
    """``scheduler-deploy``: start new containers, retire old/orphaned ones, rename.

    ``only`` limits the deploy to process types whose count changed (``ps:scale``);
    ``None`` deploys the whole formation.
    """
    state = ctx.state
    image = images.app_image(state, app)
    if image is None:
        ctx.fail(f"App image (dokku/{app}:latest) not found")
    formation = read_formation(state, app)
    current = containers.current_containers(state, app)
    if only is None:
        planned = [t for t, n in formation.items() if n > 0 or any(c.process_type == t for c in current)]
    else:
        planned = only
    run = DeployRun()
    old: list[Container] = []
    for ptype in type_order(planned):
        count = formation.get(ptype, 0)
        ctx.info1(f"Deploying {ptype} (count={count})")
        for index in range(1, count + 1):
            dyno = f"{ptype}.{index}"
            if not image.cmd:
                return _fail_no_command(ctx, app, ptype, count, index)
            print_healthchecks(ctx, dyno, image.ports[0] if image.ports and ptype == "web" else None)
            container = _start_container(ctx, app, image, dyno)
            run.new.append(container)
            ctx.info2(f"Start of {app} container output ({container.short_id} {dyno})")
            ctx.info2(f"End of {app} container output ({container.short_id} {dyno})")
            replaced = [c for c in current if c.dyno == dyno]
            if replaced:
                ctx.verbose(f"Scheduling old container shutdown in 60 seconds ({dyno})")
                old.extend(replaced)
                run.scheduled = True
    containers.mark_deployed(state, app)
    if "web" in planned:
        ctx.info2("Triggering early nginx proxy rebuild")
        proxy_rebuild(ctx, app)
    for ptype in type_order(planned):
        count = formation.get(ptype, 0)
        for orphan in sorted(
            (c for c in current if c.process_type == ptype and c.dyno_number > max(count, 0)),
            key=lambda c: c.dyno_number,
        ):
            ctx.verbose(f"Scheduling orphaned container shutdown in 60 seconds ({orphan.dyno})")
            old.append(orphan)
            run.scheduled = True
    with locked(state):
        for container in old:
            containers.retire(state, container)
    return _post_deploy(ctx, app, run)


def _post_deploy(ctx: Ctx, app: str, run: DeployRun) -> int:
    ctx.info1("Running post-deploy")
    proxy_rebuild(ctx, app)
    status = fire_trigger(ctx, "post-deploy", app, "", "", "latest")
    ctx.info1("Renaming containers")
    _rename(ctx, app, run.new)
    ctx.info1("Checking for postdeploy task")
    ctx.verbose("No postdeploy task found, skipping")
    if run.scheduled:
        ctx.info1("Shutting down old containers in 60 seconds")
    state = ctx.state
    state.prop_set("ps", app, "restore", "true")
    return status


def _rename(ctx: Ctx, app: str, new: list[Container]) -> None:
    state = ctx.state
    with locked(state):
        for container in new:
            target = f"{app}.{container.dyno}"
            holders = [
                c
                for c in containers.app_containers(state, app, include_retired=True)
                if c.name == target and c.id != container.id
            ]
            for holder in holders:
                stamped = f"{target}.{int(time.time())}"
                ctx.verbose(f"Found previous container(s) ({holder.short_id}) named {target}")
                ctx.verbose(f"Renaming container ({holder.short_id}) {target} to {stamped}")
                holder.name = stamped
                containers.save(state, holder)
            ctx.verbose(f"Renaming container {container.name} ({container.short_id}) to {target}")
            container.name = target
            containers.save(state, container)


def release_and_deploy(ctx: Ctx, app: str, *, heroku_postdeploy: bool = False) -> int:
    """Release + scheduler deploy + "Application deployed" (git push, ps:start, ps:rebuild)."""
    print_release(ctx, app, heroku_postdeploy=heroku_postdeploy)
    ctx.info1(f"Deploying {app} via the docker-local scheduler...")
    status = deploy_processes(ctx, app)
    if status:
        return status
    print_app_deployed(ctx, app)
    return 0


def rebuild_app(ctx: Ctx, app: str) -> int:
    """``ps:rebuild`` body: build from the stored source image, then release and deploy.

    Returns 1 with Dokku's warning (on stdout) when the app has no source yet.
    """
    state = ctx.state
    source = state.prop_get("git", app, "source-image")
    base = images.lookup(state, source) if source else None
    if base is None:
        ctx.out(
            f"{ESC}[1G{ESC}[K-----> WARNING: Cannot build from 'master' as there are no "
            "commits stored at that branch."
        )
        return 1
    print_build(ctx, app, base)
    return release_and_deploy(ctx, app)


def stop_app(state: SimState, app: str) -> None:
    with locked(state):
        for container in containers.current_containers(state, app):
            containers.set_status(state, container, "exited", 0)
