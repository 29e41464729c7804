# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvlan / macvtap links: modes, passthru's one-child rule, the source MAC list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import KERNEL_ASSIGNED, View, first_given
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ipvlan import refuse_mixed_children
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, Namespace
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState
from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import LinkResource, LinkSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.stacking import children_of

KIND = validate.Choice(("macvlan", "macvtap"), "macvlan")
MODE = validate.Choice(("private", "vepa", "bridge", "passthru", "source"), "vepa")  # the kernel's default
KINDS, MODES = KIND.values, MODE.values


@dataclass
class MacvlanSpec(LinkSpec):
    kind: str = KIND.default
    mode: str = MODE.default
    nopromisc: Optional[bool] = None
    source_macs: Optional[List[str]] = None

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "MacvlanSpec":
        """Validate everything that needs no kernel; field names carry `path`."""
        spec = cls.parse_common(params, path)
        spec.kind = KIND.parse(path + "kind", params.get("kind"))
        if spec.state == "absent":
            return spec
        spec.mode = MODE.parse(path + "mode", params.get("mode"))
        spec.nopromisc = validate.boolean(path + "nopromisc", params.get("nopromisc"))
        if spec.nopromisc and spec.mode != "passthru":
            raise ValidationError(path + "nopromisc", "only applies to mode passthru (mode is %s)" % spec.mode)
        if params.get("source_macs") is not None:
            if spec.mode != "source":
                raise ValidationError(path + "source_macs", "only applies to mode source (mode is %s)" % spec.mode)
            spec.source_macs = validate.mac_list(path + "source_macs", params["source_macs"])
        return spec


def passthru_children(kernel: Kernel, parent_space: Namespace,
                      parent: LinkState) -> Tuple[Tuple[Namespace, LinkState], ...]:
    """The parent's passthru children (computed once per read: a whole host checks every sibling)."""
    key = ("passthru", parent_space.fd, parent.index)
    if key not in kernel.memo:
        kernel.memo[key] = tuple((space, link) for space, link in children_of(kernel, parent_space, parent, KINDS)
                                 if link.data.get("mode") == "passthru")
    return kernel.memo[key]


class MacvlanLink(LinkResource):
    """One macvlan or macvtap link."""

    KINDS = KINDS

    @property
    def kind(self) -> str:
        return self.spec.kind

    def kind_view(self, link: LinkState) -> Dict[str, Any]:
        view = {
            "mode": link.data.get("mode"),
            "nopromisc": link.data.get("nopromisc", False),
            "source_macs": list(link.data.get("source_macs", [])),
        }
        if link.kind == "macvtap":
            view["tap_device"] = "/dev/tap%d" % link.index
        return view

    def kind_predict(self, base: Dict[str, Any]) -> Dict[str, Any]:
        spec = self.spec
        # The kernel flushes the source list when a link leaves source mode.
        kept_sources = base.get("source_macs") if spec.mode == "source" and base.get("mode") == "source" else []
        view = {
            "mode": spec.mode,
            "nopromisc": first_given(spec.nopromisc, base.get("nopromisc"), False),
            "source_macs": first_given(spec.source_macs, kept_sources, []),
        }
        if spec.kind == "macvtap":  # /dev/tapN, N the index the kernel gives the new link
            view["tap_device"] = base.get("tap_device") or KERNEL_ASSIGNED
        return view

    def kind_recreate_reasons(self, before: Dict[str, Any]) -> List[str]:
        if (before.get("mode") == "passthru") != (self.spec.mode == "passthru"):
            return ["mode %s -> %s (passthru cannot be set or cleared in place)" % (before.get("mode"), self.spec.mode)]
        return []

    def kind_linkinfo(self, view: Dict[str, Any], keys: Optional[Tuple[str, ...]] = None) -> Dict[str, Any]:
        # The mode always goes along (same value is a no-op); the flags only when they matter.
        attrs: Dict[str, Any] = {"mode": view["mode"]}
        words = ["mode", view["mode"]]
        if view["nopromisc"] or keys == ("nopromisc",):
            attrs["nopromisc"] = view["nopromisc"]
        if view["nopromisc"]:
            words.append("nopromisc")
        return {"attrs": attrs, "words": words}

    def kind_check(self, kernel: Kernel, parent_space: Optional[Namespace], parent: Optional[LinkState],
                   before: View) -> None:
        spec = self.spec
        if spec.mode == "passthru" and spec.macaddress is not None and (parent is None or spec.macaddress != parent.mac):
            # The kernel gives a passthru child its parent's MAC; setting another rewrites the parent's.
            raise ValidationError("macaddress", "a passthru %s always has its parent's MAC (%s); set the MAC on the "
                                  "parent %s instead" % (self.kind, parent.mac if parent else "not known before the "
                                                         "parent is created", spec.parent))
        if parent_space is None or parent is None:
            return  # the parent comes with the same plan: nothing stacked on it yet
        refuse_mixed_children(kernel, parent_space, parent, spec, self.kind, self.planned.removed)
        siblings = children_of(kernel, parent_space, parent, KINDS)

        def other(space: Namespace, link: LinkState) -> bool:
            """Another child that is still there when this one is made (not one this run removes)."""
            return not (space.name == spec.netns and link.name == spec.name) \
                and (space.name, link.name) not in self.planned.removed

        if spec.mode == "passthru" and any(other(space, link) for space, link in siblings):
            names = ", ".join("%s (%s)" % (link.name, space.label) for space, link in siblings if other(space, link))
            raise ValidationError("mode", "passthru allows a single child per parent, and %s already has: %s"
                                  % (spec.parent, names))
        if spec.mode != "passthru" and spec.macaddress is not None:
            # the kernel keeps one MAC per child on a parent, none equal to the parent's own
            taken = [link.name for space, link in siblings if other(space, link) and link.mac == spec.macaddress]
            if spec.macaddress == parent.mac or taken:
                user = taken[0] if taken else "the parent itself"
                raise ValidationError("macaddress", "%s is already used on %s (by %s); each macvlan/macvtap on a "
                                      "parent needs a MAC of its own" % (spec.macaddress, spec.parent, user))
        passthru = [(space, link) for space, link in passthru_children(kernel, parent_space, parent)
                    if other(space, link)]
        if passthru:
            space, link = passthru[0]
            raise ValidationError("parent", "%s already has the passthru child %s (%s); passthru allows no "
                                  "other child" % (spec.parent, link.name, space.label))

    def kind_create_ops(self, view: Dict[str, Any]) -> List[Op]:
        if not view["source_macs"]:
            return []
        return [self._macs_op("add", view["source_macs"], kind=view["kind"])]

    def kind_update_ops(self, before: Dict[str, Any], want: Dict[str, Any]) -> List[Op]:
        ops: List[Op] = []
        if before["mode"] != want["mode"]:
            op = self.kind_set_op(before, want, ("mode",))
            if before["mode"] == "source" and before["source_macs"]:
                op.undo.append(self._macs_op("add", before["source_macs"]))
            ops.append(op)
        if self.spec.nopromisc is not None and before["nopromisc"] != self.spec.nopromisc:
            ops.append(self.kind_set_op(before, want, ("nopromisc",)))
        return ops + self._source_mac_ops(before, want)

    def _source_mac_ops(self, before: Dict[str, Any], want: Dict[str, Any]) -> List[Op]:
        if self.spec.source_macs is None or self.spec.mode != "source":
            return []
        current = before["source_macs"] if before["mode"] == "source" else []
        wanted = want["source_macs"]
        if current and not wanted:
            return [self._macs_op("flush", [], undo=[self._macs_op("add", current)])]
        removed = [mac for mac in current if mac not in wanted]
        added = [mac for mac in wanted if mac not in current]
        ops = []
        if removed:
            ops.append(self._macs_op("del", removed, undo=[self._macs_op("add", removed)]))
        if added:
            ops.append(self._macs_op("add", added, undo=[self._macs_op("del", added)]))
        return ops

    def _macs_op(self, action: str, macs: List[str], undo: Optional[List[Op]] = None,
                 kind: Optional[str] = None) -> Op:
        return Op("source_macs", self.spec.netns, self.spec.name,
                  {"kind": kind or self.kind, "action": action, "macs": macs}, undo=undo or [])
