"""What a host's network looks like and does, read with `ip -j`, `bridge -j` and /proc (never
through the collection's engine, which is what is under test). The one probe of the project's
tests: the Molecule scenarios' verify playbooks run it on a managed host
(ansible.builtin.script, with the host's Python), tests/integration/test_reboot.py in a
rebooted guest, and the lab's playbooks/verify.yml inside each emulated host and on the
machine (for the switches' namespaces).

    python lnmol_probe.py '{"sysctls": [...], "files": [...],
                           "pings": [{"netns": "blue", "to": "192.0.2.1"}]}'

Prints one JSON document: the named namespaces; per namespace ("" is the host's) its links
(kind, mode, parent, VLAN id, MAC, flags, addresses), routes, permanent neighbors and the
asked sysctls (all of it left out with "layout": false); the asked files' contents (null:
missing); then each ping's outcome (rc 0: a reply came) and, after the pings, the neighbor
entry each ping left (the MAC that answered); then the asked neighbor entries and bridge
forwarding tables.

Request keys besides sysctls and files:
  pings      [{netns, to, count (3), wait (2: -W, per reply), deadline (instead of wait: -w,
             the whole ping), dev (-I)}]; run one after the other, or all at once with
             "parallel": true
  neighbors  [{netns, to, dev}]: the entry (or {}) of each address, after the pings
  fdb        [{netns, bridge}]: the MACs each bridge's forwarding table holds
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


def ping_command(check):
    netns = check.get("netns") or ""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    cmd = prefix + ["ping", "-n", "-c", str(check.get("count", 3)), "-i", "0.2"]
    if "deadline" in check:
        cmd += ["-w", str(check["deadline"])]
    else:
        cmd += ["-W", str(check.get("wait", 2))]
    if check.get("dev"):
        cmd += ["-I", check["dev"]]
    return cmd + [check["to"]]


def pings(checks, parallel):
    """Each ping's outcome; all started at once when parallel (the lab's matrix)."""
    def outcome(check, proc):
        out = proc.communicate()[0]
        return dict(check, rc=proc.returncode, output=out.strip().splitlines()[-2:])

    started, results = [], []
    for check in checks:
        proc = subprocess.Popen(ping_command(check), stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                stderr=subprocess.STDOUT, text=True)
        if parallel:
            started.append((check, proc))
        else:
            results.append(outcome(check, proc))
    return results + [outcome(check, proc) for check, proc in started]


def neighbor(netns, address, dev=None):
    entries = ip_json(netns, "neigh", "show", "to", address, *(["dev", dev] if dev else []))
    return entries[0] if entries else {}


def fdb(netns, bridge):
    prefix = ["bridge", "-n", netns] if netns else ["bridge"]
    proc = subprocess.run(prefix + ["-j", "fdb", "show", "br", bridge], capture_output=True, text=True, check=False)
    return sorted({entry["mac"].lower() for entry in json.loads(proc.stdout or "[]") if entry.get("mac")})


def read_file(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def main():
    request = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    keys = request.get("sysctls", [])
    state = {}
    if request.get("layout", True):
        names = sorted(n.split()[0] for n in os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []
        host_names = {e["ifindex"]: e["ifname"] for e in ip_json("", "link", "show")}
        state = {"namespaces": names, "netns": {"": namespace_view("", keys, host_names)}}
        for name in names:
            state["netns"][name] = namespace_view(name, keys, host_names)
    state["files"] = {path: read_file(path) for path in request.get("files", [])}
    state["pings"] = pings(request.get("pings", []), request.get("parallel", False))
    for result in state["pings"]:
        result["neighbor"] = neighbor(result.get("netns") or "", result["to"])
    state["neighbors"] = [dict(query, entry=neighbor(query.get("netns") or "", query["to"], query.get("dev")))
                          for query in request.get("neighbors", [])]
    state["fdb"] = [dict(query, macs=fdb(query.get("netns") or "", query["bridge"]))
                    for query in request.get("fdb", [])]
    json.dump(state, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
