# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bridge ports: enslave / release, hairpin, isolation, learning, flooding, cost, priority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import KERNEL_ASSIGNED, View, first_given
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, ns_label
from ansible_collections.linuxnet.macvlan.plugins.module_utils.plancontext import InPlan, ready_namespace
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op

FLAGS = ("hairpin", "isolated", "learning", "unicast_flood", "multicast_flood")
NUMBERS = {"cost": (1, 65535), "priority": (0, 63)}
# What a freshly enslaved port has (cost depends on the link speed).
KERNEL_DEFAULTS = {"hairpin": False, "isolated": False, "learning": True, "unicast_flood": True,
                   "multicast_flood": True, "cost": KERNEL_ASSIGNED, "priority": 32}


@dataclass
class BridgePortSpec:
    name: str
    bridge: Optional[str] = None
    netns: Optional[str] = None
    state: str = validate.PRESENCE.default
    settings: Dict[str, Any] = None

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "BridgePortSpec":
        spec = cls(name=validate.interface_name(path + "name", params.get("name")))
        spec.state = validate.PRESENCE.parse(path + "state", params.get("state"))
        spec.netns = validate.netns_name(path + "netns", params.get("netns"))
        if params.get("bridge") is not None:
            spec.bridge = validate.interface_name(path + "bridge", params["bridge"])
        elif spec.state == "present":
            raise ValidationError(path + "bridge", "is required to enslave a port")
        if spec.bridge == spec.name:
            raise ValidationError(path + "bridge", "a port cannot be its own bridge")
        spec.settings = {}
        for flag in FLAGS:
            if params.get(flag) is not None:
                spec.settings[flag] = validate.boolean(path + flag, params[flag])
        for key, (low, high) in NUMBERS.items():
            if params.get(key) is not None:
                spec.settings[key] = validate.int_range(path + key, params[key], low, high)
        if spec.state == "absent" and spec.settings:
            raise ValidationError(path + sorted(spec.settings)[0], "port settings only apply to state present")
        return spec


class BridgePort(InPlan):
    """The Resource for one port of one bridge (see engine.Resource)."""

    def __init__(self, spec: BridgePortSpec) -> None:
        self.spec = spec
        self.label = "bridge port %s in %s" % (spec.name, ns_label(spec.netns))

    def read(self, kernel: Kernel) -> View:
        fresh = {"name": self.spec.name, "netns": self.spec.netns, "bridge": None}
        planned = (self.spec.netns, self.spec.name) in self.planned.links
        if not kernel.namespace_exists(self.spec.netns):
            return fresh if planned else None
        links = kernel.ns(self.spec.netns).links()
        port = links.get(self.spec.name)
        if port is None:
            return fresh if planned else None  # the same plan creates it, unenslaved
        masters = {link.index: link for link in links.values()}
        master = masters.get(port.master_index) if port.master_index else None
        view: Dict[str, Any] = {"name": port.name, "netns": self.spec.netns,
                                "bridge": master.name if master is not None else None}
        if port.port is not None:
            view.update({flag: bool(port.port.get(flag)) for flag in FLAGS})
            view.update({key: port.port.get(key) for key in NUMBERS})
        return view

    def check(self, kernel: Kernel, before: View) -> None:
        spec = self.spec
        space = ready_namespace(kernel, self.planned, "netns", spec.netns)
        if before is None:
            raise ValidationError("name", "'%s' does not exist in %s" % (spec.name, ns_label(spec.netns)))
        if spec.state == "absent" or (spec.netns, spec.bridge) in self.planned.links:
            return
        bridge = space.links().get(spec.bridge) if space is not None else None
        if bridge is None:
            raise ValidationError("bridge", "'%s' does not exist in %s" % (spec.bridge, ns_label(spec.netns)))
        if bridge.kind != "bridge":
            raise ValidationError("bridge", "'%s' is a %s link, not a bridge" % (spec.bridge, bridge.kind or "device"))

    def explain(self, before: View) -> Optional[str]:
        if before and before.get("bridge") and self.spec.bridge != before["bridge"] and self.spec.state == "present":
            return "moved from bridge %s" % before["bridge"]
        return None

    def predict(self, before: View) -> View:
        spec = self.spec
        if before is None:
            return None
        if spec.state == "absent":
            if spec.bridge is not None and before.get("bridge") != spec.bridge:
                return dict(before)  # enslaved elsewhere (or nowhere): not ours to release
            return {"name": spec.name, "netns": spec.netns, "bridge": None}
        base = before if before.get("bridge") == spec.bridge else KERNEL_DEFAULTS
        view = {"name": spec.name, "netns": spec.netns, "bridge": spec.bridge}
        for key in FLAGS + tuple(NUMBERS):
            view[key] = first_given(spec.settings.get(key), base.get(key))
        return view

    def plan(self, before: View) -> List[Op]:
        spec, want = self.spec, self.predict(before)
        if before is None or want is None:
            return []
        netns, name = spec.netns, spec.name
        ops: List[Op] = []
        if before.get("bridge") != want["bridge"]:
            ops.append(Op("port_master", netns, name, {"bridge": want["bridge"]},
                          undo=[Op("port_master", netns, name, {"bridge": before.get("bridge")})]))
        if want["bridge"] is None:
            return ops
        changes = {key: value for key, value in want.items()
                   if key in FLAGS + tuple(NUMBERS) and value != KERNEL_ASSIGNED
                   and (before.get("bridge") != want["bridge"] and key in spec.settings
                        or before.get("bridge") == want["bridge"] and before.get(key) != value)}
        if changes:
            old = {key: before[key] for key in changes if before.get("bridge") == want["bridge"]}
            undo = [Op("brport_set", netns, name, old)] if old else []
            ops.append(Op("brport_set", netns, name, changes, undo=undo))
        return ops
