"""Benchmark: the topology module against `ip -batch`, side by side in one run.

Each side is timed as a whole process (interpreter start-up and imports included),
inside a throw-away sandbox namespace. Prints each ratio with both times and whether
IPv6 was on; with --enforce, exits 1 when a target of issue #4 is missed.

    .venv/bin/python scripts/benchmark.py --links 1000 [--enforce]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "plugins" / "modules" / "topology.py"
COLLECTIONS = ROOT / ".build" / "collections"
GROUP = 4242
TARGETS = {"first converge": 2.0, "no-op converge": 1.5, "removal": 2.0}


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def timed(cmd: List[str], env: Dict[str, str] = None) -> Tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("benchmark step failed: %s\n%s%s" % (" ".join(cmd[:4]), proc.stdout[-2000:], proc.stderr[-2000:]))
    return elapsed, proc.stdout


def address(index: int) -> str:
    number = index + 1  # never 10.0.0.0, the network's own address
    return "10.%d.%d.%d/8" % (number >> 16 & 255, number >> 8 & 255, number & 255)


def batch_file(count: int) -> str:
    lines = []
    for i in range(count):
        lines += ["link add link up0 name mv%d group %d type macvlan mode bridge" % (i, GROUP),
                  "link set mv%d up" % i, "addr add %s dev mv%d" % (address(i), i)]
    return "\n".join(lines) + "\n"


def document(count: int) -> Dict[str, object]:
    return {"links": [{"kind": "macvlan", "name": "mv%d" % i, "parent": "up0", "mode": "bridge",
                       "addresses": [address(i)]} for i in range(count)]}


def run_module(sandbox: str, args: Dict[str, object]) -> Tuple[float, Dict[str, object]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    try:
        elapsed, out = timed(["nsenter", "--net=/run/netns/%s" % sandbox, sys.executable, str(MODULE), handle.name], env)
    finally:
        os.unlink(handle.name)
    result = json.loads(out)
    if result.get("failed"):
        raise SystemExit("topology failed: %s" % result.get("msg"))
    return elapsed, result


def fresh_sandbox() -> str:
    name = "lnbench%s" % uuid.uuid4().hex[:6]
    sh("ip", "netns", "add", name)
    sh("ip", "-n", name, "link", "add", "up0", "up", "type", "veth", "peer", "name", "up1")
    sh("ip", "-n", name, "link", "set", "up1", "up")
    return name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100)
    parser.add_argument("--enforce", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args()
    count = options.links
    reference, ours = fresh_sandbox(), fresh_sandbox()
    try:
        ipv6 = open("/proc/sys/net/ipv6/conf/default/disable_ipv6").read().strip() == "0"
        with tempfile.NamedTemporaryFile("w", suffix=".batch", delete=False) as handle:
            handle.write(batch_file(count))
        ip_first = timed(["ip", "-n", reference, "-batch", handle.name])[0]
        os.unlink(handle.name)
        ip_removal = timed(["ip", "-n", reference, "link", "del", "group", str(GROUP)])[0]

        first = run_module(ours, document(count))[0]
        noop, again = run_module(ours, document(count))
        if again["changed"]:
            raise SystemExit("the second converge changed something: %s" % again["actions"][:5])
        removal = run_module(ours, {"state": "overridden"})[0]
    finally:
        for name in (reference, ours):
            subprocess.run(["ip", "netns", "del", name], check=False)

    rows = [("first converge", first, ip_first), ("no-op converge", noop, ip_first), ("removal", removal, ip_removal)]
    print("N=%d macvlans with addresses, one namespace, IPv6 %s" % (count, "on" if ipv6 else "off"))
    missed = []
    for label, mine, theirs in rows:
        ratio = mine / theirs
        print("%-15s topology %7.3f s   ip %7.3f s   ratio %6.2f (target <= %.1f)"
              % (label, mine, theirs, ratio, TARGETS[label]))
        if ratio > TARGETS[label]:
            missed.append(label)
    if missed:
        print("targets missed: %s" % ", ".join(missed))
    return 1 if missed and options.enforce else 0


if __name__ == "__main__":
    sys.exit(main())
