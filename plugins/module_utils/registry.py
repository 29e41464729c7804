# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every link kind the collection manages, in one table: its options (the module's argument
spec and documentation), the classes that parse and converge it, the module that manages it
alone, and where it goes in a removal (what sits on a link goes before it). Topology entries,
the purge, `gathered`, the strict input check and the generated docs take the kinds from here.
The bridge ports' options are here too: like the kinds', they name the engine's constants.

Adding a kind: its options (with their descriptions) below, a Spec/Resource pair
(links.LinkResource hooks), its netlink attributes as a row of linkinfo.KINDS, a thin module in
plugins/modules whose DOCUMENTATION options scripts/gen_docs.py writes, and a row below."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import schema
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridge import BridgeLink, BridgeSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import FLAGS as PORT_FLAGS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import NUMBERS as PORT_NUMBERS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.dummy import DummyLink, DummySpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils import ipvlan, macvlan, validate, vlan
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ipvlan import IpvlanLink, IpvlanSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.macvlan import MacvlanLink, MacvlanSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.veth import VethLink, VethSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.vlan import VlanLink, VlanSpec

# -- each kind's options: the options every link takes (schema.LINK) and the kind's own --------
MACVLAN: schema.Spec = dict(
    schema.LINK,
    **schema.PARENT,
    kind=macvlan.KIND.option(recreates=True, description=(
        "V(macvlan) hands frames to the network stack; V(macvtap) to a C(/dev/tapN) character device for a VM.")),
    mode=macvlan.MODE.option(description=[
        "V(private) children of one parent never talk to each other.",
        "V(vepa) (the kernel's default) child-to-child traffic leaves through the parent and needs a hairpin switch.",
        "V(bridge) children talk to each other directly.",
        "V(passthru) one child only per parent, which takes over the parent.",
        "V(source) only frames whose source MAC is in O(source_macs) are received.",
    ], recreates="Switching to or from V(passthru) re-creates the link (the kernel cannot change that in place)."),
    nopromisc=dict(type="bool", description=(
        "With V(passthru) only, leave the parent's promiscuous flag alone instead of forcing it on.")),
    source_macs=dict(type="list", elements="str", description=[
        "With O(mode=source) only, the exact list of allowed source MAC addresses.",
        "Changed in place with the kernel's add, del and flush operations; the link is not re-created.",
    ]),
)

VLAN: schema.Spec = dict(
    schema.LINK,
    **schema.PARENT,
    vlan_id=dict(type="int", recreates=True, description="VLAN id, 1 to 4094. Required when O(state=present)."),
    protocol=vlan.PROTOCOL.option(recreates=True,
                                  description="Tag protocol; V(802.1ad) for the outer (service) tag of QinQ."),
    reorder_hdr=dict(type="bool", default=vlan.REORDER_HDR,
                     description="Reorder the Ethernet header on output (the kernel's and C(ip link)'s default)."),
    gvrp=dict(type="bool", description="Register the VLAN with GVRP. Omit to leave unchanged (off for a new link)."),
    mvrp=dict(type="bool", description="Register the VLAN with MVRP. Omit to leave unchanged (off for a new link)."),
    loose_binding=dict(type="bool", description=(
        "Do not follow the parent's operational state. Omit to leave unchanged (off for a new link).")),
    ingress_qos_map=dict(type="dict", description=[
        "The exact map of received 802.1p priority (0-7) to Linux skb priority, like C({1: 2, 5: 6}).",
        "Omit to leave unchanged; V({}) clears it.",
    ]),
    egress_qos_map=dict(type="dict", description=[
        "The exact map of Linux skb priority to transmitted 802.1p priority (0-7).",
        "Omit to leave unchanged; V({}) clears it.",
    ]),
)

IPVLAN: schema.Spec = dict(
    schema.LINK,
    **schema.PARENT,
    mode=ipvlan.MODE.option(description=(
        "V(l2) switches frames on the parent; V(l3) routes by address, no broadcast or multicast; V(l3s) like "
        "V(l3) with the host's netfilter hooks applied.")),
    flag=ipvlan.FLAG.option(description=(
        "V(bridge) lets children of one parent talk directly; V(private) keeps them apart; V(vepa) sends their "
        "traffic to the parent's switch (which must hairpin it back).")),
)

BRIDGE: schema.Spec = dict(schema.LINK, stp=dict(type="bool", description=(
    "Run the spanning tree protocol. Omit to leave unchanged (off for a new bridge).")))

DUMMY: schema.Spec = dict(schema.LINK)

VETH: schema.Spec = dict(
    schema.LINK,
    peer=dict(type="str", recreates=True, description="Name of the other end. Required when O(state=present)."),
    peer_netns=dict(type="str", recreates=True, description=(
        "Named namespace of the other end. Omit for the host's namespace (as for a parent elsewhere).")),
    peer_admin_state=validate.ADMIN_STATE.option(description="Administrative state of the other end."),
)

_PORT_DOCS = {
    "hairpin": "Send frames back out of the port they came in on (802.1Qbg reflective relay).",
    "isolated": "Isolated ports can only talk to non-isolated ones.",
    "learning": "Learn source MAC addresses on this port.",
    "unicast_flood": "Flood unknown unicast to this port.",
    "multicast_flood": "Flood unknown multicast to this port.",
    "cost": "STP path cost (%d-%d)." % PORT_NUMBERS["cost"],
    "priority": "STP port priority (%d-%d)." % PORT_NUMBERS["priority"],
}

BRIDGE_PORT: schema.Spec = dict(
    name=dict(type="str", required=True, description="The link to enslave (the port)."),
    bridge=dict(type="str", description=(
        "The bridge (master). Required when O(state=present); with O(state=absent), release the port only if it "
        "is enslaved to this bridge.")),
    netns=dict(type="str", description="Named namespace holding the port and the bridge. Omit for the host's namespace."),
    **{flag: dict(type="bool", description=_PORT_DOCS[flag]) for flag in PORT_FLAGS},
    **{number: dict(type="int", description=_PORT_DOCS[number]) for number in PORT_NUMBERS},
    state=validate.PRESENCE.option(description=(
        "V(present) enslaves with these settings; V(absent) releases the port from the bridge.")),
)


@dataclass(frozen=True)
class LinkKind:
    name: str
    module: str  # the module that manages one link of this kind
    options: schema.Spec
    spec_class: Any
    resource_class: Any
    removal_rank: int  # removed before kinds of a higher rank (children before their parents)

    def spec_from_entry(self, entry: Dict[str, Any], path: str) -> Any:
        """A topology `links` entry (its options plus `kind`) parsed into this kind's spec."""
        fields = {key: value for key, value in entry.items() if key != "kind"}
        if "kind" in self.options:  # macvlan_link manages two kinds
            fields["kind"] = self.name
        return self.spec_class.from_params(fields, path)

    def blank_spec(self, name: str, netns: Any) -> Any:
        """A spec that names an existing link, for reading it (gathered)."""
        spec = self.spec_class(name=name, netns=netns)
        if "kind" in self.options:
            spec.kind = self.name
        return spec


KINDS: Dict[str, LinkKind] = {kind.name: kind for kind in (
    LinkKind("macvlan", "macvlan_link", MACVLAN, MacvlanSpec, MacvlanLink, 0),
    LinkKind("macvtap", "macvlan_link", MACVLAN, MacvlanSpec, MacvlanLink, 0),
    LinkKind("ipvlan", "ipvlan_link", IPVLAN, IpvlanSpec, IpvlanLink, 0),
    LinkKind("vlan", "vlan_link", VLAN, VlanSpec, VlanLink, 1),
    LinkKind("veth", "veth_link", VETH, VethSpec, VethLink, 2),
    LinkKind("dummy", "dummy_link", DUMMY, DummySpec, DummyLink, 2),
    LinkKind("bridge", "bridge_link", BRIDGE, BridgeSpec, BridgeLink, 3),
)}

# A topology `links` entry: its kind's module options plus `kind`.
KIND_OPTION: Dict[str, Any] = dict(type="str", required=True, choices=list(KINDS), description=[
    "The link's kind. The entry's other options are those of the module that manages one link of that kind: %s."
    % "; ".join("V(%s) M(linuxnet.macvlan.%s)" % (name, kind.module) for name, kind in KINDS.items()),
])
TOPOLOGY_LINK_OPTIONS: Dict[str, schema.Spec] = {
    name: dict(kind.options, kind=KIND_OPTION) for name, kind in KINDS.items()
}

# A topology document's sections and the table of their entries (links: by kind, above).
SECTIONS = (("namespaces", schema.NETNS), ("links", None), ("bridge_ports", BRIDGE_PORT))
SECTION_NAMES = tuple(name for name, _table in SECTIONS)

# Every module's table, by module name (scripts/gen_docs.py writes their DOCUMENTATION options).
MODULES: Dict[str, schema.Spec] = dict({kind.module: kind.options for kind in KINDS.values()},
                                       bridge_port=BRIDGE_PORT, **schema.MODULES)

# Children before the links they sit on.
REMOVAL_ORDER: Tuple[str, ...] = tuple(sorted(KINDS, key=lambda name: KINDS[name].removal_rank))
