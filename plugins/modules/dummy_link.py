#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dummy_link
short_description: Manage dummy devices through netlink
version_added: "0.2.0"
description:
  - Creates, changes in place, or deletes a dummy device, in any named network namespace.
  - A dummy device is a NIC that needs no hardware, for example the parent of macvlan or ipvlan children on a
    host (or in a test) without a spare NIC, or a stable address that does not depend on any cable.
  - The kernel needs the C(dummy) module (C(CONFIG_DUMMY)).
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
  - linuxnet.macvlan.link
"""

EXAMPLES = r"""
- name: A stand-in NIC for macvlan children
  linuxnet.macvlan.dummy_link:
    name: dummy0

- name: A service address that stays up whatever the cables do
  linuxnet.macvlan.dummy_link:
    name: svc0
    addresses: [10.99.0.1/32]
"""

RETURN = r"""
actions:
  description: The operations performed (or planned in check mode), as the equivalent C(ip) commands.
  returned: always
  type: list
  elements: str
  sample: ["ip link add name dummy0 type dummy", "ip link set dev dummy0 up"]
link:
  description: The device as read back after the change (predicted in check mode); null when absent.
  returned: always
  type: dict
  sample: {name: dummy0, kind: dummy, netns: null, macaddress: "6a:1e:33:b5:0c:21", mtu: 1500, admin_state: up,
           promisc: false, addresses: []}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.dummy import DummyLink, DummySpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import DUMMY
from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import run_resource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import argument_spec, check_arguments

ARGUMENT_SPEC = argument_spec(DUMMY)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    check_arguments(module)
    run_resource(module, lambda params: DummyLink(DummySpec.from_params(params)), "link")


if __name__ == "__main__":
    main()
