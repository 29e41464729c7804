# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every link kind the collection manages, in one table: its options (the module's argument
spec, schema.py), the classes that parse and converge it, the module that manages it alone,
and where it goes in a removal (what sits on a link goes before it). Topology entries, the
purge, `gathered` and the strict input check all take the kinds from here.

Adding a kind: its options in schema.py, a Spec/Resource pair (links.LinkResource hooks), its
netlink attributes in rtnl.py/kernel.py, a thin module in plugins/modules, and a row below."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import schema
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridge import BridgeLink, BridgeSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.dummy import DummyLink, DummySpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ipvlan import IpvlanLink, IpvlanSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.macvlan import MacvlanLink, MacvlanSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.veth import VethLink, VethSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.vlan import VlanLink, VlanSpec


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
    LinkKind("macvlan", "macvlan_link", schema.MACVLAN, MacvlanSpec, MacvlanLink, 0),
    LinkKind("macvtap", "macvlan_link", schema.MACVLAN, MacvlanSpec, MacvlanLink, 0),
    LinkKind("ipvlan", "ipvlan_link", schema.IPVLAN, IpvlanSpec, IpvlanLink, 0),
    LinkKind("vlan", "vlan_link", schema.VLAN, VlanSpec, VlanLink, 1),
    LinkKind("veth", "veth_link", schema.VETH, VethSpec, VethLink, 2),
    LinkKind("dummy", "dummy_link", schema.DUMMY, DummySpec, DummyLink, 2),
    LinkKind("bridge", "bridge_link", schema.BRIDGE, BridgeSpec, BridgeLink, 3),
)}

# A topology `links` entry: its kind's module options plus `kind`.
TOPOLOGY_LINK_OPTIONS: Dict[str, schema.Spec] = {
    name: dict(kind.options, kind=dict(type="str", required=True, choices=list(KINDS))) for name, kind in KINDS.items()
}

# Children before the links they sit on.
REMOVAL_ORDER: Tuple[str, ...] = tuple(sorted(KINDS, key=lambda name: KINDS[name].removal_rank))
