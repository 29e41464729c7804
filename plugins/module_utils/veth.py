# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""veth pairs: two ends of one cable, each in the namespace it is given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import View
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, Namespace, ns_label
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState
from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import LinkResource, LinkSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.plancontext import ready_namespace
from ansible_collections.linuxnet.macvlan.plugins.module_utils.stacking import resolve_parent
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op


@dataclass
class VethSpec(LinkSpec):
    peer: Optional[str] = None
    peer_netns: Optional[str] = None
    peer_admin_state: str = validate.ADMIN_STATE.default

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "VethSpec":
        spec = cls.parse_common(params, path, needs_parent=False)
        if spec.state == "absent":
            return spec
        spec.peer = validate.interface_name(path + "peer", params.get("peer"))
        # Like parent_netns: omitted means the host's namespace.
        spec.peer_netns = validate.netns_name(path + "peer_netns", params.get("peer_netns"))
        spec.peer_admin_state = validate.ADMIN_STATE.parse(path + "peer_admin_state", params.get("peer_admin_state"))
        if spec.peer == spec.name and spec.peer_netns == spec.netns:
            raise ValidationError(path + "peer", "a veth cannot be its own peer")
        return spec


class VethLink(LinkResource):
    """One veth pair, managed from the end called `name`."""

    KINDS = ("veth",)
    HAS_PARENT = False

    def __init__(self, spec: Any) -> None:
        super().__init__(spec)
        self._peer_view: Dict[str, Any] = {}

    def read(self, kernel: Kernel) -> View:
        view = super().read(kernel)
        if view is None or view["kind"] != "veth":
            return view
        link = kernel.ns(self.spec.netns).links()[self.spec.name]
        peer, peer_netns = resolve_parent(kernel, kernel.ns(self.spec.netns), link)
        peer_link = kernel.ns(peer_netns).links().get(peer) if peer and kernel.namespace_exists(peer_netns) else None
        view["peer"], view["peer_netns"] = peer, peer_netns
        view["peer_admin_state"] = "up" if peer_link is not None and peer_link.up else "down"
        return view

    def kind_check(self, kernel: Kernel, parent_space: Namespace, parent: Optional[LinkState], before: View) -> None:
        spec = self.spec
        peer_space = ready_namespace(kernel, self.planned, "peer_netns", spec.peer_netns)
        if peer_space is None:
            return  # the plan creates the peer's namespace first
        taken = peer_space.links().get(spec.peer)
        ours = before is not None and (before.get("peer"), before.get("peer_netns")) == (spec.peer, spec.peer_netns)
        if taken is not None and not ours:
            raise ValidationError("peer", "'%s' already exists in %s" % (spec.peer, ns_label(spec.peer_netns)))

    def kind_predict(self, base: Dict[str, Any]) -> Dict[str, Any]:
        return {"peer": self.spec.peer, "peer_netns": self.spec.peer_netns,
                "peer_admin_state": self.spec.peer_admin_state}

    def kind_recreate_reasons(self, before: Dict[str, Any]) -> List[str]:
        if (before.get("peer"), before.get("peer_netns")) != (self.spec.peer, self.spec.peer_netns):
            return ["peer %s -> %s" % (before.get("peer"), self.spec.peer)]
        return []

    def kind_linkinfo(self, view: Dict[str, Any], keys: Optional[Tuple[str, ...]] = None) -> Dict[str, Any]:
        words = ["peer", "name", view["peer"]]
        if view["peer_netns"] != view["netns"]:
            words += ["netns", view["peer_netns"] or "1"]
        return {"attrs": {"peer": view["peer"]}, "words": words}

    def kind_create_ops(self, view: Dict[str, Any]) -> List[Op]:
        if view["peer_admin_state"] != "up":
            return []
        return [Op("link_set", view["peer_netns"], view["peer"], {"admin_state": "up"})]

    def _create_ops(self, view: Dict[str, Any], mark: Tuple[Optional[str], int]) -> List[Op]:
        ops = super()._create_ops(view, mark)
        ops[0].args["peer_netns"] = view["peer_netns"]
        return ops

    def kind_update_ops(self, before: Dict[str, Any], want: Dict[str, Any]) -> List[Op]:
        if before["peer_admin_state"] == want["peer_admin_state"]:
            return []
        peer, peer_netns = self.spec.peer, self.spec.peer_netns
        return [Op("link_set", peer_netns, peer, {"admin_state": want["peer_admin_state"]},
                   undo=[Op("link_set", peer_netns, peer, {"admin_state": before["peer_admin_state"]})])]
