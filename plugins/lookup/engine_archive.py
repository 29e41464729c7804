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
  - Builds, on the controller, a zip archive of the collection's C(module_utils/boot.py) and every
    C(module_utils) file it imports (as the package C(ansible_collections.linuxnet.macvlan.plugins.module_utils))
    with a C(__main__.py) that runs it, and returns its path.
  - C(python ARCHIVE [--wait SECS] DIR) then re-applies the layouts stored in C(DIR) without
    Ansible on the host. The O(linuxnet.macvlan.topology#module:persist) option of the topology module
    installs the same archive (byte for byte) with its boot unit; this lookup is for other ways
    of shipping it.
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
import os
import tempfile
from typing import Any, List

from ansible import constants as C
from ansible.plugins.lookup import LookupBase

from ansible_collections.linuxnet.macvlan.plugins.module_utils import persist

MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils")


def source_file(name: str) -> bytes:
    with open(os.path.join(MODULE_UTILS, name + ".py"), "rb") as handle:
        return handle.read()


def build_archive() -> bytes:
    """The same bytes the topology module's `persist` installs (persist.engine_archive)."""
    return persist.engine_archive(persist.engine_sources(source_file))


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
