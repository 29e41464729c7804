"""playbooks/site.yml and the macvlan_topology role across a small fleet of emulated hosts.

Each inventory host is a network namespace with its own "eth1" plugged into a bridge (the
switch) in the sandbox; Ansible reaches a host by running its Python inside that namespace."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.host_lane_only("ansible-playbook runs ~50 s each under UML; nothing here needs its kernel")

SITE = str(ROOT / "playbooks" / "site.yml")


@pytest.fixture
def fleet(sandbox, tmp_path):
    """Hosts net1/net2 (seed 000): eth1 each, on one switch; returns (inventory writer, names)."""
    sandbox.ip("link", "add", "sw", "type", "bridge")
    sandbox.ip("link", "set", "sw", "up")
    hosts = {}
    for index, host in enumerate(("net1", "net2"), start=1):
        netns = sandbox.ns(host)
        subprocess.run(["ip", "netns", "add", netns], check=True)
        sandbox.ip("link", "add", "%sp" % host, "type", "veth", "peer", "name", "eth1", "netns", netns)
        sandbox.ip("link", "set", "%sp" % host, "master", "sw", "up")
        sandbox.ip("link", "set", "eth1", "up", netns=netns)
        hosts[host] = {"netns": netns, "child": sandbox.ns("ns%d" % index)}

    def inventory(host_vars):
        data = {"all": {"hosts": {}, "vars": {
            "ansible_connection": "local",
            "macvlan_topology_group": {"links": [{"kind": "macvlan", "name": "macvlan1", "parent": "eth1",
                                                  "mode": "bridge"}]}}}}
        for host, info in hosts.items():
            # Ansible wants an interpreter path: a wrapper that enters the host's namespace.
            wrapper = tmp_path / ("python-%s" % host)
            wrapper.write_text('#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' % (info["netns"], sys.executable))
            wrapper.chmod(0o755)
            data["all"]["hosts"][host] = dict(ansible_python_interpreter=str(wrapper), macvlan_topology=host_vars[host])
        path = tmp_path / "inventory.json"
        path.write_text(json.dumps(data))
        return str(path)
    return inventory, hosts


def site(inventory, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", inventory, SITE, *extra],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600, check=False)
    changed = {host: int(count) for host, count in re.findall(r"(net\d)\s+: ok=\d+\s+changed=(\d+)", proc.stdout)}
    return proc, changed


def layout(hosts, host, last_octet):
    child = hosts[host]["child"]
    return {"namespaces": [{"name": child}],
            "links": [{"name": "macvlan1", "addresses": ["192.168.56.%d/24" % last_octet]},
                      {"kind": "macvlan", "name": "macvlan2", "parent": "eth1", "mode": "bridge", "netns": child,
                       "addresses": ["192.168.56.%d/24" % (last_octet + 10)]}]}


def test_conflicting_fleet_fails_before_any_host_is_touched(sandbox, fleet):
    inventory, hosts = fleet
    proc, _changed = site(inventory({"net1": layout(hosts, "net1", 11), "net2": layout(hosts, "net2", 11)}))
    assert proc.returncode != 0
    assert "address 192.168.56.11 is claimed by net1 (macvlan_topology.links[0].addresses[0]) and net2 " \
           "(macvlan_topology.links[0].addresses[0])" in proc.stdout
    assert "address 192.168.56.21 is claimed by net1" in proc.stdout, "every conflict at once"
    for info in hosts.values():
        assert "macvlan1" not in sandbox.links(info["netns"])
        assert not os.path.exists("/run/netns/%s" % info["child"])


def test_site_builds_each_host_from_inventory_and_hosts_reach_each_other(sandbox, fleet):
    inventory, hosts = fleet
    path = inventory({"net1": layout(hosts, "net1", 11), "net2": layout(hosts, "net2", 12)})
    check, predicted = site(path, "--check", "--diff")
    assert check.returncode == 0 and predicted == {"net1": 1, "net2": 1}, check.stdout[-3000:]
    assert "macvlan1" not in sandbox.links(hosts["net1"]["netns"]), "check mode changed nothing"

    proc, changed = site(path)
    assert proc.returncode == 0 and changed == {"net1": 1, "net2": 1}, proc.stdout[-3000:] + proc.stderr[-2000:]
    # group entry (kind, parent, mode) merged with the host's address
    mac = sandbox.links(hosts["net1"]["netns"])["macvlan1"]
    assert mac["linkinfo"]["info_data"]["mode"] == "bridge" and mac["link"] == "eth1"
    # seed 000: macvlans on two hosts' eth1 in one subnet reach each other, and the one
    # moved into a namespace reaches the other host's
    assert sandbox.ping(hosts["net1"]["netns"], "192.168.56.12")
    assert sandbox.ping(hosts["net1"]["child"], "192.168.56.22")
    assert sandbox.ping(hosts["net2"]["child"], "192.168.56.11")

    again, changed = site(path)
    assert again.returncode == 0 and changed == {"net1": 0, "net2": 0}, again.stdout[-3000:]
