# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A whole host's layout in one document, converged in one plan on the same engine.

The document uses the modules' own parameters: `namespaces` (netns), `links` (each
with `kind` and that kind's module parameters) and `bridge_ports` (bridge_port).
Objects the collection creates carry an owner mark on themselves (the link's alias;
for a namespace, the alias of its `lo`), so `overridden` removes only what it made."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import BridgePort, BridgePortSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import View
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel, ns_label
from ansible_collections.linuxnet.macvlan.plugins.module_utils.links import LinkResource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.namespace import Netns, NetnsSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ownership import Owner, scope_name, scope_of
from ansible_collections.linuxnet.macvlan.plugins.module_utils.plancontext import LinkKey, PlanContext
from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import KINDS, REMOVAL_ORDER
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import check_document
from ansible_collections.linuxnet.macvlan.plugins.module_utils.stacking import carried_along, resolve_parent
from ansible_collections.linuxnet.macvlan.plugins.module_utils.veth import VethSpec


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
    rejected = check_document(params, errors)  # unknown keys and wrong types: those entries go no further
    spaces, links, ports, contents = [], [], [], []
    for path, spec in _parsed(params, "namespaces", rejected, errors, NetnsSpec.from_params):
        # created (with lo and sysctls) first; routes and neighbors once the links exist
        spaces.append(Step(path, Netns(replace(spec, routes=None, neighbors=None))))
        if spec.routes is not None or spec.neighbors is not None:
            contents.append(Step(path, Netns(replace(spec, sysctls=None, loopback_up=None, content_only=True))))
    for path, (link_kind, spec) in _parsed(params, "links", rejected, errors, _link_spec):
        links.append(Step(path, link_kind.resource_class(spec)))
    for path, spec in _parsed(params, "bridge_ports", rejected, errors, BridgePortSpec.from_params):
        ports.append(Step(path, BridgePort(spec)))
    errors += cross_check(spaces, links)
    errors += contradictions(spaces, links, ports)
    ordered, cycle_errors = dependency_order(links)
    errors += cycle_errors
    if errors:
        raise DocumentError(errors)
    return spaces, ordered, ports, contents


def _parsed(params: Dict[str, Any], section: str, rejected: Set[str], errors: List[ValidationError],
            parse: Callable[[Dict[str, Any], str], Any]) -> List[Tuple[str, Any]]:
    """(path, parsed entry) for each entry of a section that passed the strict check and parses;
    the problems of the others go to `errors`."""
    parsed = []
    for index, entry in enumerate(params.get(section) or []):
        path = "%s[%d]." % (section, index)
        if path not in rejected:
            result = _collect(errors, lambda: parse(entry, path))
            if result is not None:
                parsed.append((path, result))
    return parsed


def _link_spec(entry: Dict[str, Any], path: str) -> Tuple[Any, Any]:
    """A links entry: its kind (registry.KINDS) and its spec."""
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ValidationError(path + "kind", "'%s' is not one of %s" % (kind, ", ".join(KINDS)))
    return KINDS[kind], KINDS[kind].spec_from_entry(entry, path)


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
            key = (spec.netns, address.split("/")[0])  # addresses are normalised by validation
            where = "%saddresses[%d]" % (step.path, index)
            if key in seen_addresses:
                errors.append(ValidationError(where, "%s is also assigned by %s in %s"
                                              % (key[1], seen_addresses[key], ns_label(spec.netns))))
            seen_addresses.setdefault(key, where)
    return errors


def contradictions(spaces: List[Step], links: List[Step], ports: List[Step]) -> List[ValidationError]:
    """Entries that need what another entry removes: refused, never applied half-way."""
    gone_spaces = {s.resource.spec.name: s.path for s in spaces if s.resource.spec.state == "absent"}
    gone_links = {(s.resource.spec.netns, s.resource.spec.name): s.path for s in links
                  if s.resource.spec.state == "absent"}
    errors = []

    def needs_space(path: str, field: str, name: Optional[str]) -> None:
        if name in gone_spaces:
            errors.append(ValidationError(path + field, "netns %s is removed by %s (state: absent)"
                                          % (name, gone_spaces[name].rstrip("."))))

    def needs_link(path: str, field: str, key: LinkKey) -> None:
        if key in gone_links:
            errors.append(ValidationError(path + field, "%s in %s is removed by %s (state: absent)"
                                          % (key[1], ns_label(key[0]), gone_links[key].rstrip("."))))

    for step in links:
        spec = step.resource.spec
        needs_space(step.path, "netns", spec.netns)
        if spec.state != "present":
            continue
        needs_space(step.path, "parent_netns", getattr(spec, "parent_netns", None))
        needs_space(step.path, "peer_netns", getattr(spec, "peer_netns", None))
        if step.resource.HAS_PARENT:
            needs_link(step.path, "parent", (spec.parent_netns, spec.parent))
    for step in ports:
        spec = step.resource.spec
        needs_space(step.path, "netns", spec.netns)
        needs_link(step.path, "name", (spec.netns, spec.name))
        if spec.state == "present":
            needs_link(step.path, "bridge", (spec.netns, spec.bridge))
    for step in spaces:
        spec = step.resource.spec
        if spec.state == "absent" and (spec.routes is not None or spec.neighbors is not None):
            errors.append(ValidationError(step.path + ("routes" if spec.routes is not None else "neighbors"),
                                          "a namespace with state: absent has none"))
        for index, entry in enumerate((spec.routes or []) + (spec.neighbors or [])):
            field = ("routes[%d]" % index) if index < len(spec.routes or []) else \
                ("neighbors[%d]" % (index - len(spec.routes or [])))
            if isinstance(entry.get("dev"), str):
                needs_link(step.path, field + ".dev", (spec.name, entry["dev"]))
    errors += sibling_conflicts(links)
    return errors


def sibling_conflicts(links: List[Step]) -> List[ValidationError]:
    """Listed children of one parent that the kernel would refuse together: a passthru child
    with another, two macvlan/macvtap children with one MAC, two VLANs with one id and
    protocol, ipvlan next to macvlan/macvtap."""
    children: Dict[LinkKey, List[Step]] = {}
    for step in links:
        spec = step.resource.spec
        if step.resource.HAS_PARENT and spec.state == "present":
            children.setdefault((spec.parent_netns, spec.parent), []).append(step)
    errors = []
    for (netns, parent), steps in children.items():
        where = "%s in %s" % (parent, ns_label(netns))
        kinds = {s.resource.kind for s in steps}
        passthru = [s for s in steps if getattr(s.resource.spec, "mode", None) == "passthru"
                    and s.resource.kind in ("macvlan", "macvtap")]
        if passthru and len(steps) > 1:
            others = ", ".join(s.path.rstrip(".") for s in steps if s is not passthru[0])
            errors.append(ValidationError(passthru[0].path + "mode", "passthru allows a single child per parent, "
                                          "and %s also gets %s" % (where, others)))
        if "ipvlan" in kinds and kinds & {"macvlan", "macvtap"}:
            first_ipvlan = next(s for s in steps if s.resource.kind == "ipvlan")
            errors.append(ValidationError(first_ipvlan.path + "parent", "%s gets ipvlan and macvlan/macvtap children; "
                                          "a parent takes one or the other" % where))
        errors += _twice(steps, "macaddress", lambda s: s.resource.kind in ("macvlan", "macvtap")
                         and s.resource.spec.macaddress is not None and s.resource.spec.mode != "passthru",
                         lambda s: s.resource.spec.macaddress, where)
        errors += _twice(steps, "vlan_id", lambda s: s.resource.kind == "vlan",
                         lambda s: (s.resource.spec.vlan_id, s.resource.spec.protocol), where)
    return errors


def _twice(steps: List[Step], field: str, applies: Any, value: Any, where: str) -> List[ValidationError]:
    seen: Dict[Any, Step] = {}
    errors = []
    for step in steps:
        if not applies(step):
            continue
        key = value(step)
        if key in seen:
            errors.append(ValidationError(step.path + field, "%s on %s is also %s's" % (
                key if isinstance(key, str) else "VLAN %d (%s)" % key, where, seen[key].path.rstrip("."))))
        seen.setdefault(key, step)
    return errors


def dependency_order(links: List[Step]) -> Tuple[List[Step], List[ValidationError]]:
    """Parents before children: entries sorted (stably) by their depth in the stack of links the
    document makes; O(n log n), so a chain of thousands of VLANs costs no more than a flat list.
    A cycle is an error naming its members."""
    producer = {key: step for step in links for key in link_keys(step)}
    parent_of: Dict[int, Optional[Step]] = {}
    for step in links:
        spec = step.resource.spec
        parent = getattr(spec, "parent", None) if step.resource.HAS_PARENT else None
        found = producer.get((spec.parent_netns, parent)) if parent else None
        parent_of[id(step)] = found if found is not step else None
    depth: Dict[int, int] = {}
    for step in links:
        chain: List[Step] = []  # walked upwards until a step of known depth (or the top)
        on_chain: set = set()
        current: Optional[Step] = step
        while current is not None and id(current) not in depth:
            if id(current) in on_chain:
                members = chain[chain.index(current):]
                cycle = ", ".join(s.path.rstrip(".") for s in members)
                return [], [ValidationError(members[0].path + "parent", "dependency cycle between " + cycle)]
            chain.append(current)
            on_chain.add(id(current))
            current = parent_of[id(current)]
        level = depth[id(current)] + 1 if current is not None else 0
        for member in reversed(chain):
            depth[id(member)] = level
            level += 1
    # Removals first, children before what they sit on: what a listed link needs (its name, a
    # passthru parent to itself, a MAC) is free before it is made. Then the rest, parents first.
    removals = sorted((s for s in links if s.resource.spec.state == "absent"), key=lambda s: -depth[id(s)])
    present = sorted((s for s in links if s.resource.spec.state != "absent"), key=lambda s: depth[id(s)])
    return removals + present, []


class Topology:
    """The composite Resource: every entry's read/check/plan/predict, in order."""

    label = "topology"

    def __init__(self, params: Dict[str, Any], purge: bool) -> None:
        """`params`: the document's sections and `owner`, the scope it marks what it creates with."""
        owner = Owner(scope_name("owner", params.get("owner")))
        spaces, links, ports, contents = parse_document(params)
        self.steps = spaces + links + ports + contents
        self.purge = purge
        self.owner = owner
        present = [s for s in links if s.resource.spec.state == "present"]
        planned = PlanContext(
            namespaces={s.resource.spec.name for s in spaces if s.resource.spec.state == "present"},
            links={key for s in present for key in link_keys(s)},
            removed={key for s in links if s.resource.spec.state == "absent" for key in link_keys(s)},
            mtus={key: s.resource.spec.mtu for s in present for key in link_keys(s)[:1] if s.resource.spec.mtu},
            parents={(s.resource.spec.netns, s.resource.spec.name): (s.resource.spec.parent_netns, s.resource.spec.parent)
                     for s in present if s.resource.HAS_PARENT},
            admin_states={(s.resource.spec.netns, s.resource.spec.name): s.resource.spec.admin_state for s in present},
        )
        for step in present:
            spec = step.resource.spec
            planned.addresses.setdefault(spec.netns, []).extend(spec.addresses or [])
            planned.addresses[spec.netns].extend(r["dest"] for r in spec.routes or [] if not r["via"]
                                                 and r["dest"] != "default")
        # A bridge whose MAC the kernel chose follows the lowest MAC of its ports: when the plan
        # changes ports (or a purge may remove one), that MAC is the kernel's to choose again.
        port_namespaces = {s.resource.spec.netns for s in ports}
        planned.unsettled_macs = {(s.resource.spec.netns, s.resource.spec.name) for s in present
                                  if s.resource.spec.macaddress is None and s.resource.kind == "bridge"
                                  and (purge or s.resource.spec.netns in port_namespaces)}
        for step in spaces:
            spec = step.resource.spec
            if spec.loopback_up is not None:
                planned.admin_states[(spec.name, "lo")] = "up" if spec.loopback_up else "down"
            planned.addresses.setdefault(spec.name, []).extend(
                r["dest"] for r in spec.routes or [] if not r["via"] and r["dest"] != "default")
        self.planned = planned
        self._purged_keys: set = set()
        self._reborn: set = set()  # listed links the purge takes along, created afresh by their steps
        for step in self.steps:
            step.resource.planned = planned
            step.resource.owner = owner
        for step in spaces + contents:
            step.resource.report_links = False  # the document's own link entries report the links
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
            self._reborn = set()
            labels, kept, self._purge_ops = self._owned_leftovers(kernel)
            self.planned.removed |= self._purged_keys
            view["purged"] = labels
            if kept:
                view["kept"] = kept
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
        """Each step's operations in order; the purge goes before the first link the document makes
        (after the namespaces and the listed removals), so it frees names, MACs and parents first."""
        ops: List[Op] = []
        purge = list(self._purge_ops) if self.purge else []
        for step, key in zip(self.steps, self._keys(before)):
            resource = step.resource
            creates_namespace = isinstance(resource, Netns) and not resource.spec.content_only
            removes_link = isinstance(resource, LinkResource) and resource.spec.state == "absent"
            if purge and not (creates_namespace or removes_link):
                ops, purge = ops + purge, []
            step_ops = resource.plan(self._before_of(step, before[key]))
            # Namespace routes and neighbors are planned after the links: they must know where
            # addresses go or links are re-created (the kernel takes routes and neighbors along).
            self.planned.address_churn.update(op.netns for op in step_ops if op.verb in ("addr_del", "link_del"))
            ops += step_ops
        return ops + purge

    def _before_of(self, step: Step, before: View) -> View:
        """A step's view to plan from: none for a link the purge (which runs first) takes along."""
        spec = step.resource.spec
        reborn = isinstance(step.resource, LinkResource) and (spec.netns, spec.name) in self._reborn
        return None if reborn else before

    def predict(self, before: View) -> View:
        view = {key: step.resource.predict(self._before_of(step, before[key]))
                for step, key in zip(self.steps, self._keys(before))}
        if self.purge:
            view["purged"] = []
            if "kept" in (before or {}):
                view["kept"] = before["kept"]  # namespaces of ours that hold what others made
        return view

    def explain(self, before: View) -> Optional[str]:
        notes = []
        for step, key in zip(self.steps, self._keys(before)):
            note = step.resource.explain(before[key])
            if note:
                notes.append("%s %s" % (step.path.rstrip("."), note))
        return "; ".join(notes) or None

    def _keys(self, before: View) -> List[str]:
        return [key for key in (before or {}) if key not in ("purged", "kept")]

    def _owned_leftovers(self, kernel: Kernel) -> Tuple[List[str], List[str], List[Op]]:
        """(what goes, namespaces kept, the operations): this scope's links and namespaces that
        the document no longer lists. A namespace of ours that holds links we did not make
        (a foreign veth end, another scope's link) is kept, emptied of ours: deleting it would
        destroy them. A link of ours that carries what we did not make stops the run."""
        labels, kept, space_ops = [], [], []
        doomed: Dict[Any, List[Any]] = {}  # namespace -> this scope's links that go
        gone: set = set()  # (namespace, link) of everything that goes, namespaces' contents included
        for space in kernel.all_namespaces():
            links = space.links()
            lo = links.get("lo")
            if space.name is not None and space.name not in self.wanted_spaces and lo is not None \
                    and lo.alias == self.owner.alias:
                foreign = [link for link in links.values() if link.name != "lo" and not self._ours(kernel, space, link)]
                if not foreign:
                    labels.append("netns %s" % space.name)
                    space_ops.append(Op("ns_del", None, space.name, irreversible=True))
                    gone.update((space.name, name) for name in links)
                    continue  # its links go with it
                kept.append("netns %s (holds %s, not created by this layout)"
                            % (space.name, ", ".join(sorted(link.name for link in foreign))))
            doomed[space] = [link for link in links.values() if self.owner.marked(link.alias, link.group)
                             and link.kind in REMOVAL_ORDER and (space.name, link.name) not in self.wanted_links]
            gone.update((space.name, link.name) for link in doomed[space])
        link_ops = []
        for space, links in doomed.items():
            for link in links:
                self._refuse_if_carrying_others(kernel, space, link, gone)
                labels.append("%s %s in %s" % (link.kind, link.name, space.label))
            # One request for the whole group, unless the group holds (or this run's creations will
            # add to it) a link that stays: a link listed in this namespace.
            grouped = {link.name for link in space.links().values() if link.group == self.owner.group}
            listed_here = any(netns == space.name for netns, _name in self.wanted_links)
            if links and grouped == {link.name for link in links} and not listed_here:
                link_ops.append((0, Op("group_del", space.name, space.label, {"group": self.owner.group},
                                       irreversible=True)))
            else:
                link_ops += [(REMOVAL_ORDER.index(link.kind), Op("link_del", space.name, link.name, irreversible=True))
                             for link in links]
        link_ops.sort(key=lambda item: item[0])
        self._purged_keys = gone
        return sorted(labels), sorted(kept), [op for order, op in link_ops] + space_ops

    def _ours(self, kernel: Kernel, space: Any, link: Any) -> bool:
        """Marked by this scope, or the unmarked other end of a veth of ours."""
        if self.owner.marked(link.alias, link.group):
            return True
        if link.kind != "veth" or link.alias:
            return False
        peer_name, peer_netns = resolve_parent(kernel, space, link)
        if peer_name is None or not kernel.namespace_exists(peer_netns):
            return False
        peer = kernel.ns(peer_netns).links().get(peer_name)
        return peer is not None and self.owner.marked(peer.alias, peer.group)

    def _moves_away(self, kernel: Kernel, where: Any, child: Any, space: Any, link: Any) -> bool:
        """A listed child, carrying nothing, whose listed parent is another link: the purge takes it
        along, and its own step creates it afresh on its new parent (self._reborn)."""
        parent = self.planned.parents.get((where.name, child.name))
        if parent is None or parent == (space.name, link.name) or carried_along(kernel, where, child):
            return False
        self._reborn.add((where.name, child.name))
        return True

    def _refuse_if_carrying_others(self, kernel: Kernel, space: Any, link: Any, gone: set) -> None:
        """Deleting a link takes along what is stacked on it (on both ends of a veth): only what
        goes anyway, never what this scope did not create or still lists, in any namespace."""
        others = [(where, child) for where, child in carried_along(kernel, space, link)
                  if (where.name, child.name) not in gone and not self._moves_away(kernel, where, child, space, link)]
        if others:
            raise EngineError("state=overridden would delete %s %s in %s, which carries %s that this layout did "
                              "not create or still lists; remove or list them first"
                              % (link.kind, link.name, space.label,
                                 ", ".join("%s (%s)" % (child.name, where.label) for where, child in others)))


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
    for space in kernel.all_namespaces():
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


def gather_owners(kernel: Kernel, only: Optional[List[str]] = None) -> Dict[str, List[Dict[str, Any]]]:
    """Which layout (scope) made each object the collection created: namespaces by the mark on
    their lo, links by their own (alias, or group alone when the alias was never written)."""
    owners: Dict[str, List[Dict[str, Any]]] = {"namespaces": [], "links": []}
    for space in kernel.all_namespaces():
        if only is not None and (space.name or "") not in only:
            continue
        for link in sorted(space.links().values(), key=lambda l: l.name):
            scope = scope_of(link.alias, link.group)
            if scope is None:
                continue
            if link.name == "lo":
                if space.name is not None:
                    owners["namespaces"].append({"name": space.name, "scope": scope})
                continue
            owners["links"].append({"name": link.name, "netns": space.name, "kind": link.kind, "scope": scope})
    return owners


def _gather_namespace(kernel: Kernel, name: str) -> Dict[str, Any]:
    view = Netns(NetnsSpec(name=name, routes=[], neighbors=[])).read(kernel) or {}
    routes = []
    for route in view.get("routes", []):
        dest = "::/0" if route["dest"] == "default" and route["family"] == 6 else route["dest"]
        routes.append(_compact({"dest": dest, "via": route["via"], "dev": route["dev"], "metric": route["metric"]}))
    return {"name": name, "loopback_up": view.get("loopback_up", False), "routes": routes,
            "neighbors": view.get("neighbors", [])}


def _gather_link(kernel: Kernel, netns: Optional[str], link: Any) -> Optional[Dict[str, Any]]:
    if link.kind not in KINDS:
        return None  # lo, physical NICs and kinds the collection does not manage
    link_kind = KINDS[link.kind]
    view = link_kind.resource_class(link_kind.blank_spec(link.name, netns)).read(kernel)
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
