"""vlan_link on a kernel with 8021q (the User-mode Linux lane on machines without it)."""

from __future__ import annotations

import pytest


MODULE = "vlan_link"
pytestmark = pytest.mark.kernel("8021q")


@pytest.fixture
def parent(sandbox):
    sandbox.veth("eth0", "eth0peer")
    return "eth0"


def vlan_info(sandbox, name, netns=None):
    return sandbox.links(netns)[name]["linkinfo"]["info_data"]


def test_create_with_flags_qos_and_addresses(sandbox, parent):
    args = {"name": "eth0.100", "parent": parent, "vlan_id": 100, "gvrp": True, "loose_binding": True,
            "ingress_qos_map": {1: 2, 5: 6}, "egress_qos_map": {"0": 1, "7": 7}, "addresses": ["10.100.0.1/24"],
            "mtu": 1400}
    result = sandbox.converge(MODULE, args)
    data = vlan_info(sandbox, "eth0.100")
    assert data["protocol"] == "802.1Q" and data["id"] == 100
    assert set(data["flags"]) == {"REORDER_HDR", "GVRP", "LOOSE_BINDING"}
    assert {(m["from"], m["to"]) for m in data["ingress_qos"]} == {(1, 2), (5, 6)}
    assert {(m["from"], m["to"]) for m in data["egress_qos"]} == {(0, 1), (7, 7)}
    assert sandbox.addresses("eth0.100") == ["10.100.0.1/24"]
    assert sandbox.links()["eth0.100"]["mtu"] == 1400
    assert result["actions"][0].startswith("ip link add link eth0 name eth0.100 type vlan protocol 802.1Q id 100")
    after = result["diff"]["after"]
    assert after["vlan_id"] == 100 and after["gvrp"] is True and after["mvrp"] is False


def test_flags_and_qos_change_in_place(sandbox, parent):
    base = {"name": "eth0.100", "parent": parent, "vlan_id": 100, "egress_qos_map": {0: 1, 6: 6}}
    sandbox.converge(MODULE, base)
    index = sandbox.links()["eth0.100"]["ifindex"]
    result = sandbox.converge(MODULE, dict(base, reorder_hdr=False, mvrp=True, egress_qos_map={6: 5},
                                           ingress_qos_map={3: 4}))
    data = vlan_info(sandbox, "eth0.100")
    assert sandbox.links()["eth0.100"]["ifindex"] == index, "changed in place"
    assert set(data.get("flags", [])) == {"MVRP"}
    assert {(m["from"], m["to"]) for m in data["egress_qos"]} == {(6, 5)}
    assert {(m["from"], m["to"]) for m in data["ingress_qos"]} == {(3, 4)}
    assert not any("link del" in action for action in result["actions"])
    assert (result["diff"]["before"]["egress_qos_map"], result["diff"]["after"]["egress_qos_map"]) == \
        ({0: 1, 6: 6}, {6: 5}) or result["diff"]["after"]["egress_qos_map"] in ({6: 5}, {"6": 5})


def test_vlan_id_change_recreates_and_says_so(sandbox, parent):
    sandbox.converge(MODULE, {"name": "vl", "parent": parent, "vlan_id": 11})
    index = sandbox.links()["vl"]["ifindex"]
    result = sandbox.converge(MODULE, {"name": "vl", "parent": parent, "vlan_id": 12})
    assert vlan_info(sandbox, "vl")["id"] == 12 and sandbox.links()["vl"]["ifindex"] != index
    assert result["actions"][0] == "ip link del dev vl"
    assert "re-created: vlan_id 11 -> 12" in result["diff"]["after_header"]


def test_protocol_change_recreates(sandbox, parent):
    sandbox.converge(MODULE, {"name": "vl", "parent": parent, "vlan_id": 11})
    result = sandbox.converge(MODULE, {"name": "vl", "parent": parent, "vlan_id": 11, "protocol": "802.1ad"})
    assert vlan_info(sandbox, "vl")["protocol"] == "802.1ad"
    assert "protocol 802.1Q -> 802.1ad" in result["diff"]["after_header"]


def test_qinq_with_dotted_names_and_per_interface_sysctl(sandbox, parent):
    ns1 = sandbox.ns("ns1")
    sandbox.run("netns", {"name": ns1})
    sandbox.converge(MODULE, {"name": "eth0.100", "parent": parent, "vlan_id": 100, "protocol": "802.1ad"})
    sandbox.converge(MODULE, {"name": "eth0.100.200", "parent": "eth0.100", "vlan_id": 200, "netns": ns1,
                              "addresses": ["10.200.0.1/24"]})
    outer = vlan_info(sandbox, "eth0.100")
    inner = vlan_info(sandbox, "eth0.100.200", netns=ns1)
    assert (outer["protocol"], outer["id"]) == ("802.1ad", 100)
    assert (inner["protocol"], inner["id"]) == ("802.1Q", 200)
    # the dotted name in a per-interface sysctl, written in dotted form
    sandbox.converge("netns", {"name": ns1, "sysctls": {"net.ipv4.conf.eth0.100.200.arp_ignore": 1}})
    path = "/proc/sys/net/ipv4/conf/eth0.100.200/arp_ignore"
    assert sandbox.exec("cat", path, netns=ns1).stdout.strip() == "1"


def test_runs_as_ansible_runs_it(sandbox, parent):
    """A separate Python process with the args file, as on a managed host (the lane's
    other tests call main() in-process to save the ~3 s start-up under UML)."""
    args = {"name": "eth0.42", "parent": parent, "vlan_id": 42}
    first_run = sandbox.run(MODULE, args, in_process=False)
    assert first_run["changed"] is True and vlan_info(sandbox, "eth0.42")["id"] == 42
    assert sandbox.run(MODULE, args, in_process=False)["changed"] is False


def test_promisc_like_seed_001(sandbox, parent):
    sandbox.converge(MODULE, {"name": "eth0.11", "parent": parent, "vlan_id": 11, "promisc": True})
    assert "PROMISC" in sandbox.links()["eth0.11"]["flags"]


def test_absent(sandbox, parent):
    sandbox.run(MODULE, {"name": "eth0.5", "parent": parent, "vlan_id": 5})
    sandbox.converge(MODULE, {"name": "eth0.5", "state": "absent"})
    assert "eth0.5" not in sandbox.links()


def test_failure_rolls_back(sandbox, parent):
    for key in ("all", "default"):
        sandbox.exec("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % key)
    result = sandbox.run(MODULE, {"name": "eth0.9", "parent": parent, "vlan_id": 9,
                                  "addresses": ["10.9.0.1/24", "fd00:9::1/64"]})
    assert result["failed"] is True and result["rolled_back"]
    assert "eth0.9" not in sandbox.links()


BAD = [
    ({"vlan_id": 0}, "vlan_id", "out of range"),
    ({"vlan_id": 4095}, "vlan_id", "out of range"),
    ({"name": "eth0.100.200.300"}, "name", "bytes"),
    ({"ingress_qos_map": {9: 1}}, "ingress_qos_map.9", "out of range"),
    ({"egress_qos_map": {1: 8}}, "egress_qos_map.1", "out of range"),
    ({"macaddress": "nope"}, "macaddress", "not a MAC"),
    ({"parent": "nosuch"}, "parent", "does not exist"),
    ({"mtu": 9000}, "mtu", "above the MTU"),
]


@pytest.mark.parametrize("change,field,words", BAD, ids=[b[1] + "-" + b[2] for b in BAD])
def test_bad_input(sandbox, parent, failing, change, field, words):
    args = dict({"name": "vl", "parent": parent, "vlan_id": 10}, **change)
    result = failing(MODULE, args, field=field)
    assert words in result["msg"]


def test_same_vlan_twice_on_one_parent_is_refused(sandbox, parent, failing):
    sandbox.run(MODULE, {"name": "eth0.10", "parent": parent, "vlan_id": 10})
    result = failing(MODULE, {"name": "other10", "parent": parent, "vlan_id": 10}, field="vlan_id")
    assert "already carries VLAN 10 (802.1Q) as eth0.10" in result["msg"]
