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
``apps_live()`` on each host in parallel, median of 5), each host's list
alone (the slowest of them is the goal's yardstick: all-hosts <= 1.3 x the
slowest single host), and the Dokku calls per host per list.
Needs Debian's ``openssh-server``.  Run: ``python -m benchmarks bench_hosts``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from pruvon_core.config import Config
from pruvon_core.dokku import DokkuClient, client_for, remote_transport
from pruvon_core.fanout import every_host
from pruvon_core.hosts import hosts_from_config
from pruvon_testing.fixtures_ssh import SshDokkuHost, keygen
from pruvon_testing.sim.core import SimState
from pruvon_testing.sim.main import run

TITLE = "All-hosts app list over real ssh (realistic Dokku latency, ps:report states)"
HEADERS = ["hosts", "apps per host", "dokku calls per host", "all-hosts list ms (median of 5)",
           "slowest single host alone ms", "ratio", "slowest host in the same list ms",
           "list / its slowest host"]
ROUNDS = 5
LAYOUT = [(1, 10), (1, 100), (3, 100), (5, 100)]


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


def one_list(config: Config, found: dict[str, DokkuClient],
             names: list[str]) -> tuple[float, float]:
    """One all-hosts list as a page after the short read cache expired (reports stay warm)."""
    for name in names:
        found[name]._cache.clear()  # a fresh apps:list, as a page 2 s later
    start = time.perf_counter()
    answers = every_host(config, names, lambda host: found[host].apps_live(), key="bench")
    wall = time.perf_counter() - start
    if not all(a.ok for a in answers):
        raise RuntimeError([a.error for a in answers if not a.ok])
    return wall, max(a.seconds for a in answers)


def measure(config: Config, found: dict[str, DokkuClient], names: list[str]) -> list[float]:
    """All-hosts ms, slowest-single ms, calls per host, slowest host inside the list ms.

    The last one separates the fan-out's own cost from the hosts' (on a small
    shared machine, hosts answering at once also compete for its CPU).
    """
    for name in names:
        found[name].reset_calls()
    lists = [one_list(config, found, names) for _ in range(ROUNDS)]
    calls = max(len(found[n].calls) for n in names) / ROUNDS
    alone = max(statistics.median(one_list(config, found, [n])[0] for _ in range(ROUNDS))
                for n in names)
    together = statistics.median(wall for wall, _ in lists)
    inside = statistics.median(slowest for _, slowest in lists)
    return [together * 1000, alone * 1000, calls, inside * 1000]


def run_benchmark() -> tuple[list[list[str]], float]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="pruvon-bench-hosts-") as tmp:
        base = Path(tmp)
        hosts = start_hosts(base, [10, 100, 100, 100, 100, 100])
        state = base / "state"
        state.mkdir(mode=0o700)
        try:
            config, found = clients(hosts, state)
            cold = cold_first_list(found)
            small, large = hosts[0].name, [h.name for h in hosts[1:]]
            for count, apps in LAYOUT:
                names = [small] if apps == 10 else large[:count]
                together, alone, calls, inside = measure(config, found, names)
                rows.append([str(count), str(apps), f"{calls:g}", f"{together:.0f}",
                             f"{alone:.0f}", f"{together / alone:.2f}", f"{inside:.0f}",
                             f"{together / inside:.2f}"])
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
    return TITLE, (table(rows) + f"\n\nCold start (each host's all-apps ps:report loaded at once, "
                   f"6 hosts of 10-100 apps): {cold:.1f} s, in the background from server start.")


if __name__ == "__main__":
    title, text = run_all()
    print(f"### {title}\n\n{text}")
