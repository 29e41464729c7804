# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a managed host can tell before anything changes (the `preflight` module): is systemd
the init system, which pyroute2 is importable, which link types the kernel has, what is
stored for persistence, and -- with the engine itself, in check mode -- whether the layout
fits the kernel (parents, namespaces, names, passthru, ...). Read-only: nothing here writes
to the host; the link-type probe, when files cannot tell, runs in a network namespace of a
short-lived child process that disappears with it."""

from __future__ import annotations

import ctypes
import errno
import glob
import importlib.util
import json
import os
import sys
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import KERNEL_SUPPORT, missing_link_type_hint

CLONE_NEWNET = 0x40000000
SYSTEMD_MARKER = "/run/systemd/system"  # what sd_booted() looks at
# Oldest pyroute2 the engine is tested with (scripts/compat.sh pyroute2-0.7.2; Debian 12 ships
# 0.7.2, Ubuntu 22.04 0.6.4).
PYROUTE2_MINIMUM = (0, 7, 2)
PYROUTE2_MINIMUM_TEXT = ".".join(str(part) for part in PYROUTE2_MINIMUM)


def systemd_is_init() -> bool:
    return os.path.isdir(SYSTEMD_MARKER)


def pyroute2_version() -> Optional[str]:
    """The importable pyroute2's version ('unknown' when it does not say), None when missing."""
    if importlib.util.find_spec("pyroute2") is None:
        return None
    try:
        from importlib.metadata import version  # Python 3.8+

        return version("pyroute2")
    except Exception:  # pylint: disable=broad-except  # a copy without metadata (vendored, zipped)
        return "unknown"


def version_tuple(text: str) -> tuple:
    parts = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def pyroute2_too_old(version: Optional[str]) -> bool:
    return bool(version) and version != "unknown" and version_tuple(version) < PYROUTE2_MINIMUM


def _module_listed(module: str) -> bool:
    """The running kernel's module tree lists `module` as built in or loadable."""
    base = "/lib/modules/%s" % os.uname().release
    wanted = module.replace("-", "_")
    for name in ("modules.builtin", "modules.dep"):
        try:
            with open(os.path.join(base, name)) as handle:
                for line in handle:
                    path = line.split(":", 1)[0].strip()
                    stem = os.path.basename(path).split(".ko", 1)[0].replace("-", "_")
                    if stem == wanted:
                        return True
        except OSError:
            continue
    return False


def link_kinds(kinds: Iterable[str]) -> Dict[str, str]:
    """kind -> 'present' (in the running kernel), 'loadable' (a module the kernel loads on
    first use, as the real run will) or 'missing'; 'unknown' when nothing could tell.

    Files first (/sys/module, the module tree); a monolithic kernel or one without its module
    tree is asked directly, in a throw-away network namespace (see probe_kinds)."""
    result: Dict[str, str] = {}
    ask: List[str] = []
    modular = os.path.exists("/proc/modules")
    for kind in sorted(set(kinds)):
        module = KERNEL_SUPPORT.get(kind, (kind, ""))[0]
        if os.path.isdir("/sys/module/%s" % module.replace("-", "_")):
            result[kind] = "present"
        elif modular and _module_listed(module):
            result[kind] = "loadable"
        else:
            ask.append(kind)
    if ask:
        result.update(probe_kinds(ask))
    return result


def probe_kinds(kinds: List[str]) -> Dict[str, str]:
    """Ask the kernel whether it knows each link type: an RTM_NEWLINK of that kind in a
    network namespace private to a forked child. The kernel answers EOPNOTSUPP ("Unknown
    device type") for a type it does not have; any other answer means it has it (a macvlan
    without a parent is refused with EINVAL, a bridge is created and vanishes with the
    namespace when the child exits). Called only when the module tree cannot tell, so the
    kernel has no module to load for the type: nothing outside the child changes."""
    from ansible_collections.linuxnet.macvlan.plugins.module_utils import rtnl

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        answer: Dict[str, str] = {}
        try:
            os.close(read_end)
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) == 0:
                sock = rtnl.RtnlSocket()
                for index, kind in enumerate(kinds):
                    body = (rtnl.IFINFOMSG.pack(0, 0, 0, 0, 0) + rtnl.attr_text(rtnl.IFLA_IFNAME, "lnprobe%d" % index)
                            + rtnl.attr_nested(rtnl.IFLA_LINKINFO, rtnl.attr_text(rtnl.IFLA_INFO_KIND, kind)))
                    failure = sock.transact([(rtnl.RTM_NEWLINK, rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL, body)])[0]
                    answer[kind] = "missing" if failure is not None and failure.code == errno.EOPNOTSUPP else "present"
            os.write(write_end, json.dumps(answer).encode())
        finally:
            os._exit(0)  # pylint: disable=protected-access
    os.close(write_end)
    chunks = []
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    try:
        answer = json.loads(b"".join(chunks).decode() or "{}")
    except ValueError:
        answer = {}
    return {kind: answer.get(kind, "unknown") for kind in kinds}


def kinds_needed(layout: Dict[str, Any]) -> List[str]:
    """Link types a layout creates (entries not marked absent)."""
    return sorted({str(link.get("kind")) for link in layout.get("links") or []
                   if isinstance(link, dict) and link.get("kind") and link.get("state", "present") != "absent"})


def kind_problems(found: Dict[str, str], where: str = "the layout") -> List[str]:
    return ["%s needs %s link(s), but %s" % (where, kind, missing_link_type_hint(kind))
            for kind, status in sorted(found.items()) if status == "missing"]


def stored_layouts(persist_dir: Optional[str]) -> List[str]:
    if not persist_dir:
        return []
    return sorted(glob.glob(os.path.join(persist_dir, "layouts.d", "*.json")))


def existing(paths: Iterable[str]) -> List[str]:
    return [path for path in paths if os.path.lexists(path)]


def check_topology(document: Dict[str, Any]) -> Dict[str, Any]:
    """The engine in check mode on `document` (the topology module's parameters): every
    validation problem (missing parents and namespaces, names, passthru, ...) and whether the
    real run would change something. Needs no pyroute2: nothing is encoded in check mode."""
    from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import ApplyFailed, converge
    from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError, ValidationError
    from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel
    from ansible_collections.linuxnet.macvlan.plugins.module_utils.topology import Topology

    params = {"namespaces": document.get("namespaces") or [], "links": document.get("links") or [],
              "bridge_ports": document.get("bridge_ports") or [], "state": document.get("state") or "present",
              "rollback": True, "gather_namespaces": None, "owner": document.get("owner") or "default"}
    try:
        resource = Topology(params, purge=params["state"] == "overridden")
        kernel = Kernel()
        try:
            outcome = converge(resource, kernel, True)
        finally:
            kernel.close()
    except ValidationError as exc:
        return {"problems": [str(error) for error in getattr(exc, "errors", [exc])], "changed": None}
    except (EngineError, ApplyFailed) as exc:
        return {"problems": [str(exc)], "changed": None}
    return {"problems": [], "changed": outcome.changed, "actions": outcome.actions}


def probe(params: Dict[str, Any]) -> Dict[str, Any]:
    """Everything the pre-flight module reports for one host (read-only): `problems` lists what
    would make the real run fail."""
    from ansible_collections.linuxnet.macvlan.plugins.module_utils import netsysctl

    problems = []
    result = dict(changed=False, systemd=systemd_is_init(), pyroute2=pyroute2_version(),
                  link_kinds={}, topology_changed=None, net_sysctls_changed=None, missing_namespaces=[], missing_keys=[],
                  stored_layouts=stored_layouts(params["persist_dir"]),
                  installed=existing(params["paths"]))
    if params["systemd"] and not result["systemd"]:
        problems.append("persistence needs systemd as the init system (no %s): nothing would re-apply the layout at "
                        "boot" % SYSTEMD_MARKER)
    result["pyroute2_too_old"] = pyroute2_too_old(result["pyroute2"])
    if result["pyroute2"] is None and params["pyroute2"] == "required":
        problems.append("pyroute2 cannot be imported by %s; install python3-pyroute2 (or pip install 'pyroute2>=%s')"
                        % (sys.executable, PYROUTE2_MINIMUM_TEXT))
    elif result["pyroute2_too_old"] and params["pyroute2"] == "required":
        floor = PYROUTE2_MINIMUM_TEXT
        problems.append("pyroute2 %s (for %s) is older than %s, the oldest this collection is tested with; install a "
                        "newer one (pip install 'pyroute2>=%s')" % (result["pyroute2"], sys.executable, floor, floor))
    topology = params["topology"]
    if topology is not None:
        kinds = link_kinds(kinds_needed(topology))
        result["link_kinds"] = kinds
        problems += kind_problems(kinds)
        checked = check_topology(topology)
        result["topology_changed"] = checked["changed"]
        problems += checked["problems"]
    if params["sysctls"] is not None:
        reader = netsysctl.Reader()
        try:
            lost_namespaces, lost_keys = netsysctl.missing(params["sysctls"], reader)
        finally:
            reader.close()
        result.update(missing_namespaces=lost_namespaces, missing_keys=lost_keys)
        problems += netsysctl.describe_missing(lost_namespaces, lost_keys)
        if not lost_namespaces and not lost_keys:
            try:  # what net_sysctls would do, read-only (its own check mode)
                result["net_sysctls_changed"] = netsysctl.converge(params["sysctls"], True)["changed"]
            except (netsysctl.Failed, OSError, ValueError) as exc:
                problems.append("net sysctls: %s" % exc)
    result["problems"] = problems
    return result
