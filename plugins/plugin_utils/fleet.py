# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Layouts across a fleet, on the controller: group + host merge, fleet-wide checks.

Runs only on the controller (the filters in plugins/filter and the pre-flight action plugin), so
it is a plugin_utils file and never part of what a module ships to a host. Values are read with
the engine's own validators (module_utils/validate.py): a name, an address or a MAC means here
what it means to the modules; one they would refuse claims nothing (the module reports it,
naming its field), except in the host-access shims, which exist only here.

Merge rule (documented in the role's README): the group-level document
(`macvlan_topology_group`) comes first; a host-level entry (`macvlan_topology`) with the
same identity -- a namespace's name, a link's or bridge port's (netns, name) -- is laid
over the group entry key by key; other host entries are appended in their order.
`state: absent` in a host entry therefore removes a group-level object on that host."""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.macvlan import KINDS as MACVLAN_KINDS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import SECTIONS as DOCUMENT_SECTIONS

GROUP_VARIABLE = "macvlan_topology_group"
HOST_VARIABLE = "macvlan_topology"
SECTIONS = tuple(name for name, _entries in DOCUMENT_SECTIONS)  # namespaces, links, bridge_ports
Origin = Tuple[str, str]  # (inventory variable, path inside it), e.g. ("macvlan_topology", "links[2]")
Conflict = Tuple[str, Tuple[str, ...]]  # (message, the hosts that are part of it)


def identity(section: str, entry: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    if section == "namespaces":
        return None, entry.get("name")
    return entry.get("netns"), entry.get("name")


def merge_with_origins(group: Optional[Dict[str, Any]], host: Optional[Dict[str, Any]]
                       ) -> Tuple[Dict[str, Any], Dict[str, List[Origin]]]:
    """(merged document, per section the origin of each merged entry)."""
    merged: Dict[str, Any] = {}
    origins: Dict[str, List[Origin]] = {}
    for section in SECTIONS:
        entries: List[Dict[str, Any]] = []
        where: List[Origin] = []
        position: Dict[Any, int] = {}
        for variable, document in ((GROUP_VARIABLE, group or {}), (HOST_VARIABLE, host or {})):
            for index, entry in enumerate(document.get(section) or []):
                if not isinstance(entry, dict):
                    raise ValueError("%s.%s[%d] is not a mapping" % (variable, section, index))
                key = identity(section, entry)
                origin = (variable, "%s[%d]" % (section, index))
                if key in position:
                    entries[position[key]] = dict(entries[position[key]], **entry)
                    where[position[key]] = origin
                else:
                    position[key] = len(entries)
                    entries.append(dict(entry))
                    where.append(origin)
        merged[section] = entries
        origins[section] = where
    for document in (group or {}, host or {}):
        merged.update({key: value for key, value in document.items() if key not in SECTIONS})
    return merged, origins


def merge(group: Optional[Dict[str, Any]], host: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return merge_with_origins(group, host)[0]


Domain = Optional[Tuple[str, Tuple[int, ...]]]  # (segment name, VLAN ids on the way), None: unknown


class Claims:
    """Who claims a value (an address, a MAC, ...) in which L2 domain, and the clashes.

    Two hosts clash on a value when their domains may meet: the same domain, or either one
    unknown (a link whose parent NIC has no segment in `macvlan_topology_segments`)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.claims: Dict[Any, List[Tuple[str, str, Domain]]] = {}
        self.problems: List[Conflict] = []

    def claim(self, value: Any, host: str, where: str, domain: Domain = None) -> None:
        earlier = self.claims.setdefault(value, [])
        for other_host, other_where, other_domain in earlier:
            if other_host != host and (domain is None or other_domain is None or domain == other_domain):
                self.problems.append(("%s %s is claimed by %s (%s) and %s (%s)"
                                      % (self.what, value, other_host, other_where, host, where),
                                      (other_host, host)))
                break
        earlier.append((host, where, domain))


def fleet_problems(layouts: Dict[str, Any], segments: Optional[Dict[str, Dict[str, str]]] = None) -> List[str]:
    """Every conflict between hosts' layouts, each naming the hosts and inventory paths."""
    return [message for message, _hosts in fleet_conflicts(layouts, segments)]


def fleet_conflicts(layouts: Dict[str, Any], segments: Optional[Dict[str, Dict[str, str]]] = None
                    ) -> List[Conflict]:
    """Every conflict between hosts' layouts: (message naming the hosts and inventory paths,
    the hosts that are part of it).

    `layouts`: host -> (group document, host document). `segments`: host -> {parent NIC:
    segment name}: hosts whose NICs sit on different segments (or different VLANs of one)
    may reuse addresses and MACs, and VLAN ids only clash between hosts sharing a segment."""
    addresses, macs = Claims("address"), Claims("MAC address")
    vlans: Dict[Tuple[str, int], Tuple[str, str, frozenset]] = {}
    problems: List[Conflict] = []
    for host in sorted(layouts):
        group, own = layouts[host][:2]
        merged, origins = merge_with_origins(group, own)
        if len(layouts[host]) > 2 and layouts[host][2]:  # host-access shims: their addresses are claims too
            merged = with_host_access(merged, layouts[host][2])
            origins = dict(origins, links=origins["links"] + [
                (HOST_ACCESS_VARIABLE, "[%d]" % index) for index in range(len(layouts[host][2]))])
        links = merged["links"]
        host_segments = (segments or {}).get(host, {})
        for link, (variable, path) in zip(links, origins["links"]):
            if link.get("state") == "absent":
                continue
            where = _where(variable, path)
            domain = _domain(link, links, host_segments)
            for index, text in enumerate(link.get("addresses") or []):
                address = _address(text)
                if address is not None and not address.is_link_local:
                    addresses.claim(str(address), host, "%s.addresses[%d]" % (where, index), domain)
            mac = _valid(validate.mac_address, link.get("macaddress"))
            if mac is not None:
                macs.claim(mac, host, where + ".macaddress", domain)
        problems += [(message, (host,)) for message in _passthru_problems(host, links, origins["links"])]
        problems += _vlan_problems(host, links, origins["links"], host_segments, vlans)
    return addresses.problems + macs.problems + problems


def _where(variable: str, path: str) -> str:
    return variable + ("" if path.startswith("[") else ".") + path


def _domain(link: Dict[str, Any], links: List[Dict[str, Any]], segments: Dict[str, str]) -> Domain:
    """The L2 domain a link sends into: follow its parents down to the first one of the
    host's namespace with a segment (a NIC, or a cable the layout makes), collecting VLAN
    ids; None when there is none (or a loop)."""
    vlan_ids: List[int] = []
    current = link
    for _hop in range(len(links) + 1):
        if current.get("kind") == "vlan":
            vlan_ids.append(_integer(current.get("vlan_id")))
        parent, parent_netns = current.get("parent"), current.get("parent_netns")
        if not parent:
            return None
        if not parent_netns and parent in segments:
            return segments[parent], tuple(reversed(vlan_ids))
        below = [other for other in links if other.get("name") == parent
                 and other.get("netns") == parent_netns and other.get("state") != "absent"]
        if not below:
            return None
        current = below[0]
    return None


def _valid(check: Callable[[str, Any], Any], value: Any) -> Any:
    """The value as the engine reads it; None when the engine refuses it (the module says why)."""
    try:
        return check("", value)
    except ValidationError:
        return None


def _integer(value: Any) -> int:
    number = _valid(validate.integer, value)
    return -1 if number is None else number


def _address(text: Any) -> Optional[Any]:
    address = _valid(validate.interface_address, text)
    return None if address is None else ipaddress.ip_interface(address).ip


def _passthru_problems(host: str, links: List[Dict[str, Any]], origins: List[Origin]) -> List[str]:
    children: Dict[Tuple[Any, Any], List[Tuple[Dict[str, Any], str]]] = {}
    for link, (variable, path) in zip(links, origins):
        if link.get("kind") in MACVLAN_KINDS and link.get("state") != "absent":
            key = (link.get("parent_netns"), link.get("parent"))
            children.setdefault(key, []).append((link, _where(variable, path)))
    problems = []
    for (_netns, parent), stacked in children.items():
        if len(stacked) > 1 and any(link.get("mode") == "passthru" for link, _where in stacked):
            problems.append("%s: parent %s has a passthru child and others: %s (passthru allows one child)"
                            % (host, parent, ", ".join(where for _link, where in stacked)))
    return problems


def _vlan_problems(host: str, links: List[Dict[str, Any]], origins: List[Origin], segments: Dict[str, str],
                   seen: Dict[Tuple[str, int], Tuple[str, str, frozenset]]) -> List[Conflict]:
    """One VLAN id on one segment must mean the same subnets on every host."""
    problems = []
    for link, (variable, path) in zip(links, origins):
        if link.get("kind") != "vlan" or link.get("state") == "absent" or link.get("parent") not in segments:
            continue
        segment = segments[link["parent"]]
        networks = frozenset(_networks_on(link, links))
        if not networks:
            continue
        key = (segment, _integer(link.get("vlan_id")))
        where = _where(variable, path)
        if key in seen and seen[key][0] != host and not seen[key][2] & networks:
            other_host, other_where, other_networks = seen[key]
            problems.append(("VLAN %d on segment %s means %s on %s (%s) but %s on %s (%s)"
                             % (key[1], segment, ", ".join(sorted(other_networks)), other_host, other_where,
                                ", ".join(sorted(networks)), host, where), (other_host, host)))
        seen.setdefault(key, (host, where, networks))
    return problems


def _networks_on(vlan: Dict[str, Any], links: List[Dict[str, Any]]) -> List[str]:
    """Subnets configured on the VLAN link and on the links stacked on it."""
    stacked = [vlan] + [link for link in links if link.get("parent") == vlan.get("name")
                        and link.get("parent_netns") == vlan.get("netns")]
    networks = []
    for link in stacked:
        for text in link.get("addresses") or []:
            address = _valid(validate.interface_address, text)
            if address is not None:
                networks.append(str(ipaddress.ip_interface(address).network))
    return networks


HOST_ACCESS_VARIABLE = "macvlan_topology_host_access"


def with_host_access(layout: Dict[str, Any], access: Optional[List[Dict[str, Any]]]) -> Dict[str, Any]:
    """The layout plus one bridge-mode "shim" macvlan per `access` entry.

    A macvlan's parent never receives what its children send to it (the kernel hands frames
    between a parent and its macvlans to neither), so the host cannot reach its own children
    through the parent. A bridge-mode macvlan of the host's own on the same parent can: its
    traffic to bridge-mode siblings is switched inside the kernel. Its routes (one host route per
    child address) take precedence over the parent's connected subnet."""
    links = list(layout.get("links") or [])
    shims = [_shim_link(index, entry, links) for index, entry in enumerate(access or [])]
    return dict(layout, links=links + shims)


def _shim_link(index: int, entry: Any, links: List[Dict[str, Any]]) -> Dict[str, Any]:
    where = "%s[%d]" % (HOST_ACCESS_VARIABLE, index)
    if not isinstance(entry, dict) or not entry.get("parent") or not entry.get("address"):
        raise ValueError("%s: needs at least 'parent' (the NIC the children sit on) and 'address' "
                         "(the host's address on the shim)" % where)
    parent = _checked(validate.interface_name, where + ".parent", entry["parent"])
    parent_netns = _checked(validate.netns_name, where + ".parent_netns", entry.get("parent_netns"))
    if entry.get("name"):
        name = _checked(validate.interface_name, where + ".name", entry["name"])
    else:
        name = _checked(validate.interface_name, where + ".name", "shim-%s" % parent, "; give the shim a name")
    address = _checked(validate.interface_address, where + ".address", entry["address"])
    reach = entry.get("reach")
    if reach is None:
        reach = [text for link in links if _bridge_child_of(link, parent, parent_netns)
                 for text in link.get("addresses") or []]
        reach = [text for text in reach if _address(text) is not None]  # the module reports the others
    routes = sorted({_host_route("%s.reach[%d]" % (where, number), text) for number, text in enumerate(reach)})
    shim = {"kind": "macvlan", "name": name, "parent": parent, "mode": "bridge",
            "addresses": [address], "routes": routes}
    if parent_netns:
        shim.update(parent_netns=parent_netns, netns=parent_netns)
    return shim


def _checked(check: Callable[[str, Any], Any], field: str, value: Any, hint: str = "") -> Any:
    """check(field, value), its ValidationError as the ValueError the filters and the pre-flight report."""
    try:
        return check(field, value)
    except ValidationError as exc:
        raise ValueError(str(exc) + hint)


def _bridge_child_of(link: Dict[str, Any], parent: str, parent_netns: Optional[str]) -> bool:
    return (link.get("kind") in MACVLAN_KINDS and link.get("mode") == "bridge"
            and link.get("parent") == parent and link.get("parent_netns") == parent_netns
            and link.get("state", "present") == "present")


def _host_route(field: str, text: Any) -> str:
    """192.168.56.122/24 (or 192.168.56.122) -> 192.168.56.122/32 (a route to that one child)."""
    bare = text.split("/", 1)[0] if isinstance(text, str) else text
    address = ipaddress.ip_address(_checked(validate.ip_address, field, bare))
    return "%s/%d" % (address, address.max_prefixlen)
