#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vlan_link
short_description: Manage 802.1Q / 802.1ad VLAN sub-interfaces through netlink
version_added: "0.1.0"
description:
  - Creates, changes in place, or deletes a VLAN sub-interface, in any named network namespace.
  - Flags, QoS maps, MAC, MTU, admin state, promiscuity and addresses change in place; O(vlan_id), O(protocol)
    and O(parent) cannot, so changing them re-creates the link, and the diff header says so.
  - QinQ works by stacking an 802.1Q link on an 802.1ad one. Names with several dots (C(eth0.100.200)) work.
  - Input is validated before anything is touched; a failure half-way rolls back what the task changed.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
  - linuxnet.macvlan.link
  - linuxnet.macvlan.link.parent
options:
  vlan_id:
    description:
      - VLAN id, 1 to 4094. Required when O(state=present).
    type: int
  protocol:
    description:
      - Tag protocol; V(802.1ad) for the outer (service) tag of QinQ.
    type: str
    choices: ["802.1Q", "802.1ad"]
    default: "802.1Q"
  reorder_hdr:
    description:
      - Reorder the Ethernet header on output (the kernel's and C(ip link)'s default).
    type: bool
    default: true
  gvrp:
    description:
      - Register the VLAN with GVRP. Omit to leave unchanged (off for a new link).
    type: bool
  mvrp:
    description:
      - Register the VLAN with MVRP. Omit to leave unchanged (off for a new link).
    type: bool
  loose_binding:
    description:
      - Do not follow the parent's operational state. Omit to leave unchanged (off for a new link).
    type: bool
  ingress_qos_map:
    description:
      - "The exact map of received 802.1p priority (0-7) to Linux skb priority, like C({1: 2, 5: 6})."
      - "Omit to leave unchanged; V({}) clears it."
    type: dict
  egress_qos_map:
    description:
      - The exact map of Linux skb priority to transmitted 802.1p priority (0-7).
      - "Omit to leave unchanged; V({}) clears it."
    type: dict
"""

EXAMPLES = r"""
- name: A trunk sub-interface, promiscuous, as a macvlan parent
  linuxnet.macvlan.vlan_link:
    name: veth1.11
    parent: veth1
    vlan_id: 11
    promisc: true

- name: QinQ, service tag 100 outside, customer tag 200 inside
  linuxnet.macvlan.vlan_link:
    name: "{{ item.name }}"
    parent: "{{ item.parent }}"
    vlan_id: "{{ item.id }}"
    protocol: "{{ item.protocol }}"
  loop:
    - {name: eth0.100, parent: eth0, id: 100, protocol: 802.1ad}
    - {name: eth0.100.200, parent: eth0.100, id: 200, protocol: 802.1Q}

- name: Map priorities both ways
  linuxnet.macvlan.vlan_link:
    name: eth1.30
    parent: eth1
    vlan_id: 30
    ingress_qos_map: {5: 5}
    egress_qos_map: {0: 1, 6: 6}
    addresses: [10.30.0.1/24]
"""

RETURN = r"""
actions:
  description: The operations performed (or, in check mode, planned), as the equivalent C(ip) commands.
  returned: always
  type: list
  elements: str
  sample: ["ip link add link eth0 name eth0.100 type vlan protocol 802.1Q id 100 reorder_hdr on",
           "ip link set dev eth0.100 up"]
link:
  description: The link as read back from the kernel after the change (predicted in check mode); null when absent.
  returned: always
  type: dict
  sample:
    name: eth0.100
    kind: vlan
    netns: null
    parent: eth0
    parent_netns: null
    vlan_id: 100
    protocol: "802.1Q"
    reorder_hdr: true
    gvrp: false
    mvrp: false
    loose_binding: false
    ingress_qos_map: {}
    egress_qos_map: {}
    macaddress: "02:00:00:00:00:01"
    mtu: 1500
    admin_state: up
    promisc: false
    addresses: []
failed_action:
  description: On failure, the operation the kernel refused.
  returned: failure
  type: str
rolled_back:
  description: On failure, the completed operations that were undone.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import run_resource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import VLAN as ARGUMENT_SPEC, check_arguments
from ansible_collections.linuxnet.macvlan.plugins.module_utils.vlan import VlanLink, VlanSpec


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("state", "present", ["parent", "vlan_id"])],
        supports_check_mode=True,
    )
    check_arguments(module)
    run_resource(module, lambda params: VlanLink(VlanSpec.from_params(params)), "link")


if __name__ == "__main__":
    main()
