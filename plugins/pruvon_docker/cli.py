"""``pruvon docker …``: the host's containers, images, volumes and networks from a shell.

Run as root or the ``pruvon`` user, the CLI is the ``system`` actor; every
change goes through the same operations runner as the web (validated,
audited with the operating-system user).  Exit codes (``pruvon_core.cli_run.typed_errors``): 0 ok, 1 docker failed
or timed out, 2 bad input (or a refused confirmation), 20 no such container.
"""

from __future__ import annotations

from typing import Any

import click

from pruvon_core.cli import CliContext, echo_json, echo_table, format_option, pass_ctx
from pruvon_core.cli_run import CliEnv, echo_lines, typed_errors
from pruvon_core.dokku import errors
from pruvon_core.guard import Guard
from pruvon_core.opspecs import OperationSpec
from pruvon_core.permissions import SYSTEM
from pruvon_docker import host, operations
from pruvon_docker.models import HostContainer
from pruvon_docker.text import human_size


class Env(CliEnv):
    """Config, client and state dir (:class:`CliEnv`), and the runner as the ``system`` actor."""

    def __init__(self, obj: CliContext) -> None:
        super().__init__(obj)
        guard = Guard(SYSTEM, self.config, self.state_dir,
                      extra={"os_user": self.os_user, "via": "cli"}, kind=operations.RESOURCE)
        self.runner = operations.runner(guard, operations.DockerDeps(self.client,
                                                                     self.state_dir))

    def apply(self, spec: OperationSpec, target: str, **params: Any) -> Any:
        return self.runner.apply(spec, target, params)


docker_errors = typed_errors((errors.ContainerNotFound,))


@click.group("docker")
def docker_group() -> None:
    """The host's docker: containers (Dokku's and others), images, volumes, networks."""


def _container_row(c: HostContainer) -> dict[str, Any]:
    usage = c.usage
    return {"id": c.short_id, "name": c.name, "app": c.app or "", "image": c.image,
            "state": c.state, "uptime": c.uptime,
            "cpu": f"{usage.cpu_percent:.2f}%" if usage else "",
            "memory": human_size(usage.mem_used) if usage else ""}


@docker_group.command("ps")
@click.option("--app", default=None, help="Only this Dokku app's containers.")
@format_option
@pass_ctx
@docker_errors
def ps_command(obj: CliContext, app: str | None, fmt: str) -> None:
    """Every container with its state, image, uptime, CPU and memory (one ps + one stats)."""
    found = [c for c in host.containers(Env(obj).client) if app is None or c.app == app]
    if fmt == "json":
        echo_json({"containers": [c.as_dict() for c in found]})
        return
    echo_table([_container_row(c) for c in found],
               ["id", "name", "app", "image", "state", "uptime", "cpu", "memory"])


@docker_group.command("stats")
@format_option
@pass_ctx
@docker_errors
def stats_command(obj: CliContext, fmt: str) -> None:
    """CPU and memory of the running containers, and per Dokku app."""
    env = Env(obj)
    running = [c for c in host.containers(env.client) if c.running]
    apps = host.app_usage(env.client)
    if fmt == "json":
        echo_json({"containers": [c.as_dict() for c in running],
                   "apps": {a: u.as_dict() for a, u in sorted(apps.items())}})
        return
    echo_table([_container_row(c) for c in running], ["id", "name", "app", "cpu", "memory"])
    if apps:
        click.echo("")
        echo_table([{"app": a, "containers": u.containers, "cpu": f"{u.cpu_percent:.2f}%",
                     "memory": human_size(u.mem_used)} for a, u in sorted(apps.items())],
                   ["app", "containers", "cpu", "memory"])


def _lifecycle(action: str) -> None:
    @click.argument("containers", nargs=-1, required=True)
    @format_option
    @pass_ctx
    @docker_errors
    def command(obj: CliContext, containers: tuple[str, ...], fmt: str, **options: Any) -> None:
        env = Env(obj)
        done = []
        for ref in containers:
            env.apply(operations.LIFECYCLE[action], ref, **options)
            done.append(ref)
            if fmt == "table":
                click.echo(ref)
        if fmt == "json":
            echo_json({"action": action, "containers": done})

    command.__doc__ = f"docker {action} CONTAINER… (ids or names), audited."
    if action == "kill":
        command = click.option("-s", "--signal", default="KILL", show_default=True,
                               help=f"One of {', '.join(host.SIGNALS)}.")(command)
    docker_group.command(action)(command)


for _action in host.ACTIONS:
    _lifecycle(_action)


@docker_group.command("rm")
@click.argument("container")
@click.option("-f", "--force", is_flag=True, help="Remove it even while it runs.")
@click.option("--confirm", default=None, metavar="NAME",
              help="For a Dokku app's or service's container: that app's or service's name.")
@format_option
@pass_ctx
@docker_errors
def rm_command(obj: CliContext, container: str, force: bool, confirm: str | None,
               fmt: str) -> None:
    """Remove a container; one of a Dokku app or service needs --confirm NAME."""
    Env(obj).apply(operations.REMOVE, container, force=force, confirm=confirm)
    if fmt == "json":
        echo_json({"removed": container})
    else:
        click.echo(container)


@docker_group.command("logs")
@click.argument("container")
@click.option("-n", "--tail", "lines", type=int, default=100, show_default=True)
@click.option("-f", "--follow", is_flag=True, help="Keep following (Ctrl-C stops).")
@click.option("-t", "--timestamps", is_flag=True)
@pass_ctx
@docker_errors
def logs_command(obj: CliContext, container: str, lines: int, follow: bool,
                 timestamps: bool) -> None:
    """A container's logs ('docker logs')."""
    echo_lines(Env(obj).client.docker_stream(host.logs_args(container, lines, follow,
                                                            timestamps)))


@docker_group.command("images")
@format_option
@pass_ctx
@docker_errors
def images_command(obj: CliContext, fmt: str) -> None:
    """Images with size and how many containers use them (one 'docker system df -v')."""
    images = host.disk_usage(Env(obj).client).images
    if fmt == "json":
        echo_json({"images": [i.as_dict() for i in images]})
        return
    echo_table([{"id": i.id.removeprefix("sha256:")[:12], "repository": i.repository,
                 "tag": i.tag, "size": human_size(i.size), "containers": i.containers,
                 "unused": i.unused} for i in images],
               ["id", "repository", "tag", "size", "containers", "unused"])


@docker_group.command("volumes")
@format_option
@pass_ctx
@docker_errors
def volumes_command(obj: CliContext, fmt: str) -> None:
    """Volumes with size and how many containers mount them."""
    volumes = host.disk_usage(Env(obj).client).volumes
    if fmt == "json":
        echo_json({"volumes": [v.as_dict() for v in volumes]})
        return
    echo_table([{"name": v.name, "driver": v.driver,
                 "size": human_size(v.size) if v.size is not None else "",
                 "links": v.links, "unused": v.unused} for v in volumes],
               ["name", "driver", "size", "links", "unused"])


@docker_group.command("networks")
@format_option
@pass_ctx
@docker_errors
def networks_command(obj: CliContext, fmt: str) -> None:
    """Networks and the running containers attached to them."""
    client = Env(obj).client
    nets = host.networks(client, host.containers(client, usage=False))
    if fmt == "json":
        echo_json({"networks": [n.as_dict() for n in nets]})
        return
    echo_table([{"id": n.id[:12], "name": n.name, "driver": n.driver,
                 "containers": list(n.containers), "unused": n.unused} for n in nets],
               ["id", "name", "driver", "containers", "unused"])


@docker_group.command("prune")
@click.option("-a", "--all", "all_images", is_flag=True,
              help="Every image no running container uses, not only dangling ones.")
@click.option("--volumes", is_flag=True, help="Also anonymous volumes no container mounts.")
@click.option("--dry-run", is_flag=True, help="Only show what would be removed.")
@click.option("--yes", is_flag=True, help="Do not ask (for scripts).")
@format_option
@pass_ctx
@docker_errors
def prune_command(obj: CliContext, all_images: bool, volumes: bool, dry_run: bool, yes: bool,
                  fmt: str) -> None:
    """'docker system prune': shows what goes, asks you to type "prune", then removes it."""
    env = Env(obj)
    plan = host.prune_plan(env.client, all_images, volumes)
    if fmt == "json" and dry_run:
        echo_json({"plan": plan.as_dict()})
        return
    if fmt == "table":
        _print_plan(plan)
    if dry_run:
        return
    if plan.empty:
        if fmt == "json":
            echo_json({"plan": plan.as_dict(), "output": ""})
        return
    confirm = operations.PRUNE_WORD if yes else click.prompt(
        f'Type "{operations.PRUNE_WORD}" to remove all of this', default="", show_default=False)
    result = env.apply(operations.PRUNE, operations.PRUNE_TARGET, all_images=all_images,
                       volumes=volumes, confirm=confirm)
    if fmt == "json":
        echo_json({"plan": plan.as_dict(), "output": result["output"]})
    else:
        click.echo(result["output"].rstrip())


def _print_plan(plan: Any) -> None:
    if plan.empty:
        click.echo("Nothing to prune.")
        return
    for container in plan.containers:
        owner = f" ({container.managed_by}: ps:start cannot bring it back)" if container.app \
            else (f" ({container.managed_by})" if container.service else "")
        click.echo(f"container {container.short_id} {container.name}{owner}")
    for network in plan.networks:
        click.echo(f"network   {network.name}")
    for image in plan.images:
        click.echo(f"image     {image.ref} ({human_size(image.size)})")
    for volume in plan.volume_list:
        click.echo(f"volume    {volume.name} ({human_size(volume.size or 0)})")
    click.echo(f"about {human_size(plan.reclaimable)} reclaimable")


def register(cli: click.Group) -> None:
    cli.add_command(docker_group)


__all__ = ["docker_group", "register"]
