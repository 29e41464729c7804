# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every link resource shares: the common parameters, addresses and state, and the
read -> check -> plan skeleton that each link kind specialises (LinkSpec, LinkResource)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import KERNEL_ASSIGNED, View, first_given
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, Namespace, ns_label
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ownership import Owner
from ansible_collections.linuxnet.macvlan.plugins.module_utils.plancontext import InPlan, ready_namespace
from ansible_collections.linuxnet.macvlan.plugins.module_utils.routes import (
    check_route_path,
    parse_link_routes,
    route_args,
    route_key,
    route_ops,
    satisfied_by,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.stacking import carried_along, resolve_parent
from ansible_collections.linuxnet.macvlan.plugins.module_utils.validate import sort_addresses

MIN_MTU = 68


def visible_addresses(link: LinkState, wanted: Optional[List[str]]) -> List[str]:
    """Addresses as the modules report them: kernel link-local IPv6 ones are left out
    unless the user lists them, since the kernel adds and removes them by itself."""
    keep = wanted or ()
    result = []
    for text in link.addresses:
        if "." in text and ":" in text:  # IPv4-mapped: ipaddress writes it its own way
            text = str(ipaddress.ip_interface(text))
        if _is_link_local_v6(text) and text not in keep:
            continue
        result.append(text)
    return sort_addresses(result)


def _is_link_local_v6(text: str) -> bool:
    """fe80::/10, from the kernel's canonical text (no ipaddress objects on the hot path)."""
    if ":" not in text:
        return False
    head = text.split(":", 1)[0]
    return head != "" and int(head, 16) & 0xFFC0 == 0xFE80


def address_ops(netns: Optional[str], name: str, current: List[str], wanted: Optional[List[str]],
                going_down: bool = False, secondaries: Sequence[str] = ()) -> Tuple[List[Op], List[Op]]:
    """(deletions, additions) that make the address list exactly `wanted` (None: leave alone).

    Taking a link down flushes its IPv6 addresses (net.ipv6.conf.*.keep_addr_on_down=0),
    so when the plan takes the link down, wanted IPv6 addresses are added again after it.
    Deleting a subnet's primary IPv4 address makes the kernel drop the subnet's secondary
    ones (promote_secondaries is off unless set): the kept secondaries are deleted first and
    added back after, so the plan says what happens."""
    if wanted is None:
        return [], []
    doomed = [a for a in current if a not in wanted]
    dropped = _secondaries_dropped_with(doomed, [a for a in current if a in wanted], secondaries)

    def delete(a: str) -> Op:
        return Op("addr_del", netns, name, {"address": a}, undo=[Op("addr_add", netns, name, {"address": a})])

    # secondaries before primaries: a deleted primary takes its subnet's secondaries with it
    doomed.sort(key=lambda a: a not in secondaries)
    dels = [delete(a) for a in dropped] + [delete(a) for a in doomed]
    survivors = [a for a in current if a not in dropped and not (going_down and ipaddress.ip_interface(a).version == 6)]
    adds = [Op("addr_add", netns, name, {"address": a}, undo=[Op("addr_del", netns, name, {"address": a})])
            for a in wanted if a not in survivors]
    return dels, adds


def _secondaries_dropped_with(doomed: List[str], kept: List[str], secondaries: Sequence[str]) -> List[str]:
    """The kept secondary IPv4 addresses in the subnet of a doomed primary one."""
    subnets = {ipaddress.ip_interface(a).network for a in doomed if ":" not in a and a not in secondaries}
    return [a for a in kept if ":" not in a and a in secondaries and ipaddress.ip_interface(a).network in subnets]


def in_place_ops(netns: Optional[str], name: str, before: Dict[str, Any], want: Dict[str, Any],
                 wanted_addresses: Optional[List[str]], secondaries: Sequence[str] = ()) -> List[Op]:
    """Address removals, MAC/MTU/promisc/admin-state changes, then address additions."""
    going_down = before.get("admin_state") == "up" and want.get("admin_state") == "down"
    dels, adds = address_ops(netns, name, before["addresses"], wanted_addresses, going_down, secondaries)
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


def set_op(netns: Optional[str], name: str, before: Dict[str, Any], changes: Dict[str, Any]) -> Op:
    """An in-place `ip link set` whose undo restores the previous values."""
    old = {key: before[key] for key in changes}
    return Op("link_set", netns, name, dict(changes), undo=[Op("link_set", netns, name, old)])


def common_set_ops(netns: Optional[str], name: str, before: Dict[str, Any], wanted: Dict[str, Any]) -> List[Op]:
    """MAC, MTU, promisc and admin state changes in place (admin state last)."""
    ops = []
    for key in ("macaddress", "mtu", "promisc", "admin_state"):
        value = wanted.get(key)
        if value is not None and value != KERNEL_ASSIGNED and before.get(key) != value:
            ops.append(set_op(netns, name, before, {key: value}))
    return ops


def known(value: Any) -> Any:
    return None if value == KERNEL_ASSIGNED else value


@dataclass
class LinkSpec:
    """Parameters every link module takes; kinds add their own fields in subclasses."""

    name: str
    state: str = validate.PRESENCE.default
    parent: Optional[str] = None
    netns: Optional[str] = None
    parent_netns: Optional[str] = None
    macaddress: Optional[str] = None
    mtu: Optional[int] = None
    admin_state: str = validate.ADMIN_STATE.default
    promisc: Optional[bool] = None
    addresses: Optional[List[str]] = None
    routes: Optional[List[Dict[str, Any]]] = None  # exactly the static routes through this link

    @classmethod
    def parse_common(cls, params: Dict[str, Any], path: str, needs_parent: bool = True) -> Any:
        spec = cls(name=validate.interface_name(path + "name", params.get("name")))
        spec.state = validate.PRESENCE.parse(path + "state", params.get("state"))
        spec.netns = validate.netns_name(path + "netns", params.get("netns"))
        spec.parent_netns = validate.netns_name(path + "parent_netns", params.get("parent_netns"))
        if spec.state == "absent":
            return spec
        if needs_parent:
            spec.parent = validate.interface_name(path + "parent", params.get("parent"))
            if spec.name == spec.parent and spec.netns == spec.parent_netns:
                raise ValidationError(path + "parent", "a link cannot be its own parent")
        spec.admin_state = validate.ADMIN_STATE.parse(path + "admin_state", params.get("admin_state"))
        if params.get("macaddress") is not None:
            spec.macaddress = validate.mac_address(path + "macaddress", params["macaddress"])
        if params.get("mtu") is not None:
            spec.mtu = validate.int_range(path + "mtu", params["mtu"], MIN_MTU, 65535)
        spec.promisc = validate.boolean(path + "promisc", params.get("promisc"))
        if params.get("addresses") is not None:
            spec.addresses = validate.address_list(path + "addresses", params["addresses"])
        if params.get("routes") is not None:
            if not isinstance(params["routes"], list):
                raise ValidationError(path + "routes", "expected a list of destinations")
            spec.routes = parse_link_routes(path + "routes", params["routes"], spec.name)
            if spec.routes and spec.admin_state == "down":
                raise ValidationError(path + "routes", "routes need the link up (admin_state: up)")
        return spec


class LinkResource(InPlan):
    """read / check / plan / predict for a link stacked on a parent (see engine.Resource).

    A kind provides: KINDS, kind_view() (from LinkState.data), kind_predict(), kind_recreate_reasons(),
    kind_linkinfo() (attributes for `ip link add/set ... type KIND`), kind_update_ops()
    and, optionally, kind_check() and kind_create_ops()."""

    KINDS: Tuple[str, ...] = ()
    HAS_PARENT = True  # bridges have none; a veth's "parent" is its peer

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.label = "%s %s in %s" % (self.kind, spec.name, ns_label(spec.netns))
        self.parent_mtu: Optional[int] = None
        self.owner: Optional[Owner] = None  # the topology module's mark for links it creates
        # The link's own mark as read (alias, group): a rollback that re-creates the link
        # puts back exactly that, and a listed link whose creation was cut short gets its alias.
        self.found_mark: Tuple[Optional[str], int] = (None, 0)
        self.found_secondaries: Tuple[str, ...] = ()
        # plan() and the engine both predict from the same read: computed once (read-only).
        self._prediction: Tuple[View, View] = (None, None)

    @property
    def kind(self) -> str:
        return self.KINDS[0]

    # -- hooks ------------------------------------------------------------
    def kind_view(self, link: LinkState) -> Dict[str, Any]:
        return {}

    def kind_predict(self, base: Dict[str, Any]) -> Dict[str, Any]:
        return {}

    def kind_recreate_reasons(self, before: Dict[str, Any]) -> List[str]:
        return []

    def kind_linkinfo(self, view: Dict[str, Any], keys: Optional[Tuple[str, ...]] = None) -> Dict[str, Any]:
        """{'attrs': the kind's attributes by linkinfo.py's names (all of them, or only `keys`),
        'words': the same as `ip ... type KIND` words}."""
        return {"attrs": {}, "words": []}

    def kind_update_ops(self, before: Dict[str, Any], want: Dict[str, Any]) -> List[Op]:
        return []

    def kind_check(self, kernel: Kernel, parent_space: Namespace, parent: Optional[LinkState], before: View) -> None:
        return None

    def kind_create_ops(self, view: Dict[str, Any]) -> List[Op]:
        return []

    # -- read / check -----------------------------------------------------
    def read(self, kernel: Kernel) -> View:
        if not kernel.namespace_exists(self.spec.netns):
            return None
        link = kernel.ns(self.spec.netns).links().get(self.spec.name)
        if link is None:
            return None
        self.found_mark = (link.alias, link.group)
        self.found_secondaries = tuple(link.secondary_addresses)
        view = {"name": link.name, "kind": link.kind, "netns": self.spec.netns}
        if self.HAS_PARENT:
            parent, parent_netns = resolve_parent(kernel, kernel.ns(self.spec.netns), link)
            view.update(parent=parent, parent_netns=parent_netns)
        if link.kind in self.KINDS:
            view.update(self.kind_view(link))
        view.update({
            "macaddress": link.mac,
            "mtu": link.mtu,
            "admin_state": "up" if link.up else "down",
            "promisc": link.promisc,
            "addresses": visible_addresses(link, self.spec.addresses),
        })
        if self.spec.routes is not None:
            space = kernel.ns(self.spec.netns)
            view["routes"] = sorted((r for r in space.routes() if r["dev"] == link.name), key=route_key)
        return view

    def check(self, kernel: Kernel, before: View) -> None:
        spec = self.spec
        if before is not None and before["kind"] not in self.KINDS:
            raise ValidationError("name", "'%s' already exists in %s as a %s link; refusing to replace a link "
                                  "that is not a %s" % (spec.name, ns_label(spec.netns), before["kind"] or "device",
                                                        "/".join(self.KINDS)))
        if spec.state == "absent":
            if before is not None:
                self._refuse_taking_others_along(kernel)
            return
        if before is not None and self.needs_recreate(before):
            self._refuse_taking_others_along(kernel)
        space = ready_namespace(kernel, self.planned, "netns", spec.netns)
        if not self.HAS_PARENT:
            self._check_routes(kernel)
            self.kind_check(kernel, space, None, before)
            return
        self._check_routes(kernel)
        parent_key = (spec.parent_netns, spec.parent)
        self.parent_mtu = self.planned.mtu(kernel, parent_key)
        if spec.mtu is not None and self.parent_mtu is not None and spec.mtu > self.parent_mtu:
            planned = " as this plan sets it" if parent_key in self.planned.mtus else ""
            raise ValidationError("mtu", "%d is above the MTU of parent %s (%d%s); a %s cannot exceed its parent"
                                  % (spec.mtu, spec.parent, self.parent_mtu, planned, self.kind))
        if parent_key in self.planned.links and not (
                kernel.namespace_exists(spec.parent_netns) and spec.parent in kernel.ns(spec.parent_netns).links()):
            self.kind_check(kernel, None, None, before)  # the parent comes with the same plan, before this link
            return
        parent_space = ready_namespace(kernel, self.planned, "parent_netns", spec.parent_netns)
        parent = parent_space.links().get(spec.parent) if parent_space is not None else None
        if parent is None:
            raise ValidationError("parent", "'%s' does not exist in %s" % (spec.parent, ns_label(spec.parent_netns)))
        self.kind_check(kernel, parent_space, parent, before)

    def _check_routes(self, kernel: Kernel) -> None:
        planned = self.planned
        if (self.spec.netns, self.spec.name) not in planned.admin_states:  # a single module's run
            planned = replace(planned, admin_states={(self.spec.netns, self.spec.name): self.spec.admin_state},
                              addresses={self.spec.netns: list(self.spec.addresses or [])})
        for index, route in enumerate(self.spec.routes or []):
            check_route_path(kernel, planned, self.spec.netns, route, "routes[%d]" % index)

    def _refuse_taking_others_along(self, kernel: Kernel) -> None:
        """Deleting a link deletes what is stacked on it (and a veth's other end with what is on
        that): refuse unless the same plan removes those too."""
        space = kernel.ns(self.spec.netns)
        link = space.links()[self.spec.name]
        others = [(where, child) for where, child in carried_along(kernel, space, link)
                  if (where.name, child.name) not in self.planned.removed]
        if others:
            names = ", ".join("%s %s in %s" % (child.kind or "device", child.name, where.label) for where, child in others)
            raise ValidationError("state" if self.spec.state == "absent" else "name",
                                  "deleting %s %s would also delete %s; remove %s first"
                                  % (self.kind, self.spec.name, names, "it" if len(others) == 1 else "them"))

    # -- plan / predict ---------------------------------------------------
    def needs_recreate(self, before: Dict[str, Any]) -> List[str]:
        """Why the kernel cannot change this link in place (empty: it can)."""
        spec = self.spec
        reasons = []
        if before["kind"] != self.kind:
            reasons.append("kind %s -> %s" % (before["kind"], self.kind))
        if self.HAS_PARENT and (before["parent"], before["parent_netns"]) != (spec.parent, spec.parent_netns):
            reasons.append("parent %s -> %s" % (before["parent"], spec.parent))
        return reasons + self.kind_recreate_reasons(before)

    def explain(self, before: View) -> Optional[str]:
        if before is None or self.spec.state == "absent":
            return None
        reasons = self.needs_recreate(before)
        return "re-created: " + "; ".join(reasons) if reasons else None

    def plan(self, before: View) -> List[Op]:
        if self.spec.state == "absent":
            return [] if before is None else [self._delete_op(before)]
        if before is None:
            return self._create_ops(self._new_link_view(), self._new_mark())
        if self.needs_recreate(before):
            # The new link keeps the old one's mark: re-creating never claims a foreign link.
            return [self._delete_op(before)] + self._create_ops(self._new_link_view(), self.found_mark)
        want = self.predict(before)
        ops = self._finish_mark() + self.kind_update_ops(before, want) + in_place_ops(
            self.spec.netns, self.spec.name, before, want, self.spec.addresses, self.found_secondaries)
        if self.spec.routes is not None:
            # Deleting an address can make the kernel drop routes through the link: write them all again.
            churn = any(op.verb == "addr_del" for op in ops)
            ops += route_ops(self.spec.netns, before.get("routes", []), self.spec.routes, rewrite=churn)
        return ops

    def predict(self, before: View) -> View:
        if before is not None and self._prediction[0] is before:
            return self._prediction[1]
        view = self._predicted(before)
        self._prediction = (before, view)
        return view

    def _predicted(self, before: View) -> View:
        spec = self.spec
        if spec.state == "absent":
            return None
        base = dict(before) if before is not None and not self.needs_recreate(before) else {}
        view = {"name": spec.name, "kind": self.kind, "netns": spec.netns}
        if self.HAS_PARENT:
            view.update(parent=spec.parent, parent_netns=spec.parent_netns)
        view.update(self.kind_predict(base))
        unsettled = (spec.netns, spec.name) in self.planned.unsettled_macs
        view.update({
            "macaddress": first_given(spec.macaddress, None if unsettled else base.get("macaddress"), KERNEL_ASSIGNED),
            "mtu": first_given(spec.mtu, self._clamped(base.get("mtu")), self.parent_mtu or KERNEL_ASSIGNED),
            "admin_state": spec.admin_state,
            "promisc": first_given(spec.promisc, base.get("promisc"), False),
            "addresses": first_given(spec.addresses, base.get("addresses"), []),
        })
        if spec.routes is not None:
            view["routes"] = [satisfied_by(route, base.get("routes", [])) for route in spec.routes]
        return view

    def _clamped(self, mtu: Optional[int]) -> Optional[int]:
        """A child's MTU once its parent has the MTU this plan gives it: lowering a parent's MTU
        lowers its children's to match (the kernel does it; raising it leaves them)."""
        if mtu is None or not self.HAS_PARENT or self.parent_mtu is None:
            return mtu
        return min(mtu, self.parent_mtu)

    def _new_link_view(self) -> Dict[str, Any]:
        # Pass the MTU only when asked for: the kernel copies the parent's by itself.
        view = dict(self.predict(None) or {})
        if self.spec.mtu is None:
            view["mtu"] = KERNEL_ASSIGNED
        return view

    def _new_mark(self) -> Tuple[Optional[str], int]:
        return (self.owner.alias, self.owner.group) if self.owner else (None, 0)

    def _finish_mark(self) -> List[Op]:
        """The alias of a listed link whose creation was cut short (it has our group only)."""
        if self.owner is None or not self.owner.unfinished(*self.found_mark):
            return []
        return [Op("link_set", self.spec.netns, self.spec.name, {"alias": self.owner.alias})]

    def _create_ops(self, view: Dict[str, Any], mark: Tuple[Optional[str], int]) -> List[Op]:
        """Create a link as `view` describes it, with the mark (alias, group) given; every later
        step dies with the link on undo. The group goes in the creating request itself (the kernel
        ignores an alias there); the alias, promiscuity and `up` go in one request after the kind's
        own settings: one kernel round per request, so one request less per link on a first build."""
        netns, name = view["netns"], view["name"]
        alias, group = mark
        info = self.kind_linkinfo(view)
        ops = [Op("link_add", netns, name, {
            "kind": view["kind"], "parent": view.get("parent"), "parent_netns": view.get("parent_netns"),
            "linkinfo": info["attrs"], "words": info["words"],
            "macaddress": known(view.get("macaddress")), "mtu": known(view.get("mtu")),
            "group": group,
        }, undo=[Op("link_del", netns, name)])]
        ops += self.kind_create_ops(view)
        settings: Dict[str, Any] = {"alias": alias} if alias else {}
        if view["promisc"]:
            settings["promisc"] = True
        if view["admin_state"] == "up":
            settings["admin_state"] = "up"
        if settings:
            ops.append(Op("link_set", netns, name, settings))
        ops += [Op("addr_add", netns, name, {"address": address}) for address in view["addresses"]]
        # Deleting the link takes its routes with it: no undo of their own.
        ops += [Op("route_replace", netns, route["dest"], route_args(route)) for route in view.get("routes", [])]
        return ops

    def _delete_op(self, before: Dict[str, Any]) -> Op:
        """Undo re-creates the link as it was, with the mark it had (none, a foreign alias, ours)."""
        recreatable = (before.get("parent") or not self.HAS_PARENT) and before.get("kind") in self.KINDS
        undo = self._create_ops(before, self.found_mark) if recreatable else []
        return Op("link_del", before["netns"], before["name"], undo=undo, irreversible=not recreatable)

    def kind_set_op(self, before: Dict[str, Any], want: Dict[str, Any], keys: Tuple[str, ...]) -> Op:
        """`ip link set ... type KIND <keys>` whose undo puts the old values back."""
        netns, name = self.spec.netns, self.spec.name
        new, old = self.kind_linkinfo(want, keys), self.kind_linkinfo(before, keys)
        return Op("link_set", netns, name, {"kind": self.kind, "linkinfo": new["attrs"], "words": new["words"]},
                  undo=[Op("link_set", netns, name, {"kind": self.kind, "linkinfo": old["attrs"],
                                                     "words": old["words"]})])
