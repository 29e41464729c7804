#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bridge_port
short_description: Enslave links to a Linux bridge and set their port options
version_added: "0.1.0"
description:
  - Makes a link a port of a bridge (or releases it) and sets the bridge-port options, each read back from the
    kernel after it is written (pyroute2 silently ignores unknown keyword arguments).
  - Hairpin is the kernel's bridge-port attribute C(mode); VEPA macvlans need it on the ports that face
    their parents, so that siblings reach each other.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
options:
  name:
    description: The link to enslave (the port).
    type: str
    required: true
  bridge:
    description:
      - The bridge (master). Required when O(state=present); with O(state=absent), release the port only if it
        is enslaved to this bridge.
    type: str
  netns:
    description: Named namespace holding the port and the bridge. Omit for the host's namespace.
    type: str
  hairpin:
    description: Send frames back out of the port they came in on (802.1Qbg reflective relay).
    type: bool
  isolated:
    description: Isolated ports can only talk to non-isolated ones.
    type: bool
  learning:
    description: Learn source MAC addresses on this port.
    type: bool
  unicast_flood:
    description: Flood unknown unicast to this port.
    type: bool
  multicast_flood:
    description: Flood unknown multicast to this port.
    type: bool
  cost:
    description: STP path cost (1-65535).
    type: int
  priority:
    description: STP port priority (0-63).
    type: int
  state:
    description: V(present) enslaves with these settings; V(absent) releases the port from the bridge.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Options left out keep their current value (the kernel's default for a newly enslaved port).
requirements:
  - pyroute2 >= 0.7.2 on the managed host (the oldest tested; Debian 12 ships it)
"""

EXAMPLES = r"""
- name: Switch ports facing VEPA macvlan parents, hairpin on
  linuxnet.macvlan.bridge_port:
    name: "{{ item }}"
    bridge: test_br
    hairpin: true
  loop: [veth1_br, veth2_br]

- name: Release a port
  linuxnet.macvlan.bridge_port:
    name: veth2_br
    bridge: test_br
    state: absent
"""

RETURN = r"""
actions:
  description: The operations performed (or planned in check mode), as the equivalent C(ip)/C(bridge) commands.
  returned: always
  type: list
  elements: str
  sample: ["ip link set dev veth1_br master test_br", "bridge link set dev veth1_br hairpin on"]
port:
  description: The port as read back after the change (predicted in check mode).
  returned: always
  type: dict
  sample: {name: veth1_br, netns: null, bridge: test_br, hairpin: true, isolated: false, learning: true,
           unicast_flood: true, multicast_flood: true, cost: 2, priority: 32}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.bridgeport import BridgePort, BridgePortSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import run_resource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import (
    BRIDGE_PORT as ARGUMENT_SPEC,
    check_arguments,
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("state", "present", ["bridge"])],
        supports_check_mode=True,
    )
    check_arguments(module)
    run_resource(module, lambda params: BridgePort(BridgePortSpec.from_params(params)), "port")


if __name__ == "__main__":
    main()
