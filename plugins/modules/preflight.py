#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: preflight
short_description: Everything that can be known about a host before a change, in one read-only call
version_added: "0.2.0"
description:
  - Reads, and never changes, what the roles of this collection need from a managed host, so that a play can fail
    every host before the first change on any of them (C(playbooks/site.yml) runs it first, with
    C(any_errors_fatal)).
  - Checks, all at once, each problem in RV(problems) - the layout against the kernel with the topology engine in
    check mode (missing parents and namespaces, names, passthru, ...); the link types the layout creates (from
    C(/sys/module) and the module tree, else by asking the kernel in a network namespace of a child process that
    disappears with it); that systemd is the init system when persistence is wanted; pyroute2's presence and version;
    the C(net.*) sysctl keys and namespaces that O(sysctls) names (or that an earlier step of the run creates).
  - Reports what persistence stored (RV(stored_layouts), RV(installed)), so the roles need no lookups of their own.
  - The action plugin of the same name adds the controller's part (conflicts across the whole inventory, the
    roles' variables) and is what playbooks call; the module alone works as well.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
options:
  topology:
    description:
      - The topology module's parameters (C(namespaces), C(links), C(bridge_ports), C(state), C(owner)), checked with
        the engine in check mode. Omit to skip.
    type: dict
  systemd:
    description: Fail unless systemd is the init system (persistence needs its boot unit).
    type: bool
    default: false
  pyroute2:
    description:
      - V(required) fails when pyroute2 cannot be imported or is older than 0.7.2; V(report) only reports it (the
        role then installs it).
    type: str
    choices: [required, report]
    default: report
  sysctls:
    description: The net_sysctls module's parameters; its namespaces and keys must exist or be pending.
    type: dict
  persist_dir:
    description: Where persistence stores layouts (RV(stored_layouts) lists C(layouts.d/*.json) there).
    type: path
  paths:
    description: Further paths to report in RV(installed) when they exist (the boot unit, the engine copy).
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: Check the host before anything changes
  linuxnet.macvlan.preflight:
    topology:
      links:
        - {kind: macvlan, name: mac1, parent: eth1, mode: bridge}
    systemd: true
  register: preflight
"""

RETURN = r"""
problems:
  description: Everything that would make the run fail on this host; empty when none.
  returned: always
  type: list
  elements: str
systemd:
  description: Whether systemd is the init system (C(/run/systemd/system) exists).
  returned: always
  type: bool
pyroute2:
  description: The importable pyroute2's version; null when it cannot be imported.
  returned: always
  type: str
pyroute2_too_old:
  description: Whether that pyroute2 is older than 0.7.2, the oldest this collection is tested with.
  returned: always
  type: bool
link_kinds:
  description: Per link type the layout creates, C(present), C(loadable) (a module loaded on first use), C(missing) or
    C(unknown).
  returned: always
  type: dict
topology_changed:
  description: Whether the topology module would change something (null when not checked or not valid).
  returned: always
  type: bool
net_sysctls_changed:
  description: Whether the net_sysctls module with O(sysctls) would change something (null when not checked).
  returned: always
  type: bool
stored_layouts:
  description: Layout files persistence stored under O(persist_dir).
  returned: always
  type: list
  elements: str
installed:
  description: Which of O(paths) exist.
  returned: always
  type: list
  elements: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils import preflight

ARGUMENT_SPEC = dict(
    topology=dict(type="dict"),
    systemd=dict(type="bool", default=False),
    pyroute2=dict(type="str", choices=["required", "report"], default="report"),
    sysctls=dict(type="dict"),
    persist_dir=dict(type="path"),
    paths=dict(type="list", elements="path", default=[]),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = preflight.probe(module.params)
    except Exception as exc:  # pylint: disable=broad-except  # every answer is JSON, even for a bug of ours
        module.fail_json(msg="preflight: unexpected %s: %s" % (type(exc).__name__, exc), problems=[
            "preflight: unexpected %s: %s" % (type(exc).__name__, exc)], exception=traceback.format_exc())
    if result["problems"]:
        module.fail_json(msg="; ".join(result["problems"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
