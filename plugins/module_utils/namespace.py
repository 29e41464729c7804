# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Named network namespaces and what belongs to them: lo, sysctls, routes, neighbors."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import KERNEL_ASSIGNED, View
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel
from ansible_collections.linuxnet.macvlan.plugins.module_utils.sysctls import sysctl_path
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import ExactList, Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ownership import Owner
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import LOOPBACK_UP
from ansible_collections.linuxnet.macvlan.plugins.module_utils.plancontext import InPlan
from ansible_collections.linuxnet.macvlan.plugins.module_utils.routes import (
    check_route_path,
    parse_route,
    route_key,
    route_ops,
    satisfied_by,
)


@dataclass
class NetnsSpec:
    name: str
    state: str = validate.PRESENCE.default
    loopback_up: Optional[bool] = LOOPBACK_UP  # None: leave lo alone
    sysctls: Optional[Dict[str, str]] = None
    routes: Optional[List[Dict[str, Any]]] = None
    neighbors: Optional[List[Dict[str, Any]]] = None
    content_only: bool = False  # routes/neighbors of a namespace another step creates

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "") -> "NetnsSpec":
        name = validate.netns_name(path + "name", params.get("name"))
        if name is None:
            raise ValidationError(path + "name", "a namespace name is required")
        spec = cls(name=name, state=validate.PRESENCE.parse(path + "state", params.get("state")))
        if params.get("loopback_up") is not None:
            spec.loopback_up = validate.boolean(path + "loopback_up", params["loopback_up"])
        if params.get("sysctls") is not None:
            spec.sysctls = parse_sysctls(path + "sysctls", params["sysctls"])
        if params.get("routes") is not None:
            spec.routes = sorted((parse_route("%sroutes[%d]" % (path, i), r) for i, r in enumerate(params["routes"])),
                                 key=route_key)
            _no_duplicates(path + "routes", spec.routes, route_key)
        if params.get("neighbors") is not None:
            spec.neighbors = sorted((parse_neighbor("%sneighbors[%d]" % (path, i), n)
                                     for i, n in enumerate(params["neighbors"])), key=neighbor_key)
            _no_duplicates(path + "neighbors", spec.neighbors, neighbor_key)
        return spec


def parse_sysctls(field: str, values: Dict[str, Any]) -> Dict[str, str]:
    """Only net.* keys: those are per-namespace, anything else would change the whole host."""
    result = {}
    for key, value in values.items():
        key = str(key).strip()
        parts = key.split("/") if "/" in key else key.split(".")
        if parts[0] != "net" or len(parts) < 3 or any(p in ("", ".", "..") for p in parts):
            raise ValidationError("%s.%s" % (field, key), "only net.* keys (per-namespace sysctls) can be set "
                                  "in a namespace; write dotted interface names with '/' "
                                  "(net/ipv4/conf/eth0.100/rp_filter)")
        if isinstance(value, bool):
            value = int(value)
        result[key] = " ".join(str(value).split())
    return result


def parse_neighbor(field: str, entry: Dict[str, Any]) -> Dict[str, Any]:
    for key in ("address", "lladdr", "dev"):
        if not entry.get(key):
            raise ValidationError("%s.%s" % (field, key), "is required for a static neighbor entry")
    return {
        "address": validate.ip_address(field + ".address", entry["address"]),
        "lladdr": validate.mac_address(field + ".lladdr", entry["lladdr"]),
        "dev": validate.interface_name(field + ".dev", entry["dev"]),
    }


def neighbor_key(entry: Dict[str, Any]) -> tuple:
    return (entry["dev"], entry["address"])


# A namespace's permanent neighbor entries, kept exact.
NEIGHBORS = ExactList(delete="neigh_del", replace="neigh_replace", key=neighbor_key,
                      target=lambda entry: entry["address"], args=dict, same=lambda wanted, current: wanted == current)


def _no_duplicates(field: str, entries: List[Dict[str, Any]], key: Any) -> None:
    seen = set()
    for entry in entries:
        if key(entry) in seen:
            raise ValidationError(field, "%s is listed twice" % (key(entry),))
        seen.add(key(entry))


class Netns(InPlan):
    """The Resource for one named namespace (see engine.Resource)."""

    def __init__(self, spec: NetnsSpec) -> None:
        self.spec = spec
        self.label = "netns %s" % spec.name
        self.owner: Optional[Owner] = None  # its alias goes on lo: marks namespaces the topology module created
        self.report_links = True  # off in a whole-host plan, where other steps add the links

    def read(self, kernel: Kernel) -> View:
        name = self.spec.name
        if not kernel.namespace_exists(name):
            return None
        space = kernel.ns(name)
        links = space.links()
        view: Dict[str, Any] = {"name": name}
        if not self.spec.content_only:  # lo belongs to the step that creates the namespace
            view["loopback_up"] = bool(links.get("lo") and links["lo"].up)
        if self.report_links:
            view["links"] = sorted("%s (%s)" % (l.name, l.kind or "device") for l in links.values() if l.name != "lo")
        if self.spec.sysctls is not None:
            view["sysctls"] = {key: kernel.read_sysctl(name, key) for key in self.spec.sysctls}
        if self.spec.routes is not None:
            view["routes"] = sorted(space.routes(), key=route_key)
        if self.spec.neighbors is not None:
            view["neighbors"] = sorted(space.neighbors(), key=neighbor_key)
        return view

    def check(self, kernel: Kernel, before: View) -> None:
        spec = self.spec
        if spec.state == "absent":
            return
        # The links there once the plan's earlier steps ran: a new namespace has lo.
        links = set(kernel.ns(spec.name).links() if before is not None else ("lo",))
        links.update(name for netns, name in self.planned.links if netns == spec.name)
        for key in spec.sysctls or {}:
            self._check_sysctl(kernel, key, before)
        # lo's state after this step, and the subnets this step's own routes without a gateway make
        planned = replace(self.planned, admin_states=dict(self.planned.admin_states),
                          addresses={spec.name: list(self.planned.addresses.get(spec.name, [])) + [
                              r["dest"] for r in spec.routes or [] if not r["via"] and r["dest"] != "default"]})
        if spec.loopback_up is not None:
            planned.admin_states[(spec.name, "lo")] = "up" if spec.loopback_up else "down"
        for index, route in enumerate(spec.routes or []):
            if route["dev"] != KERNEL_ASSIGNED and route["dev"] not in links:
                raise ValidationError("routes[%d].dev" % index, "'%s' does not exist in netns %s"
                                      % (route["dev"], spec.name))
            check_route_path(kernel, planned, spec.name, route, "routes[%d]" % index)
        for index, entry in enumerate(spec.neighbors or []):
            if entry["dev"] not in links:
                raise ValidationError("neighbors[%d].dev" % index, "'%s' does not exist in netns %s"
                                      % (entry["dev"], spec.name))

    def _check_sysctl(self, kernel: Kernel, key: str, before: View) -> None:
        if before is not None:
            exists = before["sysctls"].get(key) is not None
        else:
            # A new namespace has the same keys as the host's for all/default: look, never write.
            exists = os.path.exists(sysctl_path(key))
        if not exists:
            raise ValidationError("sysctls.%s" % key, "no such sysctl in netns %s (%s)"
                                  % (self.spec.name, sysctl_path(key)))

    def explain(self, before: View) -> Optional[str]:
        if before is not None and self.spec.state == "absent" and before.get("links"):
            return "deleted with: " + ", ".join(before["links"])
        return None

    def predict(self, before: View) -> View:
        spec = self.spec
        if spec.state == "absent":
            return None
        view = dict(before) if before else {"name": spec.name}
        if not spec.content_only:
            view.setdefault("loopback_up", False)
        if self.report_links and not before:
            view["links"] = []
        if spec.loopback_up is not None:
            view["loopback_up"] = spec.loopback_up
        if spec.sysctls is not None:
            view["sysctls"] = dict(spec.sysctls)
        if spec.routes is not None:
            view["routes"] = [satisfied_by(route, (before or {}).get("routes", [])) for route in spec.routes]
        if spec.neighbors is not None:
            view["neighbors"] = list(spec.neighbors)
        return view

    def plan(self, before: View) -> List[Op]:
        spec, name = self.spec, self.spec.name
        if spec.state == "absent":
            return [] if before is None else [Op("ns_del", None, name, irreversible=True)]
        ops: List[Op] = []
        if before is None and not spec.content_only:
            # The owner mark goes on lo before the namespace appears under /run/netns (no crash
            # can leave it unmarked); the second action says the same in `ip` terms.
            ops.append(Op("ns_add", None, name, {"lo_alias": self.owner.alias} if self.owner else {},
                          undo=[Op("ns_del", None, name)]))
            if self.owner:
                ops.append(Op("link_set", name, "lo", {"alias": self.owner.alias}))
        was_up = bool(before and before.get("loopback_up"))
        if spec.loopback_up is not None and spec.loopback_up != was_up:
            state = "up" if spec.loopback_up else "down"
            ops.append(Op("link_set", name, "lo", {"admin_state": state},
                          undo=[Op("link_set", name, "lo", {"admin_state": "up" if was_up else "down"})]))
        ops += self._sysctl_ops(before)
        ops += self._route_ops(before)
        ops += self._neighbor_ops(before)
        return ops

    def _sysctl_ops(self, before: View) -> List[Op]:
        current = (before or {}).get("sysctls", {})
        ops = []
        for key, value in (self.spec.sysctls or {}).items():
            old = current.get(key)
            if old == value:
                continue
            undo = [Op("sysctl", self.spec.name, key, {"value": old})] if old is not None else []
            ops.append(Op("sysctl", self.spec.name, key, {"value": value}, undo=undo))
        return ops

    def _route_ops(self, before: View) -> List[Op]:
        if self.spec.routes is None:
            return []
        # Where the plan deletes addresses first, the kernel may drop routes: write them all again.
        return route_ops(self.spec.name, (before or {}).get("routes", []), self.spec.routes,
                         rewrite=self.spec.name in self.planned.address_churn)

    def _neighbor_ops(self, before: View) -> List[Op]:
        if self.spec.neighbors is None:
            return []
        return NEIGHBORS.ops(self.spec.name, (before or {}).get("neighbors", []), self.spec.neighbors,
                             rewrite=self.spec.name in self.planned.address_churn)  # see PlanContext.address_churn
