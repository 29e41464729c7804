"""Fleet layouts on the controller: the group/host merge rule and fleet-wide conflicts."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.macvlan.plugins.plugin_utils.fleet import (
    fleet_problems,
    merge,
    with_host_access,
)


GROUP = {
    "namespaces": [{"name": "ns1"}],
    "links": [{"kind": "macvlan", "name": "mac1", "parent": "eth1", "mode": "bridge", "netns": "ns1",
               "addresses": ["192.168.56.10/24"]}],
}


def test_host_entries_lay_over_group_entries_by_identity():
    host = {"links": [{"name": "mac1", "netns": "ns1", "addresses": ["192.168.56.11/24"]},
                      {"kind": "macvlan", "name": "mac2", "parent": "eth1"}],
            "state": "overridden"}
    merged = merge(GROUP, host)
    assert merged["links"][0] == {"kind": "macvlan", "name": "mac1", "parent": "eth1", "mode": "bridge",
                                  "netns": "ns1", "addresses": ["192.168.56.11/24"]}
    assert [link["name"] for link in merged["links"]] == ["mac1", "mac2"]
    assert merged["namespaces"] == [{"name": "ns1"}] and merged["state"] == "overridden"
    assert GROUP["links"][0]["addresses"] == ["192.168.56.10/24"], "inputs are not modified"


def test_same_link_name_in_another_namespace_is_another_entry():
    merged = merge(GROUP, {"links": [{"kind": "macvlan", "name": "mac1", "parent": "eth1"}]})
    assert len(merged["links"]) == 2


def test_group_address_on_every_host_is_a_conflict_naming_both():
    problems = fleet_problems({"net1": (GROUP, {}), "net2": (GROUP, {})})
    assert problems == ["address 192.168.56.10 is claimed by net1 (macvlan_topology_group.links[0].addresses[0]) "
                        "and net2 (macvlan_topology_group.links[0].addresses[0])"]


def test_host_override_resolves_it_and_macs_are_checked_too():
    net2 = {"links": [{"name": "mac1", "netns": "ns1", "addresses": ["192.168.56.11/24"],
                       "macaddress": "02:00:00:00:00:01"}]}
    net3 = {"links": [{"kind": "macvlan", "name": "m", "parent": "eth1", "macaddress": "02:00:00:00:00:01"}]}
    problems = fleet_problems({"net1": (GROUP, {}), "net2": (GROUP, net2), "net3": ({}, net3)})
    assert problems == ["MAC address 02:00:00:00:00:01 is claimed by net2 (macvlan_topology.links[0].macaddress) "
                        "and net3 (macvlan_topology.links[0].macaddress)"]


def test_passthru_parent_with_another_child():
    doc = {"links": [{"kind": "macvlan", "name": "a", "parent": "eth1", "mode": "passthru"},
                     {"kind": "macvtap", "name": "b", "parent": "eth1", "mode": "bridge"}]}
    assert fleet_problems({"h": ({}, doc)}) == [
        "h: parent eth1 has a passthru child and others: macvlan_topology.links[0], macvlan_topology.links[1] "
        "(passthru allows one child)"]


def test_one_vlan_id_means_one_subnet_on_a_shared_segment():
    def host(subnet):
        return ({}, {"links": [{"kind": "vlan", "name": "eth1.100", "parent": "eth1", "vlan_id": 100},
                               {"kind": "macvlan", "name": "m", "parent": "eth1.100", "addresses": [subnet]}]})
    segments = {"a": {"eth1": "sw1"}, "b": {"eth1": "sw1"}, "c": {"eth1": "sw2"}}
    assert fleet_problems({"a": host("10.1.0.1/24"), "b": host("10.1.0.2/24")}, segments) == []
    problems = fleet_problems({"a": host("10.1.0.1/24"), "b": host("10.2.0.2/24"), "c": host("10.3.0.3/24")},
                              segments)
    assert problems == ["VLAN 100 on segment sw1 means 10.1.0.0/24 on a (macvlan_topology.links[0]) "
                        "but 10.2.0.0/24 on b (macvlan_topology.links[0])"]


def test_host_access_adds_a_bridge_shim_routed_to_the_bridge_children():
    layout = {"links": GROUP["links"] + [
        {"kind": "macvlan", "name": "mac2", "parent": "eth1", "mode": "bridge",
         "addresses": ["192.168.56.11/24", "fd00::11/64"]},
        {"kind": "macvlan", "name": "mac3", "parent": "eth1", "mode": "vepa", "addresses": ["192.168.56.12/24"]},
        {"kind": "macvlan", "name": "mac4", "parent": "eth2", "mode": "bridge", "addresses": ["192.168.57.4/24"]}]}
    result = with_host_access(layout, [{"parent": "eth1", "address": "192.168.56.250/32"}])
    assert result["links"][:4] == layout["links"]
    assert result["links"][4] == {"kind": "macvlan", "name": "shim-eth1", "parent": "eth1", "mode": "bridge",
                                  "addresses": ["192.168.56.250/32"],
                                  "routes": ["192.168.56.10/32", "192.168.56.11/32", "fd00::11/128"]}
    explicit = with_host_access(layout, [{"parent": "eth1", "address": "10.0.0.1/32", "name": "hs0",
                                          "reach": ["192.168.56.12"]}])
    assert explicit["links"][4]["name"] == "hs0" and explicit["links"][4]["routes"] == ["192.168.56.12/32"]


def test_host_access_errors_name_the_entry():
    with pytest.raises(ValueError, match=r"macvlan_topology_host_access\[0\]: needs at least 'parent'"):
        with_host_access({}, [{"parent": "eth1"}])
    with pytest.raises(ValueError, match=r"\[1\]\.name: 'shim-enp0s31f6abcd' is 18 bytes; the kernel allows at most 15; "
                                         r"give the shim a name"):
        with_host_access({}, [{"parent": "eth1", "address": "10.0.0.1/32"},
                              {"parent": "enp0s31f6abcd", "address": "10.0.0.2/32"}])
    with pytest.raises(ValueError, match=r"\[0\]\.reach\[0\]: 'nope' is not an IPv4 or IPv6 address"):
        with_host_access({}, [{"parent": "eth1", "address": "10.0.0.1/32", "reach": ["nope"]}])


def test_addresses_and_macs_may_repeat_on_separate_segments_or_vlans():
    """The VEPA lab reuses 192.168.9.x on VLAN 11 and 12; separate labs reuse whole subnets."""
    def host(nic, vlan_id, address, mac):
        return ({}, {"links": [{"kind": "vlan", "name": "%s.%d" % (nic, vlan_id), "parent": nic, "vlan_id": vlan_id},
                               {"kind": "macvlan", "name": "m", "parent": "%s.%d" % (nic, vlan_id),
                                "netns": "ns1", "addresses": [address], "macaddress": mac}]})
    segments = {"a": {"eth1": "sw1"}, "b": {"eth1": "sw1"}, "c": {"eth1": "sw2"}, "d": {"eth1": "sw1"}}
    layouts = {"a": host("eth1", 11, "192.168.9.1/24", "02:00:00:00:00:01"),
               "b": host("eth1", 12, "192.168.9.1/24", "02:00:00:00:00:01"),   # another VLAN of sw1
               "c": host("eth1", 11, "192.168.9.1/24", "02:00:00:00:00:01")}   # another switch
    assert fleet_problems(layouts, segments) == []
    layouts["d"] = host("eth1", 11, "192.168.9.1/24", "02:00:00:00:00:02")    # VLAN 11 of sw1 again
    assert fleet_problems(layouts, segments) == [
        "address 192.168.9.1 is claimed by a (macvlan_topology.links[1].addresses[0]) "
        "and d (macvlan_topology.links[1].addresses[0])"]
    # a NIC without a segment may meet any other: the address clashes again
    del segments["c"]
    assert len(fleet_problems(layouts, segments)) == 3


def test_a_cable_the_layout_makes_can_be_given_a_segment():
    """The lab's VEPA and private-mode hosts each build their own switch (test_br) from veth cables."""
    def host():
        return ({}, {"links": [{"kind": "veth", "name": "veth1", "peer": "veth1_br"},
                               {"kind": "macvlan", "name": "macvl1", "parent": "veth1", "netns": "ns1",
                                "addresses": ["192.168.9.2/24"]}]})
    layouts = {"vepa": host(), "private": host()}
    assert len(fleet_problems(layouts, {})) == 1
    assert fleet_problems(layouts, {"vepa": {"veth1": "vepa_br"}, "private": {"veth1": "private_br"}}) == []


def test_each_conflict_names_the_hosts_that_are_part_of_it():
    from ansible_collections.linuxnet.macvlan.plugins.plugin_utils.fleet import fleet_conflicts

    other = {"links": [{"kind": "macvlan", "name": "mac9", "parent": "eth1", "addresses": ["192.168.56.99/24"]}]}
    conflicts = fleet_conflicts({"net1": (GROUP, {}), "net2": (GROUP, {}), "net3": ({}, other)})
    assert [hosts for _message, hosts in conflicts] == [("net1", "net2")]


def test_host_access_shim_addresses_are_claims_too():
    from ansible_collections.linuxnet.macvlan.plugins.plugin_utils.fleet import fleet_conflicts

    shim = [{"parent": "eth1", "address": "192.168.56.250/32"}]
    conflicts = fleet_conflicts({"net1": ({}, {}, shim), "net2": ({}, {}, shim)})
    assert conflicts == [("address 192.168.56.250 is claimed by net1 (macvlan_topology_host_access[0].addresses[0]) "
                          "and net2 (macvlan_topology_host_access[0].addresses[0])", ("net1", "net2"))]


def test_shim_fields_are_read_by_the_engine_validators():
    """A name is measured in bytes, as the kernel and the modules measure it; every field names its path."""
    with pytest.raises(ValueError, match=r"\[0\]\.name: 'shim-\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9' is 19 bytes"):
        with_host_access({}, [{"parent": "eth1", "address": "10.0.0.1/32", "name": "shim-\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}])
    with pytest.raises(ValueError, match=r"\[0\]\.address: '10\.0\.0\.1' needs a prefix length"):
        with_host_access({}, [{"parent": "eth1", "address": "10.0.0.1"}])
    with pytest.raises(ValueError, match=r"\[0\]\.parent: 'eth/1' contains '/'"):
        with_host_access({}, [{"parent": "eth/1", "address": "10.0.0.1/32"}])


def test_claims_are_values_as_the_modules_read_them():
    """02-00-... and 02:00:... are one MAC, fd00::0011 and fd00::11 one address; what a module
    would refuse claims nothing (the module reports it, naming its field)."""
    def host(mac, address):
        return ({}, {"links": [{"kind": "macvlan", "name": "m", "parent": "eth1", "macaddress": mac,
                                "addresses": [address, "not-an-address"]}]})
    problems = fleet_problems({"a": host("02-00-00-00-00-01", "fd00::0011/64"), "b": host("02:00:00:00:00:01", "fd00::11/64")})
    assert problems == ["address fd00::11 is claimed by a (macvlan_topology.links[0].addresses[0]) "
                        "and b (macvlan_topology.links[0].addresses[0])",
                        "MAC address 02:00:00:00:00:01 is claimed by a (macvlan_topology.links[0].macaddress) "
                        "and b (macvlan_topology.links[0].macaddress)"]
