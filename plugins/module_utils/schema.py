# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's parameters, defined once, and the strict check that walks input against them.

The tables are Ansible argument specs: the modules pass them to AnsibleModule as they are, and
`topology` checks each entry of its document against the same table (a link entry: its kind's
module table plus `kind`). This is the first piece of the link-kind registry (issue 16).

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
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import FLAGS as PORT_FLAGS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import NUMBERS as PORT_NUMBERS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ipvlan import DEFAULT_FLAG as IPVLAN_DEFAULT_FLAG
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ipvlan import DEFAULT_MODE as IPVLAN_DEFAULT_MODE
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ipvlan import FLAGS as IPVLAN_FLAGS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ipvlan import MODES as IPVLAN_MODES
from ansible_collections.linuxnet.macvlan.plugins.module_utils.macvlan import KINDS as MACVLAN_KINDS, MODES
from ansible_collections.linuxnet.macvlan.plugins.module_utils.vlan import PROTOCOLS

Spec = Dict[str, Dict[str, Any]]

STATE: Dict[str, Any] = dict(type="str", choices=["present", "absent"], default="present")

# Options every link module shares (documented in doc_fragments/link.py).
LINK: Spec = dict(
    name=dict(type="str", required=True),
    netns=dict(type="str"),
    macaddress=dict(type="str"),
    mtu=dict(type="int"),
    admin_state=dict(type="str", choices=["up", "down"], default="up"),
    promisc=dict(type="bool"),
    addresses=dict(type="list", elements="str"),
    routes=dict(type="list", elements="raw"),  # text, or a mapping with LINK_ROUTE's keys
    state=STATE,
)
# A link's route given as a mapping (routes.parse_link_routes); `dev` may only name the link.
LINK_ROUTE: Spec = dict(dest=dict(type="str"), via=dict(type="str"), dev=dict(type="str"), metric=dict(type="int"))

# Links stacked on a lower device (doc_fragments/link.py PARENT).
PARENT: Spec = dict(parent=dict(type="str"), parent_netns=dict(type="str"))

MACVLAN: Spec = dict(
    LINK,
    **PARENT,
    kind=dict(type="str", choices=list(MACVLAN_KINDS), default="macvlan"),
    mode=dict(type="str", choices=list(MODES), default="vepa"),
    nopromisc=dict(type="bool"),
    source_macs=dict(type="list", elements="str"),
)

VLAN: Spec = dict(
    LINK,
    **PARENT,
    vlan_id=dict(type="int"),
    protocol=dict(type="str", choices=list(PROTOCOLS), default="802.1Q"),
    reorder_hdr=dict(type="bool", default=True),
    gvrp=dict(type="bool"),
    mvrp=dict(type="bool"),
    loose_binding=dict(type="bool"),
    ingress_qos_map=dict(type="dict"),
    egress_qos_map=dict(type="dict"),
)

IPVLAN: Spec = dict(
    LINK,
    **PARENT,
    mode=dict(type="str", choices=list(IPVLAN_MODES), default=IPVLAN_DEFAULT_MODE),
    flag=dict(type="str", choices=list(IPVLAN_FLAGS), default=IPVLAN_DEFAULT_FLAG),
)

BRIDGE: Spec = dict(LINK, stp=dict(type="bool"))

DUMMY: Spec = dict(LINK)

VETH: Spec = dict(
    LINK,
    peer=dict(type="str"),
    peer_netns=dict(type="str"),
    peer_admin_state=dict(type="str", choices=["up", "down"], default="up"),
)

NETNS: Spec = dict(
    name=dict(type="str", required=True),
    state=STATE,
    loopback_up=dict(type="bool", default=True),
    sysctls=dict(type="dict"),
    routes=dict(type="list", elements="dict", options=dict(LINK_ROUTE, dest=dict(type="str", default="default"))),
    neighbors=dict(type="list", elements="dict", options=dict(
        address=dict(type="str", required=True),
        lladdr=dict(type="str", required=True),
        dev=dict(type="str", required=True),
    )),
)

BRIDGE_PORT: Spec = dict(
    name=dict(type="str", required=True),
    bridge=dict(type="str"),
    netns=dict(type="str"),
    **{flag: dict(type="bool") for flag in PORT_FLAGS},
    **{number: dict(type="int") for number in PORT_NUMBERS},
    state=STATE,
)


TOPOLOGY: Spec = dict(
    namespaces=dict(type="list", elements="dict", default=[]),
    links=dict(type="list", elements="dict", default=[]),
    bridge_ports=dict(type="list", elements="dict", default=[]),
    state=dict(type="str", choices=["present", "overridden", "rendered", "gathered"], default="present"),
    rollback=dict(type="bool", default=True),
    gather_namespaces=dict(type="list", elements="str"),
    owner=dict(type="str", default="default"),
)

NETLINK_FACTS: Spec = dict(namespaces=dict(type="list", elements="str"))

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
    for key, entry_spec in (("namespaces", NETNS), ("links", None), ("bridge_ports", BRIDGE_PORT)):
        for index, entry in enumerate(params.get(key) or []):
            path = "%s[%d]." % (key, index)
            found = check(entry, entry_spec, path) if entry_spec else _check_link(entry, path)
            if found:
                errors += found
                rejected.add(path)
    return rejected


def _check_link(entry: Any, path: str) -> List[ValidationError]:
    # The kinds' tables come from the registry, which is built on this module's tables.
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
    # _load_params() is Ansible's documented way to read the unconverted arguments; imported
    # here because boot.py runs this file's checks on hosts without Ansible.
    from ansible.module_utils.basic import _load_params

    given = {k: v for k, v in _load_params().items() if not str(k).startswith("_ansible_")}
    errors = check(given, module.argument_spec)
    if errors:
        module.fail_json(msg="; ".join(str(e) for e in errors), field=errors[0].field,
                         errors=[str(e) for e in errors], changed=False)
