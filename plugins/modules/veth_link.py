#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: veth_link
short_description: Manage veth pairs through netlink
version_added: "0.1.0"
description:
  - Creates, changes in place, or deletes a veth pair (a "cable", for example into a Linux bridge that plays a switch), each end in any named
    network namespace. The pair is managed from the end called O(name); deleting it deletes both ends.
  - Changing O(peer) or O(peer_netns) re-creates the pair, and the diff header says so.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
  - linuxnet.macvlan.link
options:
  peer:
    description:
      - Name of the other end. Required when O(state=present).
    type: str
  peer_netns:
    description:
      - Named namespace of the other end. Omit for the host's namespace (as for a parent elsewhere).
    type: str
  peer_admin_state:
    description:
      - Administrative state of the other end.
    type: str
    choices: [up, down]
    default: up
"""

EXAMPLES = r"""
- name: Two cables, their switch-side ends to be enslaved to the bridge test_br
  linuxnet.macvlan.veth_link:
    name: "{{ item }}"
    peer: "{{ item }}_br"
  loop: [veth1, veth2]

- name: A namespace's uplink
  linuxnet.macvlan.veth_link:
    name: eth1
    netns: net1
    peer: net1-eth1
    peer_netns: switch
"""

RETURN = r"""
actions:
  description: The operations performed (or planned in check mode), as the equivalent C(ip) commands.
  returned: always
  type: list
  elements: str
  sample: ["ip link add name veth1 type veth peer name veth1_br", "ip link set dev veth1_br up",
           "ip link set dev veth1 up"]
link:
  description: The end called O(name), with its peer, as read back (predicted in check mode); null when absent.
  returned: always
  type: dict
  sample: {name: veth1, kind: veth, netns: null, peer: veth1_br, peer_netns: null, peer_admin_state: up,
           macaddress: "02:00:00:00:00:01", mtu: 1500, admin_state: up, promisc: false, addresses: []}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.veth import VethLink, VethSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import run_resource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import VETH as ARGUMENT_SPEC, check_arguments


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("state", "present", ["peer"])],
        supports_check_mode=True,
    )
    check_arguments(module)
    run_resource(module, lambda params: VethLink(VethSpec.from_params(params)), "link")


if __name__ == "__main__":
    main()
