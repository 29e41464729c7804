"""playbooks/site.yml and the macvlan_topology role across a small fleet of emulated hosts.

Each inventory host is a network namespace with its own "eth1" plugged into a bridge (the
switch) in the sandbox; Ansible reaches a host by running its Python inside that namespace."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.host_lane_only("ansible-playbook runs ~50 s each under UML; nothing here needs its kernel")

SITE = str(ROOT / "playbooks" / "site.yml")


EMUHOST = str(ROOT / "scripts" / "lab" / "emuhost")


def emu(host, *cmd, check=True):
    """Run a command inside an emulated host (its network, its own /run/netns)."""
    return subprocess.run([EMUHOST, "exec", host, *cmd], check=check, capture_output=True, text=True).stdout


def links(host, child=None):
    cmd = ("ip", "-n", child) if child else ("ip",)
    return {entry["ifname"]: entry for entry in json.loads(emu(host, *cmd, "-j", "-d", "link", "show") or "[]")}


def ping(host, address, child=None, count=1):
    prefix = ("ip", "netns", "exec", child) if child else ()
    return subprocess.run([EMUHOST, "exec", host, *prefix, "ping", "-c", str(count), "-W", "1", address],
                          check=False, capture_output=True).returncode == 0


def namespaces(host):
    return emu(host, "ip", "netns", "list").split()


@pytest.fixture
def fleet(sandbox, tmp_path):
    """Hosts net1/net2 (seed 000) and net3: eth1 each, on one switch; returns (inventory writer,
    names); an inventory holds the hosts given a layout.
    Each emulated host has its own namespace registry, so one host's `overridden` or
    `absent` never sees another's namespaces."""
    sandbox.ip("link", "add", "sw", "type", "bridge")
    sandbox.ip("link", "set", "sw", "up")
    hosts = {host: {"netns": sandbox.ns(host), "child": "ns%d" % index}
             for index, host in enumerate(("net1", "net2", "net3"), start=1)}

    def inventory(host_vars, extra=None):
        data = {"all": {"hosts": {}, "vars": {
            "ansible_connection": "local",
            # persistence (a systemd unit) is proved by a real reboot in test_reboot.py
            "macvlan_topology_persist": False,
            # pyroute2 is in the interpreter: a failed lookup must fail, not install on the machine
            "macvlan_topology_install_pyroute2": False,
            "macvlan_topology_group": {"links": [{"kind": "macvlan", "name": "macvlan1", "parent": "eth1",
                                                  "mode": "bridge"}]}}}}
        for host, info in hosts.items():
            if host not in host_vars:
                continue
            wrapper = subprocess.run([EMUHOST, "python", info["netns"]], check=True, capture_output=True,
                                     text=True).stdout.strip()
            data["all"]["hosts"][host] = dict(ansible_python_interpreter=wrapper, macvlan_topology=host_vars[host],
                                              **(extra or {}).get(host, {}))
        path = tmp_path / "inventory.json"
        path.write_text(json.dumps(data))
        return str(path)
    try:
        for host, info in hosts.items():
            subprocess.run([EMUHOST, "up", info["netns"]], check=True)
            subprocess.run([EMUHOST, "plug", info["netns"], "eth1", "%sp" % host, sandbox.net_path], check=True)
            sandbox.ip("link", "set", "%sp" % host, "master", "sw", "up")
            emu(info["netns"], "ip", "link", "set", "eth1", "up")
        yield inventory, hosts
    finally:
        for info in hosts.values():
            subprocess.run([EMUHOST, "down", info["netns"]], check=False)


def site(inventory, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", inventory, SITE, *extra],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600, check=False)
    changed = {host: int(count) for host, count in re.findall(r"(net\d)\s+: ok=\d+\s+changed=(\d+)", proc.stdout)}
    proc.failed = {host: int(count) for host, count in re.findall(r"(net\d)\s+: ok=\d+.*failed=(\d+)", proc.stdout)}
    return proc, changed


def layout(hosts, host, last_octet):
    child = hosts[host]["child"]
    return {"namespaces": [{"name": child}],
            "links": [{"name": "macvlan1", "addresses": ["192.168.56.%d/24" % last_octet]},
                      {"kind": "macvlan", "name": "macvlan2", "parent": "eth1", "mode": "bridge", "netns": child,
                       "addresses": ["192.168.56.%d/24" % (last_octet + 10)]}]}


def untouched(hosts, *names):
    for name in names:
        netns = hosts[name]["netns"]
        assert "macvlan1" not in links(netns), name
        assert namespaces(netns) == [], name
        assert emu(netns, "ls", "/etc/sysctl.d") == "", name


def test_conflict_fails_only_its_hosts_before_any_host_is_touched_and_limit_cannot_hide_it(fleet):
    inventory, hosts = fleet
    path = inventory({"net1": layout(hosts, "net1", 11), "net2": layout(hosts, "net2", 11),
                      "net3": layout(hosts, "net3", 13)})
    proc, _changed = site(path)
    assert proc.returncode != 0
    assert "address 192.168.56.11 is claimed by net1 (macvlan_topology.links[0].addresses[0]) and net2 " \
           "(macvlan_topology.links[0].addresses[0])" in proc.stdout
    assert "address 192.168.56.21 is claimed by net1" in proc.stdout, "every conflict at once"
    # the two hosts in the conflict fail; the bystander does not, and nobody is changed
    assert proc.failed == {"net1": 1, "net2": 1, "net3": 0}, proc.stdout[-3000:]
    assert "fatal: [net3]" not in proc.stdout
    untouched(hosts, "net1", "net2", "net3")

    # --limit: the other side is outside the play, and still found (and named)
    for limit, other in (("net2", "net1"), ("net1", "net2")):
        alone, _changed = site(path, "--limit", limit)
        assert alone.returncode != 0 and alone.failed == {limit: 1}, alone.stdout[-3000:]
        assert "is claimed by net1 (macvlan_topology.links[0].addresses[0]) and net2" in alone.stdout
        assert other in alone.stdout
        untouched(hosts, "net1", "net2", "net3")
    check, _changed = site(path, "--limit", "net2", "--check")
    assert check.returncode != 0 and check.failed == {"net2": 1}, "check mode predicts the failure"

    # the bystander alone has no conflict: it is built
    bystander, changed = site(path, "--limit", "net3")
    assert bystander.returncode == 0 and changed == {"net3": 2}, bystander.stdout[-3000:]
    assert "macvlan1" in links(hosts["net3"]["netns"])
    untouched(hosts, "net1", "net2")


def test_preflight_fails_every_host_before_the_first_change(fleet):
    """Emulated hosts have no systemd (their /run is their own): persistence cannot work there.
    A missing parent, a link type, an ARP namespace that nothing creates: all found before any
    host changes, in check mode too, each on its own host; the others stop unchanged."""
    inventory, hosts = fleet
    net2 = layout(hosts, "net2", 12)
    net2["links"].append({"kind": "macvlan", "name": "mv9", "parent": "eth9", "mode": "bridge"})
    net3 = dict(layout(hosts, "net3", 13), bridge_ports=[])
    layouts = {"net1": layout(hosts, "net1", 11), "net2": net2, "net3": net3}
    extra = {"net1": {"macvlan_topology_persist": True},
             "net2": {"arp_sysctl_namespaces": [{"name": "ns2"}, {"name": "ghost"}]}}
    path = inventory(layouts, extra)
    for flags in ((), ("--check",)):
        proc, changed = site(path, *flags)
        assert proc.returncode != 0, proc.stdout[-3000:]
        assert proc.failed == {"net1": 1, "net2": 1, "net3": 0}, proc.stdout[-4000:]
        assert "persistence needs systemd as the init system (no /run/systemd/system)" in proc.stdout
        assert "eth9" in proc.stdout, "the engine in check mode finds the missing parent"
        assert "arp_sysctl_namespaces: no network namespace ghost on net2" in proc.stdout
        assert "ns2" not in re.findall(r"no network namespace (\S+)", proc.stdout), "the layout creates ns2"
        assert set(changed.values()) == {0}
        untouched(hosts, "net1", "net2", "net3")

    # without those problems the same fleet is built, ARP keys inside ns2 included
    extra = {"net2": {"arp_sysctl_namespaces": [{"name": "ns2", "interfaces": ["all", "default", "macvlan2"]}]}}
    path = inventory({"net1": layout(hosts, "net1", 11), "net2": layout(hosts, "net2", 12)}, extra)
    check, predicted = site(path, "--check")
    assert check.returncode == 0 and predicted == {"net1": 2, "net2": 2}, check.stdout[-4000:]
    proc, changed = site(path)
    assert proc.returncode == 0 and changed == {"net1": 2, "net2": 2}, proc.stdout[-4000:]
    assert emu(hosts["net2"]["netns"], "ip", "netns", "exec", "ns2", "cat",
               "/proc/sys/net/ipv4/conf/macvlan2/arp_ignore").strip() == "1"


ARP_KEYS = ("arp_ignore", "arp_announce", "rp_filter")


def arp_values(netns, ifname="all", child=None):
    prefix = ("ip", "netns", "exec", child) if child else ()
    return [emu(netns, *prefix, "cat", "/proc/sys/net/ipv4/conf/%s/%s" % (ifname, key)).strip() for key in ARP_KEYS]


def test_one_switch_tears_down_both_roles_and_restores_the_sysctls_found(fleet):
    inventory, hosts = fleet
    net1 = hosts["net1"]["netns"]
    emu(net1, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1")  # a value of the host's own, to be given back
    found = arp_values(net1), arp_values(net1, "default")
    assert found[0] == ["0", "0", "1"]
    extra = {"net1": {"arp_sysctl_namespaces": [{"name": "ns1"}]}}
    path = inventory({"net1": layout(hosts, "net1", 11), "net2": layout(hosts, "net2", 12)}, extra)
    proc, _changed = site(path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert arp_values(net1) == ["1", "2", "2"] and arp_values(net1, child="ns1") == ["1", "2", "2"]
    assert '"net.ipv4.conf.all.rp_filter": "1"' in emu(net1, "cat", "/etc/sysctl.d/60-linuxnet-arp.conf.before")

    # 0.1.0's teardown (the layout only) would remove ns1 before arp_sysctl sets keys in it: the
    # pre-flight says so and points to the switch, before anything changes
    layout_only, _changed = site(path, "-e", "macvlan_topology_state=absent")
    assert layout_only.returncode != 0 and layout_only.failed == {"net1": 1, "net2": 0}, layout_only.stdout[-3000:]
    assert "arp_sysctl_namespaces: ns1 would be removed by macvlan_topology_state=absent" in layout_only.stdout
    assert "-e site_state=absent" in layout_only.stdout and namespaces(net1) == ["ns1"]

    # check mode of the teardown predicts it and changes nothing
    check, predicted = site(path, "--check", "--diff", "-e", "site_state=absent")
    assert check.returncode == 0 and predicted == {"net1": 2, "net2": 2}, check.stdout[-4000:]
    assert arp_values(net1) == ["1", "2", "2"] and namespaces(net1) == ["ns1"]

    gone, changed = site(path, "-e", "site_state=absent")
    assert gone.returncode == 0 and changed == {"net1": 2, "net2": 2}, gone.stdout[-4000:]
    assert (arp_values(net1), arp_values(net1, "default")) == found, "the values found before are back"
    for name in ("net1", "net2"):
        assert namespaces(hosts[name]["netns"]) == [] and "macvlan1" not in links(hosts[name]["netns"])
        assert emu(hosts[name]["netns"], "ls", "/etc/sysctl.d") == "", "the role's files are gone"
    again, changed = site(path, "-e", "site_state=absent")
    assert again.returncode == 0 and changed == {"net1": 0, "net2": 0}, again.stdout[-4000:]
    recheck, changed = site(path, "--check", "-e", "site_state=absent")
    assert recheck.returncode == 0 and changed == {"net1": 0, "net2": 0}, recheck.stdout[-4000:]


def test_site_builds_each_host_from_inventory_and_hosts_reach_each_other(fleet):
    inventory, hosts = fleet
    net1, net2 = hosts["net1"]["netns"], hosts["net2"]["netns"]
    path = inventory({"net1": layout(hosts, "net1", 11), "net2": layout(hosts, "net2", 12)})
    check, predicted = site(path, "--check", "--diff")
    # one topology task, then one net_sysctls task (arp_sysctl)
    assert check.returncode == 0 and predicted == {"net1": 2, "net2": 2}, check.stdout[-3000:]
    assert "macvlan1" not in links(net1), "check mode changed nothing"

    proc, changed = site(path)
    assert proc.returncode == 0 and changed == {"net1": 2, "net2": 2}, proc.stdout[-3000:] + proc.stderr[-2000:]
    # group entry (kind, parent, mode) merged with the host's address
    mac = links(net1)["macvlan1"]
    assert mac["linkinfo"]["info_data"]["mode"] == "bridge" and mac["link"] == "eth1"
    # seed 000's ARP sysctls, in each host's namespace and in its own /etc/sysctl.d
    for host in (net1, net2):
        assert [emu(host, "cat", "/proc/sys/net/ipv4/conf/all/%s" % key).strip()
                for key in ("arp_ignore", "arp_announce", "rp_filter")] == ["1", "2", "2"]
        assert "net.ipv4.conf.all.arp_ignore=1" in emu(host, "cat", "/etc/sysctl.d/60-linuxnet-arp.conf")
    assert not os.path.exists("/etc/sysctl.d/60-linuxnet-arp.conf"), "the machine's own files are untouched"
    # each host's namespaces live in its own registry
    assert namespaces(net1) == ["ns1"] and namespaces(net2) == ["ns2"]
    # seed 000: macvlans on two hosts' eth1 in one subnet reach each other, and the one
    # moved into a namespace reaches the other host's
    assert ping(net1, "192.168.56.12")
    assert ping(net1, "192.168.56.22", child="ns1")
    assert ping(net2, "192.168.56.11", child="ns2")

    again, changed = site(path)
    assert again.returncode == 0 and changed == {"net1": 0, "net2": 0}, again.stdout[-3000:]


def test_host_access_shim_lets_the_host_reach_its_children_and_absent_removes_all(fleet):
    inventory, hosts = fleet
    net1, net2 = hosts["net1"]["netns"], hosts["net2"]["netns"]
    emu(net1, "ip", "addr", "add", "192.168.56.1/24", "dev", "eth1")  # the host's own NIC address
    own = {"namespaces": [{"name": "ns1"}],
           "links": [{"name": "macvlan1", "state": "absent"},  # the group's macvlan is not wanted here
                     {"kind": "macvlan", "name": "macvlan2", "parent": "eth1", "mode": "bridge", "netns": "ns1",
                      "addresses": ["192.168.56.21/24"]}]}
    layouts = {"net1": own, "net2": layout(hosts, "net2", 12)}
    proc, _changed = site(inventory(layouts))
    assert proc.returncode == 0, proc.stdout[-3000:]
    # seeds 000/003: the parent cannot reach its own macvlan child; the switch's other hosts can
    assert not ping(net1, "192.168.56.21")
    assert ping(net1, "192.168.56.12") and ping(net2, "192.168.56.21")

    shim = {"net1": {"macvlan_topology_host_access": [{"parent": "eth1", "address": "192.168.56.250/32"}]}}
    path = inventory(layouts, shim)
    proc, changed = site(path, "--diff")
    assert proc.returncode == 0 and changed == {"net1": 1, "net2": 0}, proc.stdout[-3000:]
    assert "shim-eth1" in proc.stdout, "the diff shows the shim"
    info = links(net1)["shim-eth1"]
    assert info["linkinfo"]["info_data"]["mode"] == "bridge" and info["link"] == "eth1"
    assert "192.168.56.21 proto static" in emu(net1, "ip", "route", "show", "dev", "shim-eth1")
    assert ping(net1, "192.168.56.21", count=2)
    again, changed = site(path)
    assert again.returncode == 0 and changed == {"net1": 0, "net2": 0}, again.stdout[-3000:]

    gone, _changed = site(path, "-e", "macvlan_topology_state=absent")
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert "shim-eth1" not in links(net1) and "macvlan1" not in links(net2)
    assert namespaces(net1) == [] and namespaces(net2) == []
    assert "eth1" in links(net1), "only what the collection created is removed"
