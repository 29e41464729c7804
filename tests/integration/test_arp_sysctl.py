"""The arp_sysctl role through ansible-playbook, against an emulated host.

The host is scripts/lab/emuhost's: a network namespace and a mount namespace with a private
/run/netns (Ansible runs its Python there through the wrapper emuhost prints, as in
test_site.py), so every net.* sysctl the role writes lands in that namespace, and the named
namespaces made in it are registered in it only. The role's files go to a temporary
directory. Values are read back from /proc/sys, never through the code under test."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from conftest import ROOT, sh

pytestmark = pytest.mark.host_lane_only("ansible-playbook runs ~50 s each under UML; nothing here needs its kernel")

EMUHOST = str(ROOT / "scripts" / "lab" / "emuhost")
KEYS = ("arp_ignore", "arp_announce", "rp_filter", "arp_filter")
HEADER = "# Managed by Ansible (linuxnet.macvlan.arp_sysctl): edits are overwritten."


def emu(host, *cmd):
    """Run a command inside the emulated host (its network, its own /run/netns)."""
    return sh(EMUHOST, "exec", host, *cmd).stdout


def real_host_values():
    """The machine's own values: the tests must never change them."""
    values = {}
    for ifname in ("all", "default", "lo"):
        for key in KEYS:
            with open("/proc/sys/net/ipv4/conf/%s/%s" % (ifname, key)) as handle:
                values[(ifname, key)] = handle.read().strip()
    return values


@pytest.fixture
def host(sandbox, tmp_path):
    """One emulated host: eth1 and e1.100 (a dotted name: any link can have one), and the
    named namespaces `inner` (holding m1.5, lo down) and `inner2` (lo up) inside it;
    returns a runner for the role and readers."""
    name = sandbox.ns("net1")
    real_before = real_host_values()
    sh(EMUHOST, "up", name)
    try:
        sh(EMUHOST, "plug", name, "eth1", "net1p", sandbox.net_path)
        emu(name, "ip", "link", "add", "e1.100", "type", "veth", "peer", "name", "e1p")
        for inner in ("inner", "inner2"):
            emu(name, "ip", "netns", "add", inner)
        emu(name, "ip", "-n", "inner", "link", "add", "m1.5", "type", "veth", "peer", "name", "m1p")
        emu(name, "ip", "-n", "inner2", "link", "set", "lo", "up")
        wrapper = sh(EMUHOST, "python", name).stdout.strip()
        playbook = tmp_path / "play.yml"
        playbook.write_text("- hosts: all\n  gather_facts: false\n  roles: [linuxnet.macvlan.arp_sysctl]\n")
        files = {"etc": tmp_path / "etc" / "sysctl.d" / "60-linuxnet-arp.conf",
                 "run": tmp_path / "run" / "sysctl.d" / "60-linuxnet-arp.conf"}

        def run(role_vars, *extra):
            host_vars = dict(ansible_connection="local", ansible_python_interpreter=wrapper,
                             arp_sysctl_file=str(files["etc"]), arp_sysctl_runtime_file=str(files["run"]))
            host_vars.update(role_vars)
            inventory = tmp_path / "inventory.json"
            inventory.write_text(json.dumps({"all": {"hosts": {"net1": host_vars}}}))
            env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
            result = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory),
                                     str(playbook), *extra], cwd=str(ROOT), env=env, capture_output=True,
                                    text=True, timeout=600, check=False)
            recap = re.search(r"net1\s+: ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", result.stdout)
            result.changed = int(recap.group(1)) if recap else None
            result.failed = int(recap.group(2)) if recap else None
            return result

        def values(interfaces, netns=None):
            prefix = ("ip", "netns", "exec", netns) if netns else ()
            return {(ifname, key): emu(name, *prefix, "cat", "/proc/sys/net/ipv4/conf/%s/%s" % (ifname, key)).strip()
                    for ifname in interfaces for key in KEYS}

        yield {"run": run, "values": values, "name": name, "files": files}
    finally:
        sh(EMUHOST, "down", name, check=False)
    assert real_host_values() == real_before, "the machine's own sysctls changed"
    assert not os.path.exists("/etc/sysctl.d/60-linuxnet-arp.conf")
    assert not os.path.exists("/run/sysctl.d/60-linuxnet-arp.conf")


HOST_IFS = ("all", "default", "eth1", "e1.100")


def full_vars(**overrides):
    role_vars = {"arp_sysctl_interfaces": list(HOST_IFS),
                 "arp_sysctl_extra": {"arp_filter": 1},
                 "arp_sysctl_namespaces": [{"name": "inner", "interfaces": ["all", "default", "m1.5"]},
                                           {"name": "inner2"}]}
    role_vars.update(overrides)
    return role_vars


def expected(interfaces, arp_ignore="1", arp_announce="2", rp_filter="2", arp_filter="1"):
    wanted = {"arp_ignore": arp_ignore, "arp_announce": arp_announce, "rp_filter": rp_filter, "arp_filter": arp_filter}
    return {(ifname, key): wanted[key] for ifname in interfaces for key in KEYS}


def lo_up(host, netns):
    return "UP" in json.loads(emu(host["name"], "ip", "-n", netns, "-j", "link", "show", "lo"))[0]["flags"]


def namespaces(host):
    return emu(host["name"], "ip", "netns", "list").split()


def key_lines(path):
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def sysctl_name(ifname, key):
    return "net/ipv4/conf/%s/%s" % (ifname, key) if "." in ifname else "net.ipv4.conf.%s.%s" % (ifname, key)


INNER_IFS = ("all", "default", "m1.5")


def everywhere(host):
    """The keys in the host's namespace, in `inner` and in `inner2`."""
    values = host["values"]
    return values(HOST_IFS), values(INNER_IFS, "inner"), values(("all", "default"), "inner2")


def test_check_apply_idempotence_dotted_names_and_namespaces(host):
    run = host["run"]
    inner_ifs = INNER_IFS

    def state():
        return everywhere(host)
    before = state()
    assert before[0] != expected(HOST_IFS) and before[1] != expected(inner_ifs)

    check = run(full_vars(), "--check", "--diff")
    assert check.returncode == 0 and check.changed > 0, check.stdout[-4000:] + check.stderr[-2000:]
    assert state() == before, "check mode changed a value"
    assert not host["files"]["etc"].exists() and not host["files"]["run"].exists()
    assert '+        "net/ipv4/conf/m1.5/arp_ignore": "1"' in check.stdout, "the diff, per namespace"
    assert "+net/ipv4/conf/e1.100/arp_ignore=1" in check.stdout, "the file's diff"
    assert check.changed == 1, "one call sets every key"

    applied = run(full_vars(), "--diff")
    assert applied.returncode == 0 and applied.changed > 0, applied.stdout[-4000:] + applied.stderr[-2000:]
    assert state() == (expected(HOST_IFS), expected(inner_ifs), expected(("all", "default")))
    assert not lo_up(host, "inner") and lo_up(host, "inner2"), "the role changed lo in a namespace"
    assert sorted(namespaces(host)) == ["inner", "inner2"]

    # the host's keys, once each, a dotted interface name in the slash form; nothing in /run
    assert host["files"]["etc"].read_text().startswith(HEADER + "\n")
    lines = key_lines(host["files"]["etc"])
    assert lines == ["%s=%s" % (sysctl_name(ifname, key), expected((ifname,))[(ifname, key)])
                     for ifname in HOST_IFS for key in KEYS]
    assert "net/ipv4/conf/e1.100/arp_ignore=1" in lines
    assert oct(host["files"]["etc"].stat().st_mode & 0o777) == "0o644"
    assert not host["files"]["run"].exists()

    again = run(full_vars())
    assert again.returncode == 0 and again.changed == 0, again.stdout[-4000:]
    recheck = run(full_vars(), "--check", "--diff")
    assert recheck.returncode == 0 and recheck.changed == 0, recheck.stdout[-4000:]


def test_file_brings_the_values_back_after_a_reboot(host, sandbox):
    """A reboot, emulated: a fresh namespace with the same interfaces gets the file applied by
    systemd-sysctl (what runs at boot) and by `sysctl -p`."""
    result = host["run"](full_vars(arp_sysctl_namespaces=[]))
    assert result.returncode == 0, result.stdout[-4000:]
    tools = [["sysctl", "-q", "-p"]] + [[path] for path in ("/lib/systemd/systemd-sysctl",) if os.path.exists(path)]
    for index, tool in enumerate(tools):
        fresh = sandbox.ns("boot%d" % index)
        sandbox.ip("netns", "add", fresh)
        sandbox.ip("link", "add", "eth1", "type", "veth", "peer", "name", "e1.100", netns=fresh)
        read = {(ifname, key): sandbox.exec("cat", "/proc/sys/net/ipv4/conf/%s/%s" % (ifname, key),
                                            netns=fresh).stdout.strip()
                for ifname in HOST_IFS for key in KEYS}
        assert read != expected(HOST_IFS)
        sandbox.exec(*tool, str(host["files"]["etc"]), netns=fresh)
        read = {(ifname, key): sandbox.exec("cat", "/proc/sys/net/ipv4/conf/%s/%s" % (ifname, key),
                                            netns=fresh).stdout.strip()
                for ifname in HOST_IFS for key in KEYS}
        assert read == expected(HOST_IFS), tool


def test_not_persisted_removes_the_file_and_stale_keys_go(host):
    run, values, files = host["run"], host["values"], host["files"]
    original = values(HOST_IFS)
    first = run(full_vars(arp_sysctl_namespaces=[]))
    assert first.returncode == 0 and files["etc"].exists(), first.stdout[-4000:]

    # not persisted, one value changed, e1.100 no longer listed
    role_vars = full_vars(arp_sysctl_namespaces=[], arp_sysctl_persist=False,
                          arp_sysctl_interfaces=["all", "default", "eth1"], arp_sysctl_arp_ignore=2)
    result = run(role_vars)
    assert result.returncode == 0 and result.changed > 0, result.stdout[-4000:]
    assert not files["etc"].exists(), "persist: false removes the role's file"
    assert values(("all", "default", "eth1")) == expected(("all", "default", "eth1"), arp_ignore="2")
    lines = key_lines(files["run"])
    assert "net.ipv4.conf.eth1.arp_ignore=2" in lines and not any("e1.100" in line for line in lines)
    assert len(lines) == 12
    # a key no longer listed gets back the value it had before the role first changed it
    assert values(("e1.100",)) == {key: value for key, value in original.items() if key[0] == "e1.100"}
    again = run(role_vars)
    assert again.returncode == 0 and again.changed == 0, again.stdout[-4000:]

    # back to persisted: the runtime file goes; no host interface listed: both go
    back = run(dict(role_vars, arp_sysctl_persist=True))
    assert back.returncode == 0 and files["etc"].exists() and not files["run"].exists()
    assert "net.ipv4.conf.eth1.arp_ignore=2" in key_lines(files["etc"])
    none = run(dict(role_vars, arp_sysctl_interfaces=[]))
    assert none.returncode == 0 and not files["etc"].exists() and not files["run"].exists()
    assert values(HOST_IFS) == original
    assert not any(path.exists() for path in files["etc"].parent.parent.rglob("*.before")), "nothing left recorded"


def test_absent_gives_back_every_value_found_and_check_mode_predicts_it(host):
    run, inner_ifs = host["run"], INNER_IFS

    def state():
        return everywhere(host)
    before = state()
    applied = run(full_vars())
    assert applied.returncode == 0 and state() != before, applied.stdout[-4000:]
    record = host["files"]["etc"].parent / "60-linuxnet-arp.conf.before"
    assert json.loads(record.read_text())["namespaces"]["inner"]["net/ipv4/conf/m1.5/arp_ignore"] == "0"

    check = run(full_vars(arp_sysctl_state="absent"), "--check", "--diff")
    assert check.returncode == 0 and check.changed == 1, check.stdout[-4000:]
    assert state() == (expected(HOST_IFS), expected(inner_ifs), expected(("all", "default")))
    gone = run(full_vars(arp_sysctl_state="absent"))
    assert gone.returncode == 0 and gone.changed == 1, gone.stdout[-4000:]
    assert state() == before
    assert not host["files"]["etc"].exists() and not record.exists()
    again = run(full_vars(arp_sysctl_state="absent"))
    assert again.returncode == 0 and again.changed == 0, again.stdout[-4000:]


def test_missing_namespace_fails_naming_it_and_nothing_changes(host):
    run, values = host["run"], host["values"]
    before = values(("all", "eth1")), values(("all",), "inner")
    result = run(full_vars(arp_sysctl_namespaces=[{"name": "inner"}, {"name": "ghost"}]))
    assert result.returncode != 0 and result.failed == 1
    assert "arp_sysctl_namespaces: no network namespace ghost on net1" in result.stdout, result.stdout[-4000:]
    assert "ghost" not in namespaces(host), "the role created the namespace"
    assert (values(("all", "eth1")), values(("all",), "inner")) == before
    assert not host["files"]["etc"].exists()

    # an interface missing inside a namespace is found before anything changes, too
    result = run(full_vars(arp_sysctl_namespaces=[{"name": "inner", "interfaces": ["all", "nosuch0"]}]))
    assert result.returncode != 0 and result.failed == 1
    assert "no such sysctl in netns inner (/proc/sys/net/ipv4/conf/nosuch0/" in result.stdout, result.stdout[-4000:]
    assert (values(("all", "eth1")), values(("all",), "inner")) == before
    assert not host["files"]["etc"].exists()

    # check mode predicts the real run: the same failure (a namespace the host's layout creates
    # would be fine: test_site.py)
    check = run(full_vars(arp_sysctl_namespaces=[{"name": "inner"}, {"name": "ghost"}]), "--check")
    assert check.returncode != 0 and check.failed == 1, check.stdout[-4000:]
    assert "arp_sysctl_namespaces: no network namespace ghost on net1" in check.stdout, check.stdout[-4000:]
    assert "ghost" not in namespaces(host)
    assert (values(("all", "eth1")), values(("all",), "inner")) == before
    assert not host["files"]["etc"].exists()


def test_bad_variables_fail_at_role_entry_naming_them(host):
    run, values = host["run"], host["values"]
    before = values(("all", "eth1"))
    result = run({"arp_sysctl_arp_ignore": 9, "arp_sysctl_rp_filter": "strict", "arp_sysctl_arp_announce": 2})
    assert result.returncode != 0
    assert "Validating arguments against arg spec" in result.stdout, result.stdout[-4000:]
    assert "arp_sysctl_arp_ignore must be one of: 0, 1, 2, 3, 4, 5, 6, 7, 8, got: 9" in result.stdout
    assert "arp_sysctl_rp_filter must be one of: 0, 1, 2, got: strict" in result.stdout

    result = run({"arp_sysctl_interfaces": ["all", "eth1/x"], "arp_sysctl_extra": {"arp_ignore": 1, "arp-x": "a"}})
    assert result.returncode != 0
    assert "arp_sysctl_interfaces[1]: 'eth1/x' contains '/'" in result.stdout, result.stdout[-4000:]
    assert "arp_sysctl_extra.arp_ignore: set it with arp_sysctl_arp_ignore" in result.stdout
    assert "arp_sysctl_extra.arp-x: 'a' is not an integer" in result.stdout

    result = run({"arp_sysctl_interfaces": ["all", "eth9"], "arp_sysctl_extra": {"arp_filtre": 1}})
    assert result.returncode != 0
    assert "arp_sysctl_interfaces: no interface eth9 in the network namespace of net1" in result.stdout, \
        result.stdout[-4000:]
    assert "arp_sysctl_extra: no key arp_filtre under /proc/sys/net/ipv4/conf/all" in result.stdout
    assert values(("all", "eth1")) == before
    assert not host["files"]["etc"].exists()
