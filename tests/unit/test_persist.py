"""Persistence in the topology call (module_utils/persist.py): the stored document, the engine
archive and the plan of files and unit changes, on files in a temporary directory. systemd itself
(enable, daemon-reload, a real boot) is exercised in the User-mode Linux guests: the fleet tests
(tests/integration/test_site.py) and the Molecule reboot scenario."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT
from ansible_collections.linuxnet.macvlan.plugins.lookup.engine_archive import LookupModule, build_archive
from ansible_collections.linuxnet.macvlan.plugins.module_utils import persist
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError, ValidationError

MODULE_UTILS = ROOT / "plugins" / "module_utils"


def test_applied_macs_are_pinned_for_macvlans_in_named_namespaces_only():
    layout = {"links": [{"kind": "macvlan", "name": "m1", "parent": "eth1", "netns": "ns1"},
                        {"kind": "macvlan", "name": "m2", "parent": "eth1", "macaddress": "02:00:00:00:00:02"},
                        {"kind": "vlan", "name": "eth1.5", "parent": "eth1", "vlan_id": 5, "netns": "ns1"},
                        {"kind": "macvtap", "name": "t1", "parent": "eth1", "netns": "ns1"},
                        {"kind": "macvlan", "name": "shim", "parent": "eth1"}]}
    applied = {"links[0]": {"macaddress": "0a:11:22:33:44:55"}, "links[1]": {"macaddress": "02:00:00:00:00:02"},
               "links[2]": {"macaddress": "0a:00:00:00:00:09"}, "links[3]": {"macaddress": "(assigned by the kernel)"},
               "links[4]": {"macaddress": "0a:00:00:00:00:04"}}
    pinned = persist.with_applied_macs(layout, applied)["links"]
    assert pinned[0]["macaddress"] == "0a:11:22:33:44:55"
    assert pinned[1]["macaddress"] == "02:00:00:00:00:02"
    assert "macaddress" not in pinned[2], "a VLAN follows its parent's MAC"
    assert "macaddress" not in pinned[3], "check mode's placeholder is not a MAC"
    assert "macaddress" not in pinned[4], "host namespace: udev may still replace the MAC read back"
    assert "macaddress" not in layout["links"][0], "the input is not modified"


def test_the_same_engine_gives_the_same_bytes_from_a_checkout_and_from_a_module_payload(tmp_path):
    assert build_archive() == build_archive(), "a rebuilt archive would make every run copy it again"
    # A module's payload (AnsiballZ) is a zip holding the module_utils the module imports: the
    # archive built from it follows boot.py's imports just the same.
    payload = tmp_path / "payload.zip"
    with zipfile.ZipFile(payload, "w") as archive:
        for name in sorted(os.listdir(MODULE_UTILS)):
            if name.endswith(".py"):
                archive.write(MODULE_UTILS / name, "%s/%s" % (persist.PACKAGE_PATH, name))
    with zipfile.ZipFile(payload) as archive:
        from_payload = persist.engine_sources(lambda name: archive.read("%s/%s.py" % (persist.PACKAGE_PATH, name)))
    assert persist.engine_archive(from_payload) == build_archive()
    assert persist.engine_archive(persist.engine_sources()) == build_archive(), "what the running engine reads"
    assert {"boot", "topology", "engine", "kernel"} <= set(from_payload)
    assert "persist" not in from_payload, "only what boot needs"


def test_the_archive_runs_its_boot_entry_without_a_checkout(tmp_path):
    path = LookupModule().run([])[0]
    names = zipfile.ZipFile(path).namelist()
    package = persist.PACKAGE_PATH + "/"
    assert {package + "boot.py", package + "topology.py", package + "__init__.py", "__main__.py"} <= set(names)
    # -I: no checkout, no site-packages collection on the path; an empty layouts directory:
    # the boot entry point applies nothing and succeeds.
    result = subprocess.run([sys.executable, "-I", path, str(tmp_path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr


class Systemd:
    """Records the systemctl calls and does what `enable`/`disable` do to the unit directory."""

    def __init__(self, unit_dir, fail_on=None):
        self.unit_dir = unit_dir
        self.calls = []
        self.fail_on = fail_on

    def __call__(self, *args):
        self.calls.append(" ".join(args))
        if args[0] == self.fail_on:
            raise EngineError("systemctl %s: refused" % args[0])
        wants = os.path.join(self.unit_dir, persist.WANTED_BY + ".wants")
        if args[0] == "enable":
            os.makedirs(wants, exist_ok=True)
            os.symlink(os.path.join(self.unit_dir, args[1]), os.path.join(wants, args[1]))
        elif args[0] == "disable":
            os.unlink(os.path.join(wants, args[1]))


def persistence(tmp_path, state="present", owner="default", links=None):
    params = {"namespaces": [{"name": "ns1", "sysctls": None}], "bridge_ports": [], "owner": owner, "state": "present",
              "links": links if links is not None else [
                  {"kind": "macvlan", "name": "m1", "parent": "eth1", "netns": "ns1", "mode": "bridge", "mtu": None}],
              "persist": {"state": state, "dir": str(tmp_path / "etc"), "engine": str(tmp_path / "lib" / "engine.pyz"),
                          "unit": "lnm-test.service", "wait": 30}}
    unit_dir = tmp_path / "units"
    unit_dir.mkdir(exist_ok=True)
    made = persist.Persistence.from_params(params)
    made.unit_dir = str(unit_dir)
    made.systemctl = Systemd(str(unit_dir))
    made.python = "/usr/bin/python3"
    return made


def test_store_writes_three_files_enables_the_unit_and_a_second_run_plans_nothing(tmp_path):
    first = persistence(tmp_path)
    applied = {"links[0]": {"macaddress": "0a:11:22:33:44:55"}}
    steps = first.plan(applied)
    assert [step.render() for step in steps] == [
        "write %s" % first.engine, "write %s" % first.layout_file, "write %s" % first.unit_file,
        "systemctl daemon-reload", "systemctl enable lnm-test.service"]
    before, after = first.diff()
    assert before[first.layout_file] == "(absent)" and '"0a:11:22:33:44:55"' in after[first.layout_file]
    assert after["lnm-test.service enabled"] is True
    first.apply()
    stored = json.loads(open(first.layout_file).read())
    assert stored == {"owner": "default", "namespaces": [{"name": "ns1"}], "bridge_ports": [],
                      "links": [{"kind": "macvlan", "name": "m1", "parent": "eth1", "netns": "ns1", "mode": "bridge",
                                 "macaddress": "0a:11:22:33:44:55"}]}, "unset options are left out"
    unit = open(first.unit_file).read()
    assert "ExecStart=/usr/bin/python3 %s --wait 30 %s/layouts.d" % (first.engine, first.directory) in unit
    assert open(first.engine, "rb").read() == build_archive()

    again = persistence(tmp_path)
    assert again.plan(applied) == [], "nothing differs: nothing is written, systemd is not called"


def test_forget_removes_this_scope_and_everything_with_the_last_layout(tmp_path):
    for owner in ("default", "team-b"):
        made = persistence(tmp_path, owner=owner)
        made.finish({})
    assert sorted(os.listdir(tmp_path / "etc" / "layouts.d")) == ["50-macvlan_topology-team-b.json",
                                                                  "50-macvlan_topology.json"]
    first = persistence(tmp_path, state="absent")
    assert [step.render() for step in first.plan(None)] == ["rm %s" % first.layout_file], \
        "another scope's layout is stored: the unit and the engine stay"
    first.apply()
    last = persistence(tmp_path, state="absent", owner="team-b")
    last.finish(None)
    assert [step.render() for step in last.steps] == [
        "rm %s" % last.layout_file, "systemctl disable lnm-test.service", "rm %s" % last.unit_file,
        "rm %s" % last.engine, "systemctl daemon-reload", "rmdir %s" % last.layouts, "rmdir %s" % last.directory,
        "rmdir %s" % os.path.dirname(last.engine)]
    assert not (tmp_path / "etc").exists() and not (tmp_path / "lib").exists()
    assert os.listdir(tmp_path / "units") == [persist.WANTED_BY + ".wants"]
    assert persistence(tmp_path, state="absent").plan(None) == [], "nothing stored: nothing to do"


def test_forget_leaves_a_unit_it_did_not_install(tmp_path):
    """No layouts directory: a unit of that name belongs to something else."""
    made = persistence(tmp_path, state="absent")
    with open(made.unit_file, "w") as handle:
        handle.write("[Unit]\n")
    assert made.plan(None) == []


def test_a_failed_step_gives_every_file_its_old_content_back(tmp_path):
    persistence(tmp_path).finish({})
    old = {path: open(path, "rb").read() for path in (persistence(tmp_path).layout_file,)}
    made = persistence(tmp_path, links=[{"kind": "macvlan", "name": "m2", "parent": "eth1", "mode": "bridge"}])
    os.unlink(made.enabled_link)  # so the plan enables it again, and that fails
    made.systemctl = Systemd(made.unit_dir, fail_on="enable")
    with pytest.raises(EngineError, match="persistence: systemctl enable lnm-test.service failed"):
        made.finish({})
    assert {path: open(path, "rb").read() for path in old} == old


def test_a_failed_first_store_leaves_no_file_nor_directory(tmp_path):
    made = persistence(tmp_path)
    made.systemctl = Systemd(made.unit_dir, fail_on="daemon-reload")
    with pytest.raises(EngineError, match="persistence: systemctl daemon-reload failed"):
        made.finish({})
    assert sorted(os.listdir(tmp_path)) == ["units"] and os.listdir(tmp_path / "units") == []


@pytest.mark.parametrize("key, value, message", [
    ("dir", "etc/lnm", "persist.dir: 'etc/lnm' is not an absolute path of its own"),
    ("dir", "/etc/", "persist.dir: '/etc/' is not an absolute path of its own"),
    ("unit", "../x.service", "persist.unit: '../x.service' is not a unit file name"),
    ("wait", -1, "persist.wait: must be 0 or more seconds"),
])
def test_bad_persist_options_are_refused_by_name(key, value, message):
    params = {"state": "present", "owner": "default",
              "persist": dict({"state": "present", "dir": "/etc/lnm", "engine": "/usr/local/lib/lnm/e.pyz",
                               "unit": "lnm.service", "wait": 30}, **{key: value})}
    with pytest.raises(ValidationError, match=message.replace(".", r"\.").replace("(", r"\(")):
        persist.Persistence.from_params(params)


def test_persist_goes_with_present_or_overridden_only():
    params = {"state": "gathered", "persist": {"state": "present", "dir": "/etc/lnm", "engine": "/usr/lib/lnm/e",
                                               "unit": "lnm.service", "wait": 30}}
    with pytest.raises(ValidationError, match="only with state present or overridden"):
        persist.Persistence.from_params(params)
