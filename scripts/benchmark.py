"""Benchmark: the topology module against `ip -batch`, side by side in one run.

Each side is timed as a whole process (interpreter start-up and imports included),
inside throw-away sandbox namespaces, interleaved and repeated (the median of each side
is compared: these machines are noisy). Cases, as issue #4 states them:

  links       N macvlans with an address each in one namespace
  namespaces  M namespaces, each holding one macvlan with an address and a default route
  playbook    through ansible-playbook: one topology task against a loop of macvlan_link

Prints each ratio with both sides' times and whether IPv6 was on; exits 1 when a target
is missed. --smoke runs every path at a small size and checks the results (the targets
are defined at N=1000 / M=200, where start-up costs no longer dominate); CI runs that.

    .venv/bin/python scripts/benchmark.py                 # N=1000, M=200, playbook at N
    .venv/bin/python scripts/benchmark.py --smoke
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "plugins" / "modules" / "topology.py"
COLLECTIONS = ROOT / ".build" / "collections"
GROUP = 4242
GATEWAY = "10.255.255.254"
TARGETS = {"first converge": 2.0, "no-op converge": 1.5, "removal": 2.0}
PLAYBOOK_SPEEDUP = 50.0


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def timed(cmd: List[str], env: Optional[Dict[str, str]] = None, stdin: Optional[str] = None) -> Tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, input=stdin, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stdout[-3000:] + proc.stderr[-3000:]
        raise SystemExit("benchmark step failed: %s\n%s" % (" ".join(cmd[:6]), tail))
    return elapsed, proc.stdout


def address(index: int) -> str:
    number = index + 1  # never 10.0.0.0, the network's own address
    return "10.%d.%d.%d/8" % (number >> 16 & 255, number >> 8 & 255, number & 255)


class Sandbox:
    """A namespace holding the parent veth `up0`; names under it are `<name>n<k>`."""

    def __init__(self) -> None:
        self.name = "lnbench%s" % uuid.uuid4().hex[:6]
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.name, "link", "add", "up0", "up", "type", "veth", "peer", "name", "up1")
        sh("ip", "-n", self.name, "link", "set", "up1", "up")

    def child(self, index: int) -> str:
        return "%sn%d" % (self.name, index)

    def destroy(self) -> None:
        for name in os.listdir("/run/netns"):
            if name == self.name or name.startswith(self.name + "n"):
                subprocess.run(["ip", "netns", "del", name], check=False)

    def run_module(self, args: Dict[str, Any]) -> Tuple[float, Dict[str, Any]]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        try:
            elapsed, out = timed(["nsenter", "--net=/run/netns/%s" % self.name, sys.executable, str(MODULE),
                                  handle.name], env)
        finally:
            os.unlink(handle.name)
        result = json.loads(out)
        if result.get("failed"):
            raise SystemExit("topology failed: %s" % result.get("msg"))
        return elapsed, result

    def ip_batch(self, lines: List[str], netns: Optional[str] = None) -> float:
        return timed(["ip", "-n", netns or self.name, "-batch", "-"], stdin="\n".join(lines) + "\n")[0]


# -- the cases ---------------------------------------------------------------------
Samples = Dict[str, List[float]]


def links_case(count: int) -> Tuple[Callable[[Sandbox], Tuple[float, float]], Callable[[Sandbox], Dict[str, Any]]]:
    """(reference: create + remove timings, our document)."""
    def reference(box: Sandbox) -> Tuple[float, float]:
        lines = []
        for i in range(count):
            lines += ["link add link up0 name mv%d group %d type macvlan mode bridge" % (i, GROUP),
                      "link set mv%d up" % i, "addr add %s dev mv%d" % (address(i), i)]
        create = box.ip_batch(lines)
        removal = timed(["ip", "-n", box.name, "link", "del", "group", str(GROUP)])[0]
        return create, removal

    def document(box: Sandbox) -> Dict[str, Any]:
        return {"links": [{"kind": "macvlan", "name": "mv%d" % i, "parent": "up0", "mode": "bridge",
                           "addresses": [address(i)]} for i in range(count)]}
    return reference, document


def namespaces_case(count: int) -> Tuple[Callable[[Sandbox], Tuple[float, float]],
                                         Callable[[Sandbox], Dict[str, Any]]]:
    def reference(box: Sandbox) -> Tuple[float, float]:
        # Batches create the namespaces and place a macvlan in each; a namespace's own
        # settings need one `ip -n NS -batch` each (a batch runs in one namespace).
        # (`netns add` runs outside `ip -n`: that one works in a private mount namespace.)
        script = ["set -e", "ip -batch - <<'EOF'"] + ["netns add %s" % box.child(i) for i in range(count)] + ["EOF"]
        script += ["ip -n %s -batch - <<'EOF'" % box.name] + [
            "link add link up0 name mv0 netns %s type macvlan mode bridge" % box.child(i) for i in range(count)]
        script += ["EOF"]
        for i in range(count):
            script += ["ip -n %s -batch - <<'EOF'" % box.child(i), "link set lo up", "link set mv0 up",
                       "addr add %s dev mv0" % address(i), "route add default via %s" % GATEWAY, "EOF"]
        create = timed(["sh", "-c", "\n".join(script)])[0]
        removal = box.ip_batch(["netns del %s" % box.child(i) for i in range(count)])
        return create, removal

    def document(box: Sandbox) -> Dict[str, Any]:
        return {
            "namespaces": [{"name": box.child(i), "routes": [{"dest": "default", "via": GATEWAY}]}
                           for i in range(count)],
            "links": [{"kind": "macvlan", "name": "mv0", "parent": "up0", "mode": "bridge", "netns": box.child(i),
                       "addresses": [address(i)]} for i in range(count)],
        }
    return reference, document


def measure(case: Tuple[Callable[[Sandbox], Tuple[float, float]], Callable[[Sandbox], Dict[str, Any]]],
            repeats: int) -> Tuple[Samples, Samples]:
    """Interleaved repetitions; every one starts from fresh sandboxes."""
    reference, document = case
    ours: Samples = {label: [] for label in TARGETS}
    theirs: Samples = {label: [] for label in TARGETS}
    for _repeat in range(repeats):
        ref_box, our_box = Sandbox(), Sandbox()
        try:
            create, removal = reference(ref_box)
            theirs["first converge"].append(create)
            theirs["no-op converge"].append(create)
            theirs["removal"].append(removal)
            ref_box.destroy()  # our overridden run looks at every namespace on the host
            doc = document(our_box)
            elapsed, first = our_box.run_module(doc)
            ours["first converge"].append(elapsed)
            elapsed, again = our_box.run_module(doc)
            if again["changed"]:
                raise SystemExit("the second converge changed something: %s" % again["actions"][:5])
            ours["no-op converge"].append(elapsed)
            elapsed, removal_result = our_box.run_module({"state": "overridden"})
            ours["removal"].append(elapsed)
            check_removed(our_box, removal_result)
        finally:
            ref_box.destroy()
            our_box.destroy()
    return ours, theirs


def check_removed(box: Sandbox, result: Dict[str, Any]) -> None:
    left = [name for name in os.listdir("/run/netns") if name.startswith(box.name + "n")]
    links = json.loads(subprocess.run(["ip", "-n", box.name, "-j", "link", "show"], capture_output=True,
                                      text=True, check=True).stdout)
    owned = [link["ifname"] for link in links if link.get("ifalias") == "linuxnet.macvlan"]
    if left or owned or not result["changed"]:
        raise SystemExit("overridden left %s / %s behind" % (left[:5], owned[:5]))


def playbook_case(count: int) -> Tuple[float, float]:
    """(one topology task, a loop of macvlan_link) over the same links, whole ansible-playbook runs."""
    links = [{"name": "mv%d" % i, "addresses": [address(i)]} for i in range(count)]
    play = [{"hosts": "all", "gather_facts": False, "tasks": [
        {"name": "whole layout", "when": "mode == 'topology'", "linuxnet.macvlan.topology": {
            "links": "{{ links | map('combine', {'kind': 'macvlan', 'parent': 'up0', 'mode': 'bridge'}) }}"}},
        {"name": "one link per item", "when": "mode == 'loop'", "loop": "{{ links }}",
         "linuxnet.macvlan.macvlan_link": {"name": "{{ item.name }}", "parent": "up0", "mode": "bridge",
                                           "addresses": "{{ item.addresses }}"}},
    ]}]
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "play.yml").write_text(json.dumps(play))
        Path(tmp, "vars.json").write_text(json.dumps({"links": links}))
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="default",
                   ANSIBLE_NOCOLOR="1")
        for mode in ("topology", "loop"):
            box = Sandbox()
            try:
                times[mode] = timed(["nsenter", "--net=/run/netns/%s" % box.name,
                                     str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
                                     "-c", "local", "-e", "@%s/vars.json" % tmp, "-e", "mode=%s" % mode,
                                     "-e", "ansible_python_interpreter=%s" % sys.executable,
                                     str(Path(tmp, "play.yml"))], env)[0]
                made = json.loads(subprocess.run(["ip", "-n", box.name, "-j", "link", "show"], capture_output=True,
                                                 text=True, check=True).stdout)
                if sum(1 for link in made if link["ifname"].startswith("mv")) != count:
                    raise SystemExit("ansible-playbook (%s) did not create the %d links" % (mode, count))
            finally:
                box.destroy()
    return times["topology"], times["loop"]


def start_up_floor() -> float:
    """An empty run: interpreter, Ansible's module code and ours, nothing to do (median of 3)."""
    box = Sandbox()
    try:
        return statistics.median(box.run_module({})[0]
                                 for _run in range(3))
    finally:
        box.destroy()


# -- report --------------------------------------------------------------------------
def report(title: str, ours: Samples, theirs: Samples, enforce: bool) -> List[str]:
    print(title)
    missed = []
    for label, target in TARGETS.items():
        mine, reference = statistics.median(ours[label]), statistics.median(theirs[label])
        ratio = mine / reference
        print("  %-15s topology %7.3f s   ip %7.3f s   ratio %5.2f (target <= %.1f)%s"
              % (label, mine, reference, ratio, target, "" if ratio <= target or not enforce else "  MISSED"))
        if enforce and ratio > target:
            missed.append("%s: %s" % (title.split(",")[0], label))
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=1000, help="macvlans in the one-namespace case")
    parser.add_argument("--namespaces", type=int, default=200, help="namespaces in the many-namespace case")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions per case (median)")
    parser.add_argument("--playbook-links", type=int, default=None,
                        help="links in the ansible-playbook comparison (default: --links; 0 skips it)")
    parser.add_argument("--smoke", action="store_true",
                        help="small sizes, every path checked, targets reported but not enforced (CI)")
    options = parser.parse_args()
    if options.smoke:
        options.links, options.namespaces, options.repeats = 50, 10, 1
        options.playbook_links = 10 if options.playbook_links is None else options.playbook_links
    playbook_links = options.links if options.playbook_links is None else options.playbook_links
    enforce = not options.smoke
    ipv6 = Path("/proc/sys/net/ipv6/conf/default/disable_ipv6").read_text().strip() == "0"
    print("IPv6 %s; medians of %d interleaved run(s) per side; each side timed as a whole process%s"
          % ("on" if ipv6 else "off", options.repeats, "" if enforce else " (smoke: targets not enforced)"))

    floor = start_up_floor()
    print("start-up floor: the module on an empty sandbox with an empty layout takes %.3f s" % floor)
    missed = report("N=%d macvlans with addresses, one namespace" % options.links,
                    *measure(links_case(options.links), options.repeats), enforce=enforce)
    missed += report("M=%d namespaces, each a macvlan with an address and a default route" % options.namespaces,
                     *measure(namespaces_case(options.namespaces), options.repeats), enforce=enforce)
    if playbook_links:
        one_task, loop = playbook_case(playbook_links)
        speedup = loop / one_task
        print("ansible-playbook, %d links: one topology task %.1f s, loop of macvlan_link %.1f s: %.0fx faster "
              "(target >= %.0fx)" % (playbook_links, one_task, loop, speedup, PLAYBOOK_SPEEDUP))
        if enforce and speedup < PLAYBOOK_SPEEDUP:
            missed.append("playbook speed-up")
    if missed:
        print("targets missed: %s" % "; ".join(missed))
        return 1
    print("all targets met" if enforce else "smoke run complete: every path ran and checked out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
