#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: netlink_facts
short_description: Read a host's virtual-NIC layout as facts, in the topology document's format
version_added: "0.1.0"
description:
  - Returns every network namespace (or those asked for) with its links (macvlan, macvtap, vlan, bridge, veth),
    their modes, parents (across namespaces), VLAN settings, bridge-port settings, addresses, routes and
    permanent neighbors.
  - The result uses M(linuxnet.macvlan.topology)'s own parameters, so a layout exported from one host can be
    applied to another as is.
author:
  - linuxnet.macvlan team (@linuxnet)
attributes:
  check_mode:
    support: full
    description: Only reads.
  diff_mode:
    support: none
    description: Nothing changes.
  facts:
    support: full
    description: Sets RV(ansible_facts.linuxnet_topology).
options:
  namespaces:
    description:
      - Only these namespaces (V("") is the host's). Omit for all.
    type: list
    elements: str
requirements:
  - pyroute2 >= 0.7.2 on the managed host (the oldest tested; Debian 12 ships it)
"""

EXAMPLES = r"""
- name: Export the layout of one host ...
  linuxnet.macvlan.netlink_facts:
  register: facts

- name: ... and apply it to another
  linuxnet.macvlan.topology: "{{ hostvars['net1'].ansible_facts.linuxnet_topology }}"
  delegate_to: net2
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    linuxnet_topology:
      description:
        - The layout in the format of M(linuxnet.macvlan.topology)'s options, ready to apply to another host.
        - Objects in the host's namespace have no C(netns) key.
      returned: always
      type: dict
      contains:
        namespaces:
          description: One entry per named network namespace, with the options of M(linuxnet.macvlan.netns).
          returned: always
          type: list
          elements: dict
          sample: [{name: ns1, loopback_up: true, routes: [{dest: default, via: 192.168.56.1}], neighbors: []}]
        links:
          description:
            - One entry per link the collection can manage (macvlan, macvtap, vlan, bridge, veth), with C(kind) and
              the options of that kind's module.
            - A veth pair is one entry, from the end whose peer is listed in C(peer).
          returned: always
          type: list
          elements: dict
          sample:
            - {kind: macvlan, name: mac1, netns: ns1, parent: eth1, mode: bridge, macaddress: "ca:a4:97:ff:ab:63",
               mtu: 1500, admin_state: up, promisc: false, addresses: [192.168.56.122/24]}
        bridge_ports:
          description: One entry per bridge port, with the options of M(linuxnet.macvlan.bridge_port).
          returned: always
          type: list
          elements: dict
          sample: [{name: veth1_br, bridge: test_br, hairpin: true}]
    linuxnet_topology_owners:
      description:
        - Which scope (the topology module's O(linuxnet.macvlan.topology#module:owner)) created each namespace
          and link the collection created, as lists C(namespaces) (C(name), C(scope)) and C(links) (C(name),
          C(netns), C(kind), C(scope)).
      returned: always
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import gathered_layout
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import (
    NETLINK_FACTS as ARGUMENT_SPEC,
    check_arguments,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    check_arguments(module)
    layout, owners = gathered_layout(module, module.params["namespaces"])
    module.exit_json(changed=False, ansible_facts={"linuxnet_topology": layout, "linuxnet_topology_owners": owners})


if __name__ == "__main__":
    main()
