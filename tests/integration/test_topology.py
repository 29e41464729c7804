"""topology: a whole layout in one call; ownership, purge, rollback, rendered, gathered."""

from __future__ import annotations

MODULE = "topology"


def lab(sandbox, children=("ns1", "ns2")):
    """The lab's host_access_shim as one document: a veth "NIC" and bridge-mode macvlans in namespaces."""
    doc = {
        "namespaces": [{"name": sandbox.ns(short), "sysctls": {"net.ipv4.conf.all.arp_ignore": 1}} for short in children],
        "links": [{"kind": "veth", "name": "enp0s8", "peer": "enp0s8_sw"}],
    }
    for index, short in enumerate(children):
        doc["links"].append({"kind": "macvlan", "name": "mac%d" % (index + 1), "parent": "enp0s8", "mode": "bridge",
                             "netns": sandbox.ns(short), "addresses": ["192.168.56.%d/24" % (122 + index)]})
    return doc


def test_whole_layout_in_one_call(sandbox):
    doc = lab(sandbox)
    ns1, ns2 = sandbox.ns("ns1"), sandbox.ns("ns2")
    result = sandbox.converge(MODULE, doc, watch=(ns1, ns2))
    assert sandbox.ping(ns1, "192.168.56.123") and sandbox.ping(ns2, "192.168.56.122")
    # order: namespaces, then the parent, then the children in their namespaces
    actions = result["actions"]
    assert actions.index("ip netns add %s" % ns1) < \
        actions.index("ip link add name enp0s8 type veth peer name enp0s8_sw group 19534")
    assert any(a.startswith("ip link add link enp0s8 name mac1 netns %s" % ns1) for a in actions)
    # ownership is recorded on the objects themselves
    assert "alias linuxnet.macvlan" in sandbox.ip("-d", "link", "show", "mac1", netns=ns1)
    assert "alias linuxnet.macvlan" in sandbox.ip("-d", "link", "show", "lo", netns=ns1)
    assert sandbox.links(ns1)["mac1"]["group"] == "19534", "owned links share a group: removal is one request"
    assert result["diff"]["after"]["links[1]"]["mode"] == "bridge"


def test_layout_is_returned_by_a_run_that_changes_the_kernel(sandbox):
    """`layout` (every entry as read back) comes with a change, predicted in check mode; a run that
    changes nothing leaves it out: at thousands of links it is most of the run's cost."""
    doc = lab(sandbox, children=("ns1",))
    ns1 = sandbox.ns("ns1")
    predicted = sandbox.run(MODULE, doc, check=True)
    assert predicted["layout"]["links[1]"]["macaddress"] == "(assigned by the kernel)", predicted
    applied = sandbox.run(MODULE, doc)
    assert applied["changed"] and applied["layout"]["links[1]"]["macaddress"] == sandbox.links(ns1)["mac1"]["address"]
    assert set(applied["layout"]) == {"namespaces[0]", "links[0]", "links[1]"}
    for check in (True, False):
        again = sandbox.run(MODULE, doc, check=check)
        assert again["changed"] is False and "layout" not in again, again
    doc["links"][1]["addresses"] = ["192.168.56.150/24"]
    edited = sandbox.run(MODULE, doc)
    assert edited["layout"]["links[1]"]["addresses"] == ["192.168.56.150/24"] == sandbox.addresses("mac1", netns=ns1)


def test_one_name_in_two_namespaces_gets_each_its_own_addresses(sandbox):
    """A new link's index is looked up by name in its own namespace (its addresses wait for it):
    the same name on the host side and in a namespace never mixes them up, created or edited."""
    sandbox.veth("eth1", "eth1sw")
    ns1 = sandbox.ns("ns1")
    doc = {"namespaces": [{"name": ns1}], "links": [
        {"kind": "macvlan", "name": "twin", "parent": "eth1", "mode": "bridge", "addresses": ["10.7.0.1/24"]},
        {"kind": "macvlan", "name": "twin", "parent": "eth1", "mode": "bridge", "netns": ns1,
         "addresses": ["10.7.1.1/24"]}]}
    sandbox.converge(MODULE, doc, watch=(ns1,))
    assert sandbox.addresses("twin") == ["10.7.0.1/24"] and sandbox.addresses("twin", netns=ns1) == ["10.7.1.1/24"]
    doc["links"][0]["addresses"], doc["links"][1]["addresses"] = ["10.7.0.2/24"], ["10.7.1.2/24", "10.7.1.3/24"]
    sandbox.converge(MODULE, doc, watch=(ns1,))
    assert sandbox.addresses("twin") == ["10.7.0.2/24"]
    assert sandbox.addresses("twin", netns=ns1) == ["10.7.1.2/24", "10.7.1.3/24"]


def test_overridden_removes_only_what_the_collection_created(sandbox, failing):
    ns1, ns2 = sandbox.ns("ns1"), sandbox.ns("ns2")
    sandbox.run(MODULE, lab(sandbox))
    sandbox.veth("eth9", "eth9peer")  # not ours
    sandbox.ip("link", "add", "link", "eth9", "name", "handmade", "type", "macvlan")
    smaller = lab(sandbox, children=("ns1",))
    result = sandbox.converge(MODULE, dict(smaller, state="overridden"), watch=(ns1, ns2))
    assert not sandbox.netns_exists(ns2), "our namespace (and mac2 in it) is gone"
    assert "mac1" in sandbox.links(ns1) and "handmade" in sandbox.links() and "eth9" in sandbox.links()
    assert result["diff"]["before"]["purged"] == ["netns %s" % ns2]
    assert result["actions"] == ["ip netns del %s" % ns2]

    # a parent of ours carrying a link that is not ours is never deleted from under it
    sandbox.ip("link", "add", "link", "enp0s8", "name", "theirs", "type", "macvlan")
    result = failing(MODULE, {"state": "overridden"}, watch=(ns1,))
    assert "carries theirs" in result["msg"]
    sandbox.ip("link", "del", "theirs")

    # an empty document removes everything ours (links by group, in one request), nothing else
    result = sandbox.converge(MODULE, {"state": "overridden"}, watch=(ns1,))
    assert result["actions"] == ["ip link del group 19534", "ip netns del %s" % ns1]
    assert not sandbox.netns_exists(ns1) and "enp0s8" not in sandbox.links()
    assert "handmade" in sandbox.links() and "eth9" in sandbox.links()


def test_failure_half_way_rolls_back_the_whole_run(sandbox):
    ns1 = sandbox.ns("ns1")
    doc = lab(sandbox, children=("ns1",))
    # valid input, but IPv6 is off in ns1, so the kernel refuses the IPv6 address after
    # the namespace, the veth and the macvlan already exist
    doc["namespaces"][0]["sysctls"] = {"net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1}
    doc["links"][1]["addresses"].append("fd00:56::122/64")
    result = sandbox.run(MODULE, doc)
    assert result["failed"] is True and result["failed_action"] == "ip -n %s addr add fd00:56::122/64 dev mac1" % ns1
    assert "ip netns add %s" % ns1 in result["rolled_back"]
    assert not sandbox.netns_exists(ns1) and "enp0s8" not in sandbox.links()

    doc["links"][1]["addresses"].pop()
    no_rollback = sandbox.run(MODULE, dict(doc, links=doc["links"] + [
        {"kind": "macvlan", "name": "mac9", "parent": "enp0s8", "netns": ns1, "addresses": ["fd00::9/64"]}],
        rollback=False))
    assert no_rollback["failed"] is True and no_rollback["rolled_back"] == [] and no_rollback["changed"] is True
    assert "mac1" in sandbox.links(ns1), "rollback: false leaves the completed steps"


def test_rendered_touches_nothing(sandbox):
    ns1 = sandbox.ns("ns1")
    before = sandbox.snapshot(ns1)
    result = sandbox.run(MODULE, dict(lab(sandbox, children=("ns1",)), state="rendered"))
    assert result["changed"] is False
    assert result["rendered"][:2] == ["ip netns add %s" % ns1, "ip -n %s link set dev lo alias linuxnet.macvlan" % ns1]
    assert "ip link add name enp0s8 type veth peer name enp0s8_sw group 19534" in result["rendered"]
    assert sandbox.snapshot(ns1) == before


def test_gathered_feeds_back_unchanged(sandbox):
    sandbox.run(MODULE, lab(sandbox))
    ns1 = sandbox.ns("ns1")
    sandbox.run("netns", {"name": ns1, "routes": [{"dest": "default", "via": "192.168.56.1"}]})
    gathered = sandbox.run(MODULE, {"state": "gathered"})["gathered"]
    mac1 = [l for l in gathered["links"] if l["name"] == "mac1"][0]
    assert mac1["kind"] == "macvlan" and mac1["mode"] == "bridge" and mac1["parent"] == "enp0s8"
    assert mac1["netns"] == ns1 and mac1["addresses"] == ["192.168.56.122/24"]
    space = [n for n in gathered["namespaces"] if n["name"] == ns1][0]
    assert space["routes"] == [{"dest": "default", "via": "192.168.56.1", "dev": "mac1", "metric": 0}]
    again = sandbox.run(MODULE, gathered)
    assert not again.get("failed"), again
    assert again["changed"] is False, again["actions"]


def test_every_document_error_at_once(sandbox, failing):
    doc = {
        "namespaces": [{"name": sandbox.ns("a")}, {"name": sandbox.ns("a")}],
        "links": [
            {"kind": "macvlan", "name": "m1", "parent": "nosuch0", "addresses": ["10.0.0.1/24"]},
            {"kind": "vlan", "name": "v1", "parent": "m1", "vlan_id": 5000},
            {"kind": "macvlan", "name": "m1", "parent": "x1"},
            {"kind": "bridge", "name": "b1", "addresses": ["10.0.0.1/16"]},
            {"kind": "tunnel", "name": "t1"},
            {"kind": "macvlan", "name": "c1", "parent": "c2"},
            {"kind": "macvlan", "name": "c2", "parent": "c1"},
        ],
    }
    result = failing(MODULE, doc)
    text = "\n".join(result["errors"])
    for path in ("namespaces[1].name", "links[1].vlan_id", "links[2].name", "links[3].addresses[0]",
                 "links[4].kind", "dependency cycle"):
        assert path in text, (path, text)
    assert len(result["errors"]) >= 6


def test_parent_that_will_not_exist(sandbox, failing):
    result = failing(MODULE, {"links": [{"kind": "macvlan", "name": "m1", "parent": "nosuch0"}]})
    assert result["errors"] == ["links[0].parent: 'nosuch0' does not exist in the host namespace"]


def test_facts_export_one_host_and_apply_to_another(sandbox):
    """netlink_facts on host A, fed to topology on host B (two sandboxes), gives B the same layout."""
    from conftest import Sandbox
    doc = {"links": [{"kind": "bridge", "name": "test_br", "addresses": ["192.168.9.1/24"]},
                     {"kind": "veth", "name": "veth1", "peer": "veth1_br", "mtu": 1400},
                     {"kind": "macvlan", "name": "mv1", "parent": "veth1", "mode": "private",
                      "addresses": ["192.168.9.2/24"]}],
           "bridge_ports": [{"name": "veth1_br", "bridge": "test_br", "hairpin": True}]}
    assert not sandbox.run(MODULE, doc).get("failed")
    facts = sandbox.run("netlink_facts", {"namespaces": [""]})["ansible_facts"]["linuxnet_topology"]
    assert facts["bridge_ports"][0]["hairpin"] is True
    other = Sandbox(in_process=sandbox.in_process)
    try:
        applied = other.run(MODULE, facts)
        assert not applied.get("failed") and applied["changed"] is True, applied
        again = other.run("netlink_facts", {"namespaces": [""]})["ansible_facts"]["linuxnet_topology"]
        assert again == facts
        assert other.links()["mv1"]["linkinfo"]["info_data"]["mode"] == "private"
        assert other.run(MODULE, facts)["changed"] is False
    finally:
        other.cleanup()


def test_document_booleans_are_read_as_ansible_reads_them(sandbox):
    """Entries skip Ansible's argument types: a templated 'False' must not turn promisc on."""
    doc = {"links": [{"kind": "veth", "name": "up0", "peer": "up1"},
                     {"kind": "macvlan", "name": "m1", "parent": "up0", "promisc": "False"}],
           "bridge_ports": []}
    sandbox.converge(MODULE, dict(doc, links=[doc["links"][0], dict(doc["links"][1], promisc="True")]))
    assert "PROMISC" in sandbox.links()["m1"]["flags"]
    sandbox.converge(MODULE, doc)
    assert "PROMISC" not in sandbox.links()["m1"]["flags"]


def test_new_namespace_with_routes_and_neighbors_in_the_same_run(sandbox):
    # The routes need the macvlan and the address that the same run creates just before.
    ns1 = sandbox.ns("ns1")
    doc = lab(sandbox, children=("ns1",))
    doc["namespaces"][0].update(
        routes=[{"dest": "default", "via": "192.168.56.1"}, {"dest": "10.9.0.0/16", "dev": "mac1"}],
        neighbors=[{"address": "192.168.56.200", "lladdr": "02:00:00:00:00:c8", "dev": "mac1"}])
    sandbox.converge(MODULE, doc, watch=(ns1,))
    routes = sandbox.ip("route", "show", netns=ns1)
    assert "default via 192.168.56.1 dev mac1 proto static" in routes
    assert "10.9.0.0/16 dev mac1 proto static scope link" in routes
    assert "192.168.56.200 dev mac1 lladdr 02:00:00:00:00:c8 PERMANENT" in sandbox.ip("neigh", "show", netns=ns1)
    assert "UP" in sandbox.links(ns1)["lo"]["flags"]


def test_existing_namespace_with_lo_down_gets_lo_and_routes_in_one_run(sandbox):
    # The namespace step brings lo up; the routes step, planned from the same reading, must
    # not expect lo as it was.
    ns1 = sandbox.ns("ns1")
    sandbox.ip("netns", "add", ns1)
    doc = lab(sandbox, children=("ns1",))
    doc["namespaces"][0]["routes"] = [{"dest": "default", "via": "192.168.56.1"}]
    result = sandbox.converge(MODULE, doc, watch=(ns1,))
    assert "ip -n %s link set dev lo up" % ns1 in result["actions"]
    assert "default via 192.168.56.1 dev mac1" in sandbox.ip("route", "show", netns=ns1)
