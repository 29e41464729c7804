"""The pre-flight's pure parts: sysctl key forms, link types a layout needs, pyroute2 versions,
the arp_sysctl role's variables turned into one net_sysctls call."""

from __future__ import annotations

import importlib.util

from conftest import ROOT

from ansible_collections.linuxnet.macvlan.plugins.module_utils.netsysctl import split_key, value_text
from ansible_collections.linuxnet.macvlan.plugins.module_utils.preflight import (
    kind_problems,
    kinds_needed,
    pyroute2_too_old,
)

_spec = importlib.util.spec_from_file_location("preflight_action", ROOT / "plugins" / "action" / "preflight.py")
action = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(action)


def test_sysctl_keys_in_both_forms_name_their_interface():
    assert split_key("net.ipv4.conf.eth1.100.rp_filter") == ("net/ipv4/conf", "eth1.100", "rp_filter")
    assert split_key("net/ipv4/conf/eth1.100/arp_ignore") == ("net/ipv4/conf", "eth1.100", "arp_ignore")
    assert split_key("net.ipv4.ip_forward") is None
    assert value_text(True) == "1" and value_text(" 4096\t87380 ") == "4096 87380"


def test_link_types_needed_and_missing_ones_name_the_module_to_load():
    layout = {"links": [{"kind": "macvlan"}, {"kind": "vlan"}, {"kind": "vlan", "state": "absent"}, {"kind": "veth"}]}
    assert kinds_needed(layout) == ["macvlan", "veth", "vlan"]
    assert kind_problems({"vlan": "missing", "macvlan": "present"}) == [
        "the layout needs vlan link(s), but the running kernel has no 'vlan' link type; load it with `modprobe 8021q` "
        "(or use a kernel built with CONFIG_VLAN_8021Q)"]


def test_pyroute2_versions():
    assert pyroute2_too_old("0.6.13") and not pyroute2_too_old("0.7.2") and not pyroute2_too_old("0.9.7")
    assert not pyroute2_too_old(None) and not pyroute2_too_old("unknown")


ARP = {"arp_sysctl_state": "present", "arp_sysctl_arp_ignore": 1, "arp_sysctl_arp_announce": 2, "arp_sysctl_rp_filter": 2,
       "arp_sysctl_extra": {"arp_filter": 1}, "arp_sysctl_interfaces": ["all", "eth1.100"],
       "arp_sysctl_namespaces": [{"name": "ns1", "interfaces": None}], "arp_sysctl_persist": True,
       "arp_sysctl_file": "/etc/sysctl.d/60-linuxnet-arp.conf",
       "arp_sysctl_runtime_file": "/run/sysctl.d/60-linuxnet-arp.conf"}


def test_arp_variables_become_one_net_sysctls_call_with_the_layout_pending():
    layout = {"namespaces": [{"name": "ns1"}, {"name": "old", "state": "absent"}],
              "links": [{"kind": "macvlan", "name": "mac2", "netns": "ns1"},
                        {"kind": "veth", "name": "v0", "peer": "v0p", "peer_netns": "ns1"}]}
    params = action.net_sysctls_params(ARP, layout)
    assert list(params["sysctls"]) == [
        "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce", "net.ipv4.conf.all.rp_filter",
        "net.ipv4.conf.all.arp_filter", "net/ipv4/conf/eth1.100/arp_ignore", "net/ipv4/conf/eth1.100/arp_announce",
        "net/ipv4/conf/eth1.100/rp_filter", "net/ipv4/conf/eth1.100/arp_filter"]
    assert list(params["namespaces"][0]["sysctls"])[0] == "net.ipv4.conf.all.arp_ignore"
    assert params["record"] == "/etc/sysctl.d/60-linuxnet-arp.conf.before"
    assert params["remove_files"] == ["/run/sysctl.d/60-linuxnet-arp.conf"]
    assert params["pending"] == {"namespaces": ["ns1"], "interfaces": {"ns1": ["mac2", "v0p"], "": ["v0"]}}


def test_arp_variable_problems_are_named():
    bad = dict(ARP, arp_sysctl_interfaces=["all", "eth1/x"], arp_sysctl_extra={"arp_ignore": 1, "arp-x": "a"},
               arp_sysctl_namespaces=[{"name": "a"}, {"name": "a"}])
    assert action.arp_variable_problems(bad) == [
        "arp_sysctl_interfaces[1]: 'eth1/x' contains '/'; interface names cannot hold '/', ':' or white space",
        "arp_sysctl_extra.arp_ignore: set it with arp_sysctl_arp_ignore",
        "arp_sysctl_extra.arp-x: not a key of net.ipv4.conf.<interface> (like arp_filter)",
        "arp_sysctl_extra.arp-x: 'a' is not an integer",
        "arp_sysctl_namespaces: 'a' is listed twice"]
