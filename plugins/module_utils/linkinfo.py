# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each link kind's own netlink attributes (IFLA_LINKINFO: the kind's IFLA_INFO_DATA, a bridge
port's IFLA_INFO_SLAVE_DATA), under the collection's names.

One table per kind says what each attribute is; encode() builds a request's attributes from it
and decode() reads them back, from a request or from a dump alike (tests/unit/test_codec.py
checks both against pyroute2's definitions). A name the table does not know is an error, never
silently dropped."""

from __future__ import annotations

import struct
from typing import Any, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils import rtnl
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError

# macvlan / macvtap (include/uapi/linux/if_link.h)
IFLA_MACVLAN_MODE, IFLA_MACVLAN_FLAGS, IFLA_MACVLAN_MACADDR_MODE = 1, 2, 3
IFLA_MACVLAN_MACADDR, IFLA_MACVLAN_MACADDR_DATA = 4, 5
MACVLAN_MODES = {1: "private", 2: "vepa", 4: "bridge", 8: "passthru", 16: "source"}
MACVLAN_MACADDR_ACTIONS = {0: "add", 1: "del", 2: "flush"}  # changes to a source-mode list
MACVLAN_FLAG_NOPROMISC = 1
# ipvlan
IFLA_IPVLAN_MODE, IFLA_IPVLAN_FLAGS = 1, 2
IPVLAN_MODES = {0: "l2", 1: "l3", 2: "l3s"}
IPVLAN_FLAGS = {0: "bridge", 1: "private", 2: "vepa"}  # IPVLAN_F_PRIVATE, IPVLAN_F_VEPA; neither: bridge
# vlan
IFLA_VLAN_ID, IFLA_VLAN_FLAGS, IFLA_VLAN_EGRESS_QOS, IFLA_VLAN_INGRESS_QOS, IFLA_VLAN_PROTOCOL = 1, 2, 3, 4, 5
IFLA_VLAN_QOS_MAPPING = 1
VLAN_FLAGS = {"reorder_hdr": 0x1, "gvrp": 0x2, "loose_binding": 0x4, "mvrp": 0x8}
VLAN_PROTOCOLS = {0x8100: "802.1Q", 0x88A8: "802.1ad"}
VLAN_QOS_MAPS = {"ingress_qos_map": IFLA_VLAN_INGRESS_QOS, "egress_qos_map": IFLA_VLAN_EGRESS_QOS}
PAIR = struct.Struct("=II")  # struct ifla_vlan_flags (flags, mask), struct ifla_vlan_qos_mapping (from, to)
# bridge, veth
IFLA_BR_STP_STATE = 5
VETH_INFO_PEER = 1


class Field:
    """One attribute holding one value: a number, a choice (the kernel's number for each name),
    a boolean (any non-zero value, or one bit of a flags word) or a MAC address."""

    def __init__(self, number: int, fmt: Optional[struct.Struct], names: Optional[Dict[int, str]] = None,
                 boolean: bool = False, bit: int = 0, keep_unknown: bool = False) -> None:
        self.number = number
        self.fmt = fmt  # None: a MAC address
        self.names = names
        self.numbers = {name: value for value, name in (names or {}).items()}
        self.boolean = boolean
        self.bit = bit
        self.keep_unknown = keep_unknown  # an unknown number reads back as the number (else None)

    def pack(self, value: Any) -> bytes:
        if self.fmt is None:
            return rtnl.attr(self.number, rtnl.mac_bytes(value))
        if self.names is not None:
            value = self.numbers[value]
        elif self.bit:
            value = self.bit if value else 0
        elif self.boolean:
            value = int(bool(value))
        return rtnl.attr(self.number, self.fmt.pack(value))

    def unpack(self, payload: bytes) -> Any:
        if self.fmt is None:
            return rtnl.mac_text(payload)
        value = self.fmt.unpack_from(payload)[0]
        if self.names is not None:
            return self.names.get(value, value if self.keep_unknown else None)
        if self.bit:
            return bool(value & self.bit)
        return bool(value) if self.boolean else value


class KindData:
    """The attributes of one kind, by the collection's names. `extra` names the keys that a
    subclass encodes itself (values that span or nest attributes)."""

    extra: tuple = ()

    def __init__(self, kind: str, fields: Dict[str, Field]) -> None:
        self.kind = kind
        self.fields = fields

    def encode(self, attrs: Dict[str, Any]) -> List[bytes]:
        unknown = [key for key in attrs if key not in self.fields and key not in self.extra]
        if unknown:
            raise EngineError("no netlink encoding for the %s attribute '%s'" % (self.kind, unknown[0]))
        return [self.fields[key].pack(value) for key, value in attrs.items() if key in self.fields] \
            + self.encode_extra(attrs)

    def decode(self, data: Dict[int, bytes]) -> Dict[str, Any]:
        """The names of the attributes present in `data` ({attribute number: payload})."""
        found = {}
        for name, field in self.fields.items():
            payload = data.get(field.number)
            if payload is not None:
                found[name] = field.unpack(payload)
        found.update(self.decode_extra(data))
        return found

    def encode_extra(self, attrs: Dict[str, Any]) -> List[bytes]:
        return []

    def decode_extra(self, data: Dict[int, bytes]) -> Dict[str, Any]:
        return {}


class MacvlanData(KindData):
    """A dump lists a source-mode link's MACs in IFLA_MACVLAN_MACADDR_DATA; a request changes
    that list one MAC at a time (macaddr_mode add/del with macaddr, or flush)."""

    def decode_extra(self, data: Dict[int, bytes]) -> Dict[str, Any]:
        if IFLA_MACVLAN_MACADDR_DATA not in data:
            return {}
        return {"source_macs": sorted(rtnl.mac_text(value) for kind, value in rtnl.attr_list(
            data[IFLA_MACVLAN_MACADDR_DATA]) if kind == IFLA_MACVLAN_MACADDR)}


class VlanData(KindData):
    """The four flags share one attribute with a mask (a request may set some and leave the
    others); each QoS map is a nested list of (from, to) pairs, a 0 target clearing one."""

    extra = tuple(VLAN_FLAGS) + tuple(VLAN_QOS_MAPS)

    def encode_extra(self, attrs: Dict[str, Any]) -> List[bytes]:
        parts = []
        flags = [name for name in VLAN_FLAGS if name in attrs]
        if flags:
            value = sum(VLAN_FLAGS[name] for name in flags if attrs[name])
            parts.append(rtnl.attr(IFLA_VLAN_FLAGS, PAIR.pack(value, sum(VLAN_FLAGS[name] for name in flags))))
        for name, number in VLAN_QOS_MAPS.items():
            if name in attrs:
                parts.append(rtnl.attr_nested(number, *(rtnl.attr(IFLA_VLAN_QOS_MAPPING, PAIR.pack(source, target))
                                                        for source, target in sorted(attrs[name].items()))))
        return parts

    def decode_extra(self, data: Dict[int, bytes]) -> Dict[str, Any]:
        found: Dict[str, Any] = {}
        if IFLA_VLAN_FLAGS in data:
            value, mask = PAIR.unpack_from(data[IFLA_VLAN_FLAGS])
            found.update((name, bool(value & bit)) for name, bit in VLAN_FLAGS.items() if mask & bit)
        for name, number in VLAN_QOS_MAPS.items():
            if number in data:
                found[name] = dict(PAIR.unpack_from(value) for kind, value in rtnl.attr_list(data[number])
                                   if kind == IFLA_VLAN_QOS_MAPPING)
        return found


class VethData(KindData):
    """The peer is a whole link message nested in the request: its name and the namespace
    (a file descriptor) it is created in. Dumps carry no veth data."""

    extra = ("peer", "peer_netns_fd")

    def encode_extra(self, attrs: Dict[str, Any]) -> List[bytes]:
        if "peer" not in attrs:
            return []
        peer = rtnl.IFINFOMSG.pack(0, 0, 0, 0, 0) + rtnl.attr_text(rtnl.IFLA_IFNAME, attrs["peer"])
        if attrs.get("peer_netns_fd") is not None:
            peer += rtnl.attr_u32(rtnl.IFLA_NET_NS_FD, attrs["peer_netns_fd"])
        return [rtnl.attr(VETH_INFO_PEER, peer)]

    def decode_extra(self, data: Dict[int, bytes]) -> Dict[str, Any]:
        if VETH_INFO_PEER not in data:
            return {}
        peer = data[VETH_INFO_PEER]
        attrs = rtnl.attrs_of(peer, rtnl.IFINFOMSG.size, len(peer))
        found = {"peer": rtnl.text_of(attrs.get(rtnl.IFLA_IFNAME))}
        if rtnl.IFLA_NET_NS_FD in attrs:
            found["peer_netns_fd"] = rtnl.u32_of(attrs[rtnl.IFLA_NET_NS_FD])
        return found


_MACVLAN_FIELDS = {
    "mode": Field(IFLA_MACVLAN_MODE, rtnl.U32, MACVLAN_MODES),
    "nopromisc": Field(IFLA_MACVLAN_FLAGS, rtnl.U16, bit=MACVLAN_FLAG_NOPROMISC),
    "macaddr_mode": Field(IFLA_MACVLAN_MACADDR_MODE, rtnl.U32, MACVLAN_MACADDR_ACTIONS),
    "macaddr": Field(IFLA_MACVLAN_MACADDR, None),
}
# The kind name -> its IFLA_INFO_DATA. Every link kind the registry lists has a row.
KINDS: Dict[str, KindData] = {
    "macvlan": MacvlanData("macvlan", _MACVLAN_FIELDS),
    "macvtap": MacvlanData("macvtap", _MACVLAN_FIELDS),
    "ipvlan": KindData("ipvlan", {"mode": Field(IFLA_IPVLAN_MODE, rtnl.U16, IPVLAN_MODES),
                                  "flag": Field(IFLA_IPVLAN_FLAGS, rtnl.U16, IPVLAN_FLAGS)}),
    "vlan": VlanData("vlan", {"vlan_id": Field(IFLA_VLAN_ID, rtnl.U16),
                              "protocol": Field(IFLA_VLAN_PROTOCOL, rtnl.BE16, VLAN_PROTOCOLS, keep_unknown=True)}),
    "bridge": KindData("bridge", {"stp": Field(IFLA_BR_STP_STATE, rtnl.U32, boolean=True)}),
    "veth": VethData("veth", {}),
    "dummy": KindData("dummy", {}),
}
# A bridge port's settings (bridge_port's options; hairpin is the kernel's port "mode").
PORT = KindData("bridge port", {
    "priority": Field(2, rtnl.U16), "cost": Field(3, rtnl.U32), "hairpin": Field(4, rtnl.U8, boolean=True),
    "learning": Field(8, rtnl.U8, boolean=True), "unicast_flood": Field(9, rtnl.U8, boolean=True),
    "multicast_flood": Field(27, rtnl.U8, boolean=True), "isolated": Field(33, rtnl.U8, boolean=True),
})


def kind_data(kind: str) -> KindData:
    if kind not in KINDS:
        raise EngineError("no netlink encoding for links of kind '%s'" % kind)
    return KINDS[kind]


def encode(kind: str, attrs: Dict[str, Any]) -> bytes:
    """IFLA_LINKINFO for `ip link add/set ... type KIND <attrs>`."""
    data = kind_data(kind).encode(attrs)
    parts = [rtnl.attr(rtnl.IFLA_INFO_KIND, kind.encode())]
    if data:
        parts.append(rtnl.attr_nested(rtnl.IFLA_INFO_DATA, *data))
    return rtnl.attr_nested(rtnl.IFLA_LINKINFO, *parts)


def encode_port(settings: Dict[str, Any]) -> bytes:
    """IFLA_LINKINFO for `ip link set ... type bridge_slave <settings>` (the bridge reads them)."""
    return rtnl.attr_nested(rtnl.IFLA_LINKINFO, rtnl.attr(rtnl.IFLA_INFO_SLAVE_KIND, b"bridge"),
                            rtnl.attr_nested(rtnl.IFLA_INFO_SLAVE_DATA, *PORT.encode(settings)))


def decode(kind: Optional[str], data: Dict[int, bytes]) -> Dict[str, Any]:
    """A kind's IFLA_INFO_DATA by name ({} for a kind the collection does not manage)."""
    codec = KINDS.get(kind or "")
    return codec.decode(data) if codec is not None and data else {}
