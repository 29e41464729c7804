# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's rtnetlink codec and socket: message and attribute packing, dump parsing,
and a socket that sends many requests per system call. Every netlink request and dump of the
engine goes through here (each kind's own attributes: linkinfo.py; each operation as requests:
encoders.py; the one sender: kernel.Kernel.apply_all).

Why not pyroute2, the netlink library the collection names: measured on these machines,
pyroute2 parses a 1000-link dump in 0.34 s where the raw bytes take 0.005 s, and spends
~0.5 ms of event-loop time on every request, so a host of 1000 links could not converge near
`ip -batch` speed through it (README, Benchmark). This module decodes only the attributes the
engine reads and sends many requests per system call (each with its own acknowledgement, so
every request's outcome is known). pyroute2's message classes check it: tests/unit/test_codec.py
decodes every request this codec builds with them."""

from __future__ import annotations

import errno
import fcntl
import socket
import struct
from typing import Any, Dict, Iterator, List, Optional, Tuple

NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
SO_RCVBUFFORCE = 33
RECEIVE_BUFFER = 8 << 20  # room for thousands of acknowledgements per batch
SIOCGIFINDEX = 0x8933
IFREQ = struct.Struct("=16si20x")  # struct ifreq: the name, then ifr_ifindex in a 24-byte union

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_CAPPED = 0x100  # in an error message: the echoed request is only its header
NLM_F_ACK_TLVS = 0x200  # in an error message: extended-ack attributes follow
NLMSGERR_ATTR_MSG = 1

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH = 28, 29, 30
RTM_GETNSID = 90

IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER = 1, 3, 4, 5, 10
IFLA_LINKINFO, IFLA_IFALIAS, IFLA_GROUP, IFLA_NET_NS_FD = 18, 20, 27, 28
IFLA_PROMISCUITY, IFLA_LINK_NETNSID = 30, 37
IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS = 29, 1 << 3
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA = 1, 2, 4, 5
IFA_F_SECONDARY = 0x01
NUD_PERMANENT = 0x80
RT_TABLE_MAIN = 254
RTPROT_STATIC = 4
RTN_UNICAST = 1
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_NOWHERE = 0, 253, 255
# Route origins the kernel or a daemon owns; never managed, never purged.
FOREIGN_ROUTE_PROTOCOLS = {1, 2, 8, 9, 11, 12, 16, 42, 186, 187, 188, 189, 192}
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 4, 5, 6, 15
NDA_DST, NDA_LLADDR = 1, 2
NETNSA_NSID, NETNSA_FD = 1, 3
LINK_ATTRS = frozenset((IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER, IFLA_LINKINFO, IFLA_IFALIAS,
                        IFLA_GROUP, IFLA_PROMISCUITY, IFLA_LINK_NETNSID))

HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
IFADDRMSG = struct.Struct("=BBBBI")  # family, prefix length, flags, scope, index
RTMSG = struct.Struct("=BBBBBBBBI")  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
NDMSG = struct.Struct("=BxxxiHBB")  # family, index, state, flags, type
ATTR = struct.Struct("=HH")
U8, U16, U32, I32 = struct.Struct("=B"), struct.Struct("=H"), struct.Struct("=I"), struct.Struct("=i")
BE16 = struct.Struct("!H")
NLA_TYPE_MASK = 0x3FFF


class NetlinkFailure(Exception):
    """The kernel refused a request: errno plus its own explanation when it gave one."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


# -- encoding ---------------------------------------------------------------
def attr(kind: int, payload: bytes) -> bytes:
    length = ATTR.size + len(payload)
    return ATTR.pack(length, kind) + payload + b"\0" * (-length % 4)


def attr_u32(kind: int, value: int) -> bytes:
    return attr(kind, U32.pack(value))


def attr_text(kind: int, value: str) -> bytes:
    return attr(kind, value.encode() + b"\0")


def attr_nested(kind: int, *children: bytes) -> bytes:
    return attr(kind | 0x8000, b"".join(children))  # NLA_F_NESTED


# A link dump request without the counters (about a quarter of each message, never read here);
# a kernel that does not know the flag ignores it.
LINK_DUMP = IFINFOMSG.pack(0, 0, 0, 0, 0) + attr_u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)


def mac_bytes(text: str) -> bytes:
    return bytes(int(part, 16) for part in text.split(":"))


def ip_bytes(text: str) -> Tuple[int, bytes]:
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    return family, socket.inet_pton(family, text)


# -- decoding ---------------------------------------------------------------
def attrs_of(data: bytes, start: int, end: int, wanted: Optional[frozenset] = None) -> Dict[int, bytes]:
    """{attribute type: payload} of the attributes between start and end (only `wanted` ones:
    a link message carries ~50 attributes, statistics mostly, and the engine reads 12)."""
    found = {}
    unpack = ATTR.unpack_from
    while start + 4 <= end:
        length, kind = unpack(data, start)
        if length < 4:
            break
        kind &= NLA_TYPE_MASK
        if wanted is None or kind in wanted:
            found[kind] = data[start + 4:start + length]
        start += (length + 3) & ~3
    return found


def attr_list(data: bytes) -> List[Tuple[int, bytes]]:
    """Repeated attributes (a nested list), in order."""
    found = []
    start = 0
    while start + 4 <= len(data):
        length, kind = ATTR.unpack_from(data, start)
        if length < 4:
            break
        found.append((kind & NLA_TYPE_MASK, data[start + 4:start + length]))
        start += (length + 3) & ~3
    return found


def text_of(payload: Optional[bytes]) -> Optional[str]:
    return None if payload is None else payload.split(b"\0", 1)[0].decode(errors="replace")


def u32_of(payload: Optional[bytes], default: Any = None) -> Any:
    return default if payload is None else U32.unpack_from(payload)[0]


def mac_text(payload: bytes) -> str:
    return payload.hex(":")


def parse_link(data: bytes, offset: int, end: int) -> Dict[str, Any]:
    """One RTM_NEWLINK message, reduced to what the engine compares."""
    _family, _type, index, flags, _change = IFINFOMSG.unpack_from(data, offset)
    attrs = attrs_of(data, offset + IFINFOMSG.size, end, LINK_ATTRS)
    link: Dict[str, Any] = {
        "name": text_of(attrs.get(IFLA_IFNAME)),
        "index": index,
        "flags": flags,
        "mac": mac_text(attrs[IFLA_ADDRESS]) if IFLA_ADDRESS in attrs else None,
        "mtu": u32_of(attrs.get(IFLA_MTU), 0),
        "promiscuity": u32_of(attrs.get(IFLA_PROMISCUITY), 0),
        "parent_index": u32_of(attrs.get(IFLA_LINK)),
        "parent_nsid": I32.unpack(attrs[IFLA_LINK_NETNSID])[0] if IFLA_LINK_NETNSID in attrs else None,
        "master_index": u32_of(attrs.get(IFLA_MASTER)),
        "alias": text_of(attrs.get(IFLA_IFALIAS)),
        "group": u32_of(attrs.get(IFLA_GROUP), 0),
        "kind": None,
        "data": {},
        "slave_kind": None,
        "slave_data": {},
    }
    info = attrs.get(IFLA_LINKINFO)
    if info is not None:
        parts = attrs_of(info, 0, len(info))
        link["kind"] = text_of(parts.get(IFLA_INFO_KIND))
        link["slave_kind"] = text_of(parts.get(IFLA_INFO_SLAVE_KIND))
        data = parts.get(IFLA_INFO_DATA)
        if data is not None:
            link["data"] = attrs_of(data, 0, len(data))
        slave = parts.get(IFLA_INFO_SLAVE_DATA)
        if slave is not None:
            link["slave_data"] = attrs_of(slave, 0, len(slave))
    return link


def parse_address(data: bytes, offset: int, end: int) -> Tuple[int, str, bool]:
    """(link index, 'address/prefix', whether it is a secondary address) of one RTM_NEWADDR message."""
    family, prefix, flags, _scope, index = IFADDRMSG.unpack_from(data, offset)
    attrs = attrs_of(data, offset + IFADDRMSG.size, end)
    raw = attrs.get(IFA_LOCAL) if family == socket.AF_INET else None
    raw = raw or attrs.get(IFA_ADDRESS)
    return index, "%s/%d" % (socket.inet_ntop(family, raw), prefix), bool(flags & IFA_F_SECONDARY)


def parse_route(data: bytes, offset: int, end: int) -> Dict[str, Any]:
    family, dst_len, _src, _tos, table, protocol, _scope, kind, _flags = RTMSG.unpack_from(data, offset)
    attrs = attrs_of(data, offset + RTMSG.size, end)
    dst, gateway = attrs.get(RTA_DST), attrs.get(RTA_GATEWAY)
    return {
        "family": family,
        "dst_len": dst_len,
        "table": u32_of(attrs.get(RTA_TABLE), table),
        "protocol": protocol,
        "type": kind,
        "dst": socket.inet_ntop(family, dst) if dst is not None else None,
        "gateway": socket.inet_ntop(family, gateway) if gateway is not None else None,
        "oif": u32_of(attrs.get(RTA_OIF)),
        "priority": u32_of(attrs.get(RTA_PRIORITY), 0),
    }


def parse_neighbor(data: bytes, offset: int, end: int) -> Dict[str, Any]:
    family, index, state, _flags, _type = NDMSG.unpack_from(data, offset)
    attrs = attrs_of(data, offset + NDMSG.size, end)
    dst, lladdr = attrs.get(NDA_DST), attrs.get(NDA_LLADDR)
    return {
        "family": family,
        "index": index,
        "state": state,
        "address": socket.inet_ntop(family, dst) if dst is not None and family in (2, 10) else None,
        "lladdr": mac_text(lladdr) if lladdr is not None else None,
    }


# -- the socket -------------------------------------------------------------
class RtnlSocket:
    """An rtnetlink socket in the namespace of the thread that opens it."""

    BATCH_BYTES = 64 << 10  # one system call; the kernel refuses more than its send buffer

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
        except OSError:  # not root: the ordinary limit
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        for option in (NETLINK_CAP_ACK, NETLINK_EXT_ACK):
            try:
                self.sock.setsockopt(SOL_NETLINK, option, 1)
            except OSError:  # older kernels: plain acknowledgements
                pass
        self.sock.bind((0, 0))
        self.sequence = 0

    def close(self) -> None:
        self.sock.close()

    def index_of(self, name: str) -> Optional[int]:
        """The index of the link `name` in the socket's namespace, None when there is none: one
        ioctl, as `ip` resolves a name (a socket of any family answers for its namespace)."""
        try:
            reply = fcntl.ioctl(self.sock.fileno(), SIOCGIFINDEX, IFREQ.pack(name.encode(), 0))
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                return None
            raise
        return IFREQ.unpack(reply)[1]

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    def _receive(self) -> Iterator[Tuple[int, int, bytes, int, int]]:
        """(type, sequence, buffer, offset, length) of every message the kernel sends."""
        while True:
            data = self.sock.recv(1 << 20)
            offset = 0
            while offset + HEADER.size <= len(data):
                length, msg_type, _flags, seq, _port = HEADER.unpack_from(data, offset)
                if length < HEADER.size:
                    raise NetlinkFailure(0, "malformed netlink message")
                yield msg_type, seq, data, offset, length
                offset += (length + 3) & ~3

    def dump(self, kind: int, body: bytes) -> Iterator[Tuple[bytes, int, int]]:
        """(buffer, payload offset, payload end) of every message of a dump."""
        sequence = self._next()
        self.sock.send(HEADER.pack(HEADER.size + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, sequence, 0) + body)
        for msg_type, seq, data, offset, length in self._receive():
            if seq != sequence:
                continue
            if msg_type == NLMSG_DONE:
                return
            if msg_type == NLMSG_ERROR:
                code, detail = _error_of(data, offset, length)
                if code:
                    raise NetlinkFailure(code, detail)
                return
            yield data, offset + HEADER.size, offset + length

    def request(self, kind: int, flags: int, body: bytes) -> bytes:
        """One request expecting one reply message (not an acknowledgement): its payload."""
        sequence = self._next()
        self.sock.send(HEADER.pack(HEADER.size + len(body), kind, NLM_F_REQUEST | flags, sequence, 0) + body)
        for msg_type, seq, data, offset, length in self._receive():
            if seq != sequence:
                continue
            if msg_type == NLMSG_ERROR:
                raise NetlinkFailure(*_error_of(data, offset, length))
            return data[offset + HEADER.size:offset + length]
        raise NetlinkFailure(0, "no answer")  # not reached: _receive waits for one

    def transact(self, requests: List[Tuple[int, int, bytes]]) -> List[Optional[NetlinkFailure]]:
        """Send (type, flags, body) requests, many per system call; the outcome of each.

        The kernel runs them in order. It answers a failed request whether asked to or
        not, so only the last request of each system call asks for an acknowledgement:
        when that arrives, every request before it has been answered (failures) or has
        succeeded silently. All are sent even if one fails: the result lists, per request,
        None (done) or its failure, so the caller knows exactly what took effect."""
        results: List[Optional[NetlinkFailure]] = []
        chunk: List[Tuple[int, int, bytes]] = []
        size = 0
        for request in requests:
            length = HEADER.size + len(request[2])
            if chunk and size + length > self.BATCH_BYTES:
                results += self._send_chunk(chunk)
                chunk, size = [], 0
            chunk.append(request)
            size += length
        if chunk:
            results += self._send_chunk(chunk)
        return results

    def _send_chunk(self, chunk: List[Tuple[int, int, bytes]]) -> List[Optional[NetlinkFailure]]:
        first = self.sequence + 1
        last = first + len(chunk) - 1
        messages = []
        for kind, flags, body in chunk:
            sequence = self._next()
            flags |= NLM_F_REQUEST | (NLM_F_ACK if sequence == last else 0)
            messages.append(HEADER.pack(HEADER.size + len(body), kind, flags, sequence, 0) + body)
        self.sock.send(b"".join(messages))
        answers: Dict[int, Optional[NetlinkFailure]] = {}
        for msg_type, seq, data, offset, length in self._receive():
            if msg_type == NLMSG_ERROR and first <= seq <= last:
                code, detail = _error_of(data, offset, length)
                answers[seq] = NetlinkFailure(code, detail) if code else None
                if seq == last:  # answered last: everything before it has been answered
                    break
        return [answers.get(sequence) for sequence in range(first, last + 1)]


def _error_of(data: bytes, offset: int, length: int) -> Tuple[int, str]:
    """(positive errno, extended-ack text) of an NLMSG_ERROR message (0: success)."""
    flags = HEADER.unpack_from(data, offset)[2]
    code = -I32.unpack_from(data, offset + HEADER.size)[0]
    detail = ""
    if code and flags & NLM_F_ACK_TLVS:
        # error code, the echoed request (only its header when capped), then TLVs
        echoed = HEADER.size if flags & NLM_F_CAPPED else HEADER.unpack_from(data, offset + HEADER.size + 4)[0]
        start = offset + HEADER.size + 4 + ((echoed + 3) & ~3)
        detail = text_of(attrs_of(data, start, offset + length).get(NLMSGERR_ATTR_MSG)) or ""
    return code, detail
