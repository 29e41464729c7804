# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options every link module shares.
    DOCUMENTATION = r"""
options:
  name:
    description:
      - Interface name, 1 to 15 bytes, without C(/), C(:) or white space.
    type: str
    required: true
  netns:
    description:
      - Named network namespace (under C(/run/netns)) where the link must live.
      - Omit for the namespace the module runs in (the host's).
      - The link is created directly in it (no create-then-move); a namespace that does not exist is an error
        naming it, never created by accident.
    type: str
  macaddress:
    description:
      - Unicast MAC address of the link. Omit to keep the one the kernel chose.
    type: str
  mtu:
    description:
      - MTU; between 68 and the parent's MTU. Omit to keep the current one.
    type: int
  admin_state:
    description:
      - Administrative state of the link.
    type: str
    choices: [up, down]
    default: up
  promisc:
    description:
      - Set or clear the link's own promiscuous flag. Omit to leave it alone.
    type: bool
  addresses:
    description:
      - The exact list of IPv4/IPv6 addresses, in CIDR form, on the link; others are removed.
      - Kernel IPv6 link-local addresses (C(fe80::/10)) are left alone unless listed.
      - Omit to leave addresses alone; V([]) removes all.
    type: list
    elements: str
  routes:
    description:
      - The exact list of static routes in the main table that go out through this link; other static routes
        through it are removed. Routes through other links are never touched, so this is safe in the host's
        namespace (for example the host-access shim's routes to its macvlan children).
      - Each entry is a destination (V(192.168.56.122/32), V(default)) or a dict with C(dest), C(via) and C(metric).
      - Omit to leave routes alone; V([]) removes all static routes through the link. Needs O(admin_state=up).
    type: list
    elements: raw
  state:
    description:
      - V(present) makes the link exist as described; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Every write is read back from the kernel; a value the kernel did not take fails the task and everything
    the task changed is rolled back.
  - Supports check mode and diff mode; the result's RV(actions) lists the equivalent C(ip) commands.
requirements:
  - pyroute2 >= 0.7.2 on the managed host (the oldest tested; Debian 12 ships it)
"""

    # Options of links stacked on a lower device (macvlan_link, vlan_link).
    PARENT = r"""
options:
  parent:
    description:
      - The lower device the link sits on, looked up in O(parent_netns).
      - Required when O(state=present).
    type: str
  parent_netns:
    description:
      - Named network namespace that holds O(parent). Omit for the host's namespace.
    type: str
"""
