"""macvlan_link on the real kernel: every mode, in-place changes, re-creation, bad input."""

from __future__ import annotations

import os
import stat

import pytest

MODULE = "macvlan_link"


def info(sandbox, name, netns=None):
    return sandbox.links(netns)[name]["linkinfo"]


@pytest.fixture
def parent(sandbox):
    sandbox.veth("p0", "p0peer")
    return "p0"


@pytest.mark.parametrize("mode", ["private", "vepa", "bridge", "source", "passthru"])
def test_every_mode_is_created_and_read_back(sandbox, parent, mode):
    result = sandbox.converge(MODULE, {"name": "mv0", "parent": parent, "mode": mode})
    link = sandbox.links()["mv0"]
    assert link["linkinfo"]["info_kind"] == "macvlan"
    assert link["linkinfo"]["info_data"]["mode"] == mode
    assert link["link"] == parent and "UP" in link["flags"]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["mode"] == mode
    assert result["link"]["macaddress"] == link["address"]
    assert result["predicted"]["diff"]["after"]["macaddress"] == "(assigned by the kernel)"
    assert result["actions"][0] == "ip link add link p0 name mv0 type macvlan mode %s" % mode


def test_default_mode_is_vepa_like_the_kernel(sandbox, parent):
    sandbox.converge(MODULE, {"name": "mv0", "parent": parent})
    assert info(sandbox, "mv0")["info_data"]["mode"] == "vepa"


def test_addresses_mac_mtu_promisc_are_set_and_changed_in_place(sandbox, parent):
    args = {"name": "mv0", "parent": parent, "mode": "bridge", "macaddress": "02:00:00:aa:bb:01", "mtu": 1400,
            "promisc": True, "addresses": ["10.1.0.2/24", "fd00:1::2/64"]}
    sandbox.converge(MODULE, args)
    link = sandbox.links()["mv0"]
    index = link["ifindex"]
    assert link["address"] == "02:00:00:aa:bb:01" and link["mtu"] == 1400 and "PROMISC" in link["flags"]
    assert sandbox.addresses("mv0") == ["10.1.0.2/24", "fd00:1::2/64"]

    changed = dict(args, macaddress="02:00:00:aa:bb:02", mtu=1300, promisc=False, mode="private",
                   admin_state="down", addresses=["10.1.0.3/24"])
    result = sandbox.converge(MODULE, changed)
    link = sandbox.links()["mv0"]
    assert link["ifindex"] == index, "changed in place, not re-created"
    assert link["address"] == "02:00:00:aa:bb:02" and link["mtu"] == 1300
    assert "PROMISC" not in link["flags"] and "UP" not in link["flags"]
    assert link["linkinfo"]["info_data"]["mode"] == "private"
    assert sandbox.addresses("mv0") == ["10.1.0.3/24"]
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["mtu"], after["mtu"]) == (1400, 1300)
    assert (before["mode"], after["mode"]) == ("bridge", "private")
    assert (before["addresses"], after["addresses"]) == (["10.1.0.2/24", "fd00:1::2/64"], ["10.1.0.3/24"])
    assert not any("link del" in action for action in result["actions"])
    assert "ip link set dev mv0 type macvlan mode private" in result["actions"]


def test_link_local_ipv6_is_left_alone(sandbox, parent):
    sandbox.converge(MODULE, {"name": "mv0", "parent": parent, "mode": "bridge", "addresses": ["10.2.0.1/24"]})
    raw = sandbox.ip("-6", "addr", "show", "dev", "mv0")
    assert "fe80::" in raw
    again = sandbox.run(MODULE, {"name": "mv0", "parent": parent, "mode": "bridge", "addresses": ["10.2.0.1/24"]})
    assert again["changed"] is False
    assert "fe80::" in sandbox.ip("-6", "addr", "show", "dev", "mv0")


def test_kind_change_recreates_and_says_so(sandbox, parent):
    sandbox.converge(MODULE, {"name": "mv0", "parent": parent, "mode": "bridge"})
    old_index = sandbox.links()["mv0"]["ifindex"]
    result = sandbox.converge(MODULE, {"name": "mv0", "parent": parent, "mode": "bridge", "kind": "macvtap"})
    link = sandbox.links()["mv0"]
    assert link["linkinfo"]["info_kind"] == "macvtap" and link["ifindex"] != old_index
    assert result["actions"][0] == "ip link del dev mv0"
    assert result["actions"][1].startswith("ip link add link p0 name mv0 type macvtap")
    assert (result["diff"]["before"]["kind"], result["diff"]["after"]["kind"]) == ("macvlan", "macvtap")
    assert result["diff"]["after_header"] == "macvtap mv0 in the host namespace (re-created: kind macvlan -> macvtap)"


def test_parent_change_recreates(sandbox, parent):
    sandbox.veth("p1", "p1peer")
    sandbox.converge(MODULE, {"name": "mv0", "parent": parent})
    result = sandbox.converge(MODULE, {"name": "mv0", "parent": "p1"})
    assert sandbox.links()["mv0"]["link"] == "p1"
    assert result["actions"][0] == "ip link del dev mv0"
    assert (result["diff"]["before"]["parent"], result["diff"]["after"]["parent"]) == ("p0", "p1")
    assert "re-created: parent p0 -> p1" in result["diff"]["after_header"]


def test_switching_to_passthru_recreates(sandbox, parent):
    sandbox.converge(MODULE, {"name": "mv0", "parent": parent, "mode": "bridge"})
    result = sandbox.converge(MODULE, {"name": "mv0", "parent": parent, "mode": "passthru"})
    assert info(sandbox, "mv0")["info_data"]["mode"] == "passthru"
    assert result["actions"][0] == "ip link del dev mv0"


def test_source_mode_list_is_edited_in_place(sandbox, parent):
    a, b, c = "52:54:00:00:00:0a", "52:54:00:00:00:0b", "52:54:00:00:00:0c"
    sandbox.converge(MODULE, {"name": "ms", "parent": parent, "mode": "source", "source_macs": [a, b]})
    data = info(sandbox, "ms")["info_data"]
    index = sandbox.links()["ms"]["ifindex"]
    assert sorted(data["macaddr_data"]) == [a, b]

    result = sandbox.converge(MODULE, {"name": "ms", "parent": parent, "mode": "source", "source_macs": [b, c]})
    assert sorted(info(sandbox, "ms")["info_data"]["macaddr_data"]) == [b, c]
    assert sandbox.links()["ms"]["ifindex"] == index
    assert result["actions"] == ["ip link set dev ms type macvlan macaddr del %s" % a,
                                 "ip link set dev ms type macvlan macaddr add %s" % c]
    assert (result["diff"]["before"]["source_macs"], result["diff"]["after"]["source_macs"]) == ([a, b], [b, c])

    result = sandbox.converge(MODULE, {"name": "ms", "parent": parent, "mode": "source", "source_macs": []})
    assert info(sandbox, "ms")["info_data"]["macaddr_count"] == 0
    assert result["actions"] == ["ip link set dev ms type macvlan macaddr flush"]


def test_passthru_forces_parent_promisc_unless_nopromisc(sandbox, parent):
    sandbox.converge(MODULE, {"name": "pt", "parent": parent, "mode": "passthru"})
    assert sandbox.links()[parent]["promiscuity"] >= 1
    assert "nopromisc" not in str(info(sandbox, "pt")["info_data"].get("flags", ""))

    sandbox.veth("p1", "p1peer")
    sandbox.converge(MODULE, {"name": "pt1", "parent": "p1", "mode": "passthru", "nopromisc": True})
    assert sandbox.links()["p1"]["promiscuity"] == 0
    assert "nopromisc" in sandbox.ip("-d", "link", "show", "pt1")

    # nopromisc is a flag the kernel changes in place
    index = sandbox.links()["pt1"]["ifindex"]
    result = sandbox.converge(MODULE, {"name": "pt1", "parent": "p1", "mode": "passthru", "nopromisc": False})
    assert sandbox.links()["pt1"]["ifindex"] == index
    assert sandbox.links()["p1"]["promiscuity"] >= 1
    assert result["diff"]["after"]["nopromisc"] is False


def test_macvtap_gets_its_tap_device(sandbox, parent):
    result = sandbox.converge(MODULE, {"name": "mvt0", "parent": parent, "kind": "macvtap", "mode": "bridge"})
    link = sandbox.links()["mvt0"]
    assert link["linkinfo"]["info_kind"] == "macvtap"
    assert link["linkinfo"]["info_data"]["mode"] == "bridge"
    device = result["link"]["tap_device"]
    assert device == "/dev/tap%d" % link["ifindex"]
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_link_is_created_directly_in_its_namespace(sandbox, parent):
    ns1 = sandbox.ns("ns1")
    sandbox.converge("netns", {"name": ns1})
    result = sandbox.converge(MODULE, {"name": "mac1", "parent": parent, "netns": ns1, "mode": "bridge",
                                       "addresses": ["192.168.56.122/24"]}, watch=(ns1,))
    assert "mac1" not in sandbox.links()
    link = sandbox.links(ns1)["mac1"]
    assert link["linkinfo"]["info_data"]["mode"] == "bridge" and "link_netnsid" in link
    assert sandbox.addresses("mac1", netns=ns1) == ["192.168.56.122/24"]
    assert result["actions"][0] == "ip link add link p0 name mac1 netns %s type macvlan mode bridge" % ns1
    assert result["link"]["parent"] == "p0" and result["link"]["parent_netns"] is None
    assert result["actions"][1] == "ip -n %s link set dev mac1 up" % ns1


def test_parent_in_another_namespace(sandbox):
    ns1, ns2 = sandbox.ns("ns1"), sandbox.ns("ns2")
    for ns in (ns1, ns2):
        sandbox.run("netns", {"name": ns})
    sandbox.veth("up0", "up0peer", netns=ns1)
    result = sandbox.converge(MODULE, {"name": "mvx", "parent": "up0", "parent_netns": ns1, "netns": ns2})
    assert result["link"]["parent"] == "up0" and result["link"]["parent_netns"] == ns1
    assert "mvx" in sandbox.links(ns2)


def test_absent_deletes_and_is_idempotent(sandbox, parent):
    sandbox.run(MODULE, {"name": "mv0", "parent": parent})
    result = sandbox.converge(MODULE, {"name": "mv0", "state": "absent"})
    assert "mv0" not in sandbox.links()
    assert result["diff"]["after"] == {} and result["diff"]["before"]["name"] == "mv0"
    assert result["actions"] == ["ip link del dev mv0"]


def test_failed_step_rolls_back_everything(sandbox, parent):
    # IPv6 off in this namespace: the kernel refuses the IPv6 address after the link exists.
    for key in ("all", "default"):
        sandbox.exec("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % key)
    result = sandbox.run(MODULE, {"name": "mv0", "parent": parent, "addresses": ["10.3.0.1/24", "fd00:3::1/64"]})
    assert result["failed"] is True
    assert "ip addr add fd00:3::1/64 dev mv0" in result["msg"]
    assert result["failed_action"] == "ip addr add fd00:3::1/64 dev mv0"
    assert result["rolled_back"][-1].startswith("ip link add link p0 name mv0")
    assert "mv0" not in sandbox.links(), "the half-built link was rolled back"


def test_failed_change_restores_previous_settings(sandbox, parent):
    sandbox.run(MODULE, {"name": "mv0", "parent": parent, "mode": "bridge", "mtu": 1400, "addresses": ["10.4.0.1/24"]})
    index = sandbox.links()["mv0"]["ifindex"]
    for key in ("all", "default"):
        sandbox.exec("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % key)
    result = sandbox.run(MODULE, {"name": "mv0", "parent": parent, "mode": "private", "mtu": 1300,
                                  "addresses": ["10.4.0.2/24", "fd00:4::1/64"]})
    assert result["failed"] is True and result["rolled_back"]
    link = sandbox.links()["mv0"]
    assert link["ifindex"] == index and link["mtu"] == 1400
    assert link["linkinfo"]["info_data"]["mode"] == "bridge"
    assert sandbox.addresses("mv0") == ["10.4.0.1/24"]


BAD_INPUTS = [
    ({"name": "a-very-long-name0"}, "name", "bytes"),
    ({"name": "bad/name"}, "name", "'/'"),
    ({"name": "bad name"}, "name", "white space"),
    ({"mode": "bridge", "source_macs": ["52:54:00:00:00:01"]}, "source_macs", "only applies to mode source"),
    ({"mode": "bridge", "nopromisc": True}, "nopromisc", "only applies to mode passthru"),
    ({"macaddress": "52:54:00:00:00"}, "macaddress", "not a MAC"),
    ({"macaddress": "01:00:5e:00:00:01"}, "macaddress", "multicast"),
    ({"mode": "source", "source_macs": ["zz:54:00:00:00:01"]}, "source_macs[0]", "not a MAC"),
    ({"addresses": ["10.0.0.300/24"]}, "addresses[0]", "CIDR"),
    ({"addresses": ["10.0.0.1"]}, "addresses[0]", "prefix length"),
    ({"mtu": 9000}, "mtu", "above the MTU of parent p0"),
    ({"mtu": 60}, "mtu", "out of range"),
    ({"parent": "nosuch0"}, "parent", "does not exist"),
    ({"netns": "lnmt-no-such-ns"}, "netns", "does not exist"),
    ({"parent_netns": "lnmt-no-such-ns"}, "parent_netns", "does not exist"),
]


@pytest.mark.parametrize("change,field,words", BAD_INPUTS, ids=[b[1] + "-" + b[2] for b in BAD_INPUTS])
def test_bad_input_fails_naming_the_field_and_changes_nothing(sandbox, parent, failing, change, field, words):
    args = dict({"name": "mv0", "parent": parent}, **change)
    for check in (True, False):
        result = failing(MODULE, args, field=field, check=check)
        assert words in result["msg"], result["msg"]
    assert "mv0" not in sandbox.links()


def test_unknown_mode_is_refused_by_the_argument_spec(sandbox, parent, failing):
    result = failing(MODULE, {"name": "mv0", "parent": parent, "mode": "bridged"})
    assert "mode" in result["msg"] and "bridged" in result["msg"]


def test_second_child_on_a_passthru_parent_is_refused(sandbox, parent, failing):
    sandbox.run(MODULE, {"name": "pt", "parent": parent, "mode": "passthru"})
    result = failing(MODULE, {"name": "mv1", "parent": parent, "mode": "bridge"}, field="parent")
    assert "passthru child pt" in result["msg"]


def test_passthru_on_a_parent_with_children_is_refused(sandbox, parent, failing):
    ns1 = sandbox.ns("ns1")
    sandbox.run("netns", {"name": ns1})
    sandbox.run(MODULE, {"name": "mv1", "parent": parent, "netns": ns1, "mode": "bridge"})
    result = failing(MODULE, {"name": "pt", "parent": parent, "mode": "passthru"}, field="mode", watch=(ns1,))
    assert "mv1 (netns %s)" % ns1 in result["msg"]


def test_existing_link_of_another_kind_is_never_replaced(sandbox, parent, failing):
    result = failing(MODULE, {"name": "p0peer", "parent": parent}, field="name")
    assert "veth" in result["msg"]
    assert sandbox.links()["p0peer"]["linkinfo"]["info_kind"] == "veth"
    failing(MODULE, {"name": "p0peer", "state": "absent"}, field="name")


def test_missing_pyroute2_gives_the_standard_message(sandbox, tmp_path, monkeypatch):
    # A managed host without pyroute2: the interpreter's start-up marks it as not installed
    # (a None entry in sys.modules is Python's "no such module" for import and find_spec alike).
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['pyroute2'] = None\n")
    monkeypatch.setenv("PYTHONPATH_PREFIX", str(tmp_path))
    # pyroute2 is a declared requirement: its absence is reported before anything changes.
    before = sandbox.snapshot()
    result = sandbox.run("veth_link", {"name": "v0", "peer": "v1"}, in_process=False)
    assert result["failed"] is True and result["changed"] is False
    assert "Failed to import the required Python library (pyroute2)" in result["msg"]
    assert sandbox.snapshot() == before
