"""The macvlan modes' documented behaviour, built with the modules and checked with real traffic."""

from __future__ import annotations

import json

import pytest


def build_children(sandbox, mode, parent, children):
    """children: {short ns name: (link name, address)}; each macvlan in its own namespace."""
    for short, (link, address) in children.items():
        ns = sandbox.ns(short)
        sandbox.run("netns", {"name": ns})
        result = sandbox.run("macvlan_link", {"name": link, "parent": parent, "mode": mode, "netns": ns,
                                              "addresses": [address]})
        assert result["changed"] and not result.get("failed"), result


def hairpin_switch(sandbox, hairpin=True):
    """A hairpin switch: bridge test_br, veth1/veth2 as cables, hairpin on the bridge ports."""
    sandbox.ip("link", "add", "test_br", "type", "bridge")
    sandbox.ip("link", "set", "test_br", "up")
    for cable in ("veth1", "veth2"):
        sandbox.veth(cable, cable + "_br")
        sandbox.ip("link", "set", cable + "_br", "master", "test_br")
        sandbox.ip("link", "set", "dev", cable + "_br", "type", "bridge_slave", "hairpin", "on" if hairpin else "off")


def test_bridge_mode_children_reach_each_other(sandbox):
    """Bridge mode: mac1/mac2 on one parent, in ns1/ns2, ping each other."""
    sandbox.veth("enp0s8", "enp0s8_peer")
    build_children(sandbox, "bridge", "enp0s8", {"ns1": ("mac1", "192.168.56.122/24"),
                                                 "ns2": ("mac2", "192.168.56.123/24")})
    assert sandbox.ping(sandbox.ns("ns1"), "192.168.56.123")
    assert sandbox.ping(sandbox.ns("ns2"), "192.168.56.122")


def test_private_mode_blocks_arp_until_static_neighbors(sandbox):
    """Private mode: children of veth1 cannot resolve each other even through a hairpin
    switch; with static neighbor entries on both sides, unicast ping works."""
    hairpin_switch(sandbox)
    sandbox.ip("link", "set", "veth1", "promisc", "on")
    build_children(sandbox, "private", "veth1", {"ns1": ("macvl1", "192.168.9.2/24"),
                                                 "ns2": ("macvl2", "192.168.9.3/24")})
    ns1, ns2 = sandbox.ns("ns1"), sandbox.ns("ns2")
    assert not sandbox.ping(ns1, "192.168.9.3")
    shown = sandbox.ip("neigh", "show", "192.168.9.3", netns=ns1)
    assert "FAILED" in shown or "INCOMPLETE" in shown or shown == ""

    mac = {ns: json.loads(sandbox.ip("-j", "link", "show", link, netns=ns))[0]["address"]
           for ns, link in ((ns1, "macvl1"), (ns2, "macvl2"))}
    for ns, dev, peer_ip, peer_ns in ((ns1, "macvl1", "192.168.9.3", ns2), (ns2, "macvl2", "192.168.9.2", ns1)):
        result = sandbox.converge("netns", {"name": ns, "neighbors": [
            {"address": peer_ip, "lladdr": mac[peer_ns], "dev": dev}]}, watch=(ns,))
        assert "PERMANENT" in sandbox.ip("neigh", "show", peer_ip, netns=ns)
        assert result["actions"][-1].startswith("ip -n %s neigh replace %s" % (ns, peer_ip))
    assert sandbox.ping(ns1, "192.168.9.3")


@pytest.mark.parametrize("hairpin,reachable", [(True, True), (False, False)])
def test_vepa_needs_the_switch_hairpin(sandbox, hairpin, reachable):
    """VEPA: children of one parent reach each other only through a hairpin port."""
    hairpin_switch(sandbox, hairpin=hairpin)
    build_children(sandbox, "vepa", "veth1", {"ns1": ("mv1", "192.168.10.2/24"),
                                              "ns2": ("mv2", "192.168.10.3/24")})
    assert sandbox.ping(sandbox.ns("ns1"), "192.168.10.3") is reachable


def test_vepa_children_of_two_parents_meet_on_the_switch(sandbox):
    hairpin_switch(sandbox, hairpin=False)
    build_children(sandbox, "vepa", "veth1", {"ns1": ("mv1", "192.168.11.2/24")})
    build_children(sandbox, "vepa", "veth2", {"ns5": ("mv5", "192.168.11.5/24")})
    assert sandbox.ping(sandbox.ns("ns1"), "192.168.11.5")


def test_parent_cannot_reach_its_children(sandbox):
    """The parent's own address cannot talk to its macvlan children."""
    sandbox.veth("eth1", "eth1_peer")
    sandbox.ip("addr", "add", "192.168.20.1/24", "dev", "eth1")
    build_children(sandbox, "bridge", "eth1", {"ns1": ("mac1", "192.168.20.2/24")})
    assert not sandbox.ping(None, "192.168.20.2")
