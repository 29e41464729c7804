"""Topology documents from issue 13 item 6 and the one error each must give: the unit tests
parse them, the integration tests run them through the module on the real kernel."""

from __future__ import annotations

from typing import Any, Dict


def macvlan(**fields: Any) -> Dict[str, Any]:
    """A macvlan entry on the sandbox's stand-in NIC `eth1`, with `fields` changed."""
    return dict({"kind": "macvlan", "name": "mv0", "parent": "eth1"}, **fields)


# (document, the only error); "NS" is a namespace name the integration test makes unique.
WRONG_TYPES = [
    ({"links": [macvlan(name=["a"])]}, "links[0].name: ['a'] is not a string (quote it)"),
    ({"links": [macvlan(name=5)]}, "links[0].name: 5 is not a string (quote it)"),
    ({"links": [macvlan(netns=["x"])]}, "links[0].netns: ['x'] is not a string (quote it)"),
    ({"namespaces": [{"name": 5}]}, "namespaces[0].name: 5 is not a string (quote it)"),
    ({"namespaces": [{"name": "NS", "routes": ["default"]}]},
     "namespaces[0].routes[0]: 'default' is not a mapping of options"),
    ({"namespaces": [{"name": "NS", "neighbors": ["10.0.0.1"]}]},
     "namespaces[0].neighbors[0]: '10.0.0.1' is not a mapping of options"),
    ({"namespaces": [{"name": "NS", "sysctls": ["net.ipv4.ip_forward"]}]},
     "namespaces[0].sysctls: ['net.ipv4.ip_forward'] is not a mapping"),
    # values Python's int()/bool()/iteration would have taken silently
    ({"links": [macvlan(mtu=1400.7)]}, "links[0].mtu: 1400.7 is not an integer"),
    ({"links": [{"kind": "vlan", "name": "eth1.5", "parent": "eth1", "vlan_id": True}]},
     "links[0].vlan_id: True is not an integer"),
    ({"links": [macvlan(addresses={"10.0.0.1/24": None})]}, "links[0].addresses: {'10.0.0.1/24': None} is not a list"),
    ({"links": [macvlan(addresses="10.0.0.1/24")]}, "links[0].addresses: '10.0.0.1/24' is not a list"),
    ({"namespaces": [{"name": "NS", "sysctls": {"net.ipv4.ip_forward": [1]}}]},
     "namespaces[0].sysctls.net.ipv4.ip_forward: [1] is not a sysctl value (text or an integer)"),
    ({"links": [macvlan(promisc="maybe")]},
     "links[0].promisc: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)"),
]
