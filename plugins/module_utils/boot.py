# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Re-apply stored layouts at boot with the same engine the topology module runs.

The topology module's `persist` option (persist.py) stores the layout it applied as JSON under
<persist dir>/layouts.d/ and installs a systemd unit that runs this file (copied with the
module_utils it needs, no Ansible needed on the host) early in the boot. Each document is
converged like `topology state=present`: namespaces, links, addresses, routes, neighbors
and namespace sysctls come back exactly as applied; a failure rolls that document back.

Parents the layout does not create (a NIC, a VLAN made by the distribution's network
configuration) may appear after this unit starts: a document whose parent is still
missing is retried until --wait seconds have passed."""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import converge
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.hostlock import host_lock
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ownership import scope_name
from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import SECTION_NAMES as SECTIONS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.topology import Topology


def load_layouts(directory: str) -> List[str]:
    """The stored documents, in name order (50-macvlan_topology.json before 60-...)."""
    return sorted(glob.glob(os.path.join(directory, "*.json")))


def read_document(path: str) -> Dict[str, Any]:
    """The stored document: its sections, and `owner`, the scope whose mark it puts on what it
    creates (documents stored before scopes existed have none: the default scope)."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict):
        raise ValueError("%s: expected a JSON object with %s" % (path, ", ".join(SECTIONS)))
    params = {section: document.get(section) or [] for section in SECTIONS}
    params["owner"] = scope_name("%s: owner" % path, document.get("owner"))
    return params


def apply_document(params: Dict[str, Any]) -> List[str]:
    """Converge one document; the actions taken (empty when the host already matches)."""
    kernel = Kernel()
    try:
        topology = Topology(dict(params), purge=False)
        with host_lock():
            return converge(topology, kernel, check_mode=False).actions
    finally:
        kernel.close()


def apply_with_wait(params: Dict[str, Any], wait: float, log: Any) -> List[str]:
    """Retry while validation fails (a parent not there yet), up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return apply_document(params)
        except ValidationError as exc:
            if time.monotonic() >= deadline:
                raise
            log("waiting: %s" % exc)
            time.sleep(0.5)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Re-apply the stored linuxnet.macvlan layouts.")
    parser.add_argument("directory", help="directory of *.json layouts (the topology module's document)")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for missing parents")
    args = parser.parse_args(argv)

    def log(text: str) -> None:  # the journal keeps what the unit writes
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    status = 0
    for path in load_layouts(args.directory):
        try:
            actions = apply_with_wait(read_document(path), args.wait, log)
        except (EngineError, ValueError, OSError) as exc:
            log("%s: FAILED: %s" % (path, exc))
            status = 1
            continue
        log("%s: %s" % (path, "%d action(s)" % len(actions) if actions else "already as stored"))
        for action in actions:
            log("  " + action)
    return status
