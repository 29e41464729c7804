#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bridge_link
short_description: Manage Linux bridge devices through netlink
version_added: "0.1.0"
description:
  - Creates, changes in place, or deletes a Linux bridge device (for example the hairpin switch VEPA macvlans need),
    with its MAC, MTU, admin state, STP and addresses, in any named network namespace.
  - Ports are enslaved with M(linuxnet.macvlan.bridge_port).
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
  - linuxnet.macvlan.link
options:
  stp:
    description:
      - Run the spanning tree protocol. Omit to leave unchanged (off for a new bridge).
    type: bool
"""

EXAMPLES = r"""
- name: A hairpin switch for VEPA macvlans
  linuxnet.macvlan.bridge_link:
    name: test_br

- name: A bridge with an address of its own, inside a namespace
  linuxnet.macvlan.bridge_link:
    name: br0
    netns: lab
    addresses: [192.168.9.1/24]
"""

RETURN = r"""
actions:
  description: The operations performed (or planned in check mode), as the equivalent C(ip) commands.
  returned: always
  type: list
  elements: str
  sample: ["ip link add name test_br type bridge", "ip link set dev test_br up"]
link:
  description: The bridge as read back after the change (predicted in check mode); null when absent.
  returned: always
  type: dict
  sample: {name: test_br, kind: bridge, netns: null, stp: false, macaddress: "02:00:00:00:00:01", mtu: 1500,
           admin_state: up, promisc: false, addresses: []}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridge import BridgeLink, BridgeSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import run_resource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import BRIDGE as ARGUMENT_SPEC, check_arguments


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    check_arguments(module)
    run_resource(module, lambda params: BridgeLink(BridgeSpec.from_params(params)), "link")


if __name__ == "__main__":
    main()
