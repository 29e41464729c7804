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
      - Entries with C(kind) (V(macvlan), V(macvtap), V(ipvlan), V(vlan), V(bridge), V(veth), V(dummy)) and otherwise
        the parameters of that kind's module (M(linuxnet.macvlan.macvlan_link), M(linuxnet.macvlan.ipvlan_link),
        M(linuxnet.macvlan.vlan_link), M(linuxnet.macvlan.bridge_link), M(linuxnet.macvlan.veth_link),
        M(linuxnet.macvlan.dummy_link)); an unknown key or a wrong type is an error naming its path.
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
      - V(overridden) also removes links and namespaces this layout's O(owner) scope created earlier that are no
        longer listed (never anything the collection did not create, nor another scope's objects).
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
  owner:
    description:
      - The scope this layout owns. Links and namespaces it creates carry the scope in their mark (link alias
        C(linuxnet.macvlan:SCOPE) and a link group derived from it; for a namespace, the alias of its C(lo)).
      - O(state=overridden) removes only objects of this scope that the document no longer lists. Two layouts
        with different scopes (two teams, two roles) can manage one host without purging each other, and one
        scope never deletes a link that carries another scope's link.
      - A namespace of this scope that holds links it did not create (a foreign veth end, another scope's link)
        is never deleted by O(state=overridden); only this scope's links in it are removed, and the result's
        diff lists it under C(kept).
      - V(default) is also the scope of objects marked by version 0.1.0 (alias C(linuxnet.macvlan)).
      - 1-64 letters, digits, C(.), C(_) or C(-).
    type: str
    default: default
requirements:
  - pyroute2 >= 0.7.2 on the managed host (the oldest tested; Debian 12 ships it)
"""

EXAMPLES = r"""
- name: Two namespaces with a bridge-mode macvlan each, in one task
  linuxnet.macvlan.topology:
    namespaces:
      - {name: ns1}
      - {name: ns2}
    links:
      - {kind: macvlan, name: mac1, parent: eth1, mode: bridge, netns: ns1, addresses: [192.168.56.122/24]}
      - {kind: macvlan, name: mac2, parent: eth1, mode: bridge, netns: ns2, addresses: [192.168.56.123/24]}

- name: Remove everything the collection created on this host (in the default scope)
  linuxnet.macvlan.topology:
    state: overridden

- name: A second team's layout on the same host, purged independently of the first
  linuxnet.macvlan.topology:
    owner: storage-team
    state: overridden
    links:
      - {kind: macvlan, name: stor0, parent: eth2, mode: bridge, addresses: [10.20.0.5/24]}

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
  sample:
    - ip netns add ns1
    - ip -n ns1 link set dev lo alias linuxnet.macvlan
    - ip -n ns1 link set dev lo up
    - ip link add link eth1 name mac1 netns ns1 type macvlan mode bridge group 19534
    - ip -n ns1 link set dev mac1 alias linuxnet.macvlan
    - ip -n ns1 link set dev mac1 up
    - ip -n ns1 addr add 192.168.56.122/24 dev mac1
layout:
  description: Every entry as read back after the change, keyed by its path in the document.
  returned: when state is present or overridden
  type: dict
  sample:
    "namespaces[0]": {name: ns1, loopback_up: true}
    "links[0]":
      kind: macvlan
      name: mac1
      netns: ns1
      parent: eth1
      parent_netns: null
      mode: bridge
      nopromisc: false
      source_macs: []
      macaddress: "ca:a4:97:ff:ab:63"
      mtu: 1500
      admin_state: up
      promisc: false
      addresses: [192.168.56.122/24]
rendered:
  description: The C(ip) commands that would build the layout on an empty host.
  returned: when state is rendered
  type: list
  elements: str
  sample:
    - ip link add link eth1 name mac1 type macvlan mode bridge group 19534
    - ip link set dev mac1 alias linuxnet.macvlan
    - ip link set dev mac1 up
    - ip addr add 192.168.56.122/24 dev mac1
gathered:
  description: The host's current layout, in this module's parameter format.
  returned: when state is gathered
  type: dict
  sample:
    namespaces: [{name: ns1, loopback_up: true, routes: [], neighbors: []}]
    links:
      - {kind: macvlan, name: mac1, netns: ns1, parent: eth1, mode: bridge, macaddress: "ca:a4:97:ff:ab:63",
         mtu: 1500, admin_state: up, promisc: false, addresses: [192.168.56.122/24]}
    bridge_ports: []
owners:
  description: Which scope (O(owner)) created each namespace and link the collection created.
  returned: when state is gathered
  type: dict
  contains:
    namespaces:
      description: One entry per namespace, with C(name) and C(scope).
      type: list
      elements: dict
    links:
      description: One entry per link, with C(name), C(netns) (null for the host's), C(kind) and C(scope).
      type: list
      elements: dict
  sample:
    namespaces: [{name: ns1, scope: default}]
    links: [{name: mac1, netns: ns1, kind: macvlan, scope: default}]
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
        layout, owners = gathered_layout(module, module.params["gather_namespaces"])
        module.exit_json(changed=False, gathered=layout, owners=owners)
    run_resource(module, lambda params: Topology(params, purge=state == "overridden"), "layout",
                 rollback=module.params["rollback"])


if __name__ == "__main__":
    main()
