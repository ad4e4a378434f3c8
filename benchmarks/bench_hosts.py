"""All-hosts app list over real ssh: fan-out time vs the slowest single host.

Starts five simulated Dokku hosts, each behind its own real OpenSSH server
(``pruvon_testing.fixtures_ssh``: a loopback ``sshd`` with a Dokku-style
forced command), with 100 apps each and ``PRUVON_SIM_LATENCY=realistic``
(real Dokku 0.38.27 medians: ``apps:list`` 67 ms, ``ps:report`` 0.75 s per
app).  Pruvon reaches them as the web server does: one client per host, kept
across pages, ssh with host-key checking and one ControlMaster connection per
host, app state from Dokku's all-apps ``ps:report`` (no docker on the hosts)
loaded once in the background at start (``warm_up``) and then served
stale-while-revalidate with its age.

For 1, 3 and 5 hosts x 100 apps (and 1 host x 10 apps, to show the calls do
not grow with the apps) it measures the all-hosts list (``every_host`` →
``apps_live()`` on each host in parallel, median of 9), each host's list
alone (the slowest of them is the goal's yardstick: all-hosts <= 1.3 x the
slowest single host), and the Dokku calls per host per list.  The two take
turns round by round, and the CPU the simulated hosts use (their sshd and
simulator processes) is reported on its own with the least time their
sharing this machine's cores costs, which a fleet of real hosts does not pay.
Needs Debian's ``openssh-server``.  Run: ``python -m benchmarks bench_hosts``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pruvon_core.config import Config
from pruvon_core.dokku import DokkuClient, client_for, remote_transport
from pruvon_core.fanout import every_host
from pruvon_core.hosts import hosts_from_config
from pruvon_core.processes import stat_fields
from pruvon_testing.fixtures_ssh import SshDokkuHost, keygen
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run

TITLE = "All-hosts app list over real ssh (realistic Dokku latency, ps:report states)"
HEADERS = ["hosts", "apps per host", "dokku calls per host", "all-hosts list ms (median of 9)",
           "slowest single host alone ms", "ratio", "list / its slowest host",
           "hosts' CPU ms per list (sshd + simulator)", "Pruvon CPU ms per list",
           "wait for shared cores ms (est.)", "ratio on own CPUs (est.)"]
ROUNDS = 9
LAYOUT = [(1, 10), (1, 100), (3, 100), (5, 100)]
BEFORE = ("Before (issue 17's first run, the fixture's sshd running the forced command "
          "through root's `~/.bashrc`: pyenv init, 0.3-0.7 s of CPU per call): all-hosts "
          "1492 ms for 3 hosts and 1533 ms for 5, ratio 1.60 and 1.42, slowest host alone "
          "932 and 1082 ms.")
CORES = os.cpu_count() or 1
TICK = os.sysconf("SC_CLK_TCK")


def start_hosts(tmp: Path, sizes: list[int]) -> list[SshDokkuHost]:
    key = keygen(tmp / "id_ed25519")
    started = []
    for index, apps in enumerate(sizes):
        host = SshDokkuHost(f"h{index + 1}", tmp / f"host{index + 1}", key)
        for number in range(apps):
            run(["apps:create", f"app-{number:03d}"], root=host.sim.root,
                env={"PRUVON_SIM_LATENCY": "0"})
        SimState(host.sim.root).set_knobs(latency="realistic")
        started.append(host.start())
    return started


def clients(hosts: list[SshDokkuHost], state: Path) -> tuple[Config, dict[str, DokkuClient]]:
    """Record each host's key, then one long-lived client per host (as the web server)."""
    config = Config({"hosts": [h.hosts_entry() for h in hosts]})
    for entry in hosts_from_config(config).values():
        if entry.ssh:
            remote_transport(entry, state, accept_new=True).run(["version"], timeout=30)
    return config, {h.name: client_for(config, h.name, state, timeout=600) for h in hosts}


def cold_first_list(found: dict[str, DokkuClient]) -> float:
    """The first list of each host, reports loaded on the spot (in parallel): wall seconds."""
    start = time.perf_counter()
    for client in found.values():
        client.warm_up()
    for client in found.values():
        client.apps_live()
    return time.perf_counter() - start


def host_cpu(host: SshDokkuHost) -> float:
    """CPU seconds the host's side has used: its sshd and every process under it.

    Each connection's sshd reaps the session processes it ran (the simulator,
    its ``xargs``), so their time is in its ``cutime``/``cstime``: summing the
    tree's own and reaped children's time counts every finished call.  On a
    real fleet this is the Dokku host's own CPU, not Pruvon's machine's.
    """
    assert host.process is not None
    parents: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := stat_fields(int(entry))):
            stats[int(entry)] = fields
            parents.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [host.process.pid]
    while todo:
        pid = todo.pop()
        fields = stats.get(pid)
        if fields and len(fields) > 14:
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        todo += parents.get(pid, [])
    return total / TICK


def own_cpu() -> float:
    """CPU seconds of this process and its reaped children (the ssh clients)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class ListRun:
    wall: float
    slowest: float
    hosts_cpu: dict[str, float]
    pruvon_cpu: float

    def shared_core_wait(self) -> float:
        """The least extra wall time ``cores`` cores add to hosts that each have their own.

        Host ``i`` needs ``c_i`` CPU seconds; on its own CPU that costs it
        ``c_i``, so the list's CPU part is ``max(c_i)``.  Here all hosts' work
        shares the machine's cores: at best ``sum(c_i) / cores``.  The
        difference is time a real fleet does not spend.
        """
        cpus = list(self.hosts_cpu.values())
        return max(0.0, sum(cpus) / CORES - max(cpus))


def one_list(config: Config, found: dict[str, DokkuClient], hosts: dict[str, SshDokkuHost],
             names: list[str]) -> ListRun:
    """One all-hosts list as a page after the short read cache expired (reports stay warm)."""
    for name in names:
        found[name]._cache.clear()  # a fresh apps:list, as a page 2 s later
    before = {name: host_cpu(hosts[name]) for name in names}
    mine = own_cpu()
    start = time.perf_counter()
    answers = every_host(config, names, lambda host: found[host].apps_live(), key="bench")
    wall = time.perf_counter() - start
    pruvon = own_cpu() - mine
    if not all(a.ok for a in answers):
        raise RuntimeError([a.error for a in answers if not a.ok])
    spent = {name: host_cpu(hosts[name]) - before[name] for name in names}
    return ListRun(wall, max(a.seconds for a in answers), spent, pruvon)


def measure(config: Config, found: dict[str, DokkuClient], hosts: dict[str, SshDokkuHost],
            names: list[str]) -> list[float]:
    """The figures of one row; the all-hosts list and each host alone take turns per round.

    Interleaved, so that a change in the machine's load (it is shared) hits
    both sides of the ratio alike.
    """
    for name in names:
        found[name].reset_calls()
    lists: list[ListRun] = []
    alone: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(ROUNDS):
        lists.append(one_list(config, found, hosts, names))
        for name in names:
            alone[name].append(one_list(config, found, hosts, [name]).wall)
    calls = max(len(found[n].calls) for n in names) / (ROUNDS * 2)
    together = statistics.median(r.wall for r in lists)
    slowest_alone = max(statistics.median(walls) for walls in alone.values())
    inside = statistics.median(r.slowest for r in lists)
    wait = statistics.median(r.shared_core_wait() for r in lists)
    hosts_cpu = statistics.median(sum(r.hosts_cpu.values()) for r in lists)
    pruvon_cpu = statistics.median(r.pruvon_cpu for r in lists)
    return [calls, together, slowest_alone, inside, hosts_cpu, pruvon_cpu, wait]


def run_benchmark() -> tuple[list[list[str]], float]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-hosts-") as tmp:
        base = Path(tmp)
        hosts = start_hosts(base, [10, 100, 100, 100, 100, 100])
        state = base / "state"
        state.mkdir(mode=0o700)
        try:
            config, found = clients(hosts, state)
            by_name = {h.name: h for h in hosts}
            cold = cold_first_list(found)
            small, large = hosts[0].name, [h.name for h in hosts[1:]]
            for count, apps in LAYOUT:
                names = [small] if apps == 10 else large[:count]
                calls, together, alone, inside, hosts_cpu, pruvon_cpu, wait = measure(
                    config, found, by_name, names)
                rows.append([str(count), str(apps), f"{calls:g}", f"{together * 1000:.0f}",
                             f"{alone * 1000:.0f}", f"{together / alone:.2f}",
                             f"{together / inside:.2f}", f"{hosts_cpu * 1000:.0f}",
                             f"{pruvon_cpu * 1000:.0f}", f"{wait * 1000:.0f}",
                             f"{(together - wait) / alone:.2f}"])
        finally:
            for client in locals().get("found", {}).values():
                client.transport.close_master()
            for host in hosts:
                host.stop()
    return rows, cold


def table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def run_all() -> tuple[str, str]:
    """``(title, markdown table)`` for ``benchmarks.__main__``."""
    rows, cold = run_benchmark()
    load = os.getloadavg()[0]
    return TITLE, (table(rows) + f"\n\nCold start (each host's all-apps ps:report loaded at once, "
                   f"6 hosts of 10-100 apps): {cold:.1f} s, in the background from server start."
                   f"\n\n{CORES} cores shared with other work (load average {load:.1f} at the "
                   "end). *Hosts' CPU* is every simulated host's sshd and simulator time per "
                   "list; *wait for shared cores* = max(0, sum of the hosts' CPU / cores - "
                   "the largest host's CPU), the least time the hosts lose to sharing this "
                   "machine's cores where each real host has its own; *ratio on own CPUs* "
                   "takes it off the all-hosts time.\n\n" + BEFORE)


if __name__ == "__main__":
    title, text = run_all()
    print(f"### {title}\n\n{text}")
