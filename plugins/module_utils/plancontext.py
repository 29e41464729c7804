# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a whole-host plan (the topology module) tells each resource about the steps around it
(PlanContext), and the namespaces a check may use: those that exist or that the plan creates."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, Namespace

LinkKey = Tuple[Optional[str], str]  # (namespace, link name)
DEFAULT_MTU = 1500  # what a new bridge or veth gets from the kernel


@dataclass
class PlanContext:
    """What a whole-host plan (the topology module) does around a resource: links and
    namespaces it creates before the resource's turn (checks accept them as existing),
    links it removes, and the MTU and parent each listed link will have."""

    namespaces: Set[str] = field(default_factory=set)
    links: Set[LinkKey] = field(default_factory=set)
    removed: Set[LinkKey] = field(default_factory=set)
    mtus: Dict[LinkKey, int] = field(default_factory=dict)  # only those the plan sets
    parents: Dict[LinkKey, LinkKey] = field(default_factory=dict)
    admin_states: Dict[LinkKey, str] = field(default_factory=dict)  # listed links: up or down
    # Links whose kernel-chosen MAC the plan may change: a bridge takes the lowest MAC of its ports.
    unsettled_macs: Set[LinkKey] = field(default_factory=set)
    # Namespaces where the plan deletes an address or a link: the kernel may take routes and
    # neighbor entries with it (all of a link's routes when its last IPv4 address goes, everything
    # of a re-created link), so the namespace's routes and neighbors are written again after.
    address_churn: Set[Optional[str]] = field(default_factory=set)
    addresses: Dict[Optional[str], List[str]] = field(default_factory=dict)  # listed, per namespace

    def link_up(self, kernel: Kernel, key: LinkKey) -> bool:
        """Whether link `key` will be up once the plan ran (a link the plan does not list: as it is)."""
        if key in self.admin_states:
            return self.admin_states[key] == "up"
        netns, name = key
        link = kernel.ns(netns).links().get(name) if kernel.namespace_exists(netns) else None
        return link is not None and link.up

    def on_link(self, kernel: Kernel, netns: Optional[str], gateway: str) -> bool:
        """Whether a gateway is on a subnet of the namespace (an address's prefix, or a route without a
        gateway) once the plan ran: the kernel refuses a route through any other gateway."""
        address = ipaddress.ip_address(gateway)
        if address.is_link_local:
            return True  # fe80::/10 is on every link
        prefixes = list(self.addresses.get(netns, []))
        if kernel.namespace_exists(netns):
            space = kernel.ns(netns)
            prefixes += [text for link in space.links().values() for text in link.addresses]
            prefixes += [route["dest"] for route in space.routes() if not route["via"] and route["dest"] != "default"]
        for text in prefixes:
            network = ipaddress.ip_interface(text).network
            if network.version == address.version and address in network:
                return True
        return False

    def mtu(self, kernel: Kernel, key: LinkKey, seen: Optional[Set[LinkKey]] = None) -> Optional[int]:
        """The MTU link `key` will have once the plan ran (None: unknown)."""
        if key in self.mtus:
            return self.mtus[key]
        netns, name = key
        if kernel.namespace_exists(netns):
            link = kernel.ns(netns).links().get(name)
            if link is not None:
                return link.mtu
        if key not in self.links:
            return None
        seen = seen or set()
        parent = self.parents.get(key)
        if parent is None or parent in seen:
            return DEFAULT_MTU
        return self.mtu(kernel, parent, seen | {key})


class InPlan:
    """A resource's `planned`: a whole-host plan gives each resource its own PlanContext; a single
    module's resource makes an empty one when first asked (a layout of thousands of entries would
    otherwise build thousands of contexts only to replace them)."""

    _planned: Optional[PlanContext] = None

    @property
    def planned(self) -> PlanContext:
        if self._planned is None:
            self._planned = PlanContext()
        return self._planned

    @planned.setter
    def planned(self, context: PlanContext) -> None:
        self._planned = context


def ready_namespace(kernel: Kernel, planned: PlanContext, field_name: str, name: Optional[str]) -> Optional[Namespace]:
    """The namespace if it exists; None if the plan creates it; else a ValidationError."""
    if kernel.namespace_exists(name):
        return kernel.ns(name)
    if name in planned.namespaces:
        return None
    return require_namespace(kernel, field_name, name)


def require_namespace(kernel: Kernel, field: str, name: Optional[str]) -> Namespace:
    if not kernel.namespace_exists(name):
        raise ValidationError(
            field, "network namespace '%s' does not exist; create it first "
            "(linuxnet.macvlan.netns)" % name
        )
    return kernel.ns(name)
