# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One link as the kernel reports it (rtnl.parse_link's raw attributes): what every link has, and
its kind's own attributes by the collection's names (linkinfo.py), which each kind's kind_view() reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils import linkinfo

IFF_UP = 0x1
IFF_PROMISC = 0x100


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
    addresses: List[str] = field(default_factory=list)
    secondary_addresses: List[str] = field(default_factory=list)  # IPv4: not the first of their subnet
    data: Dict[str, Any] = field(default_factory=dict)  # its kind's attributes present in the dump, by name
    port: Optional[Dict[str, Any]] = None  # a bridge port's settings present in the dump (None: not a port)
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
        data=linkinfo.decode(raw["kind"], raw["data"]),
    )
    if raw["slave_kind"] == "bridge" and raw["slave_data"]:
        state.port = linkinfo.PORT.decode(raw["slave_data"])
    return state
