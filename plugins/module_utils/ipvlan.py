# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ipvlan links, macvlan's sibling: children share their parent's MAC and are told apart by
address (mode l2, l3 or l3s; flag bridge, private or vepa)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import View
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, Namespace, ns_label
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkinfo import IPVLAN_FLAGS, IPVLAN_MODES
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState
from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import LinkResource, LinkSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.stacking import children_of

# The defaults: what `ip link add ... type ipvlan` gives.
MODE = validate.Choice(tuple(IPVLAN_MODES.values()), "l3")  # l2, l3, l3s
FLAG = validate.Choice(tuple(IPVLAN_FLAGS.values()), "bridge")  # bridge, private, vepa
MODES, FLAGS = MODE.values, FLAG.values
MAC_SHARING_KINDS = ("macvlan", "macvtap")  # a parent takes either these children or ipvlan ones


@dataclass
class IpvlanSpec(LinkSpec):
    mode: str = MODE.default
    flag: str = FLAG.default

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "IpvlanSpec":
        spec = cls.parse_common(params, path)
        if spec.state == "absent":
            return spec
        spec.mode = MODE.parse(path + "mode", params.get("mode"))
        spec.flag = FLAG.parse(path + "flag", params.get("flag"))
        return spec


class IpvlanLink(LinkResource):
    """One ipvlan link; mode and flag change in place."""

    KINDS = ("ipvlan",)

    def kind_view(self, link: LinkState) -> Dict[str, Any]:
        # an attribute the dump leaves out is the kernel's 0
        return {"mode": link.data.get("mode", IPVLAN_MODES[0]), "flag": link.data.get("flag", IPVLAN_FLAGS[0])}

    def kind_predict(self, base: Dict[str, Any]) -> Dict[str, Any]:
        return {"mode": self.spec.mode, "flag": self.spec.flag}

    def kind_linkinfo(self, view: Dict[str, Any], keys: Optional[Tuple[str, ...]] = None) -> Dict[str, Any]:
        words = ["mode", view["mode"]] + ([view["flag"]] if view["flag"] != FLAG.default else [])
        return {"attrs": {"mode": view["mode"], "flag": view["flag"]}, "words": words}

    def kind_update_ops(self, before: Dict[str, Any], want: Dict[str, Any]) -> List[Op]:
        if (before["mode"], before["flag"]) == (want["mode"], want["flag"]):
            return []
        return [self.kind_set_op(before, want, ("mode", "flag"))]

    def kind_check(self, kernel: Kernel, parent_space: Optional[Namespace], parent: Optional[LinkState],
                   before: View) -> None:
        mac = self.spec.macaddress
        if mac is not None and (parent is None or mac != parent.mac):
            # what `gathered` reports (the parent's MAC) is accepted back; anything else cannot be
            raise ValidationError("macaddress", "an ipvlan always has its parent's MAC (%s); it cannot be set"
                                  % (parent.mac if parent else "not known before the parent is created"))
        if parent_space is None or parent is None:
            return
        others = [(space, link) for space, link in children_of(kernel, parent_space, parent, MAC_SHARING_KINDS)
                  if (space.name, link.name) not in self.planned.removed]
        if others:
            space, link = others[0]
            raise ValidationError("parent", "%s carries the %s %s (%s); a parent takes ipvlan or macvlan/macvtap "
                                  "children, not both" % (self.spec.parent, link.kind, link.name, space.label))


def refuse_mixed_children(kernel: Kernel, parent_space: Namespace, parent: LinkState, spec: Any, kind: str,
                          removed: Collection[Tuple[Optional[str], str]] = ()) -> None:
    """For a macvlan/macvtap: the kernel refuses one on a parent that carries ipvlan children
    (other than those the same run removes first)."""
    ipvlans = [(space, link) for space, link in children_of(kernel, parent_space, parent, ("ipvlan",))
               if (space.name, link.name) not in removed]
    if ipvlans:
        space, link = ipvlans[0]
        raise ValidationError("parent", "%s carries the ipvlan %s (%s); a parent takes ipvlan or macvlan/macvtap "
                              "children, not both (this is a %s in %s)"
                              % (spec.parent, link.name, space.label, kind, ns_label(spec.netns)))
