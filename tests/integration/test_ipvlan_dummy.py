"""ipvlan and dummy links, added through the registry of link kinds: each module alone, in a
topology document, gathered, purged. This kernel may lack them: the tests then run in the
User-mode Linux lane (scripts/test.sh routes them there)."""

from __future__ import annotations

import pytest


@pytest.mark.kernel("dummy")
def test_dummy_link_lifecycle(sandbox):
    result = sandbox.converge("dummy_link", {"name": "dummy0", "addresses": ["10.99.0.1/32"]})
    assert result["actions"][0] == "ip link add name dummy0 type dummy"
    link = sandbox.links()["dummy0"]
    assert link["linkinfo"]["info_kind"] == "dummy" and "UP" in link["flags"]
    assert sandbox.addresses("dummy0") == ["10.99.0.1/32"]
    sandbox.converge("dummy_link", {"name": "dummy0", "mtu": 1400, "addresses": []})
    assert sandbox.links()["dummy0"]["mtu"] == 1400 and sandbox.addresses("dummy0") == []
    sandbox.converge("dummy_link", {"name": "dummy0", "state": "absent"})
    assert "dummy0" not in sandbox.links()


@pytest.mark.kernel("dummy", "ipvlan")
@pytest.mark.parametrize("mode,flag", [("l2", "bridge"), ("l3", "private"), ("l3s", "vepa")])
def test_ipvlan_modes_and_flags_are_created_and_changed_in_place(sandbox, mode, flag):
    sandbox.run("dummy_link", {"name": "nic0"})
    args = {"name": "ipv0", "parent": "nic0", "mode": mode, "flag": flag, "addresses": ["10.60.0.2/24"]}
    result = sandbox.converge("ipvlan_link", args)
    assert result["link"]["mode"] == mode and result["link"]["flag"] == flag
    data = sandbox.links()["ipv0"]["linkinfo"]["info_data"]
    assert data["mode"] == mode
    assert sandbox.links()["ipv0"]["address"] == sandbox.links()["nic0"]["address"], "an ipvlan has its parent's MAC"
    other_mode = {"l2": "l3", "l3": "l3s", "l3s": "l2"}[mode]
    result = sandbox.converge("ipvlan_link", dict(args, mode=other_mode, flag="bridge"))
    assert not any(action.startswith("ip link del") for action in result["actions"]), "changed in place"
    assert sandbox.links()["ipv0"]["linkinfo"]["info_data"]["mode"] == other_mode


@pytest.mark.kernel("dummy", "ipvlan")
def test_ipvlan_refusals(sandbox, failing):
    sandbox.run("dummy_link", {"name": "nic0"})
    failing("ipvlan_link", {"name": "ipv0", "parent": "nic0", "macaddress": "02:00:00:00:00:01"}, field="macaddress")
    assert "mode" in failing("ipvlan_link", {"name": "ipv0", "parent": "nic0", "mode": "l4"})["msg"]
    sandbox.run("macvlan_link", {"name": "mv0", "parent": "nic0", "mode": "bridge"})
    result = failing("ipvlan_link", {"name": "ipv0", "parent": "nic0"}, field="parent")
    assert "carries the macvlan mv0" in result["msg"]
    sandbox.run("macvlan_link", {"name": "mv0", "state": "absent"})
    sandbox.run("ipvlan_link", {"name": "ipv0", "parent": "nic0"})
    result = failing("macvlan_link", {"name": "mv1", "parent": "nic0", "mode": "bridge"}, field="parent")
    assert "carries the ipvlan ipv0" in result["msg"]


@pytest.mark.kernel("dummy", "ipvlan")
def test_ipvlan_and_dummy_in_a_topology_document(sandbox):
    ns1 = sandbox.ns("ns1")
    doc = {"namespaces": [{"name": ns1, "routes": [{"dest": "default", "via": "10.60.0.1"}]}],
           "links": [{"kind": "ipvlan", "name": "ipv1", "parent": "nic0", "netns": ns1, "mode": "l2",
                      "addresses": ["10.60.0.11/24"]},
                     {"kind": "dummy", "name": "nic0"}]}
    result = sandbox.converge("topology", doc, watch=(ns1,))
    actions = result["actions"]
    assert actions.index("ip link add name nic0 type dummy group 19534") < \
        actions.index("ip link add link nic0 name ipv1 netns %s type ipvlan mode l2 group 19534" % ns1)
    assert sandbox.links(ns1)["ipv1"]["linkinfo"]["info_kind"] == "ipvlan"
    gathered = sandbox.run("topology", {"state": "gathered"})["gathered"]
    kinds = {link["name"]: link for link in gathered["links"]}
    assert kinds["ipv1"]["kind"] == "ipvlan" and kinds["ipv1"]["mode"] == "l2" and kinds["nic0"]["kind"] == "dummy"
    again = sandbox.run("topology", gathered)
    assert not again.get("failed") and again["changed"] is False, again
    # an empty layout removes both, the ipvlan before its parent
    gone = sandbox.converge("topology", {"state": "overridden"}, watch=(ns1,))
    assert gone["diff"]["before"]["purged"] == ["dummy nic0 in the host namespace", "netns %s" % ns1]
    assert "nic0" not in sandbox.links() and not sandbox.netns_exists(ns1)
