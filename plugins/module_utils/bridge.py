# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Linux bridge devices: a switch on the host (e.g. the hairpin switch VEPA needs), with or without STP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import first_given
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import LinkState
from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import LinkResource, LinkSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op


@dataclass
class BridgeSpec(LinkSpec):
    stp: Optional[bool] = None

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "BridgeSpec":
        spec = cls.parse_common(params, path, needs_parent=False)
        spec.stp = validate.boolean(path + "stp", params.get("stp"))
        return spec


class BridgeLink(LinkResource):
    """One Linux bridge device; STP changes in place."""

    KINDS = ("bridge",)
    HAS_PARENT = False

    def kind_view(self, link: LinkState) -> Dict[str, Any]:
        return {"stp": bool(link.data.get("stp"))}

    def kind_predict(self, base: Dict[str, Any]) -> Dict[str, Any]:
        return {"stp": first_given(self.spec.stp, base.get("stp"), False)}

    def kind_linkinfo(self, view: Dict[str, Any], keys: Optional[Tuple[str, ...]] = None) -> Dict[str, Any]:
        if keys is None and not view["stp"]:
            return {"attrs": {}, "words": []}
        return {"attrs": {"stp": view["stp"]}, "words": ["stp_state", str(int(view["stp"]))]}

    def kind_update_ops(self, before: Dict[str, Any], want: Dict[str, Any]) -> List[Op]:
        if before["stp"] == want["stp"]:
            return []
        return [self.kind_set_op(before, want, ("stp",))]
