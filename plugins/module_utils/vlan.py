# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""802.1Q / 802.1ad VLAN sub-interfaces: id, protocol, flags, QoS maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import View, first_given
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, Namespace
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkinfo import VLAN_FLAGS, VLAN_PROTOCOLS, VLAN_QOS_MAPS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState
from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import LinkResource, LinkSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.stacking import children_of

PROTOCOL = validate.Choice(tuple(VLAN_PROTOCOLS.values()), "802.1Q")  # 802.1Q, 802.1ad
PROTOCOLS = PROTOCOL.values
REORDER_HDR = True  # the kernel's and `ip link`'s default
FLAG_NAMES = tuple(VLAN_FLAGS)  # reorder_hdr, gvrp, loose_binding, mvrp
QOS_MAPS = tuple(VLAN_QOS_MAPS)  # ingress_qos_map, egress_qos_map


@dataclass
class VlanSpec(LinkSpec):
    vlan_id: int = 0
    protocol: str = PROTOCOL.default
    reorder_hdr: Optional[bool] = REORDER_HDR
    gvrp: Optional[bool] = None
    mvrp: Optional[bool] = None
    loose_binding: Optional[bool] = None
    ingress_qos_map: Optional[Dict[int, int]] = None
    egress_qos_map: Optional[Dict[int, int]] = None

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "VlanSpec":
        spec = cls.parse_common(params, path)
        if spec.state == "absent":
            return spec
        if params.get("vlan_id") is None:
            raise ValidationError(path + "vlan_id", "is required (1-4094)")
        spec.vlan_id = validate.int_range(path + "vlan_id", params["vlan_id"], 1, 4094)
        spec.protocol = PROTOCOL.parse(path + "protocol", params.get("protocol"))
        reorder_hdr = validate.boolean(path + "reorder_hdr", params.get("reorder_hdr"))
        spec.reorder_hdr = REORDER_HDR if reorder_hdr is None else reorder_hdr
        for flag in ("gvrp", "mvrp", "loose_binding"):
            setattr(spec, flag, validate.boolean(path + flag, params.get(flag)))
        # ingress: 802.1p priority (0-7) -> skb priority; egress: skb priority -> 802.1p priority (0-7)
        if params.get("ingress_qos_map") is not None:
            spec.ingress_qos_map = qos_map(path + "ingress_qos_map", params["ingress_qos_map"], (0, 7), (0, 2 ** 32 - 1))
        if params.get("egress_qos_map") is not None:
            spec.egress_qos_map = qos_map(path + "egress_qos_map", params["egress_qos_map"], (0, 2 ** 32 - 1), (0, 7))
        return spec


def qos_map(field: str, value: Dict[Any, Any], keys: Tuple[int, int], values: Tuple[int, int]) -> Dict[int, int]:
    """A priority map; a 0 target means 'no mapping', as in the kernel, so it is dropped."""
    if not isinstance(value, dict):
        raise ValidationError(field, "must be a mapping of priority to priority, e.g. {0: 1, 5: 6}")
    result = {}
    for key, target in value.items():
        source = validate.int_range("%s.%s" % (field, key), key, *keys)
        mapped = validate.int_range("%s.%s" % (field, key), target, *values)
        if mapped:
            result[source] = mapped
    return result


class VlanLink(LinkResource):
    """One VLAN sub-interface."""

    KINDS = ("vlan",)

    def kind_view(self, link: LinkState) -> Dict[str, Any]:
        data = link.data
        view = {"vlan_id": data.get("vlan_id"), "protocol": data.get("protocol")}
        for flag in FLAG_NAMES:
            view[flag] = data.get(flag, False)
        for name in QOS_MAPS:  # a 0 target is no mapping (the kernel reports none)
            view[name] = {source: target for source, target in data.get(name, {}).items() if target}
        return view

    def kind_predict(self, base: Dict[str, Any]) -> Dict[str, Any]:
        spec = self.spec
        view: Dict[str, Any] = {"vlan_id": spec.vlan_id, "protocol": spec.protocol}
        for flag in FLAG_NAMES:
            view[flag] = first_given(getattr(spec, flag), base.get(flag), False)
        for name in QOS_MAPS:
            view[name] = first_given(getattr(spec, name), base.get(name), {})
        return view

    def kind_recreate_reasons(self, before: Dict[str, Any]) -> List[str]:
        reasons = []
        for key in ("vlan_id", "protocol"):
            if before.get(key) != getattr(self.spec, key):
                reasons.append("%s %s -> %s" % (key, before.get(key), getattr(self.spec, key)))
        return reasons

    def kind_linkinfo(self, view: Dict[str, Any], keys: Optional[Tuple[str, ...]] = None) -> Dict[str, Any]:
        creating = keys is None
        keys = keys or (("vlan_id", "protocol") + FLAG_NAMES + QOS_MAPS)
        attrs: Dict[str, Any] = {}
        words: List[str] = []
        for key in ("protocol", "vlan_id") + FLAG_NAMES:
            if key in keys:
                attrs[key] = view[key]
        words += ["protocol", view["protocol"]] if "protocol" in keys else []
        words += ["id", str(view["vlan_id"])] if "vlan_id" in keys else []
        words += [w for flag in FLAG_NAMES if flag in keys for w in (flag, "on" if view[flag] else "off")
                  if not (creating and flag != "reorder_hdr" and not view[flag])]
        for name in QOS_MAPS:
            if name in keys and (view[name] or not creating):
                attrs[name] = dict(view[name])
                words += [name.replace("_", "-")] + ["%d:%d" % item for item in sorted(view[name].items())]
        return {"attrs": attrs, "words": words}

    def kind_check(self, kernel: Kernel, parent_space: Optional[Namespace], parent: Optional[LinkState],
                   before: View) -> None:
        spec = self.spec
        if parent_space is None or parent is None:
            return  # the parent comes with the same plan: nothing stacked on it yet
        for space, link in children_of(kernel, parent_space, parent, self.KINDS):
            if (space.name, link.name) in self.planned.removed:
                continue
            same = link.data.get("vlan_id") == spec.vlan_id and link.data.get("protocol") == spec.protocol
            if same and not (space.name == spec.netns and link.name == spec.name):
                raise ValidationError("vlan_id", "%s already carries VLAN %d (%s) as %s (%s)"
                                      % (spec.parent, spec.vlan_id, spec.protocol, link.name, space.label))

    def kind_update_ops(self, before: Dict[str, Any], want: Dict[str, Any]) -> List[Op]:
        ops = []
        flags = tuple(flag for flag in FLAG_NAMES if before.get(flag) != want[flag])
        if flags:
            ops.append(self.kind_set_op(before, want, flags))
        for name in QOS_MAPS:
            if before.get(name) != want[name]:
                ops.append(self._qos_op(name, before[name], want[name]))
        return ops

    def _qos_op(self, name: str, old: Dict[int, int], new: Dict[int, int]) -> Op:
        """Exact map: priorities no longer listed are mapped to 0, which the kernel drops."""
        cleared = {key: 0 for key in old if key not in new}
        forward = self.kind_linkinfo({name: {**cleared, **new}}, (name,))
        back = self.kind_linkinfo({name: {**{key: 0 for key in new if key not in old}, **old}}, (name,))
        netns, link = self.spec.netns, self.spec.name
        return Op("link_set", netns, link, {"kind": "vlan", "linkinfo": forward["attrs"], "words": forward["words"]},
                  undo=[Op("link_set", netns, link, {"kind": "vlan", "linkinfo": back["attrs"], "words": back["words"]})])
