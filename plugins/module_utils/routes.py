# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static routes as the modules describe them: a namespace's list (netns) and the routes
through one link (a link's `routes`, e.g. the host-access shim's routes to its children)."""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import KERNEL_ASSIGNED, matches
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import ExactList, Op

IPV6_DEFAULT_METRIC = 1024  # the kernel turns an IPv6 metric of 0 into 1024


def parse_route(field: str, route: Dict[str, Any]) -> Dict[str, Any]:
    dest, family = validate.route_destination(field + ".dest", route.get("dest", "default"))
    via = validate.ip_address(field + ".via", route["via"]) if route.get("via") else None
    dev = validate.interface_name(field + ".dev", route["dev"]) if route.get("dev") else None
    if via is None and dev is None:
        raise ValidationError(field, "a route needs 'via' (a gateway), 'dev' (an interface), or both")
    via_family = ipaddress.ip_address(via).version if via else None
    if family and via_family and family != via_family:
        raise ValidationError(field + ".via", "gateway %s is IPv%s but dest %s is IPv%s" % (via, via_family, dest, family))
    family = family or via_family or 4
    default_metric = IPV6_DEFAULT_METRIC if family == 6 else 0
    metric = route.get("metric")
    metric = default_metric if metric is None else validate.int_range(field + ".metric", metric, 0, 2 ** 32 - 1)
    if family == 6 and metric == 0:
        metric = IPV6_DEFAULT_METRIC
    return {"family": family, "dest": dest, "via": via, "dev": dev if dev else KERNEL_ASSIGNED, "metric": metric}


def check_route_path(kernel: Any, planned: Any, netns: Optional[str], route: Dict[str, Any], field: str) -> None:
    """What the kernel would refuse, found before anything changes: a route through a link that
    will be down, or through a gateway on none of the namespace's subnets."""
    dev = route["dev"]
    if dev not in (None, KERNEL_ASSIGNED) and not planned.link_up(kernel, (netns, dev)):
        raise ValidationError(field + ".dev", "'%s' will be down; the kernel refuses a route through a link that "
                              "is down" % dev)
    if route["via"] and not planned.on_link(kernel, netns, route["via"]):
        raise ValidationError(field + ".via", "gateway %s is on no subnet of %s (no address or route without a "
                              "gateway covers it); the kernel would refuse the route"
                              % (route["via"], "netns %s" % netns if netns else "the host namespace"))


def route_key(route: Dict[str, Any]) -> tuple:
    return (route["family"], route["dest"], route["metric"])


def satisfied_by(route: Dict[str, Any], current: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The existing route that already fulfils `route` (it knows the kernel's choice of dev)."""
    for old in current:
        if route_key(old) == route_key(route) and matches(route, old):
            return old
    return route


def route_args(route: Dict[str, Any]) -> Dict[str, Any]:
    args = dict(route)
    if args.get("dev") == KERNEL_ASSIGNED:
        args["dev"] = None
    args["dest_text"] = "default" if route["dest"] == "default" else route["dest"]
    return args


def parse_link_routes(field: str, entries: List[Any], dev: str) -> List[Dict[str, Any]]:
    """A link's `routes`: destinations (text) or {dest, via, metric}, all through `dev`."""
    routes = []
    for index, entry in enumerate(entries):
        item = "%s[%d]" % (field, index)
        entry = {"dest": entry} if isinstance(entry, str) else entry
        if not isinstance(entry, dict):
            raise ValidationError(item, "expected a destination (192.0.2.10/32) or a dict with dest, via, metric")
        if entry.get("dev") not in (None, dev):
            raise ValidationError(item + ".dev", "a link's routes go through the link itself (%s)" % dev)
        routes.append(parse_route(item, dict(entry, dev=dev)))
    routes.sort(key=route_key)
    seen = set()
    for route in routes:
        if route_key(route) in seen:
            raise ValidationError(field, "%s is listed twice" % route["dest"])
        seen.add(route_key(route))
    return routes


# A link's or a namespace's static routes, kept exact.
ROUTES = ExactList(delete="route_del", replace="route_replace", key=route_key, target=lambda route: route["dest"],
                   args=route_args, same=matches)


def route_ops(netns: Optional[str], current: List[Dict[str, Any]], wanted: List[Dict[str, Any]],
              rewrite: bool = False) -> List[Op]:
    """Deletions of routes in `current` not wanted, then replacements that make `wanted` exist
    (with `rewrite`, also those already there: the plan's address changes may drop them)."""
    return ROUTES.ops(netns, current, wanted, rewrite)
