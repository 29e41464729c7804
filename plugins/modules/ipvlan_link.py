#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ipvlan_link
short_description: Manage ipvlan links through netlink
version_added: "0.2.0"
description:
  - Creates, changes in place, or deletes an ipvlan link, macvlan's sibling that Docker's and CNI's ipvlan
    drivers use. Its children share the parent's MAC and are told apart by address, so a switch port that
    allows one MAC only still carries them all.
  - Mode and flag change in place; only O(parent) re-creates the link. Input is validated before anything is
    touched; a failure half-way rolls back what the task changed.
  - The kernel needs the C(ipvlan) module (C(CONFIG_IPVLAN)). A parent carries ipvlan or macvlan/macvtap
    children, never both.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
  - linuxnet.macvlan.link
  - linuxnet.macvlan.link.parent
options:
  mode:
    description:
      - V(l2) switches frames on the parent; V(l3) routes by address, no broadcast or multicast; V(l3s) like
        V(l3) with the host's netfilter hooks applied.
    type: str
    choices: [l2, l3, l3s]
    default: l3
  flag:
    description:
      - V(bridge) lets children of one parent talk directly; V(private) keeps them apart; V(vepa) sends their
        traffic to the parent's switch (which must hairpin it back).
    type: str
    choices: [bridge, private, vepa]
    default: bridge
notes:
  - An ipvlan always has its parent's MAC, so O(macaddress) cannot be set.
"""

EXAMPLES = r"""
- name: An ipvlan in L2 mode on eth1, created directly inside namespace tenant1
  linuxnet.macvlan.ipvlan_link:
    name: ipvl1
    parent: eth1
    netns: tenant1
    mode: l2
    addresses: [192.168.60.11/24]

- name: L3 children that must not see each other
  linuxnet.macvlan.ipvlan_link:
    name: ipvl2
    parent: eth1
    mode: l3
    flag: private
"""

RETURN = r"""
actions:
  description: The operations performed (or planned in check mode), as the equivalent C(ip) commands.
  returned: always
  type: list
  elements: str
  sample: ["ip link add link eth1 name ipvl1 netns tenant1 type ipvlan mode l2", "ip -n tenant1 link set dev ipvl1 up"]
link:
  description: The link as read back after the change (predicted in check mode); null when absent.
  returned: always
  type: dict
  sample: {name: ipvl1, kind: ipvlan, netns: tenant1, parent: eth1, parent_netns: null, mode: l2, flag: bridge,
           macaddress: "52:54:00:12:34:56", mtu: 1500, admin_state: up, promisc: false,
           addresses: [192.168.60.11/24]}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.ipvlan import IpvlanLink, IpvlanSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import run_resource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import IPVLAN as ARGUMENT_SPEC, check_arguments


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("state", "present", ["parent"])],
        supports_check_mode=True,
    )
    check_arguments(module)
    run_resource(module, lambda params: IpvlanLink(IpvlanSpec.from_params(params)), "link")


if __name__ == "__main__":
    main()
