# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's half of the pre-flight (the module `preflight` is the host's half).

For one host, before anything changes anywhere: the roles' variables against their argument
specs (site.yml runs this before either role is entered), the layout as the roles will send it,
the conflicts between this host's layout and every other inventory host's (groups['all'], so
`--limit` never hides the other side; only conflicts this host is part of fail it), then one
read-only call of the module on the host. Every problem is reported at once."""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Tuple

import yaml

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.utils.vars import combine_vars

from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.plugin_utils import fleet

ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
ROLES = ("macvlan_topology", "arp_sysctl")
ARP_KEYS = ("arp_ignore", "arp_announce", "rp_filter")
ARP_HEADER = "# Managed by Ansible (linuxnet.macvlan.arp_sysctl): edits are overwritten."
RECORD_SUFFIX = ".before"  # beside the sysctl.d file; systemd-sysctl reads only *.conf
_ROLE_FILES: Dict[Tuple[str, str], Any] = {}


def role_file(role: str, path: str) -> Any:
    """A role's defaults or argument specs, read once per process."""
    key = (role, path)
    if key not in _ROLE_FILES:
        with open(os.path.join(ROLES_DIR, role, path)) as handle:
            _ROLE_FILES[key] = yaml.safe_load(handle) or {}
    return _ROLE_FILES[key]


def role_defaults(role: str) -> Dict[str, Any]:
    return role_file(role, "defaults/main.yml")


def role_options(role: str) -> Dict[str, Any]:
    return role_file(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]


def checked_options(role: str) -> Dict[str, Any]:
    """The role's options as the pre-flight checks them: the layout entries' own options (every
    kind's in one list, for the docs and the role's entry) are left to the engine's strict check,
    which the module's check-mode run below applies per kind, naming each problem's path and the
    closest valid name, all at once; Ansible's check would stop at the first and say less."""
    options = dict(role_options(role))
    for variable in (fleet.HOST_VARIABLE, fleet.GROUP_VARIABLE):
        if variable in options:
            sections = {name: {key: value for key, value in section.items() if key != "options"}
                        for name, section in options[variable]["options"].items()}
            options[variable] = dict(options[variable], options=sections)
    return options


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("roles", "state"))

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        roles = self._task.args.get("roles") or list(ROLES)
        unknown = [role for role in roles if role not in ROLES]
        if unknown:
            raise AnsibleError("preflight: roles must be among %s, not %s" % (", ".join(ROLES), ", ".join(unknown)))
        override = self._task.args.get("state")
        if override not in (None, "", "present", "absent"):
            raise AnsibleError("preflight: state must be present or absent (site_state), not %r" % override)
        host = task_vars.get("inventory_hostname")
        problems: List[str] = []
        values: Dict[str, Dict[str, Any]] = {}
        for role in roles:
            values[role], errors = self._role_values(role, task_vars)
            problems += ["%s: %s" % (role, error) for error in errors]
        if problems:  # the variables themselves are wrong: nothing more can be checked
            return self._failed(result, host, problems, roles)

        args: Dict[str, Any] = {}
        layout: Optional[Dict[str, Any]] = None
        topology = values.get("macvlan_topology")
        if topology is not None:
            if override == "absent":
                topology["macvlan_topology_state"] = "absent"
            state = topology["macvlan_topology_state"]
            try:
                layout = self._layout(topology)
            except ValueError as exc:
                problems.append(str(exc))
            else:
                args["topology"] = dict(layout, state="overridden" if state == "absent" else state,
                                        owner=topology["macvlan_topology_owner"])
                if topology["macvlan_topology_validate_fleet"] and state != "absent":
                    problems += self._fleet_problems(host, topology, task_vars)
            args["systemd"] = bool(topology["macvlan_topology_persist"]) and state != "absent"
            args["pyroute2"] = "report" if topology["macvlan_topology_install_pyroute2"] else "required"
            args["persist_dir"] = topology["macvlan_topology_persist_dir"]
            args["paths"] = ["/etc/systemd/system/%s" % topology["macvlan_topology_persist_unit"],
                             topology["macvlan_topology_persist_dir"], topology["macvlan_topology_persist_lib"]]
        else:
            layout = self._inventory_layout(task_vars)
        arp = values.get("arp_sysctl")
        if arp is not None:
            if override == "absent":
                arp["arp_sysctl_state"] = "absent"
            arp_problems = arp_variable_problems(arp)
            if topology is not None and topology["macvlan_topology_state"] == "absent" and arp["arp_sysctl_state"] != "absent":
                arp_problems += self._torn_down_namespaces(topology, arp)
            problems += arp_problems
            if not arp_problems:
                result["net_sysctls"] = args["sysctls"] = net_sysctls_params(arp, layout)

        probe = self._execute_module(module_name="linuxnet.macvlan.preflight", module_args=args, task_vars=task_vars)
        if probe.get("failed") and "problems" not in probe:  # the module itself could not run
            keys = ("msg", "module_stderr", "module_stdout", "exception")
            detail = " ".join(str(probe.get(key) or "").strip()[-600:] for key in keys)
            problems.append("the preflight module could not run on the host: %s" % (detail.strip() or probe))
        else:
            problems += self._host_problems(probe, host, arp)
        for key in ("systemd", "pyroute2", "pyroute2_too_old", "link_kinds", "topology_changed", "net_sysctls_changed",
                    "stored_layouts", "installed"):
            if key in probe:
                result[key] = probe[key]
        if problems:
            return self._failed(result, host, problems, roles)
        result.update(changed=False, roles=roles, problems=[], msg="pre-flight passed: %s" % ", ".join(roles))
        return result

    # -- variables -----------------------------------------------------------
    def _role_values(self, role: str, task_vars: Dict[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
        """The role's variables as the role will see them (inventory/extra vars over its
        defaults), templated, and their argument-spec errors (what the role would say on entry)."""
        defaults = role_defaults(role)
        options = checked_options(role)
        names = list(dict.fromkeys(list(options) + list(defaults)))
        templar = self._templar.copy_with_new_env(available_variables=combine_vars(defaults, task_vars))
        raw = {name: task_vars[name] if name in task_vars else defaults.get(name) for name in names
               if name in task_vars or name in defaults}
        given = templar.template(raw)
        outcome = ArgumentSpecValidator(options).validate(given)
        errors = list(outcome.error_messages)
        values = dict(outcome.validated_parameters)
        for name in names:
            values.setdefault(name, given.get(name))
        return values, errors

    @staticmethod
    def _layout(topology: Dict[str, Any]) -> Dict[str, Any]:
        if topology["macvlan_topology_state"] == "absent":
            return {"namespaces": [], "links": [], "bridge_ports": []}
        merged = fleet.merge(topology["macvlan_topology_group"], topology["macvlan_topology"])
        merged = fleet.with_host_access(merged, topology["macvlan_topology_host_access"])
        return {section: merged.get(section) or [] for section in fleet.SECTIONS}

    def _inventory_layout(self, task_vars: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The host's layout from the inventory when only arp_sysctl is checked (its namespaces
        may be made by macvlan_topology earlier in the same playbook)."""
        names = ("macvlan_topology_state", "macvlan_topology_group", "macvlan_topology", "macvlan_topology_host_access")
        found = {name: self._templar.template(task_vars[name]) for name in names if name in task_vars}
        if found.get("macvlan_topology_state", "present") == "absent":
            return None
        try:
            return self._layout(dict({"macvlan_topology_state": "present", "macvlan_topology_group": {},
                                      "macvlan_topology": {}, "macvlan_topology_host_access": []}, **found))
        except ValueError:
            return None

    @staticmethod
    def _torn_down_namespaces(topology: Dict[str, Any], arp: Dict[str, Any]) -> List[str]:
        """ARP keys wanted inside namespaces that this run's teardown of the layout removes first."""
        try:
            merged = fleet.merge(topology["macvlan_topology_group"], topology["macvlan_topology"])
        except ValueError:
            return []
        made = {entry.get("name") for entry in merged.get("namespaces") or [] if isinstance(entry, dict)}
        lost = [entry.get("name") for entry in arp["arp_sysctl_namespaces"] or [] if entry.get("name") in made]
        if not lost:
            return []
        return ["arp_sysctl_namespaces: %s would be removed by macvlan_topology_state=absent before arp_sysctl sets "
                "keys there; tear both down with -e site_state=absent (the ARP sysctls first), or list no such "
                "namespace" % ", ".join(lost)]

    # -- the fleet -------------------------------------------------------------
    @staticmethod
    def _fleet_problems(host: str, own: Dict[str, Any], task_vars: Dict[str, Any]) -> List[str]:
        """Conflicts this host is part of, against every inventory host (not only the play's)."""
        hostvars = task_vars.get("hostvars") or {}
        everyone = (task_vars.get("groups") or {}).get("all") or [host]
        layouts: Dict[str, Any] = {host: (own[fleet.GROUP_VARIABLE], own[fleet.HOST_VARIABLE],
                                          own[fleet.HOST_ACCESS_VARIABLE])}
        segments: Dict[str, Dict[str, str]] = {host: own["macvlan_topology_segments"] or {}}
        problems = []
        for other in everyone:
            if other == host:
                continue
            try:
                variables = hostvars[other]
                if variables.get("macvlan_topology_state", "present") == "absent":
                    continue  # torn down by this run or its own: claims nothing
                layouts[other] = (variables.get(fleet.GROUP_VARIABLE) or {}, variables.get(fleet.HOST_VARIABLE) or {},
                                  variables.get(fleet.HOST_ACCESS_VARIABLE) or [])
                segments[other] = variables.get("macvlan_topology_segments") or {}
            except Exception as exc:  # pylint: disable=broad-except  # a broken inventory host
                problems.append("cannot read %s's layout to compare it with this host's: %s" % (other, exc))
        try:
            conflicts = fleet.fleet_conflicts(layouts, segments)
        except ValueError as exc:
            return problems + [str(exc)]
        return problems + [message for message, hosts in conflicts if host in hosts]

    # -- the host --------------------------------------------------------------
    @staticmethod
    def _host_problems(probe: Dict[str, Any], host: str, arp: Optional[Dict[str, Any]]) -> List[str]:
        """The module's problems; the sysctl ones said in the arp_sysctl role's terms."""
        lost_namespaces = probe.get("missing_namespaces") or []
        lost_keys = probe.get("missing_keys") or []
        generic = set(["no network namespace %s (this module never creates one)" % name for name in lost_namespaces]
                      + ["no such sysctl in %s (%s)" % ("netns %s" % item["netns"] if item["netns"]
                                                        else "the host's network namespace", item["path"])
                         for item in lost_keys])
        problems = [problem for problem in probe.get("problems") or [] if problem not in generic]
        if arp is None:
            return problems + sorted(generic)
        for name in lost_namespaces:
            problems.append("arp_sysctl_namespaces: no network namespace %s on %s (see ip netns list), and the layout "
                            "does not create it; this role sets keys in existing namespaces and never creates one"
                            % (name, host))
        host_keys = [item for item in lost_keys if not item["netns"]]
        missing_params = sorted({item["path"].rsplit("/", 1)[1] for item in host_keys
                                 if item["path"].split("/")[-2] == "all"})
        missing_ifs = []
        for item in host_keys:
            ifname, param = item["path"].split("/")[-2:]
            if ifname != "all" and param not in missing_params and ifname not in missing_ifs:
                missing_ifs.append(ifname)
        if missing_ifs:
            problems.append("arp_sysctl_interfaces: no interface %s in the network namespace of %s"
                            % (", ".join(missing_ifs), host))
        if missing_params:
            problems.append("arp_sysctl_extra: no key %s under /proc/sys/net/ipv4/conf/all on %s"
                            % (", ".join(missing_params), host))
        for item in lost_keys:
            if item["netns"]:
                problems.append("arp_sysctl_namespaces: no such sysctl in netns %s (%s) on %s"
                                % (item["netns"], item["path"], host))
        return problems

    @staticmethod
    def _failed(result: Dict[str, Any], host: str, problems: List[str], roles: List[str]) -> Dict[str, Any]:
        result.update(failed=True, changed=False, problems=problems, roles=roles,
                      msg="pre-flight: %d problem(s) on %s, nothing was changed: %s"
                      % (len(problems), host, "; ".join(problems)))
        return result


def arp_variable_problems(arp: Dict[str, Any]) -> List[str]:
    """What the argument specs cannot check: names and values inside the lists and the dict."""
    out = []
    lists = [("arp_sysctl_interfaces", arp["arp_sysctl_interfaces"] or [])]
    for index, entry in enumerate(arp["arp_sysctl_namespaces"] or []):
        if entry.get("interfaces") is not None:
            lists.append(("arp_sysctl_namespaces[%d].interfaces" % index, entry["interfaces"]))
    for field, names in lists:
        for index, ifname in enumerate(names):
            try:
                validate.interface_name("%s[%d]" % (field, index), ifname)
            except ValidationError as exc:
                out.append(str(exc))
    for key, value in (arp["arp_sysctl_extra"] or {}).items():
        if key in ARP_KEYS:
            out.append("arp_sysctl_extra.%s: set it with arp_sysctl_%s" % (key, key))
        elif not re.match(r"^[a-z0-9_]+$", str(key)):
            out.append("arp_sysctl_extra.%s: not a key of net.ipv4.conf.<interface> (like arp_filter)" % key)
        if isinstance(value, bool) or not re.match(r"^-?[0-9]+$", str(value)):
            out.append("arp_sysctl_extra.%s: '%s' is not an integer" % (key, value))
    names = [entry.get("name") for entry in arp["arp_sysctl_namespaces"] or []]
    for name in sorted({name for name in names if names.count(name) > 1}):
        out.append("arp_sysctl_namespaces: '%s' is listed twice" % name)
    if arp["arp_sysctl_file"] == arp["arp_sysctl_runtime_file"]:
        out.append("arp_sysctl_file and arp_sysctl_runtime_file must differ")
    return out


def arp_keys(values: Dict[str, Any], interfaces: List[str]) -> Dict[str, str]:
    """sysctl name -> value; a dotted interface name is written in the slash form
    (net/ipv4/conf/eth1.100/arp_ignore), which sysctl, systemd-sysctl and the engine all read."""
    keys = {}
    for ifname in interfaces:
        for key, value in values.items():
            name = ("net/ipv4/conf/%s/%s" if "." in ifname else "net.ipv4.conf.%s.%s") % (ifname, key)
            keys[name] = str(value)
    return keys


def net_sysctls_params(arp: Dict[str, Any], layout: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The net_sysctls module's parameters for the arp_sysctl role's variables."""
    values = {"arp_ignore": arp["arp_sysctl_arp_ignore"], "arp_announce": arp["arp_sysctl_arp_announce"],
              "rp_filter": arp["arp_sysctl_rp_filter"]}
    values.update(arp["arp_sysctl_extra"] or {})
    persist = bool(arp["arp_sysctl_persist"])
    active, other = ((arp["arp_sysctl_file"], arp["arp_sysctl_runtime_file"]) if persist
                     else (arp["arp_sysctl_runtime_file"], arp["arp_sysctl_file"]))
    namespaces = [{"name": entry["name"],
                   "sysctls": arp_keys(values, entry["interfaces"] if entry.get("interfaces") is not None
                                       else ["all", "default"])}
                  for entry in arp["arp_sysctl_namespaces"] or []]
    return {"state": arp["arp_sysctl_state"], "sysctls": arp_keys(values, arp["arp_sysctl_interfaces"] or []),
            "namespaces": namespaces, "file": active, "remove_files": [other], "header": ARP_HEADER,
            "record": active + RECORD_SUFFIX, "previous_records": [other + RECORD_SUFFIX],
            "pending": pending_of(layout)}


def pending_of(layout: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Namespaces and interfaces (per namespace, '' for the host's) the layout makes."""
    if not layout:
        return {"namespaces": [], "interfaces": {}}
    namespaces = [entry.get("name") for entry in layout.get("namespaces") or []
                  if isinstance(entry, dict) and entry.get("state", "present") != "absent" and entry.get("name")]
    interfaces: Dict[str, List[str]] = {}
    for link in layout.get("links") or []:
        if not isinstance(link, dict) or link.get("state", "present") == "absent":
            continue
        for name, netns in ((link.get("name"), link.get("netns")), (link.get("peer"), link.get("peer_netns"))):
            if name:
                interfaces.setdefault(netns or "", []).append(name)
    return {"namespaces": namespaces, "interfaces": interfaces}
