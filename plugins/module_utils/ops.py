# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planned operations: plain data, rendered as the equivalent `ip` command.

Planners produce these without touching the kernel; kernel.apply() executes
them; each carries the operations that undo it, so a failed run rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional


@dataclass
class Op:
    verb: str
    netns: Optional[str]
    target: str
    args: Dict[str, Any] = field(default_factory=dict)
    # What restores the previous state. Empty: nothing to restore of its own (a step that
    # dies with an object created earlier in the plan), unless `irreversible`: then a
    # rollback reports it as not undone (a deleted namespace cannot come back).
    undo: List["Op"] = field(default_factory=list)
    irreversible: bool = False

    def render(self) -> str:
        return RENDERERS[self.verb](self)


@dataclass(frozen=True)
class ExactList:
    """A list the engine keeps exact (a link's or namespace's routes, a namespace's neighbors): how
    an entry is named, sent and compared, and the two verbs that delete and write one."""
    delete: str
    replace: str
    key: Callable[[Dict[str, Any]], tuple]  # the entry's identity
    target: Callable[[Dict[str, Any]], str]  # what the rendered command names
    args: Callable[[Dict[str, Any]], Dict[str, Any]]  # the request's arguments
    same: Callable[[Dict[str, Any], Dict[str, Any]], bool]  # (wanted, current): nothing to write

    def ops(self, netns: Optional[str], current: List[Dict[str, Any]], wanted: List[Dict[str, Any]],
            rewrite: bool = False) -> List[Op]:
        """Deletions of the entries of `current` not wanted, then writes that make `wanted` exist
        (with `rewrite`, also of those already there: the plan's address changes may drop them)."""
        wanted_keys = {self.key(entry) for entry in wanted}
        ops = [self._op(self.delete, netns, entry, undo=[self._op(self.replace, netns, entry)])
               for entry in current if self.key(entry) not in wanted_keys]
        by_key = {self.key(entry): entry for entry in current}
        for entry in wanted:
            old = by_key.get(self.key(entry))
            if old is not None and self.same(entry, old) and not rewrite:
                continue
            undo = self._op(self.replace, netns, old) if old is not None else self._op(self.delete, netns, entry)
            ops.append(self._op(self.replace, netns, entry, undo=[undo]))
        return ops

    def _op(self, verb: str, netns: Optional[str], entry: Dict[str, Any], undo: Optional[List[Op]] = None) -> Op:
        return Op(verb, netns, self.target(entry), self.args(entry), undo=undo or [])


def _ip(netns: Optional[str]) -> str:
    return "ip -n %s" % netns if netns else "ip"


def _render_link_add(op: Op) -> str:
    a = op.args
    parent_ns = a.get("parent_netns")
    words = [_ip(parent_ns), "link add"] + (["link", a["parent"]] if a.get("parent") else []) + ["name", op.target]
    if op.netns != parent_ns:
        words += ["netns", op.netns or "1"]
    words += ["type", a["kind"]] + list(a.get("words", []))
    if a.get("macaddress"):
        words += ["address", a["macaddress"]]
    if a.get("mtu"):
        words += ["mtu", str(a["mtu"])]
    if a.get("group"):
        words += ["group", str(a["group"])]
    return " ".join(words)


def _render_link_set(op: Op) -> str:
    a = op.args
    words = [_ip(op.netns), "link set dev", op.target]
    if "macaddress" in a:
        words += ["address", a["macaddress"]]
    if "mtu" in a:
        words += ["mtu", str(a["mtu"])]
    if "promisc" in a:
        words += ["promisc", "on" if a["promisc"] else "off"]
    if "alias" in a:
        words += ["alias", a["alias"]]
    if "group" in a:
        words += ["group", str(a["group"])]
    if "admin_state" in a:
        words.append(a["admin_state"])
    if "linkinfo" in a:
        words += ["type", a["kind"]] + list(a["words"])
    return " ".join(words)


def _render_source_macs(op: Op) -> str:
    a = op.args
    base = "%s link set dev %s type %s macaddr %s" % (_ip(op.netns), op.target, a["kind"], a["action"])
    if a["action"] == "flush":
        return base
    return base + " " + " ".join(a["macs"])


def _render_route(op: Op, verb: str) -> str:
    a = op.args
    words = [_ip(op.netns), "-6" if a.get("family") == 6 else "", "route", verb, a["dest_text"]]
    if a.get("via"):
        words += ["via", a["via"]]
    if a.get("dev"):
        words += ["dev", a["dev"]]
    if a.get("metric") is not None:
        words += ["metric", str(a["metric"])]
    return " ".join(w for w in words if w)


def _render_neigh(op: Op, verb: str) -> str:
    a = op.args
    words = [_ip(op.netns), "neigh", verb, a["address"]]
    if verb != "del":
        words += ["lladdr", a["lladdr"], "nud permanent"]
    words += ["dev", a["dev"]]
    return " ".join(words)


def _render_brport(op: Op) -> str:
    words = ["bridge -n %s" % op.netns if op.netns else "bridge", "link set dev", op.target]
    for key, value in sorted(op.args.items()):
        name = {"unicast_flood": "flood", "multicast_flood": "mcast_flood"}.get(key, key)
        if isinstance(value, bool):
            words += [name, "on" if value else "off"]
        else:
            words += [name, str(value)]
    return " ".join(words)


RENDERERS = {
    "link_add": _render_link_add,
    "link_del": lambda op: "%s link del dev %s" % (_ip(op.netns), op.target),
    "group_del": lambda op: "%s link del group %d" % (_ip(op.netns), op.args["group"]),
    "link_set": _render_link_set,
    "source_macs": _render_source_macs,
    "addr_add": lambda op: "%s addr add %s dev %s" % (_ip(op.netns), op.args["address"], op.target),
    "addr_del": lambda op: "%s addr del %s dev %s" % (_ip(op.netns), op.args["address"], op.target),
    "ns_add": lambda op: "ip netns add %s" % op.target,
    "ns_del": lambda op: "ip netns del %s" % op.target,
    "sysctl": lambda op: "ip netns exec %s sysctl -w %s=%s" % (op.netns, op.target, op.args["value"]),
    "route_replace": lambda op: _render_route(op, "replace"),
    "route_del": lambda op: _render_route(op, "del"),
    "neigh_replace": lambda op: _render_neigh(op, "replace"),
    "neigh_del": lambda op: _render_neigh(op, "del"),
    "port_master": lambda op: "%s link set dev %s %s" % (
        _ip(op.netns), op.target, "master " + op.args["bridge"] if op.args["bridge"] else "nomaster"),
    "brport_set": _render_brport,
}
