# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvlan / macvtap links: spec from parameters, view of the kernel, plan."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import KERNEL_ASSIGNED, View
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import (
    MACVLAN_FLAG_NOPROMISC,
    Kernel,
    LinkState,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import (
    children_of,
    in_place_ops,
    ns_label,
    require_namespace,
    resolve_parent,
    set_op,
    visible_addresses,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op

KINDS = ("macvlan", "macvtap")
MODES = ("private", "vepa", "bridge", "passthru", "source")
MIN_MTU = 68
# What the module reports and compares, in this order.
VIEW_KEYS = ("name", "kind", "netns", "parent", "parent_netns", "mode", "nopromisc", "source_macs",
             "macaddress", "mtu", "admin_state", "promisc", "addresses")


@dataclass
class MacvlanSpec:
    name: str
    state: str = "present"
    parent: Optional[str] = None
    kind: str = "macvlan"
    mode: str = "vepa"
    nopromisc: Optional[bool] = None
    source_macs: Optional[List[str]] = None
    macaddress: Optional[str] = None
    mtu: Optional[int] = None
    netns: Optional[str] = None
    parent_netns: Optional[str] = None
    admin_state: str = "up"
    promisc: Optional[bool] = None
    addresses: Optional[List[str]] = None

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "MacvlanSpec":
        """Validate everything that needs no kernel; field names carry `path`."""
        def at(field: str) -> str:
            return path + field

        def choice(field: str, value: Any, choices: tuple, default: str) -> str:
            value = default if value is None else value
            if value not in choices:
                raise ValidationError(at(field), "'%s' is not one of %s" % (value, ", ".join(choices)))
            return value

        spec = cls(name=validate.interface_name(at("name"), params.get("name")))
        spec.state = choice("state", params.get("state"), ("present", "absent"), "present")
        spec.netns = validate.netns_name(at("netns"), params.get("netns"))
        spec.parent_netns = validate.netns_name(at("parent_netns"), params.get("parent_netns"))
        if spec.state == "absent":
            return spec
        spec.parent = validate.interface_name(at("parent"), params.get("parent"))
        spec.kind = choice("kind", params.get("kind"), KINDS, "macvlan")
        spec.mode = choice("mode", params.get("mode"), MODES, "vepa")
        spec.admin_state = choice("admin_state", params.get("admin_state"), ("up", "down"), "up")
        spec.nopromisc = params.get("nopromisc")
        if spec.nopromisc and spec.mode != "passthru":
            raise ValidationError(at("nopromisc"), "only applies to mode passthru (mode is %s)" % spec.mode)
        if params.get("source_macs") is not None:
            if spec.mode != "source":
                raise ValidationError(at("source_macs"), "only applies to mode source (mode is %s)" % spec.mode)
            spec.source_macs = validate.mac_list(at("source_macs"), params["source_macs"])
        if params.get("macaddress") is not None:
            spec.macaddress = validate.mac_address(at("macaddress"), params["macaddress"])
        if params.get("mtu") is not None:
            spec.mtu = validate.int_range(at("mtu"), params["mtu"], MIN_MTU, 65535)
        spec.promisc = params.get("promisc")
        if params.get("addresses") is not None:
            spec.addresses = validate.address_list(at("addresses"), params["addresses"])
        if spec.name == spec.parent and spec.netns == spec.parent_netns:
            raise ValidationError(at("parent"), "a link cannot be its own parent")
        return spec


def link_view(kernel: Kernel, netns: Optional[str], link: LinkState, wanted_addresses: Optional[List[str]]) -> Dict[str, Any]:
    """The kernel's link in the module's vocabulary (the diff's before/after)."""
    parent, parent_netns = resolve_parent(kernel, kernel.ns(netns), link)
    view = {
        "name": link.name,
        "kind": link.kind,
        "netns": netns,
        "parent": parent,
        "parent_netns": parent_netns,
        "mode": link.mode,
        "nopromisc": bool(link.flags & MACVLAN_FLAG_NOPROMISC),
        "source_macs": list(link.source_macs),
        "macaddress": link.mac,
        "mtu": link.mtu,
        "admin_state": "up" if link.up else "down",
        "promisc": link.promisc,
        "addresses": visible_addresses(link, wanted_addresses),
    }
    if link.kind == "macvtap":
        view["tap_device"] = "/dev/tap%d" % link.index
    return view


class MacvlanLink:
    """The Resource for one macvlan or macvtap link (see engine.Resource)."""

    def __init__(self, spec: MacvlanSpec) -> None:
        self.spec = spec
        self.label = "%s %s in %s" % (spec.kind, spec.name, ns_label(spec.netns))
        self._parent_mtu: Optional[int] = None

    # -- read / check ------------------------------------------------------
    def read(self, kernel: Kernel) -> View:
        if not kernel.namespace_exists(self.spec.netns):
            return None
        link = kernel.ns(self.spec.netns).links().get(self.spec.name)
        if link is None:
            return None
        return link_view(kernel, self.spec.netns, link, self.spec.addresses)

    def check(self, kernel: Kernel, before: View) -> None:
        spec = self.spec
        if before is not None and before["kind"] not in KINDS:
            raise ValidationError("name", "'%s' already exists in %s as a %s link; refusing to replace a link "
                                  "that is not a macvlan/macvtap" % (spec.name, ns_label(spec.netns), before["kind"]))
        if spec.state == "absent":
            return
        require_namespace(kernel, "netns", spec.netns)
        parent_space = require_namespace(kernel, "parent_netns", spec.parent_netns)
        parent = parent_space.links().get(spec.parent)
        if parent is None:
            raise ValidationError("parent", "'%s' does not exist in %s" % (spec.parent, ns_label(spec.parent_netns)))
        self._parent_mtu = parent.mtu
        if spec.mtu is not None and spec.mtu > parent.mtu:
            raise ValidationError("mtu", "%d is above the MTU of parent %s (%d); a %s cannot exceed its parent"
                                  % (spec.mtu, spec.parent, parent.mtu, spec.kind))
        self._check_passthru(kernel, parent_space, parent, before)

    def _check_passthru(self, kernel: Kernel, parent_space: Any, parent: LinkState, before: View) -> None:
        spec = self.spec
        others = [(space, link) for space, link in children_of(kernel, parent_space, parent)
                  if not (space.name == spec.netns and link.name == spec.name)]
        names = ", ".join("%s (%s)" % (link.name, space.label) for space, link in others)
        if spec.mode == "passthru" and others:
            raise ValidationError("mode", "passthru allows a single child per parent, and %s already has: %s"
                                  % (spec.parent, names))
        passthru = [(space, link) for space, link in others if link.mode == "passthru"]
        if passthru:
            space, link = passthru[0]
            raise ValidationError("parent", "%s already has the passthru child %s (%s); passthru allows no "
                                  "other child" % (spec.parent, link.name, space.label))

    # -- plan / predict ----------------------------------------------------
    def needs_recreate(self, before: Dict[str, Any]) -> List[str]:
        """Why the kernel cannot change this link in place (empty: it can)."""
        spec = self.spec
        reasons = []
        if before["kind"] != spec.kind:
            reasons.append("kind %s -> %s" % (before["kind"], spec.kind))
        if (before["parent"], before["parent_netns"]) != (spec.parent, spec.parent_netns):
            reasons.append("parent %s -> %s" % (before["parent"], spec.parent))
        if (before["mode"] == "passthru") != (spec.mode == "passthru"):
            reasons.append("mode %s -> %s (passthru cannot be set or cleared in place)" % (before["mode"], spec.mode))
        return reasons

    def explain(self, before: View) -> Optional[str]:
        if before is None or self.spec.state == "absent":
            return None
        reasons = self.needs_recreate(before)
        return "re-created: " + "; ".join(reasons) if reasons else None

    def plan(self, before: View) -> List[Op]:
        spec = self.spec
        if spec.state == "absent":
            return [] if before is None else [self._delete_op(before)]
        if before is None:
            return self._create_ops(self._new_link_view())
        if self.needs_recreate(before):
            return [self._delete_op(before)] + self._create_ops(self._new_link_view())
        return self._update_ops(before)

    def _new_link_view(self) -> Dict[str, Any]:
        # Pass the MTU only when asked for: the kernel copies the parent's by itself.
        view = self.predict(None)
        if self.spec.mtu is None:
            view["mtu"] = KERNEL_ASSIGNED
        return view

    def predict(self, before: View) -> View:
        spec = self.spec
        if spec.state == "absent":
            return None
        base = dict(before) if before is not None and not self.needs_recreate(before) else {}
        base.pop("tap_device", None)
        mode_kept_source = spec.mode == "source" and base.get("mode") == "source"
        view = {
            "name": spec.name, "kind": spec.kind, "netns": spec.netns, "parent": spec.parent,
            "parent_netns": spec.parent_netns, "mode": spec.mode,
            "nopromisc": spec.nopromisc if spec.nopromisc is not None else base.get("nopromisc", False),
            "source_macs": _first(spec.source_macs, base.get("source_macs") if mode_kept_source else [], []),
            "macaddress": _first(spec.macaddress, base.get("macaddress"), KERNEL_ASSIGNED),
            "mtu": _first(spec.mtu, base.get("mtu"), self._parent_mtu or KERNEL_ASSIGNED),
            "admin_state": spec.admin_state,
            "promisc": _first(spec.promisc, base.get("promisc"), False),
            "addresses": _first(spec.addresses, base.get("addresses"), []),
        }
        return view

    def _create_ops(self, view: Dict[str, Any]) -> List[Op]:
        """Create a link as `view` describes it; every later step dies with the link on undo."""
        netns, name = view["netns"], view["name"]
        add = Op("link_add", netns, name, {
            "kind": view["kind"], "parent": view["parent"], "parent_netns": view["parent_netns"],
            "mode": view["mode"], "nopromisc": view["nopromisc"],
            "macaddress": _known(view.get("macaddress")), "mtu": _known(view.get("mtu")),
        }, undo=[Op("link_del", netns, name)])
        ops = [add]
        if view["source_macs"]:
            macs = {"kind": view["kind"], "action": "add", "macs": view["source_macs"]}
            ops.append(Op("source_macs", netns, name, macs))
        if view["promisc"]:
            ops.append(Op("link_set", netns, name, {"promisc": True}))
        if view["admin_state"] == "up":
            ops.append(Op("link_set", netns, name, {"admin_state": "up"}))
        ops += [Op("addr_add", netns, name, {"address": address}) for address in view["addresses"]]
        return ops

    def _delete_op(self, before: Dict[str, Any]) -> Op:
        undo = self._create_ops(before) if before.get("parent") and before.get("kind") in KINDS else []
        return Op("link_del", before["netns"], before["name"], undo=undo)

    def _update_ops(self, before: Dict[str, Any]) -> List[Op]:
        spec, want = self.spec, self.predict(before)
        netns, name, kind = spec.netns, spec.name, spec.kind
        ops: List[Op] = []
        if before["mode"] != want["mode"]:
            op = set_op(netns, name, before, {"mode": want["mode"]}, {"kind": kind})
            if before["mode"] == "source" and before["source_macs"]:
                # Leaving source mode flushes the list in the kernel; undo must restore it.
                op.undo.append(Op("source_macs", netns, name, {"kind": kind, "action": "add",
                                                               "macs": before["source_macs"]}))
            ops.append(op)
        if spec.nopromisc is not None and before["nopromisc"] != spec.nopromisc:
            ops.append(set_op(netns, name, before, {"nopromisc": spec.nopromisc}, {"kind": kind}))
        ops += self._source_mac_ops(before, want)
        ops += in_place_ops(netns, name, before, want, spec.addresses)
        return ops

    def _source_mac_ops(self, before: Dict[str, Any], want: Dict[str, Any]) -> List[Op]:
        if self.spec.source_macs is None or self.spec.mode != "source":
            return []
        netns, name, kind = self.spec.netns, self.spec.name, self.spec.kind
        current = before["source_macs"] if before["mode"] == "source" else []
        wanted = want["source_macs"]
        added = [mac for mac in wanted if mac not in current]
        removed = [mac for mac in current if mac not in wanted]
        ops = []
        if current and not wanted:
            ops.append(Op("source_macs", netns, name, {"kind": kind, "action": "flush"},
                          undo=[Op("source_macs", netns, name, {"kind": kind, "action": "add", "macs": current})]))
            return ops
        if removed:
            ops.append(Op("source_macs", netns, name, {"kind": kind, "action": "del", "macs": removed},
                          undo=[Op("source_macs", netns, name, {"kind": kind, "action": "add", "macs": removed})]))
        if added:
            ops.append(Op("source_macs", netns, name, {"kind": kind, "action": "add", "macs": added},
                          undo=[Op("source_macs", netns, name, {"kind": kind, "action": "del", "macs": added})]))
        return ops


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def _known(value: Any) -> Any:
    return None if value == KERNEL_ASSIGNED else value


def tap_device_exists(view: View) -> bool:
    return bool(view and view.get("tap_device") and os.path.exists(view["tap_device"]))
