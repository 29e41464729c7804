"""Strict input on the real kernel (issue 13 item 6): every bad input is one JSON answer naming
its path, never a traceback, and nothing on the host changes, in normal and in check mode."""

from __future__ import annotations

import copy

import pytest

from conftest import kernel_has
from input_cases import WRONG_TYPES, macvlan


@pytest.fixture
def nic(sandbox):
    """A stand-in NIC for the links to sit on."""
    sandbox.veth("eth1", "eth1_sw")
    return "eth1"


def refused(failing, module, args, watch=()):
    """Refused the same way in check mode and for real; the errors, as text."""
    checked = failing(module, args, watch=watch, check=True)
    result = failing(module, args, watch=watch)
    assert checked["errors"] == result["errors"]
    assert "Traceback" not in result["msg"] and "exception" not in result, result
    return result["errors"]


@pytest.mark.parametrize("check", [True, False])
def test_misspelt_mode_is_refused_not_a_vepa_link(sandbox, failing, nic, check):
    result = failing("topology", {"links": [macvlan(mdoe="private")]}, check=check)
    assert result["errors"] == ["links[0].mdoe: unknown option, did you mean 'mode'?"]
    assert "mv0" not in sandbox.links()


def test_route_with_dst_is_refused_not_a_default_route(sandbox, failing):
    ns1 = sandbox.ns("ns1")
    doc = {"namespaces": [{"name": ns1, "routes": [{"dst": "10.0.0.0/8", "dev": "lo"}]}]}
    errors = refused(failing, "topology", doc, watch=(ns1,))
    assert errors == ["namespaces[0].routes[0].dst: unknown option, did you mean 'dest'?"]
    assert not sandbox.netns_exists(ns1)


@pytest.mark.parametrize("entry, expected", WRONG_TYPES)
def test_wrong_types_in_a_document(sandbox, failing, nic, entry, expected):
    ns1 = sandbox.ns("ns1")
    document = copy.deepcopy(entry)  # the cases are shared with the unit tests
    for space in document.get("namespaces", []):
        space["name"] = ns1 if space["name"] == "NS" else space["name"]
    assert refused(failing, "topology", document, watch=(ns1,)) == [expected]


def test_every_problem_in_the_document_at_once(sandbox, failing, nic):
    doc = {"namespaces": [{"name": 5}], "links": [macvlan(mdoe="private"), macvlan(name="mv1", mtu=1400.7)],
           "bridge_ports": [{"name": "eth1", "bridge": ["br0"]}]}
    assert refused(failing, "topology", doc) == [
        "namespaces[0].name: 5 is not a string (quote it)",
        "links[0].mdoe: unknown option, did you mean 'mode'?",
        "links[1].mtu: 1400.7 is not an integer",
        "bridge_ports[0].bridge: ['br0'] is not a string (quote it)",
    ]


@pytest.mark.parametrize("module, args, expected", [
    ("macvlan_link", {"name": ["a"], "parent": "eth1"}, "name: ['a'] is not a string (quote it)"),
    ("macvlan_link", {"name": "mv0", "parent": ["eth1"]}, "parent: ['eth1'] is not a string (quote it)"),
    ("macvlan_link", {"name": "mv0", "parent": "eth1", "mtu": True}, "mtu: True is not an integer"),
    ("macvlan_link", {"name": "mv0", "parent": "eth1", "macaddress": 120000000001},
     "macaddress: 120000000001 is not a string (quote it)"),
    ("vlan_link", {"name": "eth1.5", "parent": "eth1", "vlan_id": True}, "vlan_id: True is not an integer"),
    ("veth_link", {"name": "v0", "peer": 5}, "peer: 5 is not a string (quote it)"),
    ("bridge_link", {"name": "br0", "addresses": [["10.0.0.1/24"]]},
     "addresses[0]: ['10.0.0.1/24'] is not a string (quote it)"),
    ("macvlan_link", {"name": "mv0", "parent": "eth1", "routes": [{"dst": "10.0.0.0/8"}]},
     "routes[0].dst: unknown option, did you mean 'dest'?"),
    ("bridge_port", {"name": "eth1", "bridge": ["br0"]}, "bridge: ['br0'] is not a string (quote it)"),
    ("netns", {"name": ["x"]}, "name: ['x'] is not a string (quote it)"),
])
def test_single_modules_refuse_what_ansible_would_convert(sandbox, failing, nic, module, args, expected):
    """Ansible's type=str would make ['a'] the name "['a']", its type=int would take true for 1."""
    assert refused(failing, module, args) == [expected]
    assert not any("[" in name or name in ("mv0", "5", "v0", "br0") for name in sandbox.links())


@pytest.mark.parametrize("module, args", [
    ("netns", {"name": "NS\n"}),
    ("macvlan_link", {"name": "mv0", "parent": "eth1", "netns": "NS\n"}),
    ("topology", {"namespaces": [{"name": "NS\n"}]}),
])
def test_namespace_name_with_a_trailing_newline(sandbox, failing, nic, module, args):
    ns1 = sandbox.ns("ns1")
    args = {key: value.replace("NS", ns1) if isinstance(value, str) else value for key, value in args.items()}
    if module == "topology":
        args = {"namespaces": [{"name": ns1 + "\n"}]}
    [error] = refused(failing, module, args, watch=(ns1,))
    assert "is not a valid namespace name" in error
    assert not [entry for entry in sandbox.netns_names() if entry.startswith(ns1)]  # no "ns1\n" either


@pytest.mark.parametrize("addresses", [["fd00::1/64", "fd00::1/48"], ["10.0.0.1/24", "10.0.0.1/16"]])
def test_one_address_with_two_prefixes(sandbox, failing, nic, addresses):
    args = {"name": "mv0", "parent": "eth1", "addresses": addresses}
    [error] = refused(failing, "macvlan_link", args)
    assert error.startswith("addresses[1]: '%s' is listed twice (also as %s)" % (addresses[1], addresses[0]))
    [error] = refused(failing, "topology", {"links": [macvlan(addresses=addresses)]})
    assert error.startswith("links[0].addresses[1]: '%s' is listed twice" % addresses[1])


def test_missing_8021q_names_the_right_module(sandbox, failing, nic):
    """Without 8021q the failure names the module and option to load; with it (the User-mode Linux
    lane) the same request simply works. The hint itself is unit-tested in tests/unit/test_input.py."""
    args = {"name": "eth1.5", "parent": "eth1", "vlan_id": 5}
    if kernel_has("8021q"):
        assert not sandbox.run("vlan_link", args).get("failed")
        assert sandbox.links()["eth1.5"]["linkinfo"]["info_data"]["id"] == 5
        return
    result = failing("vlan_link", args)
    assert "`modprobe 8021q`" in result["msg"] and "CONFIG_VLAN_8021Q" in result["msg"], result["msg"]
    assert "eth1.5" not in sandbox.links()
