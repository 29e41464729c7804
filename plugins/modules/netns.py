#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: netns
short_description: Manage named network namespaces and what belongs to them
version_added: "0.1.0"
description:
  - Creates or deletes a named network namespace (as C(ip netns add) does, under C(/run/netns)).
  - Inside it, brings the loopback up, sets per-namespace C(net.*) sysctls, and keeps exact lists of static
    routes and permanent neighbor (ARP/NDP) entries.
  - Deleting a namespace that still holds links lists those links in the diff; virtual links in it are destroyed
    with it, physical ones return to the host's namespace.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
options:
  name:
    description:
      - Namespace name (letters, digits, C(.), C(_), C(-)).
    type: str
    required: true
  state:
    description:
      - V(present) creates the namespace if needed and applies the settings; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  loopback_up:
    description:
      - Bring C(lo) up inside the namespace (V(false) brings it down).
    type: bool
    default: true
  sysctls:
    description:
      - C(net.*) sysctls to set inside the namespace, for example C(net.ipv4.conf.all.arp_ignore=1).
        Each value is read back after writing.
      - Keys outside C(net.) are refused, since they are not per-namespace and would change the whole host.
      - Write keys for interface names containing dots with C(/) separators, like C(net/ipv4/conf/eth0.100/rp_filter).
    type: dict
  routes:
    description:
      - The exact list of static routes in the main table; other non-kernel routes there are removed.
        Routes the kernel adds for addresses (proto kernel) and those from routing daemons are never touched.
      - Omit to leave routes alone; V([]) removes all static routes.
    type: list
    elements: dict
    suboptions:
      dest:
        description: V(default) (IPv4), V(::/0) (IPv6 default) or a network prefix.
        type: str
        default: default
      via:
        description: Gateway address.
        type: str
      dev:
        description: Output interface inside the namespace.
        type: str
      metric:
        description: Route metric (IPv6 routes default to the kernel's 1024).
        type: int
  neighbors:
    description:
      - The exact list of permanent neighbor entries (like C(ip neigh replace ... nud permanent)); other permanent
        entries are removed. A stale or FAILED entry for a listed address is replaced.
      - Omit to leave neighbor entries alone.
    type: list
    elements: dict
    suboptions:
      address:
        description: IPv4 or IPv6 address of the neighbor.
        type: str
        required: true
      lladdr:
        description: Its MAC address.
        type: str
        required: true
      dev:
        description: Interface inside the namespace.
        type: str
        required: true
notes:
  - Supports check mode and diff mode; the result's RV(actions) lists the equivalent C(ip) commands.
  - A failure half-way rolls back what the task changed (a namespace created by the task is deleted again).
requirements:
  - pyroute2 >= 0.7.2 on the managed host (the oldest tested; Debian 12 ships it)
"""

EXAMPLES = r"""
- name: Namespace for a container-like workload, with the ARP settings several interfaces in one subnet need
  linuxnet.macvlan.netns:
    name: ns1
    sysctls:
      net.ipv4.conf.all.arp_ignore: 1
      net.ipv4.conf.all.arp_announce: 2
      net.ipv4.conf.all.rp_filter: 2

- name: Default route and static neighbor (private-mode macvlans need static neighbors)
  linuxnet.macvlan.netns:
    name: ns1
    routes:
      - dest: default
        via: 192.168.9.1
    neighbors:
      - address: 192.168.9.3
        lladdr: "82:a3:b5:0f:fc:0c"
        dev: macvl1

- name: Delete a namespace and everything virtual in it
  linuxnet.macvlan.netns:
    name: ns1
    state: absent
"""

RETURN = r"""
actions:
  description: The operations performed (or planned in check mode), as the equivalent C(ip) commands.
  returned: always
  type: list
  elements: str
  sample: ["ip netns add ns1", "ip -n ns1 link set dev lo up"]
namespace:
  description: The namespace as read back after the change (predicted in check mode); null when absent.
  returned: always
  type: dict
  sample:
    name: ns1
    loopback_up: true
    links: ["mac1 (macvlan)"]
    sysctls: {"net.ipv4.conf.all.arp_ignore": "1"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.namespace import Netns, NetnsSpec
from ansible_collections.linuxnet.macvlan.plugins.module_utils.runner import run_resource
from ansible_collections.linuxnet.macvlan.plugins.module_utils.schema import NETNS as ARGUMENT_SPEC, check_arguments


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    check_arguments(module)
    run_resource(module, lambda params: Netns(NetnsSpec.from_params(params)), "namespace")


if __name__ == "__main__":
    main()
