# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's parameters, written once, and the strict check that walks input against them.

Each table holds an option's Ansible spec (type, choices, default, ...) together with its
documentation (DOC_KEYS). The modules pass argument_spec(table) to AnsibleModule; `topology`
checks each entry of its document against the same tables (a link entry: its kind's table plus
`kind`, registry.py); scripts/gen_docs.py writes every module's DOCUMENTATION options, the link
doc fragment and the macvlan_topology role's layout entries from them (tests/unit/test_docs.py
fails when a generated block is stale).

Ansible converts what it can (type=str makes ['a'] the text "['a']", type=int takes true for 1,
a `dict` inside a list of dicts is never looked into), so the check is stricter, the same for
the modules' own arguments and for a topology document:
- str: a str. Never a number: YAML turns unquoted `010` into 8 and `12:00:00:00:00:01` into an
  int, so a number where a name or address belongs is a quoting mistake, not a name.
- int: an int, an integral float (1400.0) or a string of digits; never a bool, never 1400.7.
- bool: a bool or one of Ansible's boolean words (validate.boolean).
- list / dict: a list / a mapping; a string is not split into a list.
Every unknown key is an error naming the closest valid name; problems come back as a list of
ValidationError (each with its path), so a whole document is reported at once."""

from __future__ import annotations

import difflib
from typing import Any, Dict, List, Set

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError

Spec = Dict[str, Dict[str, Any]]
LOOPBACK_UP = True  # a new namespace's lo comes up unless told otherwise

# What the tables hold besides Ansible's own keys, for the documentation only:
# - description: the option's text (a string, or a list of paragraphs), in Ansible's markup;
# - recreates: changing the option makes the engine delete and create the link again (True), or a
#   sentence saying when it does (the generated docs say so; tests/unit/test_docs.py checks the engine agrees);
# - version_added: the collection version that added the option, where that is not the module's own.
DOC_KEYS = ("description", "recreates", "version_added")


def argument_spec(table: Spec) -> Spec:
    """The table as AnsibleModule takes it: without the documentation keys (Ansible, and
    ansible-test's validate-modules, refuse keys they do not know), nested options included."""
    spec = {}
    for name, option in table.items():
        option = {key: value for key, value in option.items() if key not in DOC_KEYS}
        if "options" in option:
            option["options"] = argument_spec(option["options"])
        spec[name] = option
    return spec


# -- options every link module shares (doc_fragments/link.py) ----------------
LINK: Spec = dict(
    name=dict(type="str", required=True,
              description="Interface name, 1 to %d bytes, without C(/), C(:) or white space." % (validate.IFNAMSIZ - 1)),
    netns=dict(type="str", description=[
        "Named network namespace (under C(/run/netns)) where the link must live.",
        "Omit for the namespace the module runs in (the host's).",
        "The link is created directly in it (no create-then-move); a namespace that does not exist is an error "
        "naming it, never created by accident.",
    ]),
    macaddress=dict(type="str", description="Unicast MAC address of the link. Omit to keep the one the kernel chose."),
    mtu=dict(type="int", description="MTU; between 68 and the parent's MTU. Omit to keep the current one."),
    admin_state=validate.ADMIN_STATE.option(description="Administrative state of the link."),
    promisc=dict(type="bool", description="Set or clear the link's own promiscuous flag. Omit to leave it alone."),
    addresses=dict(type="list", elements="str", description=[
        "The exact list of IPv4/IPv6 addresses, in CIDR form, on the link; others are removed.",
        "Kernel IPv6 link-local addresses (C(fe80::/10)) are left alone unless listed.",
        "Omit to leave addresses alone; V([]) removes all.",
    ]),
    # text, or a mapping with LINK_ROUTE's keys (routes.parse_link_routes)
    routes=dict(type="list", elements="raw", description=[
        "The exact list of static routes in the main table that go out through this link; other static routes "
        "through it are removed. Routes through other links are never touched, so this is safe in the host's "
        "namespace (for example the host-access shim's routes to its macvlan children).",
        "Each entry is a destination (V(192.168.56.122/32), V(default)) or a dict with C(dest), C(via), C(metric) "
        "and C(dev) (which may only name this link), as in O(linuxnet.macvlan.netns#module:routes).",
        "Omit to leave routes alone; V([]) removes all static routes through the link. Needs O(admin_state=up).",
    ]),
    state=validate.PRESENCE.option(description="V(present) makes the link exist as described; V(absent) deletes it."),
)

# A route as a mapping: a link's (`dev` may only name the link) and a namespace's (netns routes).
LINK_ROUTE: Spec = dict(
    dest=dict(type="str", description="V(default) (IPv4), V(::/0) (IPv6 default) or a network prefix."),
    via=dict(type="str", description="Gateway address."),
    dev=dict(type="str", description="Output interface inside the namespace."),
    metric=dict(type="int", description="Route metric (IPv6 routes default to the kernel's 1024)."),
)

# Links stacked on a lower device (doc_fragments/link.py PARENT).
PARENT: Spec = dict(
    parent=dict(type="str", recreates=True, description=[
        "The lower device the link sits on, looked up in O(parent_netns).",
        "Required when O(state=present).",
    ]),
    parent_netns=dict(type="str", recreates=True,
                      description="Named network namespace that holds O(parent). Omit for the host's namespace."),
)

# -- the other modules -----------------------------------------------------------
NETNS: Spec = dict(
    name=dict(type="str", required=True, description="Namespace name (letters, digits, C(.), C(_), C(-))."),
    state=validate.PRESENCE.option(description=(
        "V(present) creates the namespace if needed and applies the settings; V(absent) deletes it.")),
    loopback_up=dict(type="bool", default=LOOPBACK_UP,
                     description="Bring C(lo) up inside the namespace (V(false) brings it down)."),
    sysctls=dict(type="dict", description=[
        "C(net.*) sysctls to set inside the namespace, for example C(net.ipv4.conf.all.arp_ignore=1). "
        "Each value is read back after writing.",
        "Keys outside C(net.) are refused, since they are not per-namespace and would change the whole host.",
        "Write keys for interface names containing dots with C(/) separators, like "
        "C(net/ipv4/conf/eth0.100/rp_filter).",
    ]),
    routes=dict(type="list", elements="dict", options=dict(LINK_ROUTE, dest=dict(LINK_ROUTE["dest"], default="default")),
                description=["The exact list of static routes in the main table; other non-kernel routes there are "
                             "removed. Routes the kernel adds for addresses (proto kernel) and those from routing "
                             "daemons are never touched.",
                             "Omit to leave routes alone; V([]) removes all static routes."]),
    neighbors=dict(type="list", elements="dict", options=dict(
        address=dict(type="str", required=True, description="IPv4 or IPv6 address of the neighbor."),
        lladdr=dict(type="str", required=True, description="Its MAC address."),
        dev=dict(type="str", required=True, description="Interface inside the namespace."),
    ), description=[
        "The exact list of permanent neighbor entries (like C(ip neigh replace ... nud permanent)); other permanent "
        "entries are removed. A stale or FAILED entry for a listed address is replaced.",
        "Omit to leave neighbor entries alone.",
    ]),
)

TOPOLOGY: Spec = dict(
    namespaces=dict(type="list", elements="dict", default=[],
                    description="The namespaces, each with the parameters of M(linuxnet.macvlan.netns)."),
    links=dict(type="list", elements="dict", default=[], description=[
        "The links, each with its O(links[].kind) and that kind's parameters (those of the module that manages "
        "one link of the kind).",
        "Every entry is checked against its own kind's parameters: an option of another kind, an unknown key or "
        "a wrong type is an error naming its path (and the closest valid name).",
    ]),
    bridge_ports=dict(type="list", elements="dict", default=[],
                      description="The bridge ports, each with the parameters of M(linuxnet.macvlan.bridge_port)."),
    state=dict(type="str", choices=["present", "overridden", "rendered", "gathered"], default="present", description=[
        "V(present) makes what is listed exist as listed.",
        "V(overridden) also removes links and namespaces this layout's O(owner) scope created earlier that are no "
        "longer listed (never anything the collection did not create, nor another scope's objects).",
        "V(rendered) returns the equivalent C(ip) commands for an empty host in RV(rendered), touching nothing.",
        "V(gathered) returns the current layout in this document's format in RV(gathered).",
    ]),
    rollback=dict(type="bool", default=True, description="Undo what the run changed when a step fails."),
    gather_namespaces=dict(type="list", elements="str", description=(
        "With O(state=gathered), only these namespaces (V(\"\") is the host's). Omit for all.")),
    owner=dict(type="str", default="default", description=[
        "The scope this layout owns. Links and namespaces it creates carry the scope in their mark (link alias "
        "C(linuxnet.macvlan:SCOPE) and a link group derived from it; for a namespace, the alias of its C(lo)).",
        "O(state=overridden) removes only objects of this scope that the document no longer lists. Two layouts "
        "with different scopes (two teams, two roles) can manage one host without purging each other, and one "
        "scope never deletes a link that carries another scope's link.",
        "A namespace of this scope that holds links it did not create (a foreign veth end, another scope's link) "
        "is never deleted by O(state=overridden); only this scope's links in it are removed, and the result's "
        "diff lists it under C(kept).",
        "V(default) is also the scope of objects marked by version 0.1.0 (alias C(linuxnet.macvlan)).",
        "1-64 letters, digits, C(.), C(_) or C(-).",
    ]),
    persist=dict(type="dict", version_added="0.2.0", description=[
        "Make the layout come back after a reboot, in the same call: the document as applied (with the MACs the "
        "kernel chose for links in named namespaces) is stored as C(<dir>/layouts.d/50-macvlan_topology[-OWNER].json), "
        "the collection's engine is copied to O(persist.engine) as one runnable Python zip, and the systemd unit "
        "O(persist.unit) re-applies every stored layout early at boot with that engine and this call's Python "
        "interpreter, without Ansible.",
        "Needs systemd as the init system; checked before anything changes.",
        "Each file is written only when its content differs, atomically. When storing fails, the files get their "
        "old content back and the call's changes to the kernel are rolled back.",
        "Check mode and the diff (under C(persist)) show what would be written, removed, enabled or disabled.",
        "Only with O(state=present) or O(state=overridden). Omit to leave what is stored alone.",
    ], options=dict(
        state=validate.PRESENCE.option(description=[
            "V(present) stores this scope's layout and installs and enables the unit.",
            "V(absent) removes this scope's stored layout; with the last stored layout of any scope, also the unit "
            "(disabled first), the engine copy and the directories when nothing else is in them.",
        ]),
        dir=dict(type="str", default="/etc/linuxnet-macvlan",
                 description="Directory of the stored layouts (in its C(layouts.d))."),
        engine=dict(type="str", default="/usr/local/lib/linuxnet-macvlan/linuxnet-macvlan.pyz",
                    description="Where the engine's copy goes (a zip the unit runs with Python)."),
        unit=dict(type="str", default="linuxnet-macvlan.service",
                  description="The systemd unit's name, in C(/etc/systemd/system)."),
        wait=dict(type="int", default=30, description=(
            "Seconds the unit waits at boot for parents the layout does not create (NICs, VLANs of the "
            "distribution's network configuration) before giving up on a document.")),
    )),
)

NETLINK_FACTS: Spec = dict(namespaces=dict(type="list", elements="str", description=(
    "Only these namespaces (V(\"\") is the host's). Omit for all.")))

NET_SYSCTLS: Spec = dict(
    state=validate.PRESENCE.option(description=(
        "V(present) sets the listed keys; V(absent) restores the recorded values and removes O(file) and O(record).")),
    sysctls=dict(type="dict", default={}, description=[
        "C(net.*) keys and values for the host's network namespace (the one the module runs in).",
        "Write keys for interface names containing dots with C(/) separators, like "
        "C(net/ipv4/conf/eth1.100/rp_filter).",
    ]),
    namespaces=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True, description="Namespace name (under C(/run/netns))."),
        sysctls=dict(type="dict", default={}, description="C(net.*) keys and values inside that namespace."),
    ), description="Named network namespaces (which must exist; never created) and their keys."),
    pending=dict(type="dict", options=dict(
        namespaces=dict(type="list", elements="str", description="Namespaces created earlier in the run."),
        interfaces=dict(type="dict", description=(
            "Namespace name (V('') for the host's) -> interfaces created earlier in the run.")),
    ), description=(
        "What an earlier task of the same run creates (the topology module), so that check mode can predict the "
        "keys there instead of failing. A real run requires everything to exist.")),
    file=dict(type="path", description=(
        "The C(sysctl.d) file that holds the host's keys (removed when there are none, or on V(absent)).")),
    header=dict(type="str", default="# Managed by Ansible (linuxnet.macvlan): edits are overwritten.",
                description="First line of O(file)."),
    remove_files=dict(type="list", elements="path", default=[],
                      description="Files to remove (the file of the other persistence mode)."),
    record=dict(type="path", description=(
        "JSON file with each key's value from before the first change. Keep it beside O(file), with a name that "
        "does not end in C(.conf).")),
    previous_records=dict(type="list", elements="path", default=[],
                          description="Earlier locations of O(record), read when O(record) does not exist, then removed."),
)

PREFLIGHT: Spec = dict(
    topology=dict(type="dict", description=(
        "The topology module's parameters (C(namespaces), C(links), C(bridge_ports), C(state), C(owner)), checked "
        "with the engine in check mode. Omit to skip.")),
    systemd=dict(type="bool", default=False,
                 description="Fail unless systemd is the init system (persistence needs its boot unit)."),
    pyroute2=dict(type="str", choices=["required", "report"], default="report", description=(
        "V(required) fails when pyroute2 cannot be imported or is older than 0.7.2; V(report) only reports it (the "
        "role then installs it).")),
    sysctls=dict(type="dict", description=(
        "The net_sysctls module's parameters; its namespaces and keys must exist or be pending.")),
    persist_dir=dict(type="path", description=(
        "Where persistence stores layouts (RV(stored_layouts) lists C(layouts.d/*.json) there).")),
    paths=dict(type="list", elements="path", default=[], description=(
        "Further paths to report in RV(installed) when they exist (the boot unit, the engine copy).")),
)

# The tables of the modules that need nothing of the engine's (the others are in registry.py), by module.
MODULES: Dict[str, Spec] = dict(netns=NETNS, topology=TOPOLOGY, netlink_facts=NETLINK_FACTS, net_sysctls=NET_SYSCTLS,
                                preflight=PREFLIGHT)

# What Ansible's spec cannot say: the keys of a `raw` list's mapping entries (and, in
# _DICT_VALUES below, the type of a `dict`'s values).
_RAW_ENTRIES: Dict[str, Spec] = {"routes": LINK_ROUTE}


# -- the strict check ---------------------------------------------------------
def check(value: Any, spec: Spec, prefix: str = "") -> List[ValidationError]:
    """Every problem of a mapping against `spec`; field names start with `prefix` ('links[0].')."""
    where = prefix.rstrip(".") or "the arguments"
    if not isinstance(value, dict):
        return [ValidationError(where, "%s is not a mapping of options" % validate.show(value))]
    errors = [ValidationError(prefix + str(key), unknown_option(key, spec)) for key in value if key not in spec]
    for name, option in spec.items():
        given = value.get(name)
        if given is None:  # omitted and null are the same to Ansible
            if option.get("required"):
                errors.append(ValidationError(prefix + name, "is required"))
            continue
        errors += _check_option(given, option, prefix + name, name)
    return errors


def unknown_option(key: Any, spec: Spec) -> str:
    close = difflib.get_close_matches(str(key), list(spec), n=1)
    if close:
        return "unknown option, did you mean '%s'?" % close[0]
    return "unknown option; valid options are %s" % ", ".join(sorted(spec))


def _check_option(value: Any, option: Dict[str, Any], field: str, name: str) -> List[ValidationError]:
    kind = option.get("type", "str")
    try:
        _TYPES.get(kind, _anything)(field, value)
    except ValidationError as exc:
        return [exc]
    choices = option.get("choices")
    if choices is not None and value not in choices:
        reason = "%s is not one of %s" % (validate.show(value), ", ".join(str(c) for c in choices))
        close = difflib.get_close_matches(value, [str(c) for c in choices], n=1) if isinstance(value, str) else []
        return [ValidationError(field, reason + ("; did you mean '%s'?" % close[0] if close else ""))]
    errors: List[ValidationError] = []
    if kind == "list" and option.get("elements"):
        for index, item in enumerate(value):
            errors += _check_element(item, option, "%s[%d]" % (field, index), name)
    elif kind == "dict" and option.get("options"):
        errors += check(value, option["options"], field + ".")
    elif kind == "dict" and name in _DICT_VALUES:
        for key, item in value.items():
            try:
                _DICT_VALUES[name]("%s.%s" % (field, key), item)
            except ValidationError as exc:
                errors.append(exc)
    return errors


def _check_element(item: Any, option: Dict[str, Any], field: str, name: str) -> List[ValidationError]:
    elements = option["elements"]
    if elements == "dict" and option.get("options"):
        return check(item, option["options"], field + ".")
    if elements == "raw" and name in _RAW_ENTRIES:
        if isinstance(item, dict):
            return check(item, _RAW_ENTRIES[name], field + ".")
        if not isinstance(item, str):
            return [ValidationError(field, "expected a destination or a mapping with %s, not %s"
                                    % (", ".join(_RAW_ENTRIES[name]), validate.show(item)))]
    try:
        _TYPES.get(elements, _anything)(field, item)
    except ValidationError as exc:
        return [exc]
    return []


def _mapping(field: str, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValidationError(field, "%s is not a mapping" % validate.show(value))
    return value


def _sequence(field: str, value: Any) -> Any:
    if not isinstance(value, list):  # Ansible would split a string at commas
        raise ValidationError(field, "%s is not a list" % validate.show(value))
    return value


def _anything(field: str, value: Any) -> Any:
    return value


def _sysctl_value(field: str, value: Any) -> Any:
    if not isinstance(value, (str, int)):  # bool is an int: namespace.parse_sysctls writes it as 0/1
        raise ValidationError(field, "%s is not a sysctl value (text or an integer)" % validate.show(value))
    return value


_DICT_VALUES = {"sysctls": _sysctl_value}


# The strict reading of each Ansible type (module docstring); `raw` takes anything.
_TYPES = {"str": validate.text, "int": validate.integer, "bool": validate.boolean, "list": _sequence, "dict": _mapping}


# -- where the check runs -----------------------------------------------------
def check_document(params: Dict[str, Any], errors: List[ValidationError]) -> Set[str]:
    """Check every entry of a topology document, appending to `errors`; return the paths
    ('links[0].') of the entries that failed, which must not be parsed further."""
    rejected: Set[str] = set()
    # The sections' tables come from the registry, which is built on this module's tables.
    from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import SECTIONS

    for key, entry_spec in SECTIONS:
        for index, entry in enumerate(params.get(key) or []):
            path = "%s[%d]." % (key, index)
            found = check(entry, entry_spec, path) if entry_spec else _check_link(entry, path)
            if found:
                errors += found
                rejected.add(path)
    return rejected


def _check_link(entry: Any, path: str) -> List[ValidationError]:
    from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import KINDS, TOPOLOGY_LINK_OPTIONS

    kind = entry.get("kind") if isinstance(entry, dict) else None
    if isinstance(kind, str) and kind in TOPOLOGY_LINK_OPTIONS:
        return check(entry, TOPOLOGY_LINK_OPTIONS[kind], path)
    if not isinstance(entry, dict):
        return check(entry, {}, path)
    if kind is None:
        return [ValidationError(path + "kind", "is required (one of %s)" % ", ".join(KINDS))]
    return _check_option(kind, dict(type="str", choices=list(KINDS)), path + "kind", "kind")


def check_arguments(module: Any) -> None:
    """Fail the task, changing nothing, when a module's arguments as given (before Ansible's
    conversions, which the module's `params` already went through) break the strict rules."""
    given = {k: v for k, v in _arguments_as_given().items() if not str(k).startswith("_ansible_")}
    errors = check(given, module.argument_spec)
    if errors:
        module.fail_json(msg="; ".join(str(e) for e in errors), field=errors[0].field,
                         errors=[str(e) for e in errors], changed=False)


def _arguments_as_given() -> Dict[str, Any]:
    """The module's arguments before Ansible's conversions (read only). _load_params() is Ansible's
    documented way to read them: it decodes them again and copies them, a fifth of a no-op's time
    for a document of thousands of entries. ansible-core 2.19+ keeps that copy, untouched, from the
    module's own load: read it when it is there. Imported here because boot.py runs this file's
    checks on hosts without Ansible."""
    from ansible.module_utils import basic

    kept = getattr(basic, "_PARSED_MODULE_ARGS", None)
    return kept if isinstance(kept, dict) else basic._load_params()
