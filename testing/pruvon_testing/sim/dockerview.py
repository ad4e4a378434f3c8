"""Docker's views of the simulated containers: ``inspect`` objects, ``ps`` rows, ``stats``.

Shapes follow docker 24+/25 (the reference host's ``ps:inspect`` output shows the
full ``inspect`` object).  Values docker derives from the kernel (endpoint ids,
MAC addresses, overlay paths) are derived deterministically from the container
id so repeated calls agree.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pruvon_testing.sim.containers import Container, now, parse_time
from pruvon_testing.sim.core import SimState

ALL_IPV4 = ".".join(["0"] * 4)  # docker's "all interfaces" host address, as data


def _digest(container: Container, purpose: str) -> str:
    return hashlib.sha256(f"{purpose}:{container.id}".encode()).hexdigest()


def mac_address(ip: str) -> str:
    """Docker's bridge MAC: ``02:42`` + the IPv4 address in hex."""
    try:
        octets = [int(part) for part in ip.split(".")]
    except ValueError:
        return ""
    if len(octets) != 4:
        return ""
    return "02:42:" + ":".join(f"{octet:02x}" for octet in octets)


def _restart_policy(container: Container) -> dict[str, object]:
    name, _, retries = (container.restart_policy or "no").partition(":")
    return {"MaximumRetryCount": int(retries) if retries.isdigit() else 0, "Name": name}


def _port_key(container: Container) -> str | None:
    return f"{container.port}/tcp" if container.port else None


def _network_settings(container: Container) -> dict[str, object]:
    running = container.running
    ip = container.ip if running else ""
    endpoint = _digest(container, "endpoint") if running else ""
    ports: dict[str, object] = {}
    key = _port_key(container)
    if key and running and container.host_port:
        ports[key] = [
            {"HostIp": ALL_IPV4, "HostPort": str(container.host_port)},
            {"HostIp": "::", "HostPort": str(container.host_port)},
        ]
    sandbox = _digest(container, "sandbox") if running else ""
    bridge = {
        "Aliases": None,
        "DriverOpts": None,
        "EndpointID": endpoint,
        "Gateway": "172.17.0.1" if running else "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAMConfig": None,
        "IPAddress": ip,
        "IPPrefixLen": 16 if running else 0,
        "IPv6Gateway": "",
        "Links": None,
        "MacAddress": mac_address(ip) if running else "",
        "NetworkID": hashlib.sha256(b"bridge").hexdigest(),
    }
    return {
        "Bridge": "",
        "SandboxID": sandbox,
        "SandboxKey": f"/var/run/docker/netns/{sandbox[:12]}" if running else "",
        "Ports": ports,
        "HairpinMode": False,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None,
        "EndpointID": endpoint,
        "Gateway": bridge["Gateway"],
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": ip,
        "IPPrefixLen": bridge["IPPrefixLen"],
        "IPv6Gateway": "",
        "MacAddress": bridge["MacAddress"],
        "Networks": {"bridge": bridge},
    }


def _host_config(state: SimState, container: Container) -> dict[str, object]:
    key = _port_key(container)
    return {
        "AutoRemove": container.container_type == "run",
        "Binds": None,
        "BlkioDeviceReadBps": [],
        "BlkioDeviceReadIOps": [],
        "BlkioDeviceWriteBps": [],
        "BlkioDeviceWriteIOps": [],
        "BlkioWeight": 0,
        "BlkioWeightDevice": [],
        "CapAdd": None,
        "CapDrop": None,
        "Cgroup": "",
        "CgroupParent": "",
        "CgroupnsMode": "host",
        "ConsoleSize": [0, 0],
        "ContainerIDFile": "",
        "CpuCount": 0,
        "CpuPercent": 0,
        "CpuPeriod": 0,
        "CpuQuota": 0,
        "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0,
        "CpuShares": 0,
        "CpusetCpus": "",
        "CpusetMems": "",
        "DeviceCgroupRules": None,
        "DeviceRequests": None,
        "Devices": [],
        "Dns": [],
        "DnsOptions": [],
        "DnsSearch": [],
        "ExtraHosts": None,
        "GroupAdd": None,
        "IOMaximumBandwidth": 0,
        "IOMaximumIOps": 0,
        "Init": True,
        "IpcMode": "private",
        "Isolation": "",
        "KernelMemory": 0,
        "KernelMemoryTCP": 0,
        "Links": None,
        "LogConfig": {"Config": {"max-size": "10m"}, "Type": "json-file"},
        "MaskedPaths": [
            "/proc/asound",
            "/proc/acpi",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/proc/scsi",
            "/sys/firmware",
        ],
        "Memory": 0,
        "MemoryReservation": 0,
        "MemorySwap": 0,
        "MemorySwappiness": None,
        "NanoCpus": 0,
        "NetworkMode": "default",
        "OomKillDisable": False,
        "OomScoreAdj": 0,
        "PidMode": "",
        "PidsLimit": None,
        "PortBindings": {key: [{"HostIp": "", "HostPort": ""}]} if key else {},
        "Privileged": False,
        "PublishAllPorts": False,
        "ReadonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        "ReadonlyRootfs": False,
        "RestartPolicy": _restart_policy(container),
        "Runtime": "runc",
        "SecurityOpt": None,
        "ShmSize": 67108864,
        "UTSMode": "",
        "Ulimits": [],
        "UsernsMode": "",
        "VolumeDriver": "",
        "VolumesFrom": None,
    }


def _config(container: Container) -> dict[str, object]:
    key = _port_key(container)
    return {
        "Hostname": container.short_id,
        "Domainname": "",
        "User": "",
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "ExposedPorts": {key: {}} if key else None,
        "Tty": False,
        "OpenStdin": False,
        "StdinOnce": False,
        "Env": [f"{k}={v}" for k, v in container.env.items()],
        "Cmd": list(container.command) or None,
        "Image": container.image,
        "Volumes": None,
        "WorkingDir": "",
        "Entrypoint": None,
        "OnBuild": None,
        "Labels": dict(sorted(container.labels.items())),
    }


def inspect(state: SimState, container: Container) -> dict[str, object]:
    """``docker inspect`` of one container, keys in docker's own order."""
    base = f"/var/lib/docker/containers/{container.id}"
    layer = _digest(container, "layer")
    running = container.running
    command = list(container.command)
    return {
        "Id": container.id,
        "Created": container.created_at,
        "Path": command[0] if command else "",
        "Args": command[1:],
        "State": {
            "Status": container.status,
            "Running": running,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": (container.pid or 1000 + int(container.id[:4], 16) % 30000) if running else 0,
            "ExitCode": container.exit_code,
            "Error": "",
            "StartedAt": container.started_at,
            "FinishedAt": container.finished_at,
        },
        "Image": "sha256:" + (container.image_id or _digest(container, "image")),
        "ResolvConfPath": f"{base}/resolv.conf",
        "HostnamePath": f"{base}/hostname",
        "HostsPath": f"{base}/hosts",
        "LogPath": f"{base}/{container.id}-json.log",
        "Name": "/" + container.name,
        "RestartCount": 0,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": _host_config(state, container),
        "GraphDriver": {
            "Data": {
                "LowerDir": (
                    f"/var/lib/docker/overlay2/{layer}-init/diff:"
                    f"/var/lib/docker/overlay2/{_digest(container, 'image-top')}/diff:"
                    f"/var/lib/docker/overlay2/{_digest(container, 'image-base')}/diff"
                ),
                "MergedDir": f"/var/lib/docker/overlay2/{layer}/merged",
                "UpperDir": f"/var/lib/docker/overlay2/{layer}/diff",
                "WorkDir": f"/var/lib/docker/overlay2/{layer}/work",
            },
            "Name": "overlay2",
        },
        "Mounts": [],
        "Config": _config(container),
        "NetworkSettings": _network_settings(container),
    }


# -- docker ps ---------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """go-units ``HumanDuration`` (what docker prints in ``Up …``/``… ago``)."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = whole // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{whole // 3600 // 24 // 365} years"


def _since(text: str, moment: datetime) -> float:
    return max(0.0, (moment - parse_time(text)).total_seconds())


def status_text(container: Container, moment: datetime | None = None) -> str:
    moment = moment or now()
    if container.running:
        return f"Up {human_duration(_since(container.started_at, moment))}"
    return (
        f"Exited ({container.exit_code}) "
        f"{human_duration(_since(container.finished_at, moment))} ago"
    )


def ports_text(container: Container) -> str:
    if not container.port:
        return ""
    if not (container.running and container.host_port):
        return ""
    return (
        f"{ALL_IPV4}:{container.host_port}->{container.port}/tcp, "
        f":::{container.host_port}->{container.port}/tcp"
    )


def command_text(container: Container, *, trunc: bool) -> str:
    """Docker's quoted, ellipsised ``COMMAND`` column."""
    text = " ".join(container.command)
    if trunc and len(text) > 20:
        text = text[:19] + "…"
    return f'"{text}"'


def ps_row(container: Container, *, trunc: bool = True, moment: datetime | None = None) -> dict:
    """The fields of ``docker ps --format '{{json .}}'`` (docker prints them key-sorted)."""
    moment = moment or now()
    created = parse_time(container.created_at)
    return {
        "Command": command_text(container, trunc=trunc),
        "CreatedAt": created.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
        "ID": container.short_id if trunc else container.id,
        "Image": container.image,
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(container.labels.items())),
        "LocalVolumes": str(len(container.volumes)),
        "Mounts": ",".join(container.volumes),
        "Names": container.name,
        "Networks": ",".join(container.networks),
        "Ports": ports_text(container),
        "RunningFor": f"{human_duration(_since(container.created_at, moment))} ago",
        "Size": "0B",
        "State": container.status,
        "Status": status_text(container, moment),
    }


def stats_row(container: Container, *, trunc: bool = True) -> dict:
    """``docker stats --no-stream`` fields; plausible, stable numbers per container."""
    seed = int(_digest(container, "stats")[:8], 16)
    running = container.running
    mem = (seed % 40000) / 1000 + 1 if running else 0.0
    limit = "15.62GiB" if running else "0B"
    return {
        "BlockIO": f"{seed % 900 / 10:.1f}kB / 0B" if running else "0B / 0B",
        "CPUPerc": f"{(seed % 300) / 100:.2f}%" if running else "0.00%",
        "Container": container.short_id,
        "ID": container.short_id if trunc else container.id,
        "MemPerc": f"{mem / (15.62 * 1024) * 100:.2f}%" if running else "0.00%",
        "MemUsage": f"{mem:.3f}MiB / {limit}" if running else "0B / 0B",
        "Name": container.name,
        "NetIO": f"{seed % 5000 / 100:.1f}kB / {seed % 700 / 100:.2f}kB" if running else "0B / 0B",
        "PIDs": str(seed % 5 + 1) if running else "0",
    }
