#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: macvlan_link
short_description: Manage macvlan and macvtap links through netlink
version_added: "0.1.0"
description:
  - Creates, changes in place, or deletes a macvlan or macvtap link, in any named network namespace.
  - Mode, C(nopromisc), the source MAC list, MAC, MTU, admin state, promiscuity and addresses are changed in
    place. Only what the kernel cannot change in place (O(kind), O(parent), switching to or from
    V(passthru)) re-creates the link, and the result's actions and diff say so.
  - Input is validated before anything is touched; a failure half-way rolls back what the task changed.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
  - linuxnet.macvlan.link
  - linuxnet.macvlan.link.parent
options:
  kind:
    description:
      - V(macvlan) hands frames to the network stack; V(macvtap) to a C(/dev/tapN) character device for a VM.
    type: str
    choices: [macvlan, macvtap]
    default: macvlan
  mode:
    description:
      - V(private) children of one parent never talk to each other.
      - V(vepa) (the kernel's default) child-to-child traffic leaves through the parent and needs a hairpin switch.
      - V(bridge) children talk to each other directly.
      - V(passthru) one child only per parent, which takes over the parent.
      - V(source) only frames whose source MAC is in O(source_macs) are received.
    type: str
    choices: [private, vepa, bridge, passthru, source]
    default: vepa
  nopromisc:
    description:
      - With V(passthru) only, leave the parent's promiscuous flag alone instead of forcing it on.
    type: bool
  source_macs:
    description:
      - With O(mode=source) only, the exact list of allowed source MAC addresses.
      - Changed in place with the kernel's add, del and flush operations; the link is not re-created.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Two bridge-mode macvlans on eth1, each in its own namespace
  linuxnet.macvlan.macvlan_link:
    name: "mac{{ item.n }}"
    parent: eth1
    mode: bridge
    netns: "ns{{ item.n }}"
    addresses: ["192.168.56.{{ item.host }}/24"]
  loop:
    - {n: 1, host: 122}
    - {n: 2, host: 123}

- name: macvtap for a VM, passthru without forcing promiscuous mode on the parent
  linuxnet.macvlan.macvlan_link:
    name: macvtap0
    parent: eth2
    kind: macvtap
    mode: passthru
    nopromisc: true

- name: Receive only from two stations (802.1X-like MAC-based VLAN)
  linuxnet.macvlan.macvlan_link:
    name: mvsrc
    parent: eth1
    mode: source
    source_macs: ["52:54:00:12:34:56", "52:54:00:12:34:57"]

- name: Remove a macvlan
  linuxnet.macvlan.macvlan_link:
    name: mac1
    netns: ns1
    state: absent
"""

RETURN = r"""
actions:
  description: The operations performed (or, in check mode, planned), as the equivalent C(ip) commands.
  returned: always
  type: list
  elements: str
  sample: ["ip link add link eth1 name mac1 netns ns1 type macvlan mode bridge", "ip -n ns1 link set dev mac1 up"]
link:
  description: The link as read back from the kernel after the change (predicted in check mode); null when absent.
  returned: always
  type: dict
  sample:
    name: mac1
    kind: macvlan
    netns: ns1
    parent: eth1
    parent_netns: null
    mode: bridge
    nopromisc: false
    source_macs: []
    macaddress: "2e:6e:d9:08:c5:05"
    mtu: 1500
    admin_state: up
    promisc: false
    addresses: ["192.168.56.122/24"]
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

from ansible_collections.linuxnet.macvlan.plugins.module_utils.macvlan import MacvlanLink, MacvlanSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import run_resource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import MACVLAN as ARGUMENT_SPEC, check_arguments


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("state", "present", ["parent"])],
        supports_check_mode=True,
    )
    check_arguments(module)
    run_resource(module, lambda params: MacvlanLink(MacvlanSpec.from_params(params)), "link")


if __name__ == "__main__":
    main()
