"""playbooks/site.yml and the macvlan_topology role across a small fleet (tests/fleets.py).

The pre-flight, the fleet check under --limit and the one teardown switch run on both kinds of
fleet: emulated hosts (network namespaces reached through an interpreter wrapper) and User-mode
Linux guests reached over SSH, one of them booted without systemd."""

from __future__ import annotations

import json
import os
import re

import pytest

from fleets import EmulatedFleet, GuestFleet

pytestmark = pytest.mark.host_lane_only("ansible-playbook runs ~50 s each under UML; nothing here needs its kernel")

BOTH = pytest.mark.parametrize("fleet", ["emulated", "guests"], indirect=True)


@pytest.fixture(params=["emulated"])
def fleet(request, sandbox, tmp_path):
    """Hosts net1, net2, net3, each with an eth1 on one switch; emulated unless a test asks
    for both (BOTH)."""
    made = (GuestFleet if request.param == "guests" else EmulatedFleet)(sandbox, tmp_path)
    try:
        yield made
    finally:
        made.close()


def layout(fleet, host, last_octet):
    child = fleet.hosts[host].child
    return {"namespaces": [{"name": child}],
            "links": [{"name": "macvlan1", "addresses": ["192.168.56.%d/24" % last_octet]},
                      {"kind": "macvlan", "name": "macvlan2", "parent": "eth1", "mode": "bridge", "netns": child,
                       "addresses": ["192.168.56.%d/24" % (last_octet + 10)]}]}


def untouched(fleet, *names):
    for name in names:
        host = fleet.hosts[name]
        assert "macvlan1" not in host.links(), name
        assert host.namespaces() == [], name
        assert host.sysctl_files() == host.sysctl_files_found, name


@BOTH
def test_conflict_fails_only_its_hosts_before_any_host_is_touched_and_limit_cannot_hide_it(fleet):
    path = fleet.inventory({"net1": layout(fleet, "net1", 11), "net2": layout(fleet, "net2", 11),
                            "net3": layout(fleet, "net3", 13)})
    proc, _changed = fleet.site(path)
    assert proc.returncode != 0
    assert "address 192.168.56.11 is claimed by net1 (macvlan_topology.links[0].addresses[0]) and net2 " \
           "(macvlan_topology.links[0].addresses[0])" in proc.stdout
    assert "address 192.168.56.21 is claimed by net1" in proc.stdout, "every conflict at once"
    # the two hosts in the conflict fail; the bystander does not, and nobody is changed
    assert proc.failed == {"net1": 1, "net2": 1, "net3": 0}, proc.stdout[-3000:]
    assert "fatal: [net3]" not in proc.stdout
    untouched(fleet, "net1", "net2", "net3")

    # --limit: the other side is outside the play, and still found (and named)
    for limit, other in (("net2", "net1"), ("net1", "net2")):
        alone, _changed = fleet.site(path, "--limit", limit)
        assert alone.returncode != 0 and alone.failed == {limit: 1}, alone.stdout[-3000:]
        assert "is claimed by net1 (macvlan_topology.links[0].addresses[0]) and net2" in alone.stdout
        assert other in alone.stdout
        untouched(fleet, "net1", "net2", "net3")
    check, _changed = fleet.site(path, "--limit", "net2", "--check")
    assert check.returncode != 0 and check.failed == {"net2": 1}, "check mode predicts the failure"

    # the bystander alone has no conflict: it is built
    bystander, changed = fleet.site(path, "--limit", "net3")
    assert bystander.returncode == 0 and changed == {"net3": 2}, bystander.stdout[-3000:]
    assert "macvlan1" in fleet.hosts["net3"].links()
    untouched(fleet, "net1", "net2")


@BOTH
def test_preflight_fails_every_host_before_the_first_change(fleet):
    """net1 has no systemd (emulated hosts have none; the guest net1 boots without it):
    persistence cannot work there. A missing parent, a link type, an ARP namespace that
    nothing creates: all found before any host changes, in check mode too, each on its own
    host; the others stop unchanged."""
    net2 = layout(fleet, "net2", 12)
    net2["links"].append({"kind": "macvlan", "name": "mv9", "parent": "eth9", "mode": "bridge"})
    net3 = dict(layout(fleet, "net3", 13), bridge_ports=[])
    layouts = {"net1": layout(fleet, "net1", 11), "net2": net2, "net3": net3}
    extra = {"net1": {"macvlan_topology_persist": True},
             "net2": {"arp_sysctl_namespaces": [{"name": "ns2"}, {"name": "ghost"}]}}
    if fleet.kind == "guests":  # net3 boots systemd: its persistence passes the same check
        extra["net3"] = {"macvlan_topology_persist": True}
    path = fleet.inventory(layouts, extra)
    for flags in ((), ("--check",)):
        proc, changed = fleet.site(path, *flags)
        assert proc.returncode != 0, proc.stdout[-3000:]
        assert proc.failed == {"net1": 1, "net2": 1, "net3": 0}, proc.stdout[-4000:]
        assert "persistence needs systemd as the init system (no /run/systemd/system)" in proc.stdout
        assert "eth9" in proc.stdout, "the engine in check mode finds the missing parent"
        assert "arp_sysctl_namespaces: no network namespace ghost on net2" in proc.stdout
        assert "ns2" not in re.findall(r"no network namespace (\S+)", proc.stdout), "the layout creates ns2"
        assert set(changed.values()) == {0}
        untouched(fleet, "net1", "net2", "net3")

    # without those problems the same fleet is built, ARP keys inside ns2 included
    extra = {"net2": {"arp_sysctl_namespaces": [{"name": "ns2", "interfaces": ["all", "default", "macvlan2"]}]}}
    path = fleet.inventory({"net1": layout(fleet, "net1", 11), "net2": layout(fleet, "net2", 12)}, extra)
    check, predicted = fleet.site(path, "--check")
    assert check.returncode == 0 and predicted == {"net1": 2, "net2": 2}, check.stdout[-4000:]
    proc, changed = fleet.site(path)
    assert proc.returncode == 0 and changed == {"net1": 2, "net2": 2}, proc.stdout[-4000:]
    assert fleet.hosts["net2"].sysctl("net.ipv4.conf.macvlan2.arp_ignore", child="ns2") == "1"


ARP_KEYS = ("arp_ignore", "arp_announce", "rp_filter")


def arp_values(host, ifname="all", child=None):
    return [host.sysctl("net.ipv4.conf.%s.%s" % (ifname, key), child=child) for key in ARP_KEYS]


@BOTH
def test_one_switch_tears_down_both_roles_and_restores_the_sysctls_found(fleet):
    net1 = fleet.hosts["net1"]
    net1.run("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1")  # a value of the host's own, to be given back
    found = arp_values(net1), arp_values(net1, "default")
    assert found[0] == ["0", "0", "1"]
    extra = {"net1": {"arp_sysctl_namespaces": [{"name": "ns1"}]}}
    path = fleet.inventory({"net1": layout(fleet, "net1", 11), "net2": layout(fleet, "net2", 12)}, extra)
    proc, _changed = fleet.site(path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert arp_values(net1) == ["1", "2", "2"] and arp_values(net1, child="ns1") == ["1", "2", "2"]
    assert '"net.ipv4.conf.all.rp_filter": "1"' in net1.run("cat", "/etc/sysctl.d/60-linuxnet-arp.conf.before")

    # 0.1.0's teardown (the layout only) would remove ns1 before arp_sysctl sets keys in it: the
    # pre-flight says so and points to the switch, before anything changes
    layout_only, _changed = fleet.site(path, "-e", "macvlan_topology_state=absent")
    assert layout_only.returncode != 0 and layout_only.failed == {"net1": 1, "net2": 0}, layout_only.stdout[-3000:]
    assert "arp_sysctl_namespaces: ns1 would be removed by macvlan_topology_state=absent" in layout_only.stdout
    assert "-e site_state=absent" in layout_only.stdout and net1.namespaces() == ["ns1"]

    # check mode of the teardown predicts it and changes nothing
    check, predicted = fleet.site(path, "--check", "--diff", "-e", "site_state=absent")
    assert check.returncode == 0 and predicted == {"net1": 2, "net2": 2}, check.stdout[-4000:]
    assert arp_values(net1) == ["1", "2", "2"] and net1.namespaces() == ["ns1"]

    gone, changed = fleet.site(path, "-e", "site_state=absent")
    assert gone.returncode == 0 and changed == {"net1": 2, "net2": 2}, gone.stdout[-4000:]
    assert (arp_values(net1), arp_values(net1, "default")) == found, "the values found before are back"
    for name in ("net1", "net2"):
        host = fleet.hosts[name]
        assert host.namespaces() == [] and "macvlan1" not in host.links()
        assert host.sysctl_files() == host.sysctl_files_found, "the role's files are gone"
    again, changed = fleet.site(path, "-e", "site_state=absent")
    assert again.returncode == 0 and changed == {"net1": 0, "net2": 0}, again.stdout[-4000:]
    recheck, changed = fleet.site(path, "--check", "-e", "site_state=absent")
    assert recheck.returncode == 0 and changed == {"net1": 0, "net2": 0}, recheck.stdout[-4000:]


@pytest.mark.parametrize("fleet", ["guests"], indirect=True)
def test_persistence_is_part_of_the_one_topology_call_and_goes_with_the_teardown(fleet):
    """On a guest booting systemd: the layout as applied is stored, the engine copied and the boot
    unit enabled by the topology call itself; the unit brings back a link deleted by hand; the
    teardown takes it all away. Check mode predicts each step and writes nothing."""
    net2 = fleet.hosts["net2"]
    stored = "/etc/linuxnet-macvlan/layouts.d/50-macvlan_topology.json"
    engine = "/usr/local/lib/linuxnet-macvlan/linuxnet-macvlan.pyz"
    path = fleet.inventory({"net2": layout(fleet, "net2", 12)}, {"net2": {"macvlan_topology_persist": True}})
    check, predicted = fleet.site(path, "--check", "--diff", "-v")
    assert check.returncode == 0 and predicted == {"net2": 2}, check.stdout[-3000:]
    assert "systemctl enable linuxnet-macvlan.service" in check.stdout and stored in check.stdout
    assert not net2.ok("test", "-e", "/etc/linuxnet-macvlan") and not net2.ok("test", "-e", engine)

    proc, changed = fleet.site(path)
    assert proc.returncode == 0 and changed == {"net2": 2}, proc.stdout[-3000:]
    document = json.loads(net2.run("cat", stored))
    child = [link for link in document["links"] if link["name"] == "macvlan2"][0]
    assert child["macaddress"] == net2.links("ns2")["macvlan2"]["address"], "the MAC the kernel chose is kept"
    assert net2.run("systemctl", "is-enabled", "linuxnet-macvlan.service").strip() == "enabled"
    # the unit re-applies the stored layout with the copied engine, without Ansible
    net2.run("ip", "link", "del", "macvlan1")
    net2.run("systemctl", "restart", "linuxnet-macvlan.service")
    assert "192.168.56.12/24" in net2.run("ip", "-o", "address", "show", "dev", "macvlan1")

    again, changed = fleet.site(path)
    assert again.returncode == 0 and changed == {"net2": 0}, again.stdout[-3000:]
    assert re.search(r"net2\s+: ok=(\d+)", again.stdout).group(1) == "2", "pre-flight + topology, nothing else"
    predicted_again, changed = fleet.site(path, "--check")
    assert predicted_again.returncode == 0 and changed == {"net2": 0}, "check mode agrees nothing is to store"

    check, predicted = fleet.site(path, "--check", "-e", "site_state=absent")
    assert check.returncode == 0 and predicted == {"net2": 2}, check.stdout[-3000:]
    assert net2.ok("test", "-e", stored)
    gone, changed = fleet.site(path, "-e", "site_state=absent")
    assert gone.returncode == 0 and changed == {"net2": 2}, gone.stdout[-3000:]
    assert not net2.ok("systemctl", "is-enabled", "linuxnet-macvlan.service")
    for removed in ("/etc/linuxnet-macvlan", engine, "/etc/systemd/system/linuxnet-macvlan.service"):
        assert not net2.ok("test", "-e", removed), removed
    assert net2.namespaces() == [] and "macvlan1" not in net2.links()


@pytest.mark.parametrize("fleet", ["guests"], indirect=True)
def test_a_store_that_fails_rolls_the_calls_kernel_changes_back(fleet):
    """Persistence is part of the call: when its files cannot be written, the namespace and the
    link the call created are removed again, and no file or directory of it stays."""
    net2 = fleet.hosts["net2"]
    engine = "/usr/local/lib/lnm-test/linuxnet-macvlan.pyz"
    args = {"namespaces": [{"name": "nsx"}],
            "links": [{"kind": "macvlan", "name": "mvx", "parent": "eth1", "mode": "bridge", "netns": "nsx"}],
            "persist": {"dir": "/proc/lnm-test", "engine": engine}}  # /proc takes no new directory
    status, result = fleet.module(fleet.inventory({"net2": {}}), "net2", "linuxnet.macvlan.topology", args)
    assert status == 2 and "failed_action" in result, result
    assert "persistence: write %s failed" % engine not in result["msg"], "the engine's copy was written"
    assert "persistence: write /proc/lnm-test/layouts.d/50-macvlan_topology.json failed" in result["msg"]
    assert "rolled back" in result["msg"] and result["rollback_errors"] == [], result
    assert net2.namespaces() == [] and "mvx" not in net2.links()
    assert not net2.ok("test", "-e", "/usr/local/lib/lnm-test"), "the directory made for the engine is gone"


def test_site_builds_each_host_from_inventory_and_hosts_reach_each_other(fleet):
    net1, net2 = fleet.hosts["net1"], fleet.hosts["net2"]
    path = fleet.inventory({"net1": layout(fleet, "net1", 11), "net2": layout(fleet, "net2", 12)})
    check, predicted = fleet.site(path, "--check", "--diff")
    # one topology task, then one net_sysctls task (arp_sysctl)
    assert check.returncode == 0 and predicted == {"net1": 2, "net2": 2}, check.stdout[-3000:]
    assert "macvlan1" not in net1.links(), "check mode changed nothing"

    proc, changed = fleet.site(path)
    assert proc.returncode == 0 and changed == {"net1": 2, "net2": 2}, proc.stdout[-3000:] + proc.stderr[-2000:]
    # group entry (kind, parent, mode) merged with the host's address
    mac = net1.links()["macvlan1"]
    assert mac["linkinfo"]["info_data"]["mode"] == "bridge" and mac["link"] == "eth1"
    # the ARP sysctls, in each host's namespace and in its own /etc/sysctl.d
    for host in (net1, net2):
        assert arp_values(host) == ["1", "2", "2"]
        assert "net.ipv4.conf.all.arp_ignore=1" in host.run("cat", "/etc/sysctl.d/60-linuxnet-arp.conf")
    assert not os.path.exists("/etc/sysctl.d/60-linuxnet-arp.conf"), "the machine's own files are untouched"
    # each host's namespaces live in its own registry
    assert net1.namespaces() == ["ns1"] and net2.namespaces() == ["ns2"]
    # macvlans on two hosts' eth1 in one subnet reach each other, and the one moved into a
    # namespace reaches the other host's
    assert net1.ping("192.168.56.12")
    assert net1.ping("192.168.56.22", child="ns1")
    assert net2.ping("192.168.56.11", child="ns2")

    again, changed = fleet.site(path)
    assert again.returncode == 0 and changed == {"net1": 0, "net2": 0}, again.stdout[-3000:]


def test_host_access_shim_lets_the_host_reach_its_children_and_absent_removes_all(fleet):
    net1, net2 = fleet.hosts["net1"], fleet.hosts["net2"]
    net1.run("ip", "addr", "add", "192.168.56.1/24", "dev", "eth1")  # the host's own NIC address
    own = {"namespaces": [{"name": "ns1"}],
           "links": [{"name": "macvlan1", "state": "absent"},  # the group's macvlan is not wanted here
                     {"kind": "macvlan", "name": "macvlan2", "parent": "eth1", "mode": "bridge", "netns": "ns1",
                      "addresses": ["192.168.56.21/24"]}]}
    layouts = {"net1": own, "net2": layout(fleet, "net2", 12)}
    proc, _changed = fleet.site(fleet.inventory(layouts))
    assert proc.returncode == 0, proc.stdout[-3000:]
    # the parent cannot reach its own macvlan child; the switch's other hosts can
    assert not net1.ping("192.168.56.21")
    assert net1.ping("192.168.56.12") and net2.ping("192.168.56.21")

    shim = {"net1": {"macvlan_topology_host_access": [{"parent": "eth1", "address": "192.168.56.250/32"}]}}
    path = fleet.inventory(layouts, shim)
    proc, changed = fleet.site(path, "--diff")
    assert proc.returncode == 0 and changed == {"net1": 1, "net2": 0}, proc.stdout[-3000:]
    assert "shim-eth1" in proc.stdout, "the diff shows the shim"
    info = net1.links()["shim-eth1"]
    assert info["linkinfo"]["info_data"]["mode"] == "bridge" and info["link"] == "eth1"
    assert "192.168.56.21 proto static" in net1.run("ip", "route", "show", "dev", "shim-eth1")
    assert net1.ping("192.168.56.21", count=2)
    again, changed = fleet.site(path)
    assert again.returncode == 0 and changed == {"net1": 0, "net2": 0}, again.stdout[-3000:]

    gone, _changed = fleet.site(path, "-e", "macvlan_topology_state=absent")
    assert gone.returncode == 0, gone.stdout[-3000:]
    assert "shim-eth1" not in net1.links() and "macvlan1" not in net2.links()
    assert net1.namespaces() == [] and net2.namespaces() == []
    assert "eth1" in net1.links(), "only what the collection created is removed"
