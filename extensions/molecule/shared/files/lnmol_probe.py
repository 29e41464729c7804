"""What a host's network looks like and does, read with `ip -j` and /proc (never through the
collection's engine, which is what is under test). Run on a managed host by the scenarios'
verify playbooks (ansible.builtin.script, with the host's Python):

    python lnmol_probe.py '{"sysctls": [...], "files": [...],
                           "pings": [{"netns": "blue", "to": "192.0.2.1"}]}'

Prints one JSON document: the named namespaces; per namespace ("" is the host's) its links
(kind, mode, parent, VLAN id, MAC, flags, addresses), routes, permanent neighbors and the
asked sysctls; the asked files' contents (null: missing); then each ping's outcome (rc 0: a reply came) and, after the pings, the
neighbor entry each ping left (the MAC that answered).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def ip_json(netns, *args):
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    proc = subprocess.run(prefix + ["-j"] + list(args), capture_output=True, text=True, check=True)
    return json.loads(proc.stdout or "[]")


def link_view(entry, host_names):
    info = entry.get("linkinfo", {})
    data = info.get("info_data", {})
    parent = entry.get("link")
    if parent is None and "link_index" in entry and entry.get("link_netnsid") is not None:
        # A parent in another namespace: the lab's parents live in the host's.
        parent = host_names.get(entry["link_index"], "if%d" % entry["link_index"])
    return {
        "kind": info.get("info_kind"), "mode": data.get("mode"), "vlan_id": data.get("id"),
        "vlan_protocol": data.get("protocol"), "parent": parent, "master": entry.get("master"),
        "mac": entry.get("address"), "mtu": entry.get("mtu"), "up": "UP" in entry.get("flags", []),
        "promiscuity": entry.get("promiscuity"), "alias": entry.get("ifalias"), "group": entry.get("group"),
        "hairpin": (info.get("info_slave_data") or {}).get("hairpin"),
        "source_macs": sorted(data.get("macaddr_data") or []) if data.get("macaddr_count") else [],
        "addresses": sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in entry.get("addr_info", [])
                            if a.get("scope") != "link"),
    }


def sysctl(netns, key):
    path = "/proc/sys/" + (key if "/" in key else key.replace(".", "/"))
    if "/" not in key and ".conf." in key:
        # net.ipv4.conf.<interface>.<key>: the interface is everything between conf. and the last dot
        head, rest = key.split(".conf.", 1)
        interface, name = rest.rsplit(".", 1)
        path = "/proc/sys/%s/conf/%s/%s" % (head.replace(".", "/"), interface, name)
    prefix = ["ip", "netns", "exec", netns] if netns else []
    proc = subprocess.run(prefix + ["cat", path], capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def namespace_view(netns, keys, host_names):
    links = {e["ifname"]: link_view(e, host_names) for e in ip_json(netns, "-d", "addr", "show")}
    routes = sorted(json.dumps({k: r.get(k) for k in ("dst", "gateway", "dev", "protocol", "scope")},
                               sort_keys=True) for r in ip_json(netns, "route", "show"))
    neighbors = sorted("%s %s %s" % (n["dst"], n.get("lladdr"), n["dev"])
                       for n in ip_json(netns, "neigh", "show", "nud", "permanent"))
    return {"links": links, "routes": routes, "neighbors": neighbors,
            "sysctls": {key: sysctl(netns, key) for key in keys}}


def ping(check):
    netns = check.get("netns") or ""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    count = str(check.get("count", 3))
    cmd = prefix + ["ping", "-n", "-c", count, "-i", "0.2", "-W", str(check.get("wait", 2)), check["to"]]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return dict(check, rc=proc.returncode, output=lines[-2:])


def neighbor(netns, address):
    entries = ip_json(netns, "neigh", "show", "to", address)
    return entries[0] if entries else {}


def read_file(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def main():
    request = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    keys = request.get("sysctls", [])
    names = sorted(n.split()[0] for n in os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []
    host_names = {e["ifindex"]: e["ifname"] for e in ip_json("", "link", "show")}
    state = {"namespaces": names, "netns": {"": namespace_view("", keys, host_names)}}
    for name in names:
        state["netns"][name] = namespace_view(name, keys, host_names)
    state["files"] = {path: read_file(path) for path in request.get("files", [])}
    state["pings"] = [ping(check) for check in request.get("pings", [])]
    for result in state["pings"]:
        result["neighbor"] = neighbor(result.get("netns") or "", result["to"])
    json.dump(state, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
