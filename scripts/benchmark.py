"""Benchmark: the topology module against `ip -batch`, side by side in one run.

Each side is timed as a whole process (interpreter start-up and imports included),
inside throw-away sandbox namespaces, interleaved and repeated (the median of each side
is compared: these machines are noisy). Cases, as issue #4 states them:

  links       N macvlans with an address each in one namespace
  namespaces  M namespaces, each holding one macvlan with an address and a default route
  playbook    through ansible-playbook: one topology task against a loop of macvlan_link
  codec       why the engine encodes and decodes netlink itself: one dump of N links decoded, and
              their creation requests encoded, by pyroute2 and by the engine's codec (reported only)

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
TARGETS = ("first converge", "no-op converge", "removal")
PLAYBOOK_SPEEDUP = 50.0


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def timed(cmd: List[str], env: Optional[Dict[str, str]] = None, stdin: Optional[str] = None,
          may_fail: bool = False) -> Tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, input=stdin, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 and not may_fail:
        tail = proc.stdout[-3000:] + proc.stderr[-3000:]
        raise SystemExit("benchmark step failed: %s\n%s" % (" ".join(cmd[:6]), tail))
    return elapsed, proc.stdout


def address(index: int) -> str:
    number = index + 1  # never 10.0.0.0, the network's own address
    return "10.%d.%d.%d/8" % (number >> 16 & 255, number >> 8 & 255, number & 255)


def private_run() -> None:
    """Run the whole benchmark in a mount namespace of its own with a private /run: its namespaces
    never appear in the machine's /run/netns, and its `overridden` runs never see (and purge)
    namespaces of the collection that live on the machine (a lab left up, a managed host's)."""
    if os.environ.get("LNBENCH_PRIVATE") == "1":
        return
    os.environ["LNBENCH_PRIVATE"] = "1"
    script = 'mount -t tmpfs -o mode=755 lnbench /run && mkdir -p /run/netns /run/lock && exec "$@"'
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                          sys.executable] + sys.argv)


class Sandbox:
    """A namespace holding the parent veth `up0`; names under it are `<name>n<k>`. With ipv6=False
    the kernel runs no IPv6 in it (nor in namespaces created while it is the default's source:
    the sandbox's `default` is what new links there inherit)."""

    ipv6 = True

    def __init__(self) -> None:
        self.name = "lnbench%s" % uuid.uuid4().hex[:6]
        sh("ip", "netns", "add", self.name)
        if not self.ipv6:
            for scope in ("all", "default"):
                sh("ip", "netns", "exec", self.name, "sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % scope)
        sh("ip", "-n", self.name, "link", "add", "up0", "up", "type", "veth", "peer", "name", "up1")
        sh("ip", "-n", self.name, "link", "set", "up1", "up")

    def child(self, index: int) -> str:
        return "%sn%d" % (self.name, index)

    def destroy(self) -> None:
        for name in os.listdir("/run/netns"):
            if name == self.name or name.startswith(self.name + "n"):
                subprocess.run(["ip", "netns", "del", name], check=False)

    def run_module(self, args: Dict[str, Any], expect_failure: bool = False) -> Tuple[float, Dict[str, Any]]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        try:
            elapsed, out = timed(["nsenter", "--net=/run/netns/%s" % self.name, sys.executable, str(MODULE),
                                  handle.name], env, may_fail=expect_failure)
        finally:
            os.unlink(handle.name)
        result = json.loads(out)
        if bool(result.get("failed")) != expect_failure:
            raise SystemExit("topology %s: %s" % ("failed" if result.get("failed") else "did not fail",
                                                  result.get("msg")))
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


def rollback_run(count: int, repeats: int, enforce: bool) -> List[str]:
    """A first converge of `count` links that fails at its last step (an IPv6 address where IPv6 is
    off) and rolls everything back, against `ip -batch` creating them and `ip link del group`."""
    reference_case, document = links_case(count)
    ours, theirs = [], []
    Sandbox.ipv6 = False
    try:
        for _repeat in range(repeats):
            ref_box, our_box = Sandbox(), Sandbox()
            try:
                create, removal = reference_case(ref_box)
                theirs.append(create + removal)
                doc = document(our_box)
                doc["links"].append({"kind": "macvlan", "name": "mvlast", "parent": "up0", "mode": "bridge",
                                     "addresses": ["fd00::1/64"]})
                elapsed, result = our_box.run_module(doc, expect_failure=True)
                if len(result.get("rolled_back", [])) < count or result.get("rollback_errors"):
                    raise SystemExit("the failed converge did not roll back: %s" % result.get("msg"))
                ours.append(elapsed)
            finally:
                ref_box.destroy()
                our_box.destroy()
    finally:
        Sandbox.ipv6 = True
    mine, reference = statistics.median(ours), statistics.median(theirs)
    ratio = mine / reference
    missed = enforce and ratio > ROLLBACK_TARGET
    print("N=%d, a first converge failing at its last step and rolled back, IPv6 off\n  rolled back     topology %7.3f s"
          "   ip %7.3f s (create + link del group)   ratio %5.2f (target <= %.1f%s)%s"
          % (count, mine, reference, ratio, ROLLBACK_TARGET, "" if enforce else ", reported only",
             "  MISSED" if missed else ""))
    return ["rollback of a failed first converge"] if missed else []


def chain_run(count: int, enforce: bool) -> List[str]:
    """`state: rendered` of a chain of `count` stacked VLANs against `count` VLANs side by side on
    one parent: ordering parents before children must not cost more for a deep stack."""
    def vlans(chained: bool) -> Dict[str, Any]:
        if chained:  # v0 on up0, v1 on v0, ...
            entries = [{"name": "v%d" % i, "parent": "v%d" % (i - 1) if i else "up0", "vlan_id": 7} for i in range(count)]
        else:  # spread over NICs the document does not make: one VLAN id per parent once
            entries = [{"name": "v%d" % i, "parent": "nic%d" % (i % 8), "vlan_id": i // 8 + 1} for i in range(count)]
        return {"state": "rendered", "links": [dict(entry, kind="vlan") for entry in entries][::-1]}
    box = Sandbox()
    try:
        deep = statistics.median(box.run_module(vlans(True))[0] for _run in range(3))
        flat = statistics.median(box.run_module(vlans(False))[0] for _run in range(3))
    finally:
        box.destroy()
    ratio = deep / flat
    missed = enforce and ratio > CHAIN_TARGET
    note = "" if enforce else ", reported only"
    print("rendering %d VLANs, listed children first\n  %d deep        topology %7.3f s   side by side %7.3f s   "
          "ratio %5.2f (target <= %.1f%s)%s"
          % (count, count, deep, flat, ratio, CHAIN_TARGET, note, "  MISSED" if missed else ""))
    return ["rendering a deep stack"] if missed else []


# Run inside the sandbox: one link dump decoded by pyroute2 and by the collection's codec (what every
# module run starts with), and the creation requests of the links encoded by each (medians of 5).
CODEC_SCRIPT = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from pyroute2 import IPRoute
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from ansible_collections.linuxnet.macvlan.plugins.module_utils import rtnl
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkstate import link_state
from ansible_collections.linuxnet.macvlan.plugins.module_utils.linkinfo import encode
def timed(work):
    samples = []
    for _ in range(5):
        start = time.perf_counter(); work(); samples.append(time.perf_counter() - start)
    return statistics.median(samples)
ipr, sock = IPRoute(), rtnl.RtnlSocket()
body = rtnl.IFINFOMSG.pack(0, 0, 0, 0, 0)
def ours_dump():
    return [link_state(rtnl.parse_link(d, s, e)) for d, s, e in sock.dump(rtnl.RTM_GETLINK, body)]
def ours_encode():
    return [body + rtnl.attr_text(rtnl.IFLA_IFNAME, "mv%d" % i) + rtnl.attr_u32(rtnl.IFLA_LINK, 2)
            + encode("macvlan", {"mode": "bridge"}) for i in range(int(sys.argv[2]))]
def theirs_encode():
    out = []
    for i in range(int(sys.argv[2])):
        msg = ifinfmsg()
        msg["attrs"] = [("IFLA_IFNAME", "mv%d" % i), ("IFLA_LINK", 2), ("IFLA_LINKINFO", {"attrs": [
            ("IFLA_INFO_KIND", "macvlan"), ("IFLA_INFO_DATA", {"attrs": [("IFLA_MACVLAN_MODE", "bridge")]})]})]
        msg.encode(); out.append(bytes(msg.data))
    return out
print(json.dumps({"links": len(ours_dump()), "pyroute2 dump": timed(lambda: list(ipr.get_links())),
                  "codec dump": timed(ours_dump), "pyroute2 encode": timed(theirs_encode),
                  "codec encode": timed(ours_encode)}))
"""


def codec_run(count: int) -> None:
    """Why the engine has a codec of its own: decoding one dump of `count` macvlans and encoding their
    creation requests, pyroute2 against rtnl.py/linkinfo.py (reported, no target)."""
    box = Sandbox()
    try:
        box.ip_batch(["link add link up0 name mv%d type macvlan mode bridge" % i for i in range(count)])
        out = timed(["nsenter", "--net=/run/netns/%s" % box.name, sys.executable, "-c", CODEC_SCRIPT,
                     str(COLLECTIONS), str(count)])[1]
    finally:
        box.destroy()
    took = json.loads(out)
    print("codec, %d links in one namespace (the engine's own codec against pyroute2, medians of 5)" % took["links"])
    for what in ("dump", "encode"):
        print("  %-15s pyroute2 %7.3f s   codec %7.3f s   %5.0fx" % (
            "decode a dump" if what == "dump" else "encode creates", took["pyroute2 " + what], took["codec " + what],
            took["pyroute2 " + what] / took["codec " + what]))


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
Targets = Dict[str, Optional[float]]
# The engine at scale, IPv6 off (issue 15): the work, not the start-up, dominates at N=4000.
LINKS_TARGETS: Targets = {"first converge": 1.2, "no-op converge": 0.3, "removal": 2.0}
# Many namespaces: `ip netns del` returns before the kernel frees a namespace, so removal has no
# ratio target; the work above the start-up floor is reported instead.
NAMESPACES_TARGETS: Targets = {"first converge": 2.0, "no-op converge": 1.5, "removal": None}
# A failed first converge undoes its creations in bulk: about the reference's create + group delete.
ROLLBACK_TARGET = 2.0
# Ordering a deep stack of links (each the parent of the next) costs about what a flat list does.
CHAIN_TARGET = 1.5


def report(title: str, ours: Samples, theirs: Samples, targets: Targets, enforce: bool,
           floor: float) -> List[str]:
    print(title)
    missed = []
    for label in TARGETS:
        mine, reference = statistics.median(ours[label]), statistics.median(theirs[label])
        ratio = mine / reference
        target = targets.get(label)
        if target is None:
            print("  %-15s topology %7.3f s   ip %7.3f s   ratio %5.2f (no target; work above the start-up floor "
                  "%.3f s)" % (label, mine, reference, ratio, max(0.0, mine - floor)))
            continue
        missed_here = enforce and ratio > target
        print("  %-15s topology %7.3f s   ip %7.3f s   ratio %5.2f (target <= %.1f%s)%s"
              % (label, mine, reference, ratio, target, "" if enforce else ", reported only",
                 "  MISSED" if missed_here else ""))
        if missed_here:
            missed.append("%s: %s" % (title.split(",")[0], label))
    return missed


def links_run(count: int, ipv6: bool, repeats: int, targets: Targets, enforce: bool, floor: float) -> List[str]:
    Sandbox.ipv6 = ipv6
    try:
        title = "N=%d macvlans with addresses, one namespace, IPv6 %s" % (count, "on" if ipv6 else "off")
        return report(title, *measure(links_case(count), repeats), targets=targets, enforce=enforce, floor=floor)
    finally:
        Sandbox.ipv6 = True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=4000, help="macvlans in the one-namespace case (targets apply)")
    parser.add_argument("--small-links", type=int, default=1000, help="the same case at a size only reported")
    parser.add_argument("--namespaces", type=int, default=200, help="namespaces in the many-namespace case")
    parser.add_argument("--chain", type=int, default=5000, help="VLANs in the rendered deep-stack case")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions per case (median)")
    parser.add_argument("--playbook-links", type=int, default=None,
                        help="links in the ansible-playbook comparison (default: --small-links; 0 skips it)")
    parser.add_argument("--smoke", action="store_true",
                        help="small sizes, every path checked, targets reported but not enforced (CI)")
    options = parser.parse_args()
    private_run()
    if options.smoke:
        options.links, options.small_links, options.namespaces, options.repeats = 50, 20, 10, 1
        options.chain = 200
        options.playbook_links = 10 if options.playbook_links is None else options.playbook_links
    playbook_links = options.small_links if options.playbook_links is None else options.playbook_links
    enforce = not options.smoke
    host_ipv6 = Path("/proc/sys/net/ipv6/conf/default/disable_ipv6").read_text().strip() == "0"
    print("medians of %d interleaved run(s) per side; each side timed as a whole process; IPv6 as each case says "
          "(off: disabled in the case's namespace)%s"
          % (options.repeats, "" if enforce else " (smoke: targets not enforced)"))

    floor = start_up_floor()
    print("start-up floor: the module on an empty sandbox with an empty layout takes %.3f s" % floor)
    missed = links_run(options.links, False, options.repeats, LINKS_TARGETS, enforce, floor)
    missed += rollback_run(options.links, options.repeats, enforce)
    missed += chain_run(options.chain, enforce)
    codec_run(options.small_links)
    links_run(options.links, True, options.repeats, LINKS_TARGETS, False, floor)
    links_run(options.small_links, False, options.repeats, LINKS_TARGETS, False, floor)
    missed += report("M=%d namespaces, each a macvlan with an address and a default route, IPv6 %s"
                     % (options.namespaces, "on" if host_ipv6 else "off"),
                     *measure(namespaces_case(options.namespaces), options.repeats), targets=NAMESPACES_TARGETS,
                     enforce=enforce, floor=floor)
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
