"""Day 2: each failure the generative test (test_day2_generative.py) found, shrunk to its
minimal reproduction, as a plain regression test on the real kernel in the test's sandbox."""

from __future__ import annotations


def nic(sandbox):
    sandbox.veth("nic0", "nic0_sw")
    return "nic0"


def test_check_mode_diff_predicts_a_new_macvtaps_tap_device(sandbox):
    """Found by the machine: check mode's diff.after for a new macvtap has no tap_device; the real
    run's has /dev/tapN. Check mode must predict every key (a placeholder where the kernel chooses)."""
    args = {"links": [{"kind": "macvtap", "name": "c3", "parent": nic(sandbox), "mode": "bridge"}]}
    predicted = sandbox.run("topology", args, check=True)
    applied = sandbox.run("topology", args)
    assert not applied.get("failed"), applied
    assert "tap_device" in applied["diff"]["after"]["links[0]"]
    assert set(predicted["diff"]["after"]["links[0]"]) == set(applied["diff"]["after"]["links[0]"]), (
        predicted["diff"]["after"], applied["diff"]["after"])


def test_replacing_the_primary_address_keeps_the_secondaries(sandbox):
    """Found by the machine: addresses [.10, .12] -> [.11, .12] in one /24. The engine deletes .10,
    the subnet's primary address; without promote_secondaries (0 in every new namespace) the
    kernel drops the secondary .12 with it, the read-back fails and the run rolls back, though
    check mode predicted success."""
    args = {"name": "c3", "parent": nic(sandbox), "mode": "source", "source_macs": ["52:54:00:12:34:56"],
            "addresses": ["10.22.0.10/24", "10.22.0.12/24"]}
    assert not sandbox.run("macvlan_link", args).get("failed")
    edit = dict(args, addresses=["10.22.0.11/24", "10.22.0.12/24"])
    predicted = sandbox.run("macvlan_link", edit, check=True)
    applied = sandbox.run("macvlan_link", edit)
    assert not predicted.get("failed") and not applied.get("failed"), applied
    assert sandbox.addresses("c3") == ["10.22.0.11/24", "10.22.0.12/24"]
    assert sandbox.run("macvlan_link", edit)["changed"] is False


def test_a_new_port_may_change_the_bridges_kernel_chosen_mac(sandbox):
    """Found by the machine: a bridge whose MAC the kernel chose takes the lowest MAC of its ports.
    Enslaving a port to an existing br0 changes br0's MAC; the engine reads br0 back, finds the MAC
    it never set changed, fails and rolls back, though check mode predicted success."""
    assert not sandbox.run("topology", {"links": [{"kind": "bridge", "name": "br0"}]}).get("failed")
    sandbox.ip("link", "add", "vp0", "type", "veth", "peer", "name", "vp0_br", "address", "02:00:00:00:00:01")
    doc = {"links": [{"kind": "bridge", "name": "br0"}],
           "bridge_ports": [{"name": "vp0_br", "bridge": "br0", "hairpin": True}]}
    predicted = sandbox.run("topology", doc, check=True)
    applied = sandbox.run("topology", doc)
    assert not predicted.get("failed") and not applied.get("failed"), applied
    assert sandbox.links()["vp0_br"]["master"] == "br0"
    assert sandbox.run("topology", doc)["changed"] is False


def test_changing_the_only_address_keeps_the_links_routes(sandbox):
    """Found by the machine: a link with one address and a link route; the address changes. The
    engine deletes the old address first; a device losing its last IPv4 address loses every IPv4
    route through it, so the route (unchanged in the document) reads back missing, the run fails
    and rolls back, though check mode predicted success. (A namespace's routes through the link
    go the same way.)"""
    args = {"name": "c4", "parent": nic(sandbox), "mode": "vepa", "addresses": ["10.23.0.10/24"],
            "routes": ["10.83.0.0/24"]}
    assert not sandbox.run("macvlan_link", args).get("failed")
    edit = dict(args, addresses=["10.23.0.12/24"])
    predicted = sandbox.run("macvlan_link", edit, check=True)
    applied = sandbox.run("macvlan_link", edit)
    assert not predicted.get("failed") and not applied.get("failed"), applied
    assert sandbox.addresses("c4") == ["10.23.0.12/24"]
    assert "10.83.0.0/24" in sandbox.ip("route", "show", "dev", "c4")
    assert sandbox.run("macvlan_link", edit)["changed"] is False


def test_overridden_moves_a_child_off_a_parent_it_purges(sandbox):
    """Found by the machine: c1 sits on br0; the next layout (overridden) drops br0 and lists c1 on
    nic0. A valid, coherent document: c1 is re-created on nic0 and then br0, now empty and the
    collection's, goes. The engine refuses: 'would delete bridge br0 ..., which carries c1 ...
    that this layout did not create or still lists'."""
    first = {"links": [{"kind": "veth", "name": "nic0", "peer": "nic0_sw"},
                       {"kind": "bridge", "name": "br0"},
                       {"kind": "macvlan", "name": "c1", "parent": "br0", "mode": "bridge"}]}
    assert not sandbox.run("topology", first).get("failed")
    second = {"links": [first["links"][0], {"kind": "macvlan", "name": "c1", "parent": "nic0", "mode": "bridge"}],
              "state": "overridden"}
    result = sandbox.converge("topology", second)
    links = sandbox.links()
    assert "br0" not in links and links["c1"]["link"] == "nic0"
    assert result["changed"] is True


def test_overridden_purge_by_group_spares_the_links_this_run_creates(sandbox):
    """Found by the machine (after a killed run, but no kill is needed): in netns b, c1 is the
    collection's and no longer listed, c4 is new. The plan creates c4 (with the collection's
    group), then purges b with `ip -n b link del group 19534`, which deletes c4 too; the read-back
    fails, and the rollback cannot undo the purge ('could NOT undo'): the run leaves the host
    changed and broken."""
    ns = sandbox.ns("b")
    nic0 = {"kind": "veth", "name": "nic0", "peer": "nic0_sw"}
    first = {"namespaces": [{"name": ns}],
             "links": [nic0, {"kind": "macvlan", "name": "c1", "parent": "nic0", "netns": ns, "mode": "bridge"}]}
    assert not sandbox.run("topology", first).get("failed")
    second = {"namespaces": [{"name": ns}], "state": "overridden",
              "links": [nic0, {"kind": "macvlan", "name": "c4", "parent": "nic0", "netns": ns, "mode": "bridge"}]}
    sandbox.converge("topology", second, watch=(ns,))
    links = sandbox.links(ns)
    assert "c4" in links and "c1" not in links


def test_overridden_passthru_check_ignores_children_the_run_purges(sandbox):
    """Found by the machine: c2 (the collection's) sits on br0; the next layout (overridden) no
    longer lists c2 and puts a passthru child c1 on br0. c2 is purged by that very run, so br0
    will have one child; the engine refuses: 'passthru allows a single child per parent, and br0
    already has: c2'."""
    nic0, br0 = {"kind": "veth", "name": "nic0", "peer": "nic0_sw"}, {"kind": "bridge", "name": "br0"}
    first = {"links": [nic0, br0, {"kind": "macvlan", "name": "c2", "parent": "br0", "mode": "bridge"}]}
    assert not sandbox.run("topology", first).get("failed")
    second = {"links": [nic0, br0, {"kind": "macvlan", "name": "c1", "parent": "br0", "mode": "passthru"}],
              "state": "overridden"}
    sandbox.converge("topology", second)
    links = sandbox.links()
    assert "c2" not in links and links["c1"]["linkinfo"]["info_data"]["mode"] == "passthru"
