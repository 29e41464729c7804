#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: topology
short_description: Make a host's whole virtual-NIC layout match one document, in one call
version_added: "0.1.0"
description:
  - Takes the host's layout (namespaces, links of every kind, bridge ports) and converges it in one plan on the
    same engine as the single-object modules, in dependency order (namespaces, then parents before children,
    then bridge ports, then routes and neighbors).
  - The whole document is validated before anything changes; every problem is reported at once with its path
    (for example C(links[3].vlan_id)).
  - A failure half-way rolls back everything the run changed (O(rollback)).
  - Links and namespaces it creates are marked on the objects themselves (the link's alias, the alias of the
    namespace's C(lo)), so O(state=overridden) removes only what the collection created, across runs and
    controllers.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
options:
  namespaces:
    description:
      - Entries with the parameters of M(linuxnet.macvlan.netns).
    type: list
    elements: dict
    default: []
  links:
    description:
      - Entries with C(kind) (V(macvlan), V(macvtap), V(vlan), V(bridge), V(veth)) and otherwise the parameters of
        that kind's module (M(linuxnet.macvlan.macvlan_link), M(linuxnet.macvlan.vlan_link),
        M(linuxnet.macvlan.bridge_link), M(linuxnet.macvlan.veth_link)).
    type: list
    elements: dict
    default: []
  bridge_ports:
    description:
      - Entries with the parameters of M(linuxnet.macvlan.bridge_port).
    type: list
    elements: dict
    default: []
  state:
    description:
      - V(present) makes what is listed exist as listed.
      - V(overridden) also removes links and namespaces the collection created earlier that are no longer listed.
      - V(rendered) returns the equivalent C(ip) commands for an empty host in RV(rendered), touching nothing.
      - V(gathered) returns the current layout in this document's format in RV(gathered).
    type: str
    choices: [present, overridden, rendered, gathered]
    default: present
  rollback:
    description:
      - Undo what the run changed when a step fails.
    type: bool
    default: true
  gather_namespaces:
    description:
      - With O(state=gathered), only these namespaces (V("") is the host's). Omit for all.
    type: list
    elements: str
requirements:
  - pyroute2 >= 0.7 on the managed host
"""

EXAMPLES = r"""
- name: Seed 003's lab in one task
  linuxnet.macvlan.topology:
    namespaces:
      - {name: ns1}
      - {name: ns2}
    links:
      - {kind: macvlan, name: mac1, parent: eth1, mode: bridge, netns: ns1, addresses: [192.168.56.122/24]}
      - {kind: macvlan, name: mac2, parent: eth1, mode: bridge, netns: ns2, addresses: [192.168.56.123/24]}

- name: Remove everything the collection created on this host
  linuxnet.macvlan.topology:
    state: overridden

- name: Export a host's layout
  linuxnet.macvlan.topology:
    state: gathered
  register: layout
"""

RETURN = r"""
actions:
  description: The operations performed (or planned in check mode), as the equivalent C(ip) commands.
  returned: when state is present or overridden
  type: list
  elements: str
layout:
  description: Every entry as read back after the change, keyed by its path in the document.
  returned: when state is present or overridden
  type: dict
rendered:
  description: The C(ip) commands that would build the layout on an empty host.
  returned: when state is rendered
  type: list
  elements: str
gathered:
  description: The host's current layout, in this module's parameter format.
  returned: when state is gathered
  type: dict
errors:
  description: On invalid input, every problem found, each naming its path in the document.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import (
    fail_validation,
    gathered_layout,
    run_resource,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import TOPOLOGY as ARGUMENT_SPEC, check_arguments
from ansible_collections.linuxnet.macvlan.plugins.module_utils.topology import Topology, render


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    check_arguments(module)
    state = module.params["state"]
    if state == "rendered":
        try:
            module.exit_json(changed=False, rendered=render(module.params))
        except ValidationError as exc:
            fail_validation(module, exc)
    if state == "gathered":
        module.exit_json(changed=False, gathered=gathered_layout(module, module.params["gather_namespaces"]))
    run_resource(module, lambda params: Topology(params, purge=state == "overridden"), "layout",
                 rollback=module.params["rollback"])


if __name__ == "__main__":
    main()
