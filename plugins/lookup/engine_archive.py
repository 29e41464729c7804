# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's engine as one runnable zip archive, for hosts that re-apply layouts at boot."""

from __future__ import annotations

DOCUMENTATION = r"""
name: engine_archive
author:
  - linuxnet.macvlan team (@linuxnet)
version_added: "0.1.0"
short_description: The collection's engine as one runnable Python zip archive
description:
  - Builds, on the controller, a zip archive of the collection's C(plugins/module_utils) (as the
    package C(ansible_collections.linuxnet.macvlan.plugins.module_utils)) with a C(__main__.py)
    that runs C(module_utils/boot.py), and returns its path.
  - C(python ARCHIVE [--wait SECS] DIR) then re-applies the layouts stored in C(DIR) without
    Ansible on the host (the C(linuxnet.macvlan.macvlan_topology) role's boot unit does this).
  - The archive is byte-for-byte the same for the same engine (fixed timestamps, sorted
    entries), so copying it is idempotent; one file is one transfer.
options: {}
"""

EXAMPLES = r"""
- name: Install the engine
  ansible.builtin.copy:
    src: "{{ lookup('linuxnet.macvlan.engine_archive') }}"
    dest: /usr/local/lib/linuxnet-macvlan/linuxnet-macvlan.pyz
    mode: "0644"
"""

RETURN = r"""
_raw:
  description: The path of the archive on the controller (in the run's private temporary directory).
  type: list
  elements: str
"""

import hashlib
import io
import os
import tempfile
import zipfile
from typing import Any, List

from ansible import constants as C
from ansible.plugins.lookup import LookupBase

PACKAGE = "ansible_collections/linuxnet/macvlan/plugins/module_utils"
MAIN = (b"# linuxnet.macvlan boot entry point: python ARCHIVE [--wait SECS] DIR\n"
        b"from ansible_collections.linuxnet.macvlan.plugins.module_utils.boot import main\n"
        b"raise SystemExit(main())\n")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same bytes on every build


def engine_files() -> List[tuple]:
    """(archive name, content) of every entry, sorted: the engine, package markers, __main__."""
    source = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")
    entries = [("__main__.py", MAIN)]
    parts = PACKAGE.split("/")
    entries += [("/".join(parts[:depth]) + "/__init__.py", b"") for depth in range(1, len(parts))]
    for name in sorted(os.listdir(source)):
        if name.endswith(".py") and name != "__init__.py":
            with open(os.path.join(source, name), "rb") as handle:
                entries.append((PACKAGE + "/" + name, handle.read()))
    entries.append((PACKAGE + "/__init__.py", b""))
    return sorted(entries)


def build_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in engine_files():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


class LookupModule(LookupBase):

    def run(self, terms: List[Any], variables: Any = None, **kwargs: Any) -> List[str]:
        content = build_archive()
        # Ansible's own local temporary directory of this run (mode 0700, removed at exit): a
        # world-writable /tmp would let another user plant the file root installs and runs at boot.
        path = os.path.join(C.DEFAULT_LOCAL_TMP,
                            "linuxnet-macvlan-engine-%s.pyz" % hashlib.sha256(content).hexdigest()[:16])
        if not os.path.exists(path):
            fd, partial = tempfile.mkstemp(dir=C.DEFAULT_LOCAL_TMP, suffix=".partial")
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.chmod(partial, 0o644)
            os.replace(partial, path)
        return [path]
