#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: net_sysctls
short_description: Set net.* sysctls of the host's namespace and of named namespaces in one call, restorably
version_added: "0.2.0"
description:
  - Sets C(net.*) sysctls in the host's network namespace and inside named network namespaces, all in one call
    (the C(linuxnet.macvlan.arp_sysctl) role runs it once per host).
  - Every key (and every namespace) is checked before the first write; nothing changes when one is missing.
  - The host's keys are kept in one C(sysctl.d) file (O(file)), holding exactly the listed keys, so that
    C(systemd-sysctl) applies them again at boot.
  - The value each key had before this module first changed it is recorded in O(record). A key that is no longer
    listed gets that value back, and V(absent) restores every recorded key and removes the files. A key whose
    namespace or interface is gone by then is forgotten (and reported in RV(forgotten)).
  - Every written value is read back; when the kernel does not take one, the keys already written are restored.
author:
  - linuxnet.macvlan team (@linuxnet)
extends_documentation_fragment:
  - linuxnet.macvlan.attributes
options:
  state:
    description:
      - V(present) sets the listed keys; V(absent) restores the recorded values and removes O(file) and O(record).
    type: str
    choices: [present, absent]
    default: present
  sysctls:
    description:
      - C(net.*) keys and values for the host's network namespace (the one the module runs in).
      - Write keys for interface names containing dots with C(/) separators, like C(net/ipv4/conf/eth1.100/rp_filter).
    type: dict
    default: {}
  namespaces:
    description: Named network namespaces (which must exist; never created) and their keys.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Namespace name (under C(/run/netns)).
        type: str
        required: true
      sysctls:
        description: C(net.*) keys and values inside that namespace.
        type: dict
        default: {}
  pending:
    description:
      - What an earlier task of the same run creates (the topology module), so that check mode can predict the keys
        there instead of failing. A real run requires everything to exist.
    type: dict
    suboptions:
      namespaces:
        description: Namespaces created earlier in the run.
        type: list
        elements: str
      interfaces:
        description: Namespace name (V('') for the host's) -> interfaces created earlier in the run.
        type: dict
  file:
    description: The C(sysctl.d) file that holds the host's keys (removed when there are none, or on V(absent)).
    type: path
  header:
    description: First line of O(file).
    type: str
    default: "# Managed by Ansible (linuxnet.macvlan): edits are overwritten."
  remove_files:
    description: Files to remove (the file of the other persistence mode).
    type: list
    elements: path
    default: []
  record:
    description:
      - JSON file with each key's value from before the first change. Keep it beside O(file), with a name that does
        not end in C(.conf).
    type: path
  previous_records:
    description: Earlier locations of O(record), read when O(record) does not exist, then removed.
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: ARP keys for several addresses in one subnet, in the host's namespace and inside ns1, kept across reboots
  linuxnet.macvlan.net_sysctls:
    sysctls:
      net.ipv4.conf.all.arp_ignore: 1
      net.ipv4.conf.all.arp_announce: 2
      net/ipv4/conf/eth1.100/rp_filter: 2
    namespaces:
      - {name: ns1, sysctls: {net.ipv4.conf.all.arp_ignore: 1}}
    file: /etc/sysctl.d/60-linuxnet-arp.conf
    record: /etc/sysctl.d/60-linuxnet-arp.conf.before

- name: Give every key its value from before, remove the files
  linuxnet.macvlan.net_sysctls:
    state: absent
    file: /etc/sysctl.d/60-linuxnet-arp.conf
    record: /etc/sysctl.d/60-linuxnet-arp.conf.before
"""

RETURN = r"""
sysctls:
  description: Per namespace (C(host) for the host's), each managed key's value after the run.
  returned: success
  type: dict
written:
  description: Every key written (or, in check mode, to be written), with its value before and after.
  returned: success
  type: list
  elements: dict
restored:
  description: Keys given back their recorded value (no longer listed, or V(absent)).
  returned: success
  type: list
  elements: dict
forgotten:
  description: Recorded keys whose namespace or interface no longer exists; nothing to restore.
  returned: success
  type: list
  elements: dict
files:
  description: Files written or removed.
  returned: success
  type: list
  elements: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.macvlan.plugins.module_utils.netsysctl import Failed, converge

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
    sysctls=dict(type="dict", default={}),
    namespaces=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        sysctls=dict(type="dict", default={}),
    )),
    pending=dict(type="dict", options=dict(
        namespaces=dict(type="list", elements="str"),
        interfaces=dict(type="dict"),
    )),
    file=dict(type="path"),
    header=dict(type="str", default="# Managed by Ansible (linuxnet.macvlan): edits are overwritten."),
    remove_files=dict(type="list", elements="path", default=[]),
    record=dict(type="path"),
    previous_records=dict(type="list", elements="path", default=[]),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    problems = ["%s: only net.* keys (per-namespace sysctls) can be set here" % key
                for table in [module.params["sysctls"]] + [entry["sysctls"] for entry in module.params["namespaces"]]
                for key in table if not str(key).startswith(("net.", "net/"))]
    if problems:
        module.fail_json(msg="; ".join(problems), changed=False)
    try:
        result = converge(module.params, module.check_mode)
    except Failed as exc:
        module.fail_json(msg=str(exc), changed=bool(exc.extra.get("written")), **exc.extra)
    except (OSError, ValueError) as exc:
        module.fail_json(msg="net_sysctls: %s" % exc, exception=traceback.format_exc(), changed=False)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
