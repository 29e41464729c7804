"""bridge_link, veth_link and bridge_port on the real kernel: every setting read back."""

from __future__ import annotations

import json

import pytest


def port(sandbox, name, netns=None):
    """The port as `ip -d` reports it (independent of the engine)."""
    return sandbox.links(netns)[name]["linkinfo"]["info_slave_data"]


@pytest.fixture
def switch(sandbox):
    """A bridge and one veth cable, made with the modules themselves."""
    sandbox.run("bridge_link", {"name": "test_br"})
    sandbox.run("veth_link", {"name": "veth1", "peer": "veth1_br"})
    return "test_br"


def test_bridge_created_with_address_and_stp(sandbox):
    result = sandbox.converge("bridge_link", {"name": "test_br", "addresses": ["192.168.9.1/24"], "stp": True})
    link = sandbox.links()["test_br"]
    assert link["linkinfo"]["info_kind"] == "bridge" and "UP" in link["flags"]
    assert link["linkinfo"]["info_data"]["stp_state"] == 1
    assert sandbox.addresses("test_br") == ["192.168.9.1/24"]
    assert result["actions"][0] == "ip link add name test_br type bridge stp_state 1"

    result = sandbox.converge("bridge_link", {"name": "test_br", "stp": False, "addresses": []})
    assert sandbox.links()["test_br"]["linkinfo"]["info_data"]["stp_state"] == 0
    assert sandbox.addresses("test_br") == []
    sandbox.converge("bridge_link", {"name": "test_br", "state": "absent"})
    assert "test_br" not in sandbox.links()


def test_veth_pair_across_namespaces(sandbox):
    ns1 = sandbox.ns("ns1")
    sandbox.run("netns", {"name": ns1})
    result = sandbox.converge("veth_link", {"name": "eth1", "netns": ns1, "peer": "net1-eth1",
                                            "addresses": ["192.168.10.2/24"]}, watch=(ns1,))
    inside = sandbox.links(ns1)["eth1"]
    outside = sandbox.links()["net1-eth1"]
    assert inside["linkinfo"]["info_kind"] == "veth" and "UP" in inside["flags"] and "UP" in outside["flags"]
    assert sandbox.addresses("eth1", netns=ns1) == ["192.168.10.2/24"]
    assert result["link"]["peer"] == "net1-eth1" and result["link"]["peer_netns"] is None
    assert result["actions"][0] == "ip link add name eth1 netns %s type veth peer name net1-eth1 netns 1" % ns1

    # the peer's admin state in place; a new peer name re-creates the pair
    sandbox.converge("veth_link", {"name": "eth1", "netns": ns1, "peer": "net1-eth1", "peer_netns": None,
                                   "peer_admin_state": "down", "addresses": ["192.168.10.2/24"]})
    assert "UP" not in sandbox.links()["net1-eth1"]["flags"]
    result = sandbox.converge("veth_link", {"name": "eth1", "netns": ns1, "peer": "n1-eth1", "peer_netns": None})
    assert "n1-eth1" in sandbox.links() and "net1-eth1" not in sandbox.links()
    assert "re-created: peer net1-eth1 -> n1-eth1" in result["diff"]["after_header"]


def test_veth_peer_name_taken_is_refused(sandbox, failing):
    sandbox.veth("busy0", "busy1")
    result = failing("veth_link", {"name": "v0", "peer": "busy1"}, field="peer")
    assert "already exists" in result["msg"]


def test_port_enslaved_with_every_setting_read_back(sandbox, switch):
    settings = {"hairpin": True, "isolated": True, "learning": False, "unicast_flood": False,
                "multicast_flood": False, "cost": 150, "priority": 20}
    result = sandbox.converge("bridge_port", dict({"name": "veth1_br", "bridge": switch}, **settings))
    data = port(sandbox, "veth1_br")
    assert sandbox.links()["veth1_br"]["master"] == switch
    assert data["hairpin"] is True and data["isolated"] is True and data["learning"] is False
    assert data["flood"] is False and data["mcast_flood"] is False
    assert data["cost"] == 150 and data["priority"] == 20
    assert result["actions"][0] == "ip link set dev veth1_br master test_br"
    assert result["port"] == dict({"name": "veth1_br", "netns": None, "bridge": switch}, **settings)

    # each setting back, in place, one at a time in the diff
    back = {"hairpin": False, "isolated": False, "learning": True, "unicast_flood": True,
            "multicast_flood": True, "cost": 100, "priority": 32}
    result = sandbox.converge("bridge_port", dict({"name": "veth1_br", "bridge": switch}, **back))
    data = port(sandbox, "veth1_br")
    assert (data["hairpin"], data["isolated"], data["learning"], data["flood"], data["mcast_flood"]) == \
        (False, False, True, True, True)
    assert (data["cost"], data["priority"]) == (100, 32)
    assert len(result["actions"]) == 1 and result["actions"][0].startswith("bridge link set dev veth1_br")


def test_unlisted_settings_are_left_alone(sandbox, switch):
    sandbox.run("bridge_port", {"name": "veth1_br", "bridge": switch, "hairpin": True})
    result = sandbox.run("bridge_port", {"name": "veth1_br", "bridge": switch, "cost": 7})
    assert result["changed"] is True and port(sandbox, "veth1_br")["hairpin"] is True


def test_release_from_the_bridge(sandbox, switch):
    sandbox.run("bridge_port", {"name": "veth1_br", "bridge": switch, "hairpin": True})
    result = sandbox.converge("bridge_port", {"name": "veth1_br", "bridge": switch, "state": "absent"})
    assert "master" not in sandbox.links()["veth1_br"]
    assert result["actions"] == ["ip link set dev veth1_br nomaster"]


def test_port_bad_input(sandbox, switch, failing):
    cases = [
        ({"name": "nosuch0", "bridge": switch}, "name"),
        ({"name": "veth1_br", "bridge": "nosuchbr"}, "bridge"),
        ({"name": "veth1_br", "bridge": "veth1"}, "bridge"),
        ({"name": "veth1_br", "bridge": switch, "cost": 0}, "cost"),
        ({"name": "veth1_br", "bridge": switch, "priority": 64}, "priority"),
        ({"name": "veth1_br", "bridge": switch, "state": "absent", "hairpin": True}, "hairpin"),
    ]
    for args, field in cases:
        result = failing("bridge_port", args, field=field)
        assert field in result["msg"]


@pytest.mark.kernel("8021q")
def test_vepa_lab_with_a_hairpin_bridge_and_vlan_trunks(sandbox):
    """The lab's vepa_hairpin: test_br with hairpin on its ports, VLAN trunks veth1.11 / veth2.12 / veth2.11,
    VEPA macvlans in ns1..ns5. Same VLAN: reachable (even on one parent, via the hairpin);
    other VLAN: isolated; hairpin off: children of one parent lose each other."""
    run = sandbox.run
    assert not run("bridge_link", {"name": "test_br"}).get("failed")
    for cable in ("veth1", "veth2"):
        assert not run("veth_link", {"name": cable, "peer": cable + "_br"}).get("failed")
        assert not run("bridge_port", {"name": cable + "_br", "bridge": "test_br", "hairpin": True}).get("failed")
    for name, parent, vid in (("veth1.11", "veth1", 11), ("veth2.12", "veth2", 12), ("veth2.11", "veth2", 11)):
        assert not run("vlan_link", {"name": name, "parent": parent, "vlan_id": vid, "promisc": True}).get("failed")
    children = {"ns1": ("macvl1", "veth1.11", "192.168.9.2/24"), "ns2": ("macvl2", "veth1.11", "192.168.9.3/24"),
                "ns3": ("macvl3", "veth2.12", "192.168.9.2/24"), "ns4": ("macvl4", "veth2.12", "192.168.9.3/24"),
                "ns5": ("macvl5", "veth2.11", "192.168.9.5/24")}
    ns = {short: sandbox.ns(short) for short in children}
    for short, (link, parent, address) in children.items():
        assert not run("netns", {"name": ns[short]}).get("failed")
        result = run("macvlan_link", {"name": link, "parent": parent, "mode": "vepa", "netns": ns[short],
                                      "addresses": [address]})
        assert result["changed"] and not result.get("failed"), result

    assert sandbox.ping(ns["ns1"], "192.168.9.3"), "ns1 -> ns2: same parent, VLAN 11, via the hairpin"
    macvl2 = json.loads(sandbox.ip("-j", "link", "show", "macvl2", netns=ns["ns2"]))[0]["address"]
    assert macvl2 in sandbox.ip("neigh", "show", "192.168.9.3", netns=ns["ns1"]), "answered by ns2, not ns4"
    assert sandbox.ping(ns["ns1"], "192.168.9.5"), "ns1 -> ns5: other parent, same VLAN 11"
    assert not sandbox.ping(ns["ns3"], "192.168.9.5"), "ns3 (VLAN 12) -> ns5 (VLAN 11): isolated"
    assert not sandbox.ping(ns["ns4"], "192.168.9.5"), "ns4 (VLAN 12) -> ns5 (VLAN 11): isolated"

    result = sandbox.converge("bridge_port", {"name": "veth1_br", "bridge": "test_br", "hairpin": False})
    assert port(sandbox, "veth1_br")["hairpin"] is False
    assert result["diff"]["before"]["hairpin"] is True
    sandbox.ip("neigh", "flush", "dev", "macvl1", netns=ns["ns1"])
    assert not sandbox.ping(ns["ns1"], "192.168.9.3"), "hairpin off: ns1 -> ns2 unreachable"
    assert sandbox.ping(ns["ns1"], "192.168.9.5"), "ns5 still reachable through the switch"
