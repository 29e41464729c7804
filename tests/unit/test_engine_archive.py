"""The engine archive the macvlan_topology role installs for boot (lookup engine_archive)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from ansible_collections.linuxnet.macvlan.plugins.lookup.engine_archive import LookupModule, build_archive


def test_the_same_engine_gives_the_same_bytes():
    assert build_archive() == build_archive(), "a rebuilt archive would make every run copy it again"


def test_it_holds_the_engine_as_a_package_and_runs_its_boot_entry(tmp_path):
    path = LookupModule().run([])[0]
    names = zipfile.ZipFile(path).namelist()
    package = "ansible_collections/linuxnet/macvlan/plugins/module_utils/"
    assert {package + "boot.py", package + "topology.py", package + "__init__.py", "__main__.py"} <= set(names)
    # Run in isolation (-I: no checkout, no site-packages collection on the path) with an
    # empty layouts directory: the boot entry point applies nothing and succeeds.
    result = subprocess.run([sys.executable, "-I", path, str(tmp_path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
