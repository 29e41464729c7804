# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One link as the kernel reports it (rtnl.parse_link's raw attributes), decoded per kind into
what the resources compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils import rtnl

IFF_UP = 0x1
IFF_PROMISC = 0x100
MACVLAN_FLAG_NOPROMISC = 1
VLAN_FLAGS = {"reorder_hdr": 0x1, "gvrp": 0x2, "loose_binding": 0x4, "mvrp": 0x8}
VLAN_PROTOCOLS = {0x8100: "802.1Q", 0x88A8: "802.1ad"}


@dataclass
class LinkState:
    """One link as the kernel reports it, flattened to what the engine compares."""

    name: str
    index: int
    kind: Optional[str]
    mac: Optional[str]
    mtu: int
    up: bool
    promisc: bool
    promiscuity: int
    parent_index: Optional[int]
    parent_nsid: Optional[int]
    mode: Optional[str] = None
    flags: int = 0
    source_macs: List[str] = field(default_factory=list)
    addresses: List[str] = field(default_factory=list)
    secondary_addresses: List[str] = field(default_factory=list)  # IPv4: not the first of their subnet
    data: Dict[str, Any] = field(default_factory=dict)  # other kinds' attributes (vlan, ...)
    master_index: Optional[int] = None
    alias: Optional[str] = None
    group: int = 0


def nsid_or_none(value: Optional[int]) -> Optional[int]:
    """Netlink answers 'no id' with -1."""
    if value is None or value < 0:
        return None
    return value


def link_state(raw: Dict[str, Any]) -> LinkState:
    flags = raw["flags"]
    state = LinkState(
        name=raw["name"], index=raw["index"], kind=raw["kind"], mac=raw["mac"], mtu=raw["mtu"],
        up=bool(flags & IFF_UP), promisc=bool(flags & IFF_PROMISC), promiscuity=raw["promiscuity"],
        parent_index=raw["parent_index"], parent_nsid=nsid_or_none(raw["parent_nsid"]),
        master_index=raw["master_index"], alias=raw["alias"], group=raw["group"],
    )
    kind, data = raw["kind"], raw["data"]
    if kind in ("macvlan", "macvtap") and data:
        state.mode, macvlan_flags, state.source_macs = rtnl.parse_macvlan_data(data)
        state.flags = MACVLAN_FLAG_NOPROMISC if macvlan_flags & MACVLAN_FLAG_NOPROMISC else 0
    elif kind == "ipvlan":
        state.mode, flag = rtnl.parse_ipvlan_data(data)
        state.data = {"flag": flag}
    elif kind == "vlan" and data:
        state.data = _vlan_view(rtnl.parse_vlan_data(data))
    elif kind == "bridge" and data:
        state.data = {"stp": bool(rtnl.u32_of(data.get(rtnl.IFLA_BR_STP_STATE), 0))}
    if raw["slave_kind"] == "bridge" and raw["slave_data"]:
        state.data["brport"] = rtnl.parse_brport_data(raw["slave_data"])
    return state


def _vlan_view(parsed: Dict[str, Any]) -> Dict[str, Any]:
    view = {"vlan_id": parsed["vlan_id"], "protocol": VLAN_PROTOCOLS.get(parsed["protocol"], parsed["protocol"])}
    for name, bit in VLAN_FLAGS.items():
        view[name] = bool(parsed["flags"] & bit)
    view.update(parsed["qos"])
    return view
