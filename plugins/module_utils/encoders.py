# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each planned operation as netlink requests (RTNL_ENCODERS: links, their kind attributes,
addresses, routes, neighbors, bridge ports), all sent by the one batched sender,
kernel.Kernel.apply_all; the steps that are not netlink requests (SYSCALL_STEPS: namespaces,
sysctls) run one at a time between batches. Kernel refusals become KernelErrors naming the
operation. `kernel` is a kernel.Kernel (not imported: kernel.py imports this)."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import linkinfo, rtnl
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import KernelError, missing_link_type_hint
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import IFF_PROMISC, IFF_UP
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.rtnl import (
    NUD_PERMANENT,
    RT_SCOPE_LINK,
    RT_SCOPE_NOWHERE,
    RT_SCOPE_UNIVERSE,
    RT_TABLE_MAIN,
    RTN_UNICAST,
    RTPROT_STATIC,
)

Kernel = Any  # kernel.Kernel


class NeedsIndex(Exception):
    """A request names a link whose index is not known yet (created in the same batch)."""


@dataclass
class Request:
    space: Any  # kernel.Namespace
    kind: int
    flags: int
    body: bytes


Requests = List[Request]  # what one operation is sent as (a source-MAC change: one request per MAC)


def kernel_error(op: Op, code: int, detail: str = "") -> KernelError:
    if op.verb == "link_add" and code in (errno.EOPNOTSUPP,):
        error = KernelError(op.render(), code, missing_link_type_hint(op.args["kind"]))
    elif op.verb == "link_add" and code == errno.EEXIST:
        error = KernelError(op.render(), code, "a link named '%s' already exists there" % op.target)
    else:
        error = KernelError(op.render(), code, detail)
    error.failed_op = op  # type: ignore[attr-defined]
    return error


# Requests nothing may overtake: a route needs the addresses before it, a port its bridge.
STRICT_ORDER = {"route_replace", "route_del", "neigh_replace", "neigh_del", "port_master"}
Stale = Set[Tuple[Optional[str], str]]


def _link_header(kernel: Kernel, op: Op, stale: Stale, flags: int = 0, change: int = 0) -> Tuple[bytes, bytes]:
    """(ifinfomsg, name attribute): by index when known, else by name."""
    index = kernel.ns(op.netns).index_of(op.target, stale)
    by_name = b"" if index is not None else rtnl.attr_text(rtnl.IFLA_IFNAME, op.target)
    return rtnl.IFINFOMSG.pack(0, 0, index or 0, flags, change), by_name


def encode_link_add(kernel: Kernel, op: Op, stale: Stale) -> Requests:
    a = op.args
    parts = [rtnl.attr_text(rtnl.IFLA_IFNAME, op.target)]
    if a.get("parent"):
        parts.append(rtnl.attr_u32(rtnl.IFLA_LINK, kernel.index(a.get("parent_netns"), a["parent"], stale)))
    if a.get("macaddress"):
        parts.append(rtnl.attr(rtnl.IFLA_ADDRESS, rtnl.mac_bytes(a["macaddress"])))
    if a.get("mtu"):
        parts.append(rtnl.attr_u32(rtnl.IFLA_MTU, a["mtu"]))
    if a.get("group"):
        parts.append(rtnl.attr_u32(rtnl.IFLA_GROUP, a["group"]))
    if op.netns != a.get("parent_netns"):
        # Created directly in its namespace: 0.6 ms instead of 16 ms for add+move.
        parts.append(rtnl.attr_u32(rtnl.IFLA_NET_NS_FD, kernel.ns(op.netns).fd))
    attrs = a.get("linkinfo", {})
    if "peer" in attrs:
        # A veth peer lands in the socket's namespace unless told otherwise: always tell it.
        attrs = dict(attrs, peer_netns_fd=kernel.ns(a.get("peer_netns")).fd)
    parts.append(linkinfo.encode(a["kind"], attrs))
    return [Request(kernel.ns(a.get("parent_netns")), rtnl.RTM_NEWLINK, rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL,
                    rtnl.IFINFOMSG.pack(0, 0, 0, 0, 0) + b"".join(parts))]


def encode_link_set(kernel: Kernel, op: Op, stale: Stale) -> Requests:
    a = op.args
    flags = change = 0
    if "promisc" in a:
        change |= IFF_PROMISC
        flags |= IFF_PROMISC if a["promisc"] else 0
    if "admin_state" in a:
        change |= IFF_UP
        flags |= IFF_UP if a["admin_state"] == "up" else 0
    header, by_name = _link_header(kernel, op, stale, flags, change)
    parts = [by_name]
    if "macaddress" in a:
        parts.append(rtnl.attr(rtnl.IFLA_ADDRESS, rtnl.mac_bytes(a["macaddress"])))
    if "mtu" in a:
        parts.append(rtnl.attr_u32(rtnl.IFLA_MTU, a["mtu"]))
    if "alias" in a:
        parts.append(rtnl.attr(rtnl.IFLA_IFALIAS, (a["alias"] or "").encode()))
    if "group" in a:
        parts.append(rtnl.attr_u32(rtnl.IFLA_GROUP, a["group"]))
    if "linkinfo" in a:
        parts.append(linkinfo.encode(a["kind"], a["linkinfo"]))
    return [Request(kernel.ns(op.netns), rtnl.RTM_NEWLINK, 0, header + b"".join(parts))]


def encode_source_macs(kernel: Kernel, op: Op, stale: Stale) -> Requests:
    """The kernel takes one source MAC per request (or a flush of them all)."""
    a = op.args
    header, by_name = _link_header(kernel, op, stale)
    if a["action"] == "flush":
        changes = [{"macaddr_mode": "flush"}]
    else:
        changes = [{"macaddr_mode": a["action"], "macaddr": mac} for mac in a["macs"]]
    return [Request(kernel.ns(op.netns), rtnl.RTM_NEWLINK, 0, header + by_name + linkinfo.encode(a["kind"], change))
            for change in changes]


def encode_brport_set(kernel: Kernel, op: Op, stale: Stale) -> Requests:
    header, by_name = _link_header(kernel, op, stale)
    return [Request(kernel.ns(op.netns), rtnl.RTM_NEWLINK, 0, header + by_name + linkinfo.encode_port(op.args))]


def encode_link_del(kernel: Kernel, op: Op, stale: Stale) -> Requests:
    header, by_name = _link_header(kernel, op, stale)
    return [Request(kernel.ns(op.netns), rtnl.RTM_DELLINK, 0, header + by_name)]


def encode_group_del(kernel: Kernel, op: Op, stale: Stale) -> Requests:
    # One request for the whole group: the kernel waits once, not ~20 ms per link.
    return [Request(kernel.ns(op.netns), rtnl.RTM_DELLINK, 0,
                    rtnl.IFINFOMSG.pack(0, 0, 0, 0, 0) + rtnl.attr_u32(rtnl.IFLA_GROUP, op.args["group"]))]


def _encode_addr(kernel: Kernel, op: Op, stale: Stale, kind: int, flags: int) -> Requests:
    index = kernel.index(op.netns, op.target, stale)  # first: a new link's addresses wait a batch
    address, prefix = op.args["address"].split("/")
    family, raw = rtnl.ip_bytes(address)
    body = rtnl.IFADDRMSG.pack(family, int(prefix), 0, 0, index) + rtnl.attr(rtnl.IFA_LOCAL, raw) \
        + rtnl.attr(rtnl.IFA_ADDRESS, raw)
    return [Request(kernel.ns(op.netns), kind, flags, body)]


def _encode_route(kernel: Kernel, op: Op, stale: Stale, delete: bool) -> Requests:
    a = op.args
    family = socket.AF_INET6 if a["family"] == 6 else socket.AF_INET
    parts = []
    dst_len = 0
    if a["dest"] not in ("default", "default6"):
        network, length = a["dest"].split("/")
        dst_len = int(length)
        parts.append(rtnl.attr(rtnl.RTA_DST, rtnl.ip_bytes(network)[1]))
    if a.get("via"):
        parts.append(rtnl.attr(rtnl.RTA_GATEWAY, rtnl.ip_bytes(a["via"])[1]))
    if a.get("dev"):
        parts.append(rtnl.attr_u32(rtnl.RTA_OIF, kernel.index(op.netns, a["dev"], stale)))
    parts.append(rtnl.attr_u32(rtnl.RTA_PRIORITY, a["metric"]))
    if delete:  # like `ip route del`: any protocol, any scope
        header = rtnl.RTMSG.pack(family, dst_len, 0, 0, RT_TABLE_MAIN, 0, RT_SCOPE_NOWHERE, 0, 0)
        return [Request(kernel.ns(op.netns), rtnl.RTM_DELROUTE, 0, header + b"".join(parts))]
    scope = RT_SCOPE_UNIVERSE if a.get("via") else RT_SCOPE_LINK
    header = rtnl.RTMSG.pack(family, dst_len, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, scope, RTN_UNICAST, 0)
    return [Request(kernel.ns(op.netns), rtnl.RTM_NEWROUTE, rtnl.NLM_F_CREATE | rtnl.NLM_F_REPLACE,
                    header + b"".join(parts))]


def _encode_neigh(kernel: Kernel, op: Op, stale: Stale, delete: bool) -> Requests:
    a = op.args
    family, raw = rtnl.ip_bytes(a["address"])
    index = kernel.index(op.netns, a["dev"], stale)
    if delete:
        body = rtnl.NDMSG.pack(family, index, 0, 0, 0) + rtnl.attr(rtnl.NDA_DST, raw)
        return [Request(kernel.ns(op.netns), rtnl.RTM_DELNEIGH, 0, body)]
    body = rtnl.NDMSG.pack(family, index, NUD_PERMANENT, 0, 0) + rtnl.attr(rtnl.NDA_DST, raw) \
        + rtnl.attr(rtnl.NDA_LLADDR, rtnl.mac_bytes(a["lladdr"]))
    return [Request(kernel.ns(op.netns), rtnl.RTM_NEWNEIGH, rtnl.NLM_F_CREATE | rtnl.NLM_F_REPLACE, body)]


def encode_port_master(kernel: Kernel, op: Op, stale: Stale) -> Requests:
    bridge = op.args["bridge"]
    master = kernel.index(op.netns, bridge, stale) if bridge else 0
    body = rtnl.IFINFOMSG.pack(0, 0, kernel.index(op.netns, op.target, stale), 0, 0) \
        + rtnl.attr_u32(rtnl.IFLA_MASTER, master)
    return [Request(kernel.ns(op.netns), rtnl.RTM_NEWLINK, 0, body)]


RTNL_ENCODERS: Dict[str, Callable[[Kernel, Op, Stale], Requests]] = {
    "link_add": encode_link_add,
    "link_set": encode_link_set,
    "source_macs": encode_source_macs,
    "brport_set": encode_brport_set,
    "link_del": encode_link_del,
    "group_del": encode_group_del,
    "addr_add": lambda k, op, s: _encode_addr(k, op, s, rtnl.RTM_NEWADDR, rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL),
    "addr_del": lambda k, op, s: _encode_addr(k, op, s, rtnl.RTM_DELADDR, 0),
    "route_replace": lambda k, op, s: _encode_route(k, op, s, delete=False),
    "route_del": lambda k, op, s: _encode_route(k, op, s, delete=True),
    "neigh_replace": lambda k, op, s: _encode_neigh(k, op, s, delete=False),
    "neigh_del": lambda k, op, s: _encode_neigh(k, op, s, delete=True),
    "port_master": encode_port_master,
}

# Not netlink requests: a namespace is a mount of a new network namespace, a sysctl a file.
SYSCALL_STEPS: Dict[str, Callable[[Kernel, Op], None]] = {
    "ns_add": lambda kernel, op: kernel.create_namespace(op.target, op.args.get("lo_alias")),
    "ns_del": lambda kernel, op: kernel.delete_namespace(op.target),
    "sysctl": lambda kernel, op: kernel.write_sysctl(op.netns, op.target, op.args["value"]),
}
