# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A whole host's layout in one document, converged in one plan on the same engine.

The document uses the modules' own parameters: `namespaces` (netns), `links` (each
with `kind` and that kind's module parameters) and `bridge_ports` (bridge_port).
Objects the collection creates carry an owner mark on themselves (the link's alias;
for a namespace, the alias of its `lo`), so `overridden` removes only what it made."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import BridgePort, BridgePortSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.devices import BridgeLink, BridgeSpec, VethLink, VethSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import View
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel
from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import Planned, all_namespaces, children_of, ns_label
from ansible_collections.linuxnet.macvlan.plugins.module_utils.macvlan import MacvlanLink, MacvlanSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.namespace import Netns, NetnsSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.vlan import VlanLink, VlanSpec

OWNER = "linuxnet.macvlan"
OWNER_GROUP = 19534  # 0x4c4e, "LN": link group of owned links, so removal is one request
LINK_TYPES: Dict[str, Tuple[Any, Any]] = {
    "macvlan": (MacvlanSpec, MacvlanLink),
    "macvtap": (MacvlanSpec, MacvlanLink),
    "vlan": (VlanSpec, VlanLink),
    "bridge": (BridgeSpec, BridgeLink),
    "veth": (VethSpec, VethLink),
}
# Children before the links they sit on.
DELETE_ORDER = ("macvlan", "macvtap", "vlan", "veth", "bridge")


class DocumentError(ValidationError):
    """Every problem in the document at once, each naming its path."""

    def __init__(self, errors: List[ValidationError]) -> None:
        self.errors = errors
        super().__init__(errors[0].field, errors[0].reason)
        self.args = ("; ".join(str(e) for e in errors),)

    def __str__(self) -> str:
        return "%d problem(s) in the layout: %s" % (len(self.errors), "; ".join(str(e) for e in self.errors))


@dataclass
class Step:
    path: str
    resource: Any


def parse_document(params: Dict[str, Any]) -> Tuple[List[Step], List[Step], List[Step], List[Step]]:
    """(namespaces, links in dependency order, bridge ports, namespace routes/neighbors)."""
    errors: List[ValidationError] = []
    spaces, links, ports, contents = [], [], [], []
    for index, entry in enumerate(params.get("namespaces") or []):
        path = "namespaces[%d]." % index
        spec = _collect(errors, lambda: NetnsSpec.from_params(entry, path))
        if spec is not None:
            # created (with lo and sysctls) first; routes and neighbors once the links exist
            spaces.append(Step(path, Netns(replace(spec, routes=None, neighbors=None))))
            if spec.routes is not None or spec.neighbors is not None:
                contents.append(Step(path, Netns(replace(spec, sysctls=None, loopback_up=None, content_only=True))))
    for index, entry in enumerate(params.get("links") or []):
        path = "links[%d]." % index
        kind = entry.get("kind")
        if kind not in LINK_TYPES:
            errors.append(ValidationError(path + "kind", "'%s' is not one of %s" % (kind, ", ".join(LINK_TYPES))))
            continue
        spec_class, resource_class = LINK_TYPES[kind]
        fields = {k: v for k, v in entry.items() if k != "kind"}
        if spec_class is MacvlanSpec:
            fields["kind"] = kind
        spec = _collect(errors, lambda: spec_class.from_params(fields, path))
        if spec is not None:
            links.append(Step(path, resource_class(spec)))
    for index, entry in enumerate(params.get("bridge_ports") or []):
        path = "bridge_ports[%d]." % index
        spec = _collect(errors, lambda: BridgePortSpec.from_params(entry, path))
        if spec is not None:
            ports.append(Step(path, BridgePort(spec)))
    errors += cross_check(spaces, links)
    ordered, cycle_errors = dependency_order(links)
    errors += cycle_errors
    if errors:
        raise DocumentError(errors)
    return spaces, ordered, ports, contents


def _collect(errors: List[ValidationError], parse: Any) -> Any:
    try:
        return parse()
    except ValidationError as exc:
        errors.append(exc)
        return None


def link_keys(step: Step) -> List[Tuple[Optional[str], str]]:
    """The (namespace, name) pairs a link entry brings into existence (a veth brings two)."""
    spec = step.resource.spec
    keys = [(spec.netns, spec.name)]
    if isinstance(spec, VethSpec) and spec.state == "present":
        keys.append((spec.peer_netns, spec.peer))
    return keys


def cross_check(spaces: List[Step], links: List[Step]) -> List[ValidationError]:
    """Duplicates and clashing addresses across entries."""
    errors = []
    seen_spaces: Dict[str, str] = {}
    for step in spaces:
        name = step.resource.spec.name
        if name in seen_spaces:
            errors.append(ValidationError(step.path + "name", "namespace '%s' is also %sname" % (name, seen_spaces[name])))
        seen_spaces.setdefault(name, step.path)
    seen_links: Dict[Tuple[Optional[str], str], str] = {}
    seen_addresses: Dict[Tuple[Optional[str], str], str] = {}
    for step in links:
        for key in link_keys(step):
            if key in seen_links:
                errors.append(ValidationError(step.path + "name", "'%s' in %s is also defined by %s"
                                              % (key[1], ns_label(key[0]), seen_links[key].rstrip("."))))
            seen_links.setdefault(key, step.path)
        spec = step.resource.spec
        for index, address in enumerate(spec.addresses or []):
            key = (spec.netns, str(ipaddress.ip_interface(address).ip))
            where = "%saddresses[%d]" % (step.path, index)
            if key in seen_addresses:
                errors.append(ValidationError(where, "%s is also assigned by %s in %s"
                                              % (key[1], seen_addresses[key], ns_label(spec.netns))))
            seen_addresses.setdefault(key, where)
    return errors


def dependency_order(links: List[Step]) -> Tuple[List[Step], List[ValidationError]]:
    """Parents before children (Kahn's algorithm); a cycle is an error naming its members."""
    producer = {key: step for step in links for key in link_keys(step)}
    needs: Dict[int, Optional[Step]] = {}
    for step in links:
        spec = step.resource.spec
        parent = getattr(spec, "parent", None) if step.resource.HAS_PARENT else None
        needs[id(step)] = producer.get((spec.parent_netns, parent)) if parent else None
    ordered: List[Step] = []
    placed: set = set()
    pending = list(links)
    while pending:
        ready = [s for s in pending if needs[id(s)] is None or id(needs[id(s)]) in placed or needs[id(s)] is s]
        if not ready:
            cycle = ", ".join(s.path.rstrip(".") for s in pending)
            return ordered, [ValidationError(pending[0].path + "parent", "dependency cycle between " + cycle)]
        for step in ready:
            ordered.append(step)
            placed.add(id(step))
        pending = [s for s in pending if id(s) not in placed]
    return ordered, []


class Topology:
    """The composite Resource: every entry's read/check/plan/predict, in order."""

    label = "topology"

    def __init__(self, params: Dict[str, Any], purge: bool) -> None:
        spaces, links, ports, contents = parse_document(params)
        self.steps = spaces + links + ports + contents
        self.purge = purge
        planned = Planned(
            namespaces={s.resource.spec.name for s in spaces if s.resource.spec.state == "present"},
            links={key for s in links if s.resource.spec.state == "present" for key in link_keys(s)},
        )
        for step in self.steps:
            step.resource.planned = planned
            step.resource.owner = OWNER
            step.resource.owner_group = OWNER_GROUP
            step.resource.report_links = False
        self.wanted_links = {key for s in links for key in link_keys(s)}
        self.wanted_spaces = {s.resource.spec.name for s in spaces}
        self._purge_ops: List[Op] = []

    def read(self, kernel: Kernel) -> View:
        view: Dict[str, Any] = {}
        for step in self.steps:
            key = step.path.rstrip(".") + (" (routes, neighbors)" if getattr(step.resource.spec, "content_only", False)
                                           else "")
            view[key] = step.resource.read(kernel)
        if self.purge:
            labels, self._purge_ops = self._owned_leftovers(kernel)
            view["purged"] = labels
        return view

    def check(self, kernel: Kernel, before: View) -> None:
        errors = []
        for step, key in zip(self.steps, self._keys(before)):
            try:
                step.resource.check(kernel, before[key])
            except ValidationError as exc:
                errors.append(ValidationError(step.path + exc.field, exc.reason))
            except EngineError as exc:
                errors.append(ValidationError(step.path.rstrip("."), str(exc)))
        if errors:
            raise DocumentError(errors)

    def plan(self, before: View) -> List[Op]:
        ops: List[Op] = []
        for step, key in zip(self.steps, self._keys(before)):
            ops += step.resource.plan(before[key])
        return ops + (self._purge_ops if self.purge else [])

    def predict(self, before: View) -> View:
        view = {key: step.resource.predict(before[key]) for step, key in zip(self.steps, self._keys(before))}
        if self.purge:
            view["purged"] = []
        return view

    def explain(self, before: View) -> Optional[str]:
        notes = []
        for step, key in zip(self.steps, self._keys(before)):
            note = step.resource.explain(before[key])
            if note:
                notes.append("%s %s" % (step.path.rstrip("."), note))
        return "; ".join(notes) or None

    def _keys(self, before: View) -> List[str]:
        return [key for key in (before or {}) if key != "purged"]

    def _owned_leftovers(self, kernel: Kernel) -> Tuple[List[str], List[Op]]:
        """Links and namespaces carrying our mark that the document no longer lists."""
        labels, link_ops, space_ops = [], [], []
        for space in all_namespaces(kernel):
            links = space.links()
            gone_space = space.name is not None and space.name not in self.wanted_spaces \
                and links.get("lo") is not None and links["lo"].alias == OWNER
            if gone_space:
                labels.append("netns %s" % space.name)
                space_ops.append(Op("ns_del", None, space.name))
                continue  # its links go with it
            doomed = [link for link in links.values() if link.alias == OWNER and link.kind in DELETE_ORDER
                      and (space.name, link.name) not in self.wanted_links]
            for link in doomed:
                self._refuse_if_carrying_others(kernel, space, link)
                labels.append("%s %s in %s" % (link.kind, link.name, space.label))
            grouped = {link.name for link in links.values() if link.group == OWNER_GROUP}
            if doomed and grouped == {link.name for link in doomed}:
                link_ops.append((0, Op("group_del", space.name, space.label, {"group": OWNER_GROUP})))
            else:
                link_ops += [(DELETE_ORDER.index(link.kind), Op("link_del", space.name, link.name)) for link in doomed]
        link_ops.sort(key=lambda item: item[0])
        return sorted(labels), [op for order, op in link_ops] + space_ops

    @staticmethod
    def _refuse_if_carrying_others(kernel: Kernel, space: Any, link: Any) -> None:
        """Deleting a parent takes its children along: never those the collection did not create."""
        stacked = children_of(kernel, space, link, ("macvlan", "macvtap", "vlan"))
        foreign = [child for where, child in stacked if child.alias != OWNER]
        if foreign:
            raise EngineError("state=overridden would delete %s %s in %s, which carries %s that the collection did "
                              "not create; remove or list them first"
                              % (link.kind, link.name, space.label, ", ".join(c.name for c in foreign)))


def render(params: Dict[str, Any]) -> List[str]:
    """The `ip` commands that build the layout on an empty host (no kernel access)."""
    topology = Topology(params, purge=False)
    commands = []
    for step in topology.steps:
        spec = step.resource.spec
        # On an empty host a listed port exists (the same layout creates it), unenslaved.
        before = {"name": spec.name, "netns": spec.netns, "bridge": None} if isinstance(spec, BridgePortSpec) else None
        commands += [op.render() for op in step.resource.plan(before)]
    return commands


def gather(kernel: Kernel, only: Optional[List[str]] = None) -> Dict[str, Any]:
    """The host's current layout in the document's own format (feed it back as is)."""
    doc: Dict[str, List[Dict[str, Any]]] = {"namespaces": [], "links": [], "bridge_ports": []}
    for space in all_namespaces(kernel):
        if only is not None and (space.name or "") not in only:
            continue
        if space.name is not None:
            doc["namespaces"].append(_gather_namespace(kernel, space.name))
        for link in sorted(space.links().values(), key=lambda l: l.name):
            entry = _gather_link(kernel, space.name, link)
            if entry is not None:
                doc["links"].append(entry)
            if link.master_index:
                port = BridgePort(BridgePortSpec(name=link.name, netns=space.name, settings={})).read(kernel)
                doc["bridge_ports"].append(_compact(port))
    return doc


def _gather_namespace(kernel: Kernel, name: str) -> Dict[str, Any]:
    view = Netns(NetnsSpec(name=name, routes=[], neighbors=[])).read(kernel) or {}
    routes = []
    for route in view.get("routes", []):
        dest = "::/0" if route["dest"] == "default" and route["family"] == 6 else route["dest"]
        routes.append(_compact({"dest": dest, "via": route["via"], "dev": route["dev"], "metric": route["metric"]}))
    return {"name": name, "loopback_up": view.get("loopback_up", False), "routes": routes,
            "neighbors": view.get("neighbors", [])}


def _gather_link(kernel: Kernel, netns: Optional[str], link: Any) -> Optional[Dict[str, Any]]:
    if link.kind not in LINK_TYPES:
        return None  # lo, physical NICs and kinds the collection does not manage
    spec_class, resource_class = LINK_TYPES[link.kind]
    spec = spec_class(name=link.name, netns=netns)
    if spec_class is MacvlanSpec:
        spec.kind = link.kind
    view = resource_class(spec).read(kernel)
    if view is None:
        return None
    if link.kind == "veth" and (view.get("peer_netns") or "", view.get("peer") or "") < (netns or "", link.name):
        return None  # a pair is listed once, from the end that sorts first
    entry = {key: value for key, value in view.items() if key != "tap_device"}
    if link.kind in ("macvlan", "macvtap"):
        if entry.get("mode") != "source":
            entry.pop("source_macs", None)
        if not entry.get("nopromisc"):
            entry.pop("nopromisc", None)
    return _compact(entry)


def _compact(entry: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return {key: value for key, value in (entry or {}).items() if value is not None}
