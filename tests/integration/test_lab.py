"""The lab, the README's main job, end to end through ansible-playbook: playbooks/lab.yml builds
every scenario of the user guide in emulated hosts (inventory playbooks/inventory/lab.yml),
playbooks/verify.yml prints the connectivity matrix next to the documented behaviour.

On the host: `--check --diff` on a clean machine (the plan; nothing left behind), the build, a
second build (changed=0 on every host), the matrix, an independent read-back of every layout
from the kernel and an independent ping of every check, the teardown (nothing left) and a
second teardown (changed=0). Hosts whose layout needs 8021q (group needs_8021q: vepa_hairpin)
go to the User-mode Linux lane when this kernel lacks it, as scripts/lab.sh does: a guest
builds them and prints their matrix (one ansible-playbook run), runs the layout again in check
mode (the topology module with the host's document: no change planned; a whole second
ansible-playbook run would cost minutes there) and the same read-back; the guest's end is its
teardown. The lane runs while the host lane does. Check mode, the second run and the teardown
of the lab's own plays, the same for every host, are proved on the host.

Run as a script inside a guest: `python tests/integration/test_lab.py readback PREFIX HOST...`
prints the read-back's problems as JSON."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"
INVENTORY = ROOT / "playbooks" / "inventory"
EMUHOST = str(ROOT / "scripts" / "lab" / "emuhost")
UML_RUN = str(ROOT / "scripts" / "uml" / "uml-run")
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_PIPELINING="1",
           ANSIBLE_FORKS="10", PYTHONUNBUFFERED="1")

pytestmark = pytest.mark.host_lane_only(
    "drives the User-mode Linux lane itself for the 8021q hosts; ansible-playbook costs ~1 min a run under UML")

# The documented behaviour (scenario, from, to, expected): playbooks/verify.yml must print each
# row with "observed" equal to "expected" and OK, and nothing else.
HOST_MATRIX = [
    ("two_hosts", "net1", "net2 macvlan4 192.168.10.6", "reachable"),
    ("two_hosts", "net2", "net1 macvlan3 192.168.10.5", "reachable"),
    ("two_hosts", "test_server", "172.16.10.5 (net1 namespace1)", "reachable"),
    ("two_hosts", "test_server", "172.16.10.6 (net1 macvlan2)", "reachable"),
    ("two_hosts", "switch ARP vlan10", "172.16.10.5 (namespace1)", "macvlan1's MAC"),
    ("two_hosts", "switch ARP vlan10", "172.16.10.6", "macvlan2's MAC"),
    ("two_hosts", "switch ARP vlan10", "172.16.10.2 (eth0)", "eth0's MAC"),
    ("two_hosts", "switch FDB eth1lan", "net1 macvlan3", "learned"),
    ("two_hosts", "switch FDB eth1lan", "net2 macvlan4", "learned"),
    ("private_static_neighbors", "ns1", "ns4 192.168.9.4 (no static neighbors)", "unreachable"),
    ("private_static_neighbors", "ns1", "ns2 192.168.9.3 (static neighbors)", "reachable"),
    ("bridge_lan", "ns4", "ns5 10.138.36.3", "reachable"),
    ("bridge_lan", "ns4", "peer 10.138.36.66 (same LAN)", "reachable"),
    ("bridge_lan", "ns4", "10.138.10.161 (via gateway)", "reachable"),
    ("bridge_lan", "host (eno2 10.138.36.58)", "ns4 10.138.36.2 (its child)", "unreachable"),
    ("bridge_lan", "ns4", "host 10.138.36.58 (its parent)", "unreachable"),
    ("bridge_vs_vepa", "macvlan2_ns", "macvlan3_ns 100.0.0.3", "reachable"),
    ("bridge_vs_vepa", "macvlan3_ns", "macvlan2_ns 100.0.0.2", "reachable"),
    ("bridge_vs_vepa", "macvlan2_ns", "itself 100.0.0.2 (lo down)", "unreachable"),
    ("bridge_vs_vepa", "macvlan3_ns", "itself 100.0.0.3 (lo down)", "unreachable"),
    ("bridge_vs_vepa", "macvlan4_ns", "macvlan5_ns 100.0.0.5 (no hairpin)", "unreachable"),
    ("host_access_shim", "ns1", "ns2 192.168.56.123", "reachable"),
    ("host_access_shim", "host via enp0s8", "ns1 192.168.56.122", "unreachable"),
    ("host_access_shim", "host (shim-enp0s8)", "ns1 192.168.56.122", "reachable"),
    ("host_access_shim", "host (shim-enp0s8)", "ns2 192.168.56.123", "reachable"),
    ("bridge_containers", "ns1", "ns2 10.0.0.3", "reachable"),
    ("bridge_containers", "ns2", "ns1 10.0.0.2", "reachable"),
]
VEPA_MATRIX = [
    ("vepa_hairpin", "ns1 (VLAN 11)", "ns2 192.168.9.3 (same parent)", "reachable"),
    ("vepa_hairpin", "ns1 ARP table", "192.168.9.3", "macvl2's MAC"),
    ("vepa_hairpin", "ns1 (VLAN 11)", "ns5 192.168.9.5 (veth2.11)", "reachable"),
    ("vepa_hairpin", "ns3 (VLAN 12)", "ns5 192.168.9.5 (VLAN 11)", "unreachable"),
]
ROLE_HOSTS = ["two_hosts_net1", "two_hosts_net2", "private_static_neighbors", "bridge_lan", "bridge_vs_vepa",
              "host_access_shim", "bridge_containers"]
VEPA_HOSTS = ["vepa_hairpin"]
PEERS = ["two_hosts_test_server", "bridge_lan_peer"]


# -- running the playbooks -------------------------------------------------------------------
def playbook(*args: str) -> Tuple[subprocess.CompletedProcess, Dict[str, int]]:
    start = time.monotonic()
    # niced: the User-mode Linux lane, running meanwhile, is the longer path
    proc = subprocess.run(["nice", "-n", "10", str(PLAYBOOK), *args], cwd=str(ROOT), env=ENV, capture_output=True,
                          text=True, timeout=900, check=False)
    print("%5.1fs ansible-playbook %s" % (time.monotonic() - start, " ".join(args)))
    return proc, recap(proc.stdout)


def recap(out: str) -> Dict[str, int]:
    """host -> changed, from the PLAY RECAP."""
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", out, re.M)}


def matrix(out: str) -> List[Tuple[str, ...]]:
    """The rows verify.yml printed: (scenario, from, to, expected, observed, result)."""
    rows = []
    for line in re.findall(r'^\s+"(.*)",?$', out, re.M):
        cells = tuple(cell.strip() for cell in line.split(" | "))
        if len(cells) == 6 and cells[0] != "scenario":
            rows.append(cells)
    return rows


def assert_matrix(out: str, expected: List[Tuple[str, str, str, str]]) -> None:
    rows = matrix(out)
    assert sorted(rows) == sorted(row + (row[3], "OK") for row in expected), "\n".join(" | ".join(r) for r in rows)
    assert "%d checks, 0 mismatches" % len(expected) in out


def left_behind(prefix: str) -> List[str]:
    """Switch namespaces and emulated hosts (and their files) of this prefix still on the machine."""
    found = [name for name in os.listdir("/run/netns") if name.startswith(prefix + "_")] if os.path.isdir(
        "/run/netns") else []
    if os.path.isdir("/run/lnemu"):
        found += [name for name in os.listdir("/run/lnemu") if name.startswith(prefix + "_")]
    return sorted(found)


def output(proc: subprocess.CompletedProcess) -> str:
    return (proc.stdout[-6000:] + proc.stderr[-3000:])


# -- independent read-back: the kernel, not the modules or verify.yml -------------------------
def host_vars(host: str) -> Dict[str, Any]:
    return yaml.safe_load((INVENTORY / "host_vars" / ("%s.yml" % host)).read_text()) or {}


def in_host(prefix: str, host: str, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run([EMUHOST, "exec", "%s_%s" % (prefix, host), *cmd], capture_output=True, text=True,
                          check=False, timeout=60)


def link_info(prefix: str, host: str, name: str, netns: Any = None) -> Dict[str, Any]:
    where = ("-n", netns) if netns else ()
    proc = in_host(prefix, host, "ip", *where, "-j", "-d", "addr", "show", "dev", name)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 and proc.stdout.strip() else {}


def ping(prefix: str, host: str, check: Dict[str, Any]) -> str:
    deadline = os.environ.get("PROBE_DEADLINE", "3")  # as scripts/lab/probe
    cmd = ["ping", "-n", "-q", "-c", "1", "-i", "0.2", "-w", deadline] + (["-I", check["dev"]] if "dev" in check else [])
    if "netns" in check:
        cmd = ["ip", "netns", "exec", check["netns"]] + cmd
    return "reachable" if in_host(prefix, host, *cmd, check["ping"]).returncode == 0 else "unreachable"


def readback(prefix: str, hosts: List[str]) -> List[str]:
    """Every namespace, link (kind, mode, VLAN id, addresses, MAC) and bridge port (hairpin) of each
    host's layout, and the host-access shim, read back with `ip -j`; every ping check pinged
    again. Returns the problems."""
    problems: List[str] = []
    pings = []
    for host in hosts:
        variables = host_vars(host)
        layout = variables.get("macvlan_topology") or {}
        # each host has a namespace registry of its own: exactly its layout's namespaces
        registry = sorted(line.split()[0] for line in in_host(prefix, host, "ip", "netns", "list").stdout.splitlines())
        if registry != sorted(namespace["name"] for namespace in layout.get("namespaces", [])):
            problems.append("%s: namespaces %s" % (host, registry))
        for link in layout.get("links", []):
            info = link_info(prefix, host, link["name"], link.get("netns"))
            where = "%s: %s%s" % (host, link["name"], " in " + link["netns"] if link.get("netns") else "")
            if not info:
                problems.append(where + ": missing")
                continue
            data = info.get("linkinfo", {}).get("info_data", {})
            if info.get("linkinfo", {}).get("info_kind") != link["kind"]:
                problems.append("%s: kind %s" % (where, info.get("linkinfo", {}).get("info_kind")))
            if link["kind"] == "macvlan" and data.get("mode") != link["mode"]:
                problems.append("%s: mode %s, not %s" % (where, data.get("mode"), link["mode"]))
            if link["kind"] == "vlan" and data.get("id") != link["vlan_id"]:
                problems.append("%s: VLAN id %s" % (where, data.get("id")))
            if link.get("macaddress") and info.get("address") != link["macaddress"]:
                problems.append("%s: MAC %s" % (where, info.get("address")))
            have = {"%s/%s" % (a["local"], a["prefixlen"]) for a in info.get("addr_info", [])}
            if set(link.get("addresses", [])) - have:
                problems.append("%s: addresses %s" % (where, sorted(have)))
        for port in layout.get("bridge_ports", []):
            info = link_info(prefix, host, port["name"], port.get("netns"))
            slave = info.get("linkinfo", {}).get("info_slave_data", {})
            if info.get("master") != port["bridge"] or slave.get("hairpin") is not port.get("hairpin", False):
                problems.append("%s: port %s: master %s, hairpin %s" % (host, port["name"], info.get("master"),
                                                                        slave.get("hairpin")))
        for access in variables.get("macvlan_topology_host_access") or []:
            shim = link_info(prefix, host, "shim-%s" % access["parent"])
            if shim.get("linkinfo", {}).get("info_data", {}).get("mode") != "bridge":
                problems.append("%s: no bridge-mode shim-%s" % (host, access["parent"]))
        pings += [(host, check) for check in variables.get("lab_checks", []) if "ping" in check]
    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = list(pool.map(lambda item: ping(prefix, *item), pings))
    for (host, check), here in zip(pings, seen):
        if here != check["expect"]:
            problems.append("%s: %s -> %s: %s, expected: %s" % (host, check["from"], check["to"], here, check["expect"]))
    return problems


# -- the User-mode Linux lane ------------------------------------------------------------------
LANE_SCRIPT = r"""
set -u
cd {root}
export PROBE_DEADLINE=5  # a loaded guest answers slowly
echo "=== STEP build"
{playbook} playbooks/lab.yml playbooks/verify.yml -e lab_prefix={prefix} --limit needs_8021q
echo "=== RC build $?"
echo "=== STEP again"
{ansible} needs_8021q -e lab_prefix={prefix} --check -m linuxnet.macvlan.topology -a '{{"state": "overridden",
  "namespaces": "{{{{ macvlan_topology.namespaces | default([]) }}}}", "links": "{{{{ macvlan_topology.links | default([]) }}}}",
  "bridge_ports": "{{{{ macvlan_topology.bridge_ports | default([]) }}}}"}}'
echo "=== RC again $?"
echo "=== READBACK $({python} tests/integration/test_lab.py readback {prefix} {hosts})"
"""


def start_lane(prefix: str, tmp_path: Path) -> subprocess.Popen:
    script = tmp_path / "lane.sh"
    script.write_text(LANE_SCRIPT.format(root=ROOT, playbook=PLAYBOOK, ansible=PLAYBOOK.parent / "ansible",
                                         prefix=prefix, python=sys.executable, hosts=" ".join(VEPA_HOSTS)))
    # a session of its own: stop_lane() can end every process of it (the guest included)
    return subprocess.Popen([UML_RUN, "--timeout", "900", "--", "bash", str(script)], cwd=str(ROOT), env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def stop_lane(lane: subprocess.Popen) -> None:
    """End the lane's processes: those of the session it started (by their ids)."""
    for entry in os.listdir("/proc"):
        try:
            stat = Path("/proc/%s/stat" % entry).read_text()
        except (OSError, ValueError):
            continue
        if entry.isdigit() and int(stat.rsplit(")", 1)[1].split()[3]) == lane.pid:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
    lane.communicate()


def lane_steps(out: str) -> Dict[str, str]:
    """STEP name -> its output (up to its RC line)."""
    return dict(re.findall(r"^=== STEP (\w+)\n(.*?)^=== RC \1 ", out, re.M | re.S))


def check_lane(out: str) -> None:
    steps = lane_steps(out)
    assert re.search(r"^=== RC build 0$", out, re.M), out[-6000:]
    assert all(count > 0 for count in recap(steps["build"]).values()), steps["build"][-3000:]
    assert_matrix(steps["build"], VEPA_MATRIX)
    # The second run, for the layout (a whole second ansible-playbook run costs minutes there):
    # the topology module with the host's document, as the role calls it, plans no change.
    assert re.search(r"^=== RC again 0$", out, re.M), steps.get("again", out[-3000:])
    assert re.search(r'^vepa_hairpin \| SUCCESS => \{\s*"actions": \[\],\s*"changed": false', steps["again"], re.M), \
        steps["again"][-3000:]
    problems = json.loads(re.search(r"^=== READBACK (.*)$", out, re.M).group(1))
    assert problems == [], problems


# -- the test ------------------------------------------------------------------------------------
def test_lab_check_build_rebuild_verify_teardown(tmp_path: Path) -> None:
    from conftest import kernel_has  # pylint: disable=import-outside-toplevel

    started = time.monotonic()
    prefix = "lnlab%s" % uuid.uuid4().hex[:4]
    extra = ["-e", "lab_prefix=%s" % prefix]
    lane = None
    host_matrix, role_hosts, limit = HOST_MATRIX, ROLE_HOSTS, ["--limit", "!needs_8021q"]
    if kernel_has("8021q"):
        host_matrix, role_hosts, limit = HOST_MATRIX + VEPA_MATRIX, ROLE_HOSTS + VEPA_HOSTS, []
    else:
        lane = start_lane(prefix, tmp_path)
    lab = [str(ROOT / "playbooks" / "lab.yml"), *limit, *extra]
    passed = False
    try:
        assert left_behind(prefix) == []
        proc, changed = playbook(*lab, "--check", "--diff")
        assert proc.returncode == 0, output(proc)
        for host in role_hosts:
            assert changed[host] > 0, (host, changed)
        plan = proc.stdout
        assert '"name": "namespace1"' in plan and '"name": "shim-enp0s8"' in plan, "the diff shows the plan"
        assert '"hairpin": true' in plan and '"lladdr": "82:a3:b5:0f:fc:0c"' in plan
        assert left_behind(prefix) == [], "check mode left the sandbox behind"

        proc, changed = playbook(*lab)
        assert proc.returncode == 0, output(proc)
        assert all(changed[host] > 0 for host in role_hosts + PEERS), changed

        proc, changed = playbook(*lab)
        assert proc.returncode == 0, output(proc)
        assert changed == {host: 0 for host in role_hosts + PEERS}, "the second run changed something: %s" % changed

        proc, _changed = playbook(str(ROOT / "playbooks" / "verify.yml"), *limit, *extra)
        assert proc.returncode == 0, "\n".join(line for line in proc.stdout.splitlines() if "MISMATCH" in line) \
            or output(proc)
        assert_matrix(proc.stdout, host_matrix)
        assert readback(prefix, role_hosts + PEERS) == []

        proc, changed = playbook(*lab, "-e", "lab_state=absent")
        assert proc.returncode == 0, output(proc)
        assert left_behind(prefix) == []
        proc, changed = playbook(*lab, "-e", "lab_state=absent")
        assert proc.returncode == 0 and set(changed.values()) == {0}, output(proc)
        passed = True
    finally:
        if left_behind(prefix):
            playbook(*lab, "-e", "lab_state=absent")
        for name in left_behind(prefix):  # what even the teardown left
            if name.endswith(".mnt"):
                subprocess.run([EMUHOST, "down", name[:-len(".mnt")]], check=False)
            elif os.path.exists("/run/netns/%s" % name):
                subprocess.run(["ip", "netns", "del", name], check=False)
        for name in left_behind(prefix):
            subprocess.run(["rm", "-rf", "/run/lnemu/%s" % name], check=False)
        if lane is not None and not passed:
            stop_lane(lane)
    if lane is not None:
        out = lane.communicate(timeout=900)[0]
        print("%5.1fs the User-mode Linux lane (from the start)" % (time.monotonic() - started))
        assert lane.returncode == 0, out[-6000:]
        check_lane(out)


def test_check_diff_shows_the_planned_change_without_touching_anything(tmp_path: Path) -> None:
    """A module task in --check --diff: the predicted diff, nothing created."""
    name = "lnlt%s" % uuid.uuid4().hex[:6]
    play = tmp_path / "plan.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: A namespace\n      linuxnet.macvlan.netns:\n        name: %s\n"
        "        sysctls: {net.ipv4.conf.all.arp_ignore: 1}\n" % name)
    proc, _changed = playbook(str(play), "--check", "--diff")
    assert proc.returncode == 0, output(proc)
    assert "changed: [localhost]" in proc.stdout
    assert '+    "name": "%s"' % name in proc.stdout
    assert '"net.ipv4.conf.all.arp_ignore": "1"' in proc.stdout
    assert not os.path.exists("/run/netns/%s" % name)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "readback":
        print(json.dumps(readback(sys.argv[2], sys.argv[3:])))
    else:
        sys.exit("usage: %s readback PREFIX HOST..." % sys.argv[0])
