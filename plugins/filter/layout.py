# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the macvlan_topology role uses on the controller (see plugin_utils/fleet.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible.errors import AnsibleFilterError

from ansible_collections.linuxnet.macvlan.plugins.module_utils import persist
from ansible_collections.linuxnet.macvlan.plugins.plugin_utils import fleet


def layout_merge(group: Optional[Dict[str, Any]], host: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    try:
        return fleet.merge(group, host)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def with_host_access(layout: Dict[str, Any], access: Optional[List[Dict[str, Any]]]) -> Dict[str, Any]:
    try:
        return fleet.with_host_access(layout, access)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def with_applied_macs(layout: Dict[str, Any], applied: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return persist.with_applied_macs(layout, applied)


def fleet_problems(hostvars: Any, hosts: List[str]) -> List[str]:
    """Conflicts between the hosts' layouts (same address or MAC on two hosts, one VLAN id
    meaning different subnets on a shared segment, a passthru parent with other children)."""
    layouts = {}
    segments = {}
    for host in hosts:
        variables = hostvars[host]
        layouts[host] = (variables.get(fleet.GROUP_VARIABLE) or {}, variables.get(fleet.HOST_VARIABLE) or {},
                         variables.get(fleet.HOST_ACCESS_VARIABLE) or [])
        segments[host] = variables.get("macvlan_topology_segments") or {}
    try:
        return fleet.fleet_problems(layouts, segments)
    except ValueError as exc:
        return [str(exc)]


class FilterModule:
    def filters(self) -> Dict[str, Any]:
        return {"layout_merge": layout_merge, "fleet_problems": fleet_problems, "with_host_access": with_host_access,
                "with_applied_macs": with_applied_macs}
