"""Snapshot of a host's network layout, read with `ip -j` (never through the engine under
test): links, addresses, routes and permanent neighbors of the host namespace and of every
named namespace, plus chosen sysctls. Run inside a guest by tests/integration/test_reboot.py:

    python tests/layout_snapshot.py OUT.json [SYSCTL ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict, List, Optional


def ip_json(netns: Optional[str], *args: str) -> List[Dict[str, Any]]:
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    out = subprocess.run(prefix + ["-j", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")


def link_view(entry: Dict[str, Any]) -> Dict[str, Any]:
    info = entry.get("linkinfo", {})
    data = info.get("info_data", {})
    return {
        "kind": info.get("info_kind"), "mode": data.get("mode"), "vlan_id": data.get("id"),
        "parent": entry.get("link"), "master": entry.get("master"), "mac": entry.get("address"),
        "mtu": entry.get("mtu"), "up": "UP" in entry.get("flags", []), "alias": entry.get("ifalias"),
        "addresses": sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in entry.get("addr_info", [])
                            if a.get("scope") != "link"),
    }


def namespace_view(netns: Optional[str]) -> Dict[str, Any]:
    links = {e["ifname"]: link_view(e) for e in ip_json(netns, "-d", "addr", "show")}
    routes = sorted(json.dumps({k: r.get(k) for k in ("dst", "gateway", "dev", "protocol", "metric")},
                               sort_keys=True) for r in ip_json(netns, "route", "show"))
    neighbors = sorted("%s %s %s" % (n["dst"], n.get("lladdr"), n["dev"])
                       for n in ip_json(netns, "neigh", "show", "nud", "permanent"))
    return {"links": links, "routes": routes, "neighbors": neighbors}


def sysctl(netns: Optional[str], key: str) -> Optional[str]:
    path = "/proc/sys/" + key if "/" in key else "/proc/sys/" + key.replace(".", "/")
    prefix = ["ip", "netns", "exec", netns] if netns else []
    proc = subprocess.run(prefix + ["cat", path], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def snapshot(sysctls: List[str]) -> Dict[str, Any]:
    names = sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []
    state: Dict[str, Any] = {"namespaces": names, "host": namespace_view(None)}
    state["host"]["sysctls"] = {key: sysctl(None, key) for key in sysctls}
    for name in names:
        state[name] = namespace_view(name)
        state[name]["sysctls"] = {key: sysctl(name, key) for key in sysctls}
    return state


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(snapshot(sys.argv[2:]), handle, indent=1, sort_keys=True)
