"""Persistence, proved by real reboots: a User-mode Linux guest boots systemd as its init
(scripts/uml/uml-boot: the host's files under a persistent overlay disk), applies
playbooks/site.yml to itself, reboots, and finds its layout -- namespaces with their
addresses, routes, neighbors and sysctls, VLAN and macvlan links with the same MACs, the
host-access shim, the ARP sysctls -- back as applied, brought back by the same systemd unit
and sysctl.d files a real host boots with. Then it removes the layout and a second reboot
brings nothing back."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.host_lane_only("boots its own User-mode Linux guest, with systemd as init")

SYSCTLS = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce", "net.ipv4.conf.all.rp_filter",
           "net.ipv4.conf.default.arp_ignore", "net/ipv4/conf/eth1.10/arp_ignore",
           "net/ipv4/conf/eth1.10/rp_filter"]

NAMESPACE_SYSCTLS = {"ns1": {"net.ipv4.conf.all.arp_ignore": 1}}
HOST_VARS = {
    "ansible_connection": "local",
    "ansible_python_interpreter": sys.executable,
    "macvlan_topology": {
        "namespaces": [
            {"name": "ns1", "sysctls": NAMESPACE_SYSCTLS["ns1"],
             "routes": [{"dest": "default", "dev": "mv1"}],
             "neighbors": [{"address": "10.20.0.9", "lladdr": "02:00:00:00:00:09", "dev": "mv1"}]},
            {"name": "ns2"},
        ],
        "links": [
            {"kind": "veth", "name": "eth1", "peer": "eth1-sw"},
            {"kind": "vlan", "name": "eth1.10", "parent": "eth1", "vlan_id": 10},
            {"kind": "macvlan", "name": "mv1", "parent": "eth1.10", "mode": "bridge", "netns": "ns1",
             "addresses": ["10.20.0.2/24"]},
            {"kind": "macvlan", "name": "mv2", "parent": "eth1.10", "mode": "bridge", "netns": "ns2",
             "addresses": ["10.20.0.3/24", "fd00:20::3/64"]},
        ],
    },
    "macvlan_topology_host_access": [{"parent": "eth1.10", "address": "10.20.0.250/32"}],
    "arp_sysctl_interfaces": ["all", "default", "eth1.10"],
}

PLAYBOOK = "%s/.venv/bin/ansible-playbook -i {steps}/inventory.json %s/playbooks/site.yml" % (ROOT, ROOT)
# The Molecule scenarios' probe (ip -j and /proc, never the engine): one reader of a host's layout.
PROBE = ROOT / "extensions" / "molecule" / "shared" / "files" / "lnmol_probe.py"
SNAPSHOT = "%s %s %s > {steps}/state-{n}.json" % (sys.executable, PROBE, shlex.quote(json.dumps({"sysctls": SYSCTLS})).replace("{", "{{").replace("}", "}}"))

BOOT_1 = """set -eux
export ANSIBLE_CONFIG={root}/ansible.cfg ANSIBLE_NOCOLOR=1
{playbook}
{playbook} > {steps}/second-run.log   # idempotence on the guest too
{snapshot_1}
systemctl is-enabled linuxnet-macvlan.service
systemctl reboot
"""

BOOT_2 = """set -eux
export ANSIBLE_CONFIG={root}/ansible.cfg ANSIBLE_NOCOLOR=1
{snapshot_2}
systemctl is-active linuxnet-macvlan.service
journalctl -b -u linuxnet-macvlan.service --no-pager > {steps}/unit.log
ip netns exec ns1 ping -c 1 -W 2 10.20.0.3   # the layout works, not only exists
ping -c 1 -W 2 10.20.0.2                     # through the shim
{playbook} -e macvlan_topology_state=absent -e '{{"arp_sysctl_interfaces": []}}'
{snapshot_3}
systemctl reboot
"""

BOOT_3 = """set -eux
{snapshot_4}
test ! -e /etc/systemd/system/linuxnet-macvlan.service
systemctl poweroff
"""


def test_layout_namespaces_and_sysctls_survive_a_real_reboot_and_removal_is_final(tmp_path):
    steps = tmp_path
    (steps / "inventory.json").write_text(json.dumps({"all": {"hosts": {"guest": HOST_VARS}}}))
    fill = dict(root=ROOT, steps=steps, playbook=PLAYBOOK.format(steps=steps))
    for n in (1, 2, 3, 4):
        fill["snapshot_%d" % n] = SNAPSHOT.format(root=ROOT, steps=steps, n=n)
    for n, text in enumerate((BOOT_1, BOOT_2, BOOT_3), start=1):
        (steps / ("boot-%d.sh" % n)).write_text(text.format(**fill))
    proc = subprocess.run([str(ROOT / "scripts" / "uml" / "uml-boot"), "--udev", "--timeout", "1200",
                           "--steps", str(steps)], capture_output=True, text=True, check=False, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-12000:]

    applied, rebooted, removed, after = (json.loads((steps / ("state-%d.json" % n)).read_text())["netns"]
                                         for n in (1, 2, 3, 4))
    namespaces = [sorted(name for name in state if name) for state in (applied, rebooted, removed, after)]
    assert "changed=0" in (steps / "second-run.log").read_text()
    # what was applied...
    assert namespaces[0] == namespaces[1] == ["ns1", "ns2"]
    host = applied[""]
    mv1 = applied["ns1"]["links"]["mv1"]
    assert mv1["kind"] == "macvlan" and mv1["mode"] == "bridge" and mv1["addresses"] == ["10.20.0.2/24"]
    assert host["links"]["eth1.10"]["vlan_id"] == 10
    assert host["links"]["shim-eth1.10"]["mode"] == "bridge"
    assert applied["ns1"]["neighbors"] == ["10.20.0.9 02:00:00:00:00:09 mv1"]
    assert host["sysctls"]["net.ipv4.conf.all.arp_ignore"] == "1"
    assert host["sysctls"]["net/ipv4/conf/eth1.10/arp_ignore"] == "1"
    # ...is exactly what the reboot brought back (same MACs included). Namespace sysctls the
    # layout does not list are the kernel's to choose: a new namespace copies the host's
    # all/default values of the moment (at boot the host's are already set by systemd-sysctl).
    for state in (applied, rebooted):
        for name in ("ns1", "ns2"):
            state[name]["sysctls"] = {key: value for key, value in state[name]["sysctls"].items()
                                      if key in NAMESPACE_SYSCTLS.get(name, {})}
    assert rebooted == applied
    assert rebooted["ns1"]["sysctls"] == {"net.ipv4.conf.all.arp_ignore": "1"}
    unit_log = (steps / "unit.log").read_text()
    assert "50-macvlan_topology.json: " in unit_log and "action(s)" in unit_log, unit_log
    # removal: gone at once, and nothing comes back at the next boot
    for names, state in zip(namespaces[2:], (removed, after)):
        assert names == []
        assert not {"eth1", "eth1-sw", "eth1.10", "shim-eth1.10"} & set(state[""]["links"])
    assert after[""]["sysctls"]["net.ipv4.conf.all.arp_ignore"] == "0"
