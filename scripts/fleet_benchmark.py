"""Fleet benchmark: playbooks/site.yml over two fleets, each side by side with its reference.

- emulated: N hosts (default 50), each scripts/lab/emuhost's (a network namespace + a mount
  namespace with its own /run and /etc/sysctl.d, reached by Ansible through an interpreter
  wrapper), its eth1 plugged into one switch (a bridge in a network namespace of the benchmark's
  own). They have no systemd: persistence is off.
- guests: 3 User-mode Linux guests booting systemd, reached over SSH (scripts/molecule/lab.py, the
  Molecule scenarios' lab), their eth1 on one switch; persistence on (the role's default).
Every host gets a typical layout: a group macvlan on eth1 with the host's address, a namespace
with a second macvlan in it, and the ARP sysctls of the host and of that namespace.

In one run, on the same hosts of each fleet:
  build      site.yml on clean hosts (first build)
  no-op      site.yml again
  teardown   site.yml -e site_state=absent
  3 tasks    a playbook of three ansible.builtin.ping tasks per host: what "a fixed 3 tasks per
             host" costs there

For each it prints the wall time, the tasks per host (run, and skipped), the host-seconds spent in
tasks (each task's time on each host, from the moment a worker starts it: waiting for a free
fork is not counted; a callback, scripts/fleet_benchmark/fleet_timing.py, measures it), the sum
of the topology calls (the engine: the topology task's own time on each host), and their ratio.
Targets (issue 15): a no-op costs at most max(3 x its topology calls, the 3-task playbook); a
first build at most 2 x max(3 x its topology calls, the 3-task playbook), both in host-seconds.
Exits 1 when one is missed at full size (--smoke prints them: CI runs it with 5 emulated hosts
and the 3 guests).

    .venv/bin/python scripts/fleet_benchmark.py                  # 50 emulated hosts, 3 guests
    .venv/bin/python scripts/fleet_benchmark.py --smoke          # 5 emulated hosts, 3 guests
    .venv/bin/python scripts/fleet_benchmark.py --guests 0       # emulated hosts only
    .venv/bin/python scripts/fleet_benchmark.py --collection DIR # another copy of the collection
                                                                 # (e.g. an older release), same fleets
Needs root (namespaces). The guests' lab lives inside an emulated host of its own (its network
namespace never appears in the machine's /run/netns); everything it makes is named lnfb* (the lab
lnmol-fleetbench inside) and removed, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "molecule"))
from lab import Lab  # noqa: E402  (the Molecule scenarios' lab)

EMUHOST = str(ROOT / "scripts" / "lab" / "emuhost")
CALLBACKS = str(ROOT / "scripts" / "fleet_benchmark")
NOOP_FACTOR, BUILD_FACTOR, FIXED_TASKS = 3.0, 2.0, 3


def sh(*cmd: str, check: bool = True) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SystemExit("fleet benchmark: %s failed: %s" % (" ".join(cmd), proc.stderr.strip()))
    return proc.stdout


def host_layout(index: int) -> Dict[str, Any]:
    """Host number `index`'s own variables: its addresses and the ARP sysctls of its namespace."""
    return {
        "macvlan_topology": {
            "namespaces": [{"name": "ns1"}],
            "links": [{"name": "macvlan1", "addresses": ["10.77.0.%d/16" % (index + 1)]},
                      {"kind": "macvlan", "name": "macvlan2", "parent": "eth1", "mode": "bridge",
                       "netns": "ns1", "addresses": ["10.77.1.%d/16" % (index + 1)]}]},
        "arp_sysctl_namespaces": [{"name": "ns1", "interfaces": ["all", "default", "macvlan2"]}],
    }


class Fleet:
    """What both fleets share: hosts (inventory name -> connection variables), the inventory."""

    label = ""
    persist = False

    def __init__(self, work: Path) -> None:
        self.work = work
        self.connections: Dict[str, Dict[str, Any]] = {}
        self.env: Dict[str, str] = {}

    def inventory(self) -> str:
        hosts = {host: dict(connection, **host_layout(index))
                 for index, (host, connection) in enumerate(sorted(self.connections.items()))}
        data = {"all": {"hosts": hosts, "vars": {
            "macvlan_topology_persist": self.persist,
            "macvlan_topology_install_pyroute2": False,
            "macvlan_topology_group": {"links": [{"kind": "macvlan", "name": "macvlan1", "parent": "eth1",
                                                  "mode": "bridge"}]}}}}
        path = self.work / ("inventory-%s.json" % self.label)
        path.write_text(json.dumps(data))
        return str(path)

    def namespaces_left(self) -> List[str]:
        """The hosts where a teardown left a namespace."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class EmulatedFleet(Fleet):
    """N emulated hosts on one switch (no systemd), all removed by close()."""

    label = "emulated"

    def __init__(self, count: int, work: Path) -> None:
        super().__init__(work)
        tag = "lnfb%s" % uuid.uuid4().hex[:4]
        self.switch = str(work / "switch.net")
        self.names: Dict[str, str] = {}  # inventory name -> emuhost name
        open(self.switch, "w").close()
        sh("unshare", "--net=" + self.switch, "sh", "-c", "ip link add sw type bridge && ip link set sw up && "
           "ip link set lo up")
        for index in range(count):
            host, name = "host%02d" % index, "%sh%d" % (tag, index)
            self.names[host] = name
            sh(EMUHOST, "up", name)
            sh(EMUHOST, "plug", name, "eth1", "p%d" % index, self.switch, "sw")
            # No systemd, and /etc is the machine's: what persistence looks for stays in the host's own /run.
            self.connections[host] = {"ansible_connection": "local",
                                      "ansible_python_interpreter": sh(EMUHOST, "python", name).strip(),
                                      "macvlan_topology_persist_dir": "/run/linuxnet-macvlan",
                                      "macvlan_topology_persist_lib": "/run/linuxnet-macvlan-lib"}

    def namespaces_left(self) -> List[str]:
        return [host for host, name in self.names.items() if sh(EMUHOST, "exec", name, "ip", "netns", "list").strip()]

    def close(self) -> None:
        for name in self.names.values():
            sh(EMUHOST, "down", name, check=False)
        sh("umount", self.switch, check=False)


class GuestFleet(Fleet):
    """User-mode Linux guests booting systemd, reached over SSH (the Molecule scenarios' lab)."""

    label = "guests"
    persist = True

    def __init__(self, count: int, work: Path) -> None:
        super().__init__(work)
        names = ["guest%d" % index for index in range(1, count + 1)]
        # The lab lives inside an emulated host of its own (a network and mount namespace with a
        # private /run): its namespace is never registered in the machine's /run/netns.
        self.home = "lnfb%sg" % uuid.uuid4().hex[:4]
        sh(EMUHOST, "up", self.home)
        self.lab = Lab({"netns": "lnmol-fleetbench", "run_dir": str(work / "lab"), "udev": False, "max_life": 3600,
                        "bridges": [{"name": "mgmt", "addresses": ["10.88.0.254/24"]}, {"name": "data"}],
                        "guests": [{"name": name, "mgmt": "10.88.0.%d/24" % (10 + index), "mem": "384M",
                                    "nics": [{"bridge": "mgmt"}, {"bridge": "data"}]}
                                   for index, name in enumerate(names, start=1)]},
                       enter=[EMUHOST, "exec", self.home])
        self.env = self.lab.ansible_env()
        try:
            self.lab.up()
            self.lab.wait()
        except BaseException:
            self.close()
            raise
        self.connections = {name: self.lab.ansible_vars(name) for name in names}

    def namespaces_left(self) -> List[str]:
        return [name for name in self.connections if self.lab.ssh(name, "ip", "netns", "list").stdout.strip()]

    def close(self) -> None:
        try:
            self.lab.down()
        finally:
            sh(EMUHOST, "down", self.home, check=False)


def playbook(args: argparse.Namespace, fleet: Fleet, inventory: str, book: str, label: str,
             *extra: str) -> Dict[str, Any]:
    out = Path(tempfile.mkstemp(prefix="lnfb-timing-", dir=args.work)[1])
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", **fleet.env)
    env.update(ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="fleet_timing",
               FLEET_TIMING_OUT=str(out), ANSIBLE_FORKS=str(args.forks),
               ANSIBLE_PIPELINING="1" if args.pipelining else "0")
    if args.collection:
        env["ANSIBLE_COLLECTIONS_PATH"] = args.collection
    start = time.perf_counter()
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", inventory, book, *extra],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("fleet benchmark: %s failed (rc %d)\n%s%s" % (label, proc.returncode, proc.stdout[-4000:],
                                                                       proc.stderr[-2000:]))
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    hosts = sorted({row["host"] for row in rows}) or ["-"]
    ran = [row for row in rows if row["status"] != "skipped"]
    engine = sum(row["seconds"] for row in rows if row["action"] in ("linuxnet.macvlan.topology", "topology")
                 and row["status"] != "skipped")
    total = sum(row["seconds"] for row in rows)
    changed = sum(1 for row in rows if row["changed"])
    per_task: Dict[str, List[float]] = {}
    for row in rows:
        per_task.setdefault("%s [%s]" % (row["task"], row["status"]), []).append(row["seconds"])
    return {"per_task": {name: sum(values) / len(hosts) for name, values in per_task.items()},
            "label": label, "wall": wall, "hosts": len(hosts), "tasks": len(ran) / len(hosts),
            "skipped": (len(rows) - len(ran)) / len(hosts), "total": total, "engine": engine, "changed": changed,
            "tasks_run": sorted({row["task"] for row in ran})}


def report(results: List[Dict[str, Any]], reference: Dict[str, Any], enforce: bool) -> bool:
    print("\n%-10s %8s %12s %14s %14s %8s %10s" % ("run", "wall s", "tasks/host", "task host-s",
                                                   "topology host-s", "ratio", "changed"))
    for item in results + [reference]:
        ratio = item["total"] / item["engine"] if item["engine"] else float("nan")
        print("%-10s %8.1f %6.1f (+%.1f) %14.2f %14.2f %8.2f %10d" % (
            item["label"], item["wall"], item["tasks"], item["skipped"], item["total"], item["engine"], ratio,
            item["changed"]))
    ok = True
    fixed = reference["total"]
    print("\ntargets (host-seconds; 'a fixed %d tasks per host' = the 3-task playbook, %.2f host-s):" % (
        FIXED_TASKS, fixed))
    for item in results:
        if item["label"] not in ("no-op", "build"):
            continue
        budget = max(NOOP_FACTOR * item["engine"], fixed) * (BUILD_FACTOR if item["label"] == "build" else 1.0)
        met = item["total"] <= budget
        ok = ok and met
        print("  %-8s %.2f <= %s max(%.0f x %.2f, %.2f) = %.2f  %s" % (
            item["label"], item["total"], "%.0f x " % BUILD_FACTOR if item["label"] == "build" else "",
            NOOP_FACTOR, item["engine"], fixed, budget, "met" if met else ("MISSED" if enforce else "missed (smoke)")))
    return ok or not enforce


def bench(args: argparse.Namespace, fleet: Fleet, site: str, ping: str) -> bool:
    """The reference, a build, a no-op and a teardown on one fleet; True when its targets hold."""
    print("\n=== %s: %d hosts" % (fleet.label, len(fleet.connections)))
    inventory = fleet.inventory()
    reference = playbook(args, fleet, inventory, ping, "3 tasks")
    build = playbook(args, fleet, inventory, site, "build")
    noop = playbook(args, fleet, inventory, site, "no-op")
    if noop["changed"]:
        raise SystemExit("fleet benchmark: the second site.yml changed %d task(s)" % noop["changed"])
    runs = [build, noop]
    leftovers: List[str] = []
    if not args.collection:  # an older copy may have no teardown switch (0.1.0's fails)
        runs.append(playbook(args, fleet, inventory, site, "teardown", "-e", "site_state=absent"))
        leftovers = fleet.namespaces_left()
    ok = report(runs, reference, enforce=not args.smoke and not args.collection)
    for item in runs:
        print("\n%s, seconds per host:" % item["label"])
        for name, seconds in sorted(item["per_task"].items(), key=lambda pair: -pair[1]):
            print("  %6.3f  %s" % (seconds, name))
    if leftovers:
        print("teardown left namespaces on %d host(s)" % len(leftovers))
        ok = False
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50, help="emulated hosts (0: none)")
    parser.add_argument("--guests", type=int, default=3, help="User-mode Linux guests over SSH (0: none)")
    parser.add_argument("--smoke", action="store_true", help="5 emulated hosts; targets printed, not enforced")
    parser.add_argument("--forks", type=int, default=5, help="Ansible's forks (its default: 5)")
    parser.add_argument("--no-pipelining", dest="pipelining", action="store_false")
    parser.add_argument("--collection", help="a collections path holding another linuxnet.macvlan to compare")
    args = parser.parse_args()
    if args.smoke:
        args.hosts = min(args.hosts, 5)
    if os.geteuid() != 0:
        raise SystemExit("fleet benchmark: needs root (network and mount namespaces)")
    args.work = tempfile.mkdtemp(prefix="lnfb-")
    site = str(ROOT / "playbooks" / "site.yml")
    if args.collection:
        site = str(Path(args.collection) / "ansible_collections" / "linuxnet" / "macvlan" / "playbooks" / "site.yml")
    ping = Path(args.work) / "three-tasks.yml"
    ping.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n" + "".join(
        "    - name: Task %d\n      ansible.builtin.ping:\n" % index for index in range(1, FIXED_TASKS + 1)))
    print("fleet benchmark: %d emulated hosts, %d guests over SSH, forks=%d, pipelining %s, site.yml from %s" % (
        args.hosts, args.guests, args.forks, "on" if args.pipelining else "off", site))
    ok = True
    try:
        for make, count in ((EmulatedFleet, args.hosts), (GuestFleet, args.guests)):
            if count <= 0:
                continue
            fleet = make(count, Path(args.work))
            try:
                ok = bench(args, fleet, site, str(ping)) and ok
            finally:
                fleet.close()
        return 0 if ok else 1
    finally:
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
