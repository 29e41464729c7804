"""The README's main job, end to end through ansible-playbook, in its own namespaces."""

from __future__ import annotations

import os
import re
import subprocess
import uuid

import pytest

from conftest import ROOT

# ansible-playbook costs ~50 s a run under User-mode Linux and needs no link type the
# host lacks; the host lane runs these end to end.
pytestmark = pytest.mark.host_lane_only("ansible-playbook runs ~50 s each under UML; nothing here needs its kernel")

PLAYBOOK = str(ROOT / "playbooks" / "lab.yml")


def playbook(*args):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), PLAYBOOK, *args],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600, check=False)
    recap = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert proc.returncode == 0 and recap, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, int(recap.group(2))


def namespaces(prefix):
    return sorted(n for n in os.listdir("/run/netns") if n == prefix or n.startswith(prefix + "_"))


def test_lab_builds_pings_is_idempotent_and_cleans_up():
    prefix = "lnlt%s" % uuid.uuid4().hex[:6]
    extra = ["-e", "lab_prefix=%s" % prefix]
    try:
        out, changed = playbook(*extra)
        assert changed == 4
        assert "ok: [localhost] => (item=mac1 -> mac2)" in out and "ok: [localhost] => (item=mac2 -> mac1)" in out
        assert namespaces(prefix) == [prefix, prefix + "_ns1", prefix + "_ns2"]

        out, changed = playbook(*extra)
        assert changed == 0, "second run changed something"
        out, changed = playbook("--check", "--diff", *extra)
        assert changed == 0

        out, changed = playbook("-e", "lab_state=absent", *extra)
        assert changed == 1 and namespaces(prefix) == []
        out, changed = playbook("-e", "lab_state=absent", *extra)
        assert changed == 0
    finally:
        for name in namespaces(prefix):
            subprocess.run(["ip", "netns", "del", name], check=False)


def test_check_diff_shows_the_planned_change_without_touching_anything(tmp_path):
    prefix = "lnlt%s" % uuid.uuid4().hex[:6]
    play = tmp_path / "plan.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: A namespace\n      linuxnet.macvlan.netns:\n        name: %s\n"
        "        sysctls: {net.ipv4.conf.all.arp_ignore: 1}\n" % prefix)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(play), "--check", "--diff"],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed: [localhost]" in proc.stdout
    assert '+    "name": "%s"' % prefix in proc.stdout
    assert '"net.ipv4.conf.all.arp_ignore": "1"' in proc.stdout
    assert namespaces(prefix) == []
