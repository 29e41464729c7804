# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only place that talks to the kernel: namespaces, one dump per namespace, apply.

Every read and every netlink write goes through rtnl.py: each operation is encoded as
requests (encoders.RTNL_ENCODERS) and sent by one batcher (Kernel.apply_all), many requests
per system call; namespaces and sysctls are system calls and files (encoders.SYSCALL_STEPS)."""

from __future__ import annotations

import contextlib
import os
import socket
from types import MappingProxyType
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import rtnl
from ansible_collections.linuxnet.macvlan.plugins.module_utils.encoders import (
    RTNL_ENCODERS,
    STRICT_ORDER,
    SYSCALL_STEPS,
    NeedsIndex,
    Request,
    kernel_error,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError, KernelError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState, link_state, nsid_or_none
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.rtnl import (
    FOREIGN_ROUTE_PROTOCOLS,
    NUD_PERMANENT,
    RT_TABLE_MAIN,
    RTN_UNICAST,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.syscalls import (
    CLONE_NEWNET,
    MNT_DETACH,
    MS_BIND,
    MS_REC,
    MS_SHARED,
    check_call,
    inode_of,
    libc,
    setns,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.sysctls import sysctl_path

NETNS_DIR = "/run/netns"
BULK_GROUP_BASE = 0x4C4EF000  # link groups for a rollback's bulk deletion, one free one per namespace
Batch = List[Tuple[Op, List[Request]]]  # operations with the requests each was encoded as


def ns_label(name: Optional[str]) -> str:
    return "netns %s" % name if name else "the host namespace"


class Namespace:
    """Netlink access inside one network namespace (None: the host's)."""

    def __init__(self, name: Optional[str], fd: int, sock: rtnl.RtnlSocket) -> None:
        self.name = name
        self.fd = fd
        self.sock = sock
        # One dump per namespace per read phase; every write forgets it. Handed out read-only:
        # the same dump serves every resource of a plan and the batcher's index look-ups.
        self._links: Optional[Mapping[str, LinkState]] = None
        self._by_index: Dict[int, LinkState] = {}
        self._by_parent: Dict[Tuple[Optional[int], int], Tuple[LinkState, ...]] = {}
        self._nsids: Dict[int, Optional[int]] = {}
        self._indexes: Optional[Dict[str, Optional[int]]] = None  # name -> index between batches

    def invalidate(self) -> None:
        self._links = None
        self._indexes = None
        self._nsids = {}

    @property
    def label(self) -> str:
        return ns_label(self.name)

    def close(self) -> None:
        self.sock.close()

    # -- reads --------------------------------------------------------------
    def links(self) -> Mapping[str, LinkState]:
        """One link dump plus one address dump for the whole namespace (cached until a write).
        Read-only: a caller that wants to add names builds its own collection."""
        if self._links is None:
            self._dump_links()
        return self._links  # type: ignore[return-value]

    def _dump_links(self) -> None:
        links: Dict[str, LinkState] = {}
        for data, start, end in self.sock.dump(rtnl.RTM_GETLINK, rtnl.LINK_DUMP):
            state = link_state(rtnl.parse_link(data, start, end))
            links[state.name] = state
        by_index = {state.index: state for state in links.values()}
        for data, start, end in self.sock.dump(rtnl.RTM_GETADDR, rtnl.IFADDRMSG.pack(0, 0, 0, 0, 0)):
            index, text, secondary = rtnl.parse_address(data, start, end)
            owner = by_index.get(index)
            if owner is not None:
                owner.addresses.append(text)
                if secondary:
                    owner.secondary_addresses.append(text)
        by_parent: Dict[Tuple[Optional[int], int], List[LinkState]] = {}
        for state in links.values():
            if state.parent_index is not None:
                by_parent.setdefault((state.parent_nsid, state.parent_index), []).append(state)
        self._links, self._by_index = MappingProxyType(links), by_index
        self._by_parent = {key: tuple(children) for key, children in by_parent.items()}

    def by_index(self, index: int) -> Optional[LinkState]:
        self.links()
        return self._by_index.get(index)

    def stacked_on(self, nsid: Optional[int], index: int) -> Tuple[LinkState, ...]:
        """Links here whose parent is link `index` of the namespace this one calls `nsid`."""
        self.links()
        return self._by_parent.get((nsid, index), ())

    def nsid_of(self, other: "Namespace") -> Optional[int]:
        """The id under which this namespace knows `other` (None if it has none)."""
        if other.fd == self.fd:
            return None
        if other.fd not in self._nsids:
            body = b"\0\0\0\0" + rtnl.attr_u32(rtnl.NETNSA_FD, other.fd)  # struct rtgenmsg, aligned
            reply = self.sock.request(rtnl.RTM_GETNSID, 0, body)
            value = rtnl.attrs_of(reply, 4, len(reply)).get(rtnl.NETNSA_NSID)
            self._nsids[other.fd] = nsid_or_none(rtnl.I32.unpack(value)[0]) if value is not None else None
        return self._nsids[other.fd]

    def routes(self) -> List[Dict[str, Any]]:
        names = {state.index: state.name for state in self.links().values()}
        result = []
        for data, start, end in self.sock.dump(rtnl.RTM_GETROUTE, rtnl.RTMSG.pack(0, 0, 0, 0, 0, 0, 0, 0, 0)):
            route = rtnl.parse_route(data, start, end)
            if route["table"] != RT_TABLE_MAIN or route["protocol"] in FOREIGN_ROUTE_PROTOCOLS \
                    or route["type"] != RTN_UNICAST:
                continue
            oif = route["oif"]
            result.append({
                "family": 4 if route["family"] == socket.AF_INET else 6,
                "dest": "%s/%d" % (route["dst"], route["dst_len"]) if route["dst"] is not None else "default",
                "via": route["gateway"],
                "dev": names.get(oif) if oif is not None else None,
                "metric": route["priority"],
            })
        return result

    def neighbors(self) -> List[Dict[str, Any]]:
        names = {state.index: state.name for state in self.links().values()}
        result = []
        for data, start, end in self.sock.dump(rtnl.RTM_GETNEIGH, rtnl.NDMSG.pack(0, 0, 0, 0, 0)):
            entry = rtnl.parse_neighbor(data, start, end)
            if not entry["state"] & NUD_PERMANENT or entry["address"] is None:
                continue
            result.append({"address": entry["address"], "lladdr": entry["lladdr"],
                           "dev": names.get(entry["index"], str(entry["index"]))})
        return result

    def index_of(self, name: str, stale: Set[Tuple[Optional[str], str]] = frozenset()) -> Optional[int]:
        """The link's index from the current dump, or between batches (no dump) asked of the kernel by
        name in this namespace; None when unknown or created or deleted in this batch."""
        if (self.name, name) in stale:
            return None
        if self._links is not None:
            link = self._links.get(name)
            return link.index if link is not None else None
        if self._indexes is None:  # between batches only names are needed: no dump
            self._indexes = {}
        if name not in self._indexes:
            self._indexes[name] = self.sock.index_of(name)
        return self._indexes[name]


class Kernel:
    """Kernel access for one module run: one socket per namespace, batched writes."""

    def __init__(self) -> None:
        self.host_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
        self._nsfs_dev = os.fstat(self.host_fd).st_dev  # every namespace file lives on nsfs
        self._spaces: Dict[Optional[str], Namespace] = {}
        self._all: Optional[List[Namespace]] = None
        self._netns_dir_shared = False
        self.memo: Dict[Any, Any] = {}  # results derived from the current dumps; cleared by writes

    # -- namespaces -------------------------------------------------------
    def namespace_exists(self, name: Optional[str]) -> bool:
        """A name under /run/netns counts only when a namespace is mounted on it: a run killed
        half-way through `ip netns add` leaves a plain file, which the next creation repairs."""
        return name is None or self.entry_state(name) == "namespace"

    def entry_state(self, name: str) -> str:
        """'namespace', 'missing', 'unfinished' (the empty file a killed creation leaves) or 'other'."""
        path = os.path.join(NETNS_DIR, name)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return "missing"
        if info.st_dev == self._nsfs_dev:
            return "namespace"
        if os.path.isfile(path) and info.st_size == 0:
            return "unfinished"
        return "other"

    @staticmethod
    def namespace_names() -> List[str]:
        if not os.path.isdir(NETNS_DIR):
            return []
        return sorted(os.listdir(NETNS_DIR))

    def ns(self, name: Optional[str]) -> Namespace:
        """Open (once) a socket in namespace `name`; never creates a namespace."""
        if name in self._spaces:
            return self._spaces[name]
        if name is None:
            fd = self.host_fd
        else:
            if not self.namespace_exists(name):
                raise EngineError("network namespace '%s' does not exist (no namespace mounted on %s/%s)"
                                  % (name, NETNS_DIR, name))
            fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
        try:
            with self.inside_fd(fd):
                sock = rtnl.RtnlSocket()
        except OSError:
            if fd != self.host_fd:
                os.close(fd)
            raise
        space = Namespace(name, fd, sock)
        self._spaces[name] = space
        return space

    def all_namespaces(self) -> List[Namespace]:
        """The host namespace and every named one that can be opened, each namespace once
        (a name under /run/netns may point at the namespace the module runs in)."""
        if self._all is None:
            spaces = [self.ns(None)]
            seen = {inode_of(spaces[0].fd)}
            for name in self.namespace_names():
                if not self.namespace_exists(name):
                    continue  # a stale file under /run/netns is not a namespace
                try:
                    space = self.ns(name)
                except (EngineError, OSError):
                    continue  # deleted meanwhile by someone else
                if inode_of(space.fd) not in seen:
                    seen.add(inode_of(space.fd))
                    spaces.append(space)
            self._all = spaces
        return self._all

    @contextlib.contextmanager
    def inside_fd(self, fd: int) -> Iterator[None]:
        if fd == self.host_fd:
            yield
            return
        setns(fd)
        try:
            yield
        finally:
            setns(self.host_fd)

    def inside(self, name: Optional[str]) -> Any:
        return self.inside_fd(self.ns(name).fd)

    def forget(self, name: Optional[str]) -> None:
        space = self._spaces.pop(name, None)
        self._all = None
        if space is not None:
            space.close()
            if space.fd != self.host_fd:
                os.close(space.fd)

    def close(self) -> None:
        for name in list(self._spaces):
            self.forget(name)
        os.close(self.host_fd)

    def create_namespace(self, name: str, lo_alias: Optional[str] = None) -> None:
        """What `ip netns add` does: a new namespace bind-mounted on /run/netns/NAME.

        `lo_alias` (the owner mark) is written before the namespace is published, so no
        crash can leave a namespace of ours without it; the empty file a killed creation
        leaves behind is taken over (anything else in the way is refused)."""
        os.makedirs(NETNS_DIR, mode=0o755, exist_ok=True)
        self._share_netns_dir()
        path = os.path.join(NETNS_DIR, name)
        state = self.entry_state(name)
        if state == "unfinished":
            os.unlink(path)
        elif state != "missing":
            raise EngineError("%s is in the way of network namespace '%s' (%s, not an unfinished creation); "
                              "remove it first" % (path, name, "a namespace already" if state == "namespace"
                                                   else "not an empty file"))
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
        c_lib = libc()
        try:
            check_call(c_lib.unshare(CLONE_NEWNET), "unshare")
            try:
                if lo_alias:
                    _mark_loopback(lo_alias)
                check_call(c_lib.mount(b"/proc/thread-self/ns/net", path.encode(), b"none", MS_BIND, None),
                           "mount --bind")
            finally:
                setns(self.host_fd)
        except (OSError, EngineError):
            os.unlink(path)
            raise
        self._all = None

    def _share_netns_dir(self) -> None:
        # Like iproute2: mounts under /run/netns propagate to other mount namespaces.
        if self._netns_dir_shared:
            return
        c_lib = libc()
        if c_lib.mount(b"", NETNS_DIR.encode(), b"none", MS_SHARED | MS_REC, None) != 0:
            check_call(c_lib.mount(NETNS_DIR.encode(), NETNS_DIR.encode(), b"none", MS_BIND | MS_REC, None),
                       "mount --bind %s" % NETNS_DIR)
            check_call(c_lib.mount(b"", NETNS_DIR.encode(), b"none", MS_SHARED | MS_REC, None),
                       "mount --make-shared %s" % NETNS_DIR)
        self._netns_dir_shared = True

    def delete_namespace(self, name: str) -> None:
        """What `ip netns del` does: detach the bind mount and remove the file."""
        self.forget(name)
        path = os.path.join(NETNS_DIR, name)
        libc().umount2(path.encode(), MNT_DETACH)  # not mounted: the unlink still cleans up
        os.unlink(path)

    # -- sysctls ----------------------------------------------------------
    def read_sysctl(self, netns: Optional[str], key: str) -> Optional[str]:
        with self.inside(netns):
            try:
                with open(sysctl_path(key)) as handle:
                    return " ".join(handle.read().split())
            except FileNotFoundError:
                return None

    def write_sysctl(self, netns: Optional[str], key: str, value: str) -> None:
        with self.inside(netns):
            with open(sysctl_path(key), "w") as handle:
                handle.write(value)

    # -- writes -----------------------------------------------------------
    def invalidate(self) -> None:
        self.memo = {}
        for space in self._spaces.values():
            space.invalidate()

    def apply(self, op: Op) -> None:
        """Execute one planned operation; kernel errors name the operation."""
        self.apply_all([op], [])

    def delete_links(self, deletions: List[Op]) -> None:
        """Delete many links at the cost of one: each namespace's are moved into a link group no
        link there uses (cheap), then the group is deleted in one request (one kernel wait)."""
        by_space: Dict[Optional[str], List[Op]] = {}
        for op in deletions:
            by_space.setdefault(op.netns, []).append(op)
        ops: List[Op] = []
        for netns, doomed in by_space.items():
            used = {link.group for link in self.ns(netns).links().values()}
            group = next(g for g in range(BULK_GROUP_BASE, BULK_GROUP_BASE + len(used) + 1) if g not in used)
            ops += [Op("link_set", netns, op.target, {"group": group}) for op in doomed]
            ops.append(Op("group_del", netns, self.ns(netns).label, {"group": group}))
        self.apply_all(ops, [])

    def apply_all(self, ops: List[Op], done: List[Op]) -> None:
        """Execute `ops` in order, appending each completed one to `done`.

        Consecutive requests go to the kernel in batches; a request that needs the index
        of a link created earlier in the same batch waits for the next batch, and the
        requests after it on the same object wait with it (nothing overtakes a route,
        neighbor or port change). On a refusal, raises KernelError with `failed_op`."""
        pending = list(ops)
        while pending:
            batch, pending = self._next_batch(pending)
            try:
                if batch:
                    self._send(batch, done)
                else:
                    op = pending.pop(0)
                    self._apply_alone(op)
                    done.append(op)
            finally:
                self.invalidate()

    def _next_batch(self, pending: List[Op]) -> Tuple[Batch, List[Op]]:
        batch: Batch = []
        deferred: List[Op] = []
        waiting: Set[Tuple[Optional[str], str]] = set()  # objects with a deferred request
        stale: Set[Tuple[Optional[str], str]] = set()  # links created or deleted in this batch
        for position, op in enumerate(pending):
            encoder = RTNL_ENCODERS.get(op.verb)
            strict = op.verb in STRICT_ORDER
            key = (op.netns, op.target)
            if encoder is None or (strict and deferred):
                return batch, deferred + pending[position:]
            if key in waiting:
                deferred.append(op)
                continue
            try:
                requests = encoder(self, op, stale)
            except NeedsIndex:
                if strict or not batch:
                    return batch, deferred + pending[position:]
                deferred.append(op)
                waiting.add(key)
                continue
            batch.append((op, requests))
            if op.verb in ("link_add", "link_del"):
                stale.add(key)
        return batch, deferred

    def _send(self, batch: Batch, done: List[Op]) -> None:
        """Consecutive requests for one namespace go out together, in order (an operation's
        requests all go to one namespace)."""
        start = 0
        while start < len(batch):
            space = next((requests[0].space for _op, requests in batch[start:] if requests), None)
            stop = start
            while stop < len(batch) and all(r.space is space for r in batch[stop][1]):
                stop += 1
            run = batch[start:stop]
            messages = [(r.kind, r.flags, r.body) for _op, requests in run for r in requests]
            results = space.sock.transact(messages) if messages else []
            failed = None
            position = 0
            for op, requests in run:
                failure = next((f for f in results[position:position + len(requests)] if f is not None), None)
                position += len(requests)
                if failure is None:
                    done.append(op)
                elif failed is None:
                    failed = (op, failure)
            if failed is not None:
                raise kernel_error(failed[0], failed[1].code, failed[1].detail)
            start = stop

    def _apply_alone(self, op: Op) -> None:
        try:
            if op.verb in RTNL_ENCODERS:
                try:
                    requests = RTNL_ENCODERS[op.verb](self, op, set())
                except NeedsIndex as exc:
                    raise EngineError(str(exc))
                self._send([(op, requests)], [])
            else:
                SYSCALL_STEPS[op.verb](self, op)
        except OSError as exc:
            raise kernel_error(op, exc.errno or 0, str(exc))
        except KernelError:
            raise
        except EngineError as exc:
            error = KernelError(op.render(), 0, str(exc))
            error.failed_op = op  # type: ignore[attr-defined]
            raise error

    def index(self, netns: Optional[str], name: str, stale: Set[Tuple[Optional[str], str]] = frozenset()) -> int:
        found = self.ns(netns).index_of(name, stale)
        if found is None:
            raise NeedsIndex("link '%s' does not exist in %s" % (name, self.ns(netns).label))
        return found


def _mark_loopback(alias: str) -> None:
    """Set lo's alias in the namespace the calling thread is in (lo is always index 1)."""
    sock = rtnl.RtnlSocket()
    try:
        body = rtnl.IFINFOMSG.pack(0, 0, 1, 0, 0) + rtnl.attr(rtnl.IFLA_IFALIAS, alias.encode())
        failure = sock.transact([(rtnl.RTM_NEWLINK, 0, body)])[0]
        if failure is not None:
            raise KernelError("ip link set dev lo alias %s" % alias, failure.code, failure.detail)
    finally:
        sock.close()
