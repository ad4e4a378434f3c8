"""``pruvon-docker-sim`` commands beyond reading containers.

Container lifecycle (``start``, ``stop``, ``restart``, ``kill``, ``rm``) and the
host's other objects: ``images``, ``volume ls|inspect``, ``network ls``,
``system df [-v]`` and ``system prune [-a] [--volumes] [-f]``.  Output shapes,
messages and exit codes follow the docker CLI 25 (``cli/command/formatter``:
every ``{{json .}}`` field is a string, key-sorted; sizes are go-units
``HumanSize``).  Parsing and ``--format`` rendering are :mod:`docker_main`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pruvon_testing.sim import containers, dockerobjects
from pruvon_testing.sim.containers import Container
from pruvon_testing.sim.docker_main import DockerCli, _emit, parse
from pruvon_testing.sim.dockerobjects import human_size
from pruvon_testing.sim.routing import locked

IMAGE_COLUMNS = ("Repository", "Tag", "ID", "CreatedSince", "Size")
VOLUME_COLUMNS = ("Driver", "Name")
NETWORK_COLUMNS = ("ID", "Name", "Driver", "Scope")
DF_COLUMNS = ("Type", "TotalCount", "Active", "Size", "Reclaimable")


# -- container lifecycle ------------------------------------------------------------------


def _each(cli: DockerCli, command: str, args: list[str], bools: set[str], values: set[str],
          act: Callable[[Container, Any], str | None]) -> int:
    """Apply ``act`` to every named container; print each ref, errors at the end (exit 1)."""
    parsed = parse(cli, command, args, bools, values)
    if not parsed.positional:
        cli.fail(f"docker: 'docker {command}' requires at least 1 argument.\n\n"
                 f"See 'docker {command} --help'.")
    failed = False
    for ref in parsed.positional:
        with locked(cli.state):
            container = containers.find(cli.state, ref)
            error = (f"Error response from daemon: No such container: {ref}"
                     if container is None else act(container, parsed))
        if error:
            cli.ctx.err(error)
            failed = True
        else:
            cli.out(ref)
    return 1 if failed else 0


def cmd_start(cli: DockerCli, args: list[str]) -> int:
    def act(container: Container, _parsed: Any) -> None:
        containers.set_status(cli.state, container, "running")

    return _each(cli, "start", args, {"-a", "--attach", "-i", "--interactive"}, set(), act)


def cmd_stop(cli: DockerCli, args: list[str]) -> int:
    def act(container: Container, _parsed: Any) -> None:
        containers.set_status(cli.state, container, "exited", 143 if container.running else 0)

    return _each(cli, "stop", args, set(), {"-t", "--time", "-s", "--signal"}, act)


def cmd_restart(cli: DockerCli, args: list[str]) -> int:
    def act(container: Container, _parsed: Any) -> None:
        if container.running:
            containers.set_status(cli.state, container, "exited", 143)
        containers.set_status(cli.state, container, "running")

    return _each(cli, "restart", args, set(), {"-t", "--time", "-s", "--signal"}, act)


def cmd_kill(cli: DockerCli, args: list[str]) -> int:
    def act(container: Container, parsed: Any) -> str | None:
        if not container.running:
            return (f"Error response from daemon: cannot kill container: {container.id[:12]}: "
                    f"container {container.id} is not running")
        signal = parsed.last("-s", "--signal", default="KILL").upper().removeprefix("SIG")
        code = {"KILL": 137, "9": 137, "TERM": 143, "15": 143, "INT": 130, "2": 130}.get(signal)
        if code is None:
            return f"Error response from daemon: Invalid signal: {signal}"
        containers.set_status(cli.state, container, "exited", code)
        return None

    return _each(cli, "kill", args, set(), {"-s", "--signal"}, act)


def cmd_rm(cli: DockerCli, args: list[str]) -> int:
    def act(container: Container, parsed: Any) -> str | None:
        if container.running and not parsed.has("-f", "--force"):
            return (f'Error response from daemon: cannot remove container "/{container.name}": '
                    "container is running: stop the container before removing or force remove")
        containers.remove(cli.state, container)
        return None

    return _each(cli, "rm", args, {"-f", "--force", "-v", "--volumes", "-l", "--link"}, set(), act)


# -- images -------------------------------------------------------------------------------


def _now(cli: DockerCli) -> datetime:
    return containers.now(cli.state)


def _image_fields(cli: DockerCli, row: dockerobjects.ImageRow, *, trunc: bool,
                  users: int | None) -> dict[str, str]:
    created = containers.parse_time(row.created)
    return {
        "Containers": "N/A" if users is None else str(users),
        "CreatedAt": created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
        "CreatedSince": dockerobjects.created_since(row.created, _now(cli)),
        "Digest": "<none>",
        "ID": row.id[:12] if trunc else f"sha256:{row.id}",
        "Repository": row.repository,
        "SharedSize": "N/A" if users is None else "0B",
        "Size": human_size(row.size, 3),
        "Tag": row.tag,
        "UniqueSize": "N/A" if users is None else human_size(row.size),
        "VirtualSize": human_size(row.size, 3),
    }


def cmd_images(cli: DockerCli, args: list[str]) -> int:
    parsed = parse(cli, "images", args, {"-a", "--all", "-q", "--quiet", "--no-trunc",
                                         "--digests"}, {"-f", "--filter", "--format"})
    rows = dockerobjects.local_images(cli.state)
    for spec in parsed.all("-f", "--filter"):
        if spec not in ("dangling=true", "dangling=false"):
            cli.fail(f"Error response from daemon: invalid filter '{spec}'")
        rows = [r for r in rows if (r.repository == "<none>") == (spec == "dangling=true")]
    trunc = not parsed.has("--no-trunc")
    if parsed.has("-q", "--quiet"):
        for row in rows:
            cli.out(row.id[:12] if trunc else f"sha256:{row.id}")
        return 0
    _emit(cli, parsed.last("--format"),
          [_image_fields(cli, r, trunc=trunc, users=None) for r in rows], IMAGE_COLUMNS)
    return 0


# -- volumes ------------------------------------------------------------------------------


def _volume_fields(row: dict[str, Any], *, usage: bool) -> dict[str, str]:
    name = row["Name"]
    return {
        "Availability": "N/A",
        "Driver": "local",
        "Group": "N/A",
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(row["Labels"].items())),
        "Links": str(row["Links"]) if usage else "N/A",
        "Mountpoint": f"/var/lib/docker/volumes/{name}/_data",
        "Name": name,
        "Scope": "local",
        "Size": human_size(row["Size"]) if usage else "N/A",
        "Status": "N/A",
    }


def cmd_volume(cli: DockerCli, args: list[str]) -> int:
    sub, rest = (args[0], args[1:]) if args else ("", [])
    if sub in ("ls", "list"):
        parsed = parse(cli, "volume ls", rest, {"-q", "--quiet"}, {"-f", "--filter", "--format"})
        rows = dockerobjects.volume_rows(cli.state)
        for spec in parsed.all("-f", "--filter"):
            if spec not in ("dangling=true", "dangling=false"):
                cli.fail(f"Error response from daemon: invalid filter '{spec}'")
            rows = [r for r in rows if (r["Links"] == 0) == (spec == "dangling=true")]
        if parsed.has("-q", "--quiet"):
            for row in rows:
                cli.out(row["Name"])
            return 0
        _emit(cli, parsed.last("--format"), [_volume_fields(r, usage=False) for r in rows],
              VOLUME_COLUMNS)
        return 0
    if sub == "inspect":
        parsed = parse(cli, "volume inspect", rest, set(), {"-f", "--format"})
        if not parsed.positional:
            cli.fail("docker: 'docker volume inspect' requires at least 1 argument.\n\n"
                     "See 'docker volume inspect --help'.")
        known = {r["Name"]: r for r in dockerobjects.volume_rows(cli.state)}
        found = [_volume_inspect(known[n]) for n in parsed.positional if n in known]
        if parsed.last("-f", "--format"):
            _emit(cli, parsed.last("-f", "--format"), found, ())
        else:
            cli.out(json.dumps(found, indent=4))
        missing = [n for n in parsed.positional if n not in known]
        for name in missing:
            cli.ctx.err(f"Error response from daemon: get {name}: no such volume")
        return 1 if missing else 0
    cli.fail(f"docker: 'volume {sub}' is not a docker command.\nSee 'docker volume --help'")
    return 1


def _volume_inspect(row: dict[str, Any]) -> dict[str, Any]:
    return {"CreatedAt": row["Created"].split(".")[0] + "Z", "Driver": "local",
            "Labels": row["Labels"] or None,
            "Mountpoint": f"/var/lib/docker/volumes/{row['Name']}/_data",
            "Name": row["Name"], "Options": None, "Scope": "local"}


# -- networks -----------------------------------------------------------------------------


def cmd_network(cli: DockerCli, args: list[str]) -> int:
    sub, rest = (args[0], args[1:]) if args else ("", [])
    if sub not in ("ls", "list"):
        cli.fail(f"docker: 'network {sub}' is not a docker command.\nSee 'docker network --help'")
    parsed = parse(cli, "network ls", rest, {"-q", "--quiet", "--no-trunc"},
                   {"-f", "--filter", "--format"})
    trunc = not parsed.has("--no-trunc")
    rows = []
    for row in dockerobjects.network_rows(cli.state):
        created = containers.parse_time(row["Created"])
        rows.append({
            "CreatedAt": created.strftime("%Y-%m-%d %H:%M:%S.%f000 +0000 UTC"),
            "Driver": row["Driver"], "ID": row["ID"][:12] if trunc else row["ID"],
            "IPv4": "true" if row["Driver"] not in ("host", "null") else "false",
            "IPv6": "false", "Internal": "true" if row["Internal"] else "false",
            "Labels": "", "Name": row["Name"], "Scope": row["Scope"],
        })
    if parsed.has("-q", "--quiet"):
        for row in rows:
            cli.out(row["ID"])
        return 0
    _emit(cli, parsed.last("--format"), rows, NETWORK_COLUMNS)
    return 0


# -- system df / prune --------------------------------------------------------------------


def _reclaimable(reclaim: int, total: int) -> str:
    if total > 0:
        return f"{human_size(reclaim)} ({reclaim * 100 // total}%)"
    return human_size(reclaim)


def _df_summary(cli: DockerCli) -> list[dict[str, str]]:
    state = cli.state
    image_rows = dockerobjects.local_images(state)
    used = [r for r in image_rows if dockerobjects.image_users(state, r)]
    image_total = sum(r.size for r in image_rows)
    all_containers = containers.all_containers(state)
    running = [c for c in all_containers if c.running]
    volumes = dockerobjects.volume_rows(state)
    volume_total = sum(v["Size"] for v in volumes)
    unused_volumes = sum(v["Size"] for v in volumes if v["Links"] == 0)
    return [
        {"Type": "Images", "TotalCount": str(len(image_rows)), "Active": str(len(used)),
         "Size": human_size(image_total),
         "Reclaimable": _reclaimable(image_total - sum(r.size for r in used), image_total)},
        {"Type": "Containers", "TotalCount": str(len(all_containers)),
         "Active": str(len(running)), "Size": "0B", "Reclaimable": "0B"},
        {"Type": "Local Volumes", "TotalCount": str(len(volumes)),
         "Active": str(sum(1 for v in volumes if v["Links"])),
         "Size": human_size(volume_total), "Reclaimable": _reclaimable(unused_volumes,
                                                                       volume_total)},
        {"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B",
         "Reclaimable": "0B"},
    ]


def _df_verbose(cli: DockerCli) -> dict[str, Any]:
    from pruvon_testing.sim import dockerview

    state = cli.state
    moment = _now(cli)
    return {
        "Images": [_image_fields(cli, r, trunc=False,
                                 users=len(dockerobjects.image_users(state, r)))
                   for r in dockerobjects.local_images(state)],
        "Containers": [dockerview.ps_row(c, trunc=False, moment=moment)
                       for c in containers.all_containers(state)],
        "Volumes": [_volume_fields(v, usage=True) for v in dockerobjects.volume_rows(state)],
        "BuildCache": [],
    }


def cmd_system(cli: DockerCli, args: list[str]) -> int:
    sub, rest = (args[0], args[1:]) if args else ("", [])
    if sub == "df":
        parsed = parse(cli, "system df", rest, {"-v", "--verbose"}, {"--format"})
        template = parsed.last("--format")
        if parsed.has("-v", "--verbose"):
            data = _df_verbose(cli)
            if template:
                from pruvon_testing.sim import gotemplate

                cli.out(gotemplate.render(template, data))
                return 0
            for row in data["Images"]:
                cli.out(f"{row['Repository']}\t{row['Tag']}\t{row['ID']}\t{row['Size']}\t"
                        f"{row['Containers']}")
            return 0
        _emit(cli, template, _df_summary(cli), DF_COLUMNS)
        return 0
    if sub == "prune":
        return _prune(cli, rest)
    cli.fail(f"docker: 'system {sub}' is not a docker command.\nSee 'docker system --help'")
    return 1


def prune_plan(cli: DockerCli, every_image: bool, volumes: bool) -> dict[str, list[Any]]:
    """What ``system prune`` removes: stopped containers, unused networks, images, volumes."""
    state = cli.state
    stopped = [c for c in containers.all_containers(state) if not c.running]
    stopped_ids = {c.id for c in stopped}

    def still_used(users: list[Container]) -> bool:
        return any(u.id not in stopped_ids for u in users)

    nets = [r for r in dockerobjects.network_rows(state)
            if not r["Builtin"] and not dockerobjects.network_users(state, r["Name"])]
    imgs = [r for r in dockerobjects.local_images(state)
            if (every_image or r.repository == "<none>")
            and not still_used(dockerobjects.image_users(state, r))]
    vols = [v for v in dockerobjects.volume_rows(state)
            if volumes and dockerobjects.is_anonymous(v["Name"], v["Labels"])
            and not still_used(dockerobjects.volume_users(state, v["Name"]))]
    return {"containers": stopped, "networks": nets, "images": imgs, "volumes": vols}


def _prune(cli: DockerCli, args: list[str]) -> int:
    parsed = parse(cli, "system prune", args, {"-a", "--all", "-f", "--force", "--volumes"},
                   {"--filter"})
    every, volumes = parsed.has("-a", "--all"), parsed.has("--volumes")
    if not parsed.has("-f", "--force"):
        cli.ctx.out(_prune_warning(every, volumes), end="")
        answer = cli.ctx.stdin.readline() if cli.ctx.stdin else b""
        if (answer.decode() if isinstance(answer, bytes) else answer).strip().lower() != "y":
            return 0
    plan = prune_plan(cli, every, volumes)
    reclaimed = 0
    with locked(cli.state):
        for container in plan["containers"]:
            containers.remove(cli.state, container)
        for network in plan["networks"]:
            dockerobjects.remove_network(cli.state, network["Name"])
        for volume in plan["volumes"]:
            dockerobjects.remove_volume(cli.state, volume["Name"])
            reclaimed += volume["Size"]
        for image in plan["images"]:
            dockerobjects.remove_image(cli.state, image)
            reclaimed += image.size
    _prune_report(cli, plan)
    cli.out(f"Total reclaimed space: {human_size(reclaimed)}")
    return 0


def _prune_warning(every: bool, volumes: bool) -> str:
    lines = ["WARNING! This will remove:", "  - all stopped containers",
             "  - all networks not used by at least one container"]
    if volumes:
        lines.append("  - all anonymous volumes not used by at least one container")
    lines.append("  - all images without at least one container associated to them"
                 if every else "  - all dangling images")
    lines += ["  - unused build cache", "", "Are you sure you want to continue? [y/N] "]
    return "\n".join(lines)


def _prune_report(cli: DockerCli, plan: dict[str, list[Any]]) -> None:
    sections = [
        ("Deleted Containers:", [c.id for c in plan["containers"]]),
        ("Deleted Networks:", [n["Name"] for n in plan["networks"]]),
        ("Deleted Volumes:", [v["Name"] for v in plan["volumes"]]),
        ("Deleted Images:",
         [line for i in plan["images"] for line in
          ([f"untagged: {i.ref}"] if i.repository != "<none>" else [])
          + [f"deleted: sha256:{i.id}"]]),
    ]
    for title, lines in sections:
        if lines:
            cli.out(title)
            for line in lines:
                cli.out(line)
            cli.out("")


COMMANDS: dict[str, Callable[[DockerCli, list[str]], int]] = {
    "start": cmd_start, "stop": cmd_stop, "restart": cmd_restart, "kill": cmd_kill,
    "rm": cmd_rm, "images": cmd_images, "volume": cmd_volume, "network": cmd_network,
    "system": cmd_system,
}
CONTAINER_ALIASES = {"start": "start", "stop": "stop", "restart": "restart", "kill": "kill",
                     "rm": "rm", "remove": "rm"}
