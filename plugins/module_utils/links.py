# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every link resource shares: naming a parent across namespaces, addresses, state."""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, LinkState, Namespace
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.validate import sort_addresses


def ns_label(name: Optional[str]) -> str:
    return "netns %s" % name if name else "the host namespace"


def require_namespace(kernel: Kernel, field: str, name: Optional[str]) -> Namespace:
    if not kernel.namespace_exists(name):
        raise ValidationError(
            field, "network namespace '%s' does not exist; create it first "
            "(linuxnet.macvlan.netns)" % name
        )
    return kernel.ns(name)


def all_namespaces(kernel: Kernel) -> List[Namespace]:
    """The host namespace and every named one (each opened once per run)."""
    return [kernel.ns(None)] + [kernel.ns(name) for name in kernel.namespace_names()]


def resolve_parent(kernel: Kernel, space: Namespace, link: LinkState) -> Tuple[Optional[str], Optional[str]]:
    """(parent name, parent namespace) of `link`, following IFLA_LINK_NETNSID."""
    if link.parent_index is None:
        return None, None
    if link.parent_nsid is None:
        return _name_of(space, link.parent_index), space.name
    for other in all_namespaces(kernel):
        if other is not space and space.nsid_of(other) == link.parent_nsid:
            return _name_of(other, link.parent_index), other.name
    return "ifindex %d" % link.parent_index, "netnsid %d" % link.parent_nsid


def _name_of(space: Namespace, index: int) -> Optional[str]:
    for link in space.links().values():
        if link.index == index:
            return link.name
    return None


def children_of(kernel: Kernel, parent_space: Namespace, parent: LinkState) -> List[Tuple[Namespace, LinkState]]:
    """macvlan/macvtap links on `parent`, in whichever namespace they live."""
    found = []
    for space in all_namespaces(kernel):
        nsid = space.nsid_of(parent_space)
        if space is not parent_space and nsid is None:
            continue  # no id for the parent's namespace: nothing here can point at it
        for link in space.links().values():
            if link.kind in ("macvlan", "macvtap") and link.parent_index == parent.index \
                    and link.parent_nsid == nsid:
                found.append((space, link))
    return found


def visible_addresses(link: LinkState, wanted: Optional[List[str]]) -> List[str]:
    """Addresses as the module reports them: kernel link-local IPv6 ones are left out
    unless the user lists them, since the kernel adds and removes them by itself."""
    keep = set(wanted or [])
    result = []
    for text in link.addresses:
        normal = str(ipaddress.ip_interface(text))
        if ipaddress.ip_interface(normal).is_link_local and normal not in keep:
            continue
        result.append(normal)
    return sort_addresses(result)


def address_ops(netns: Optional[str], name: str, current: List[str], wanted: Optional[List[str]],
                going_down: bool = False) -> Tuple[List[Op], List[Op]]:
    """(deletions, additions) that make the address list exactly `wanted` (None: leave alone).

    Taking a link down flushes its IPv6 addresses (net.ipv6.conf.*.keep_addr_on_down=0),
    so when the plan takes the link down, wanted IPv6 addresses are added again after it."""
    if wanted is None:
        return [], []
    dels = [Op("addr_del", netns, name, {"address": a}, undo=[Op("addr_add", netns, name, {"address": a})])
            for a in current if a not in wanted]
    survivors = [a for a in current if not (going_down and ipaddress.ip_interface(a).version == 6)]
    adds = [Op("addr_add", netns, name, {"address": a}, undo=[Op("addr_del", netns, name, {"address": a})])
            for a in wanted if a not in survivors]
    return dels, adds


def in_place_ops(netns: Optional[str], name: str, before: Dict[str, Any], want: Dict[str, Any],
                 wanted_addresses: Optional[List[str]]) -> List[Op]:
    """Address removals, MAC/MTU/promisc/admin-state changes, then address additions."""
    going_down = before.get("admin_state") == "up" and want.get("admin_state") == "down"
    dels, adds = address_ops(netns, name, before["addresses"], wanted_addresses, going_down)
    sets = common_set_ops(netns, name, before, want)
    if going_down:
        # Undoing the down must also bring back the IPv6 addresses the down flushed.
        kept_v6 = [a for a in before["addresses"] if ipaddress.ip_interface(a).version == 6
                   and a in (wanted_addresses if wanted_addresses is not None else before["addresses"])]
        sets[-1].undo += [Op("addr_add", netns, name, {"address": a}) for a in kept_v6]
        if wanted_addresses is None:
            adds += [Op("addr_add", netns, name, {"address": a}, undo=[Op("addr_del", netns, name, {"address": a})])
                     for a in kept_v6]
    return dels + sets + adds


def set_op(netns: Optional[str], name: str, before: Dict[str, Any], changes: Dict[str, Any],
           extra: Optional[Dict[str, Any]] = None) -> Op:
    """An in-place `ip link set` whose undo restores the previous values."""
    extra = extra or {}
    old = {key: before[key] for key in changes}
    return Op("link_set", netns, name, dict(extra, **changes), undo=[Op("link_set", netns, name, dict(extra, **old))])


def common_set_ops(netns: Optional[str], name: str, before: Dict[str, Any], wanted: Dict[str, Any]) -> List[Op]:
    """MAC, MTU, promisc and admin state changes in place, in an order the kernel accepts
    (MTU and MAC while the old state holds, admin state last)."""
    ops = []
    for key in ("macaddress", "mtu", "promisc", "admin_state"):
        value = wanted.get(key)
        if value is not None and before.get(key) != value:
            ops.append(set_op(netns, name, before, {key: value}))
    return ops
