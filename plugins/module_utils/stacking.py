# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which link sits on which, across namespaces: a link's parent (or a veth's other end), the links
stacked on a link, and everything the kernel deletes together with one."""

from __future__ import annotations

from typing import List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, Namespace
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState


def resolve_parent(kernel: Kernel, space: Namespace, link: LinkState) -> Tuple[Optional[str], Optional[str]]:
    """(parent name, parent namespace) of `link`, following IFLA_LINK_NETNSID."""
    if link.parent_index is None:
        return None, None
    if link.parent_nsid is None:
        return _name_of(space, link.parent_index), space.name
    for other in kernel.all_namespaces():
        if other is not space and space.nsid_of(other) == link.parent_nsid:
            return _name_of(other, link.parent_index), other.name
    return "ifindex %d" % link.parent_index, "netnsid %d" % link.parent_nsid


def _name_of(space: Namespace, index: int) -> Optional[str]:
    link = space.by_index(index)
    return link.name if link is not None else None


def children_of(kernel: Kernel, parent_space: Namespace, parent: LinkState,
                kinds: Optional[Tuple[str, ...]] = None) -> Tuple[Tuple[Namespace, LinkState], ...]:
    """Links (of `kinds`; None: of any kind) stacked on `parent`, in whichever namespace they
    live (one scan per read; read-only, since later checks share it)."""
    key = ("children", parent_space.fd, parent.index, kinds)
    if key not in kernel.memo:
        found: List[Tuple[Namespace, LinkState]] = []
        for space in kernel.all_namespaces():
            nsid = space.nsid_of(parent_space)
            if space is not parent_space and nsid is None:
                continue  # no id for the parent's namespace: nothing here can point at it
            found += [(space, link) for link in space.stacked_on(nsid, parent.index)
                      if kinds is None or link.kind in kinds]
        kernel.memo[key] = tuple(found)
    return kernel.memo[key]


def carried_along(kernel: Kernel, space: Namespace, link: LinkState) -> List[Tuple[Namespace, LinkState]]:
    """What the kernel deletes together with `link`: everything stacked on it, and on that, in any
    namespace; for a veth also what is stacked on its other end."""
    # A veth's IFLA_LINK names its other end, so each end is "stacked on" the other: not a child.
    def stacked(where: Namespace, lower: LinkState) -> List[Tuple[Namespace, LinkState]]:
        return [(s, child) for s, child in children_of(kernel, where, lower)
                if not (lower.kind == "veth" and child.kind == "veth")]

    lowers = [(space, link)]
    if link.kind == "veth":
        peer_name, peer_netns = resolve_parent(kernel, space, link)
        peer = kernel.ns(peer_netns).links().get(peer_name) \
            if peer_name is not None and kernel.namespace_exists(peer_netns) else None
        if peer is not None:
            lowers.append((kernel.ns(peer_netns), peer))
    found: List[Tuple[Namespace, LinkState]] = []
    seen = {(where.fd, lower.index) for where, lower in lowers}
    while lowers:
        where, lower = lowers.pop()
        for item in stacked(where, lower):
            if (item[0].fd, item[1].index) not in seen:
                seen.add((item[0].fd, item[1].index))
                found.append(item)
                lowers.append(item)
    return found
