# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dummy devices: a stand-in NIC with no lower device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict

from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import LinkResource, LinkSpec


@dataclass
class DummySpec(LinkSpec):
    """A dummy device: an always-up stand-in NIC, e.g. the parent of macvlans on a host without one."""

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "DummySpec":
        return cls.parse_common(params, path, needs_parent=False)


class DummyLink(LinkResource):
    """One dummy device; it has no settings of its own beyond every link's."""

    KINDS = ("dummy",)
    HAS_PARENT = False
