"""Ownership that is never wrong: `overridden` removes only what this layout (its owner scope)
created, never a foreign object inside or beside ours, and two scopes on one host converge,
purge and tear down independently. Real kernel, each test in its own sandbox."""

from __future__ import annotations

MODULE = "topology"


def nic(sandbox):
    sandbox.veth("eth1", "eth1sw")


def layout(sandbox, scope, names, namespace=None):
    """Bridge-mode macvlans on eth1 for one scope (in `namespace`, which the layout creates)."""
    doc = {"owner": scope, "links": []}
    if namespace:
        doc["namespaces"] = [{"name": sandbox.ns(namespace)}]
    for index, name in enumerate(names):
        doc["links"].append({"kind": "macvlan", "name": name, "parent": "eth1", "mode": "bridge",
                             "netns": sandbox.ns(namespace) if namespace else None,
                             "addresses": ["10.7.%d.%d/24" % (len(scope), index + 1)]})
    return doc


def test_an_owned_namespace_holding_a_foreign_veth_end_is_kept_and_emptied_of_ours(sandbox):
    nic(sandbox)
    own1 = sandbox.ns("own1")
    sandbox.run(MODULE, layout(sandbox, "default", ["m1"], namespace="own1"))
    sandbox.ip("link", "add", "fv0", "type", "veth", "peer", "name", "fv1", "netns", own1)
    sandbox.ip("link", "add", "link", "fv0", "name", "handmade", "type", "macvlan")
    result = sandbox.converge(MODULE, {"state": "overridden"}, watch=(own1,))
    assert result["diff"]["before"]["kept"] == ["netns %s (holds fv1, not created by this layout)" % own1]
    assert result["diff"]["before"]["purged"] == ["macvlan m1 in netns %s" % own1]
    assert sandbox.netns_exists(own1) and set(sandbox.links(own1)) == {"lo", "fv1"}
    assert {"fv0", "handmade"} <= set(sandbox.links())


def test_a_foreign_macvlan_inside_an_owned_namespace_is_kept(sandbox):
    nic(sandbox)
    own1 = sandbox.ns("own1")
    sandbox.run(MODULE, layout(sandbox, "default", [], namespace="own1"))
    sandbox.ip("link", "add", "link", "eth1", "name", "theirs", "netns", own1, "type", "macvlan")
    result = sandbox.run(MODULE, {"state": "overridden"})
    assert result["changed"] is False and not result.get("failed"), result
    assert result["diff"]["before"]["kept"] == ["netns %s (holds theirs, not created by this layout)" % own1]
    assert "theirs" in sandbox.links(own1)


def test_an_owned_veth_whose_peer_carries_a_foreign_macvlan_is_not_deleted(sandbox, failing):
    nic(sandbox)
    sandbox.run(MODULE, {"links": [{"kind": "veth", "name": "tv", "peer": "tvp"}]})
    sandbox.ip("link", "add", "link", "tvp", "name", "onpeer", "type", "macvlan")
    result = failing(MODULE, {"state": "overridden"})
    assert "carries onpeer" in result["msg"], result
    assert {"tv", "tvp", "onpeer"} <= set(sandbox.links())


def test_two_scopes_converge_purge_and_tear_down_independently(sandbox, failing):
    nic(sandbox)
    team_a = layout(sandbox, "team-a", ["a1", "a2"], namespace="na")
    team_b = layout(sandbox, "team-b", ["b1"], namespace="nb")
    sandbox.converge(MODULE, dict(team_a, state="overridden"), watch=(sandbox.ns("na"),))
    sandbox.converge(MODULE, dict(team_b, state="overridden"), watch=(sandbox.ns("nb"),))
    # each scope's overridden leaves the other's alone
    assert sandbox.run(MODULE, dict(team_a, state="overridden"))["changed"] is False
    assert sandbox.run(MODULE, dict(team_b, state="overridden"))["changed"] is False
    assert sandbox.links(sandbox.ns("na"))["a1"]["ifalias"] == "linuxnet.macvlan:team-a"
    # a scope's edit purges only its own
    team_a["links"].pop()
    result = sandbox.converge(MODULE, dict(team_a, state="overridden"), watch=(sandbox.ns("na"),))
    assert result["diff"]["before"]["purged"] == ["macvlan a2 in netns %s" % sandbox.ns("na")]
    assert "b1" in sandbox.links(sandbox.ns("nb"))
    # one scope never deletes a parent that carries another scope's child
    sandbox.run(MODULE, {"owner": "team-a", "state": "overridden", "links": team_a["links"] + [
        {"kind": "veth", "name": "va", "peer": "vap"}], "namespaces": team_a["namespaces"]})
    sandbox.run(MODULE, {"owner": "team-b", "state": "overridden", "namespaces": team_b["namespaces"],
                         "links": team_b["links"] + [{"kind": "macvlan", "name": "bonva", "parent": "va",
                                                      "mode": "bridge"}]})
    result = failing(MODULE, dict(team_a, state="overridden"))
    assert "carries bonva" in result["msg"], result
    # tear-downs: each empty document removes its scope's objects only
    sandbox.run(MODULE, {"owner": "team-b", "state": "overridden"})
    assert not sandbox.netns_exists(sandbox.ns("nb")) and "bonva" not in sandbox.links()
    assert sandbox.netns_exists(sandbox.ns("na"))
    sandbox.converge(MODULE, {"owner": "team-a", "state": "overridden"}, watch=(sandbox.ns("na"),))
    assert sandbox.netns_names() == [] and set(sandbox.links()) == {"lo", "eth1", "eth1sw"}


def test_marks_written_by_0_1_0_are_the_default_scope(sandbox):
    nic(sandbox)
    sandbox.ip("link", "add", "link", "eth1", "name", "old1", "group", "19534", "type", "macvlan")
    sandbox.ip("link", "set", "old1", "alias", "linuxnet.macvlan")
    assert sandbox.run(MODULE, {"owner": "team-a", "state": "overridden"})["changed"] is False
    gathered = sandbox.run(MODULE, {"state": "gathered"})
    assert {"name": "old1", "netns": None, "kind": "macvlan", "scope": "default"} in gathered["owners"]["links"]
    result = sandbox.run(MODULE, {"state": "overridden"})
    assert result["changed"] is True and "old1" not in sandbox.links()


def test_gathered_and_facts_name_each_objects_scope(sandbox):
    nic(sandbox)
    sandbox.run(MODULE, layout(sandbox, "team-a", ["a1"], namespace="na"))
    expected = {"namespaces": [{"name": sandbox.ns("na"), "scope": "team-a"}],
                "links": [{"name": "a1", "netns": sandbox.ns("na"), "kind": "macvlan", "scope": "team-a"}]}
    assert sandbox.run(MODULE, {"state": "gathered"})["owners"] == expected
    facts = sandbox.run("netlink_facts", {})["ansible_facts"]
    assert facts["linuxnet_topology_owners"] == expected


def test_a_bad_scope_name_is_refused(sandbox, failing):
    result = failing(MODULE, {"owner": "team a", "state": "overridden"})
    assert "owner" in result["msg"], result
