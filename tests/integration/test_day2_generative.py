"""Day 2, generatively (issue 13): a Hypothesis state machine drives the real kernel in one
hermetic sandbox per example (torn down between examples) through the modules' public
interface, the way users do after the first build:

- random valid layouts and random edits of them through `topology` (`present` and
  `overridden`) and through the single-object modules (macvlan_link, netns, bridge_port,
  veth_link, bridge_link);
- foreign changes behind the collection's back (a hand-made macvlan on our parent, an
  address added by hand, a foreign namespace, a foreign veth whose peer is in one of our
  namespaces), remembered and required to survive every later run;
- a run killed with SIGKILL at a random moment, after which the next run must converge;
- two runs started at once: both end converged, or one fails cleanly on the host lock;
- random invalid input: failed, JSON, nothing changed.

After every step: the kernel, read back with `ip -j` by the small reader below (never the
engine), matches the document wherever the document speaks; a second run reports
`changed: false`; check mode predicted the real run (changed, actions, diff after); the
foreign objects are untouched; every answer is JSON. A run that fails must fail cleanly:
JSON, a message, nothing changed (and check mode must have said so too).

Budget: the profile `linuxnet-ci` (default, a few minutes, the same examples every run) or
`linuxnet-soak` (new examples every run)
(`LINUXNET_SOAK=1 .venv/bin/python -m pytest tests/integration/test_day2_generative.py`).
A failure prints the shrunk steps and a `@reproduce_failure` blob.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from conftest import COLLECTIONS, ROOT, Sandbox, snapshot_diff

pytestmark = pytest.mark.host_lane_only("kills and races module processes; nothing here needs the guest's kernel")

# CI draws the same examples every run (derandomize): a red CI is a regression, reproducible by
# running it again; the soak draws new ones every time, to find what is not known yet.
settings.register_profile(
    "linuxnet-ci", max_examples=int(os.environ.get("LINUXNET_EXAMPLES", "8")), stateful_step_count=10,
    deadline=None, derandomize=True, print_blob=True, database=None,
    suppress_health_check=list(HealthCheck))
settings.register_profile(
    "linuxnet-soak", max_examples=int(os.environ.get("LINUXNET_EXAMPLES", "150")), stateful_step_count=25,
    deadline=None, derandomize=False, print_blob=True, database=None,
    suppress_health_check=list(HealthCheck))
PROFILE = "linuxnet-soak" if os.environ.get("LINUXNET_SOAK") else "linuxnet-ci"
# Exploring locally: LINUXNET_NO_SHRINK=1 reports the first failure as found (shrinking real-kernel
# steps can take Hypothesis' full five minutes).
NO_SHRINK = bool(os.environ.get("LINUXNET_NO_SHRINK"))
# Exploring past a known bug (each has its test in test_day2_regressions.py), never in CI:
# LINUXNET_DAY2_TOLERATE=tap_device,... (see TOLERABLE).
TOLERATE = set(filter(None, os.environ.get("LINUXNET_DAY2_TOLERATE", "").split(",")))
TOLERABLE = {
    "tap_device": "check mode's diff after lacks a new macvtap's tap_device",
    "bridge_mac": "a new port changes an existing bridge's kernel-chosen MAC: br0 gets a fixed MAC",
    "routes_lost": "a link's last address changing drops its routes: every link keeps one fixed address",
    "purge_moves": "overridden refuses to purge a parent whose listed child moves elsewhere: such a refusal passes",
    "group_purge": "overridden's group purge deletes links the same run creates: apply present first",
    "passthru_purge": "overridden's passthru check counts children it purges: such a refusal passes",
    "secondaries": "deleting a subnet's primary address loses its secondaries: one address per link",
}

MODES = ["private", "vepa", "bridge", "passthru", "source"]
CHILDREN = ["c1", "c2", "c3", "c4"]
SPACES = ["a", "b", "c"]
SOURCE_MACS = ["52:54:00:12:34:56", "52:54:00:ab:cd:ef", "02:00:00:00:10:01"]
LOCK_WORDS = ("lock",)


# -- running modules as Ansible does, as processes we can kill or race ---------
class Run:
    """One module process inside the sandbox (nsenter into its network and mount namespaces)."""

    def __init__(self, box: Sandbox, module: str, args: Dict[str, Any], check: bool = False) -> None:
        payload = dict(args, _ansible_check_mode=check, _ansible_diff=True)
        handle, self.path = tempfile.mkstemp(suffix=".json", prefix="lnmt-args-")
        with os.fdopen(handle, "w") as out:
            json.dump({"ANSIBLE_MODULE_ARGS": payload}, out)
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        self.proc = subprocess.Popen(
            box.enter([sys.executable, str(ROOT / "plugins" / "modules" / ("%s.py" % module)), self.path]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.module, self.args = module, args

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()
        os.unlink(self.path)

    def result(self, timeout: float = 300) -> Dict[str, Any]:
        out, err = self.proc.communicate(timeout=timeout)
        os.unlink(self.path)
        try:
            answer = json.loads(out)
        except ValueError:
            raise AssertionError("%s printed no JSON (rc=%s) for %s:\n%s\n%s"
                                 % (self.module, self.proc.returncode, json.dumps(self.args), out, err[-3000:]))
        assert isinstance(answer, dict), answer
        return answer


def run(box: Sandbox, module: str, args: Dict[str, Any], check: bool = False) -> Dict[str, Any]:
    return Run(box, module, args, check).result()


# -- the document model ----------------------------------------------------------
def subnet(child: str) -> int:
    return 20 + CHILDREN.index(child)


def render(box: Sandbox, spec: Dict[str, Any]) -> Dict[str, Any]:
    """The topology document for a spec (the machine's compact model of a layout)."""
    doc: Dict[str, Any] = {"namespaces": [], "links": [], "bridge_ports": []}
    links = doc["links"]
    links.append({"kind": "veth", "name": "nic0", "peer": "nic0_sw", "mtu": spec["nic0_mtu"]})
    if spec["nic1"]:
        links.append({"kind": "veth", "name": "nic1", "peer": "nic1_sw"})
    if spec["bridge"] is not None:
        entry = {"kind": "bridge", "name": "br0", "stp": spec["bridge"]["stp"]}
        if "bridge_mac" in TOLERATE:
            entry["macaddress"] = "02:00:00:00:0b:00"
        if spec["bridge"]["addresses"]:
            entry["addresses"] = ["10.9.0.1/24"]
        links.append(entry)
        if spec["bridge"]["port"] is not None:
            links.append({"kind": "veth", "name": "vp0", "peer": "vp0_br"})
            doc["bridge_ports"].append({"name": "vp0_br", "bridge": "br0", "hairpin": spec["bridge"]["port"]})
    for name, child in sorted(spec["children"].items()):
        links.append(child_entry(box, name, child))
    for short, space in sorted(spec["namespaces"].items()):
        entry: Dict[str, Any] = {"name": box.ns(short)}
        if space["sysctls"] is not None:
            entry["sysctls"] = {"net.ipv4.conf.all.arp_ignore": space["sysctls"],
                                "net.ipv4.conf.all.rp_filter": 2}
        # routes and neighbors through the first child with an address in this namespace
        dev = next((n for n, c in sorted(spec["children"].items()) if c["netns"] == short and c["addresses"]), None)
        if dev is not None and space["routes"]:
            net = subnet(dev)
            entry["routes"] = [{"dest": "default", "via": "10.%d.0.1" % net},
                               {"dest": "10.%d.0.0/16" % (net + 100), "dev": dev}]
        if dev is not None and space["neighbors"]:
            entry["neighbors"] = [{"address": "10.%d.0.77" % subnet(dev), "lladdr": "02:00:00:00:77:%02x" % subnet(dev),
                                   "dev": dev}]
        doc["namespaces"].append(entry)
    return doc


def child_entry(box: Sandbox, name: str, child: Dict[str, Any]) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"kind": child["kind"], "name": name, "parent": child["parent"], "mode": child["mode"]}
    if child["netns"] is not None:
        entry["netns"] = box.ns(child["netns"])
    entry["addresses"] = ["10.%d.0.%d/24" % (subnet(name), host) for host in child["addresses"]]
    if child["mode"] == "source":
        entry["source_macs"] = list(child["source_macs"])
    if child["mode"] == "passthru" and child["nopromisc"]:
        entry["nopromisc"] = True
    if child["routes"] and child["netns"] is None:
        entry["routes"] = ["10.%d.0.0/24" % (subnet(name) + 60)]
    return entry


# Every draw is independent of the kernel's answers (a refusal changes which layout holds):
# choices among what exists are drawn as indexes and resolved against it, so a replayed example
# draws exactly what it drew the first time.
RAW_CHILD = st.fixed_dictionaries({
    "kind": st.sampled_from(["macvlan", "macvtap"]),
    "parent": st.integers(0, 2),
    "mode": st.sampled_from(MODES),
    "netns": st.integers(0, 3),
    "addresses": st.lists(st.sampled_from([10, 11, 12]), max_size=2, unique=True),
    "source_macs": st.lists(st.sampled_from(SOURCE_MACS), min_size=1, max_size=2, unique=True),
    "nopromisc": st.booleans(),
    "routes": st.booleans(),
})


def resolve_child(raw: Dict[str, Any], parents: List[str], spaces: List[str]) -> Dict[str, Any]:
    child = dict(raw)
    child["parent"] = parents[raw["parent"] % len(parents)]
    child["netns"] = ([None] + spaces)[raw["netns"] % (len(spaces) + 1)]
    child["addresses"] = one_address(raw["addresses"])
    return child


def one_address(addresses: List[int]) -> List[int]:
    if "routes_lost" in TOLERATE:
        return [10]
    return addresses[:1] if "secondaries" in TOLERATE else list(addresses)


def passthru_ok(children: Dict[str, Dict[str, Any]]) -> bool:
    """passthru's one-child rule, within the document."""
    for name, child in children.items():
        if child["mode"] == "passthru" and any(o["parent"] == child["parent"] for n, o in children.items() if n != name):
            return False
    return True


@st.composite
def layouts(draw: Any) -> Dict[str, Any]:
    spaces = draw(st.lists(st.sampled_from(SPACES), max_size=3, unique=True))
    spec: Dict[str, Any] = {
        "nic0_mtu": draw(st.sampled_from([1500, 1400])),
        "nic1": draw(st.booleans()),
        "bridge": draw(st.none() | st.fixed_dictionaries({
            "stp": st.booleans(), "addresses": st.booleans(), "port": st.none() | st.booleans()})),
        "namespaces": {short: draw(st.fixed_dictionaries({
            "sysctls": st.none() | st.sampled_from([0, 1, 2]), "routes": st.booleans(), "neighbors": st.booleans()}))
            for short in spaces},
    }
    parents = ["nic0"] + (["nic1"] if spec["nic1"] else []) + (["br0"] if spec["bridge"] is not None else [])
    names = draw(st.lists(st.sampled_from(CHILDREN), max_size=4, unique=True))
    children = {name: resolve_child(draw(RAW_CHILD), parents, sorted(spaces)) for name in names}
    for name in sorted(children):  # passthru's one-child rule: demote the extras
        if not passthru_ok(children):
            if children[name]["mode"] == "passthru":
                children[name]["mode"] = "bridge"
    spec["children"] = children
    return spec


def parents_of(spec: Dict[str, Any]) -> List[str]:
    return ["nic0"] + (["nic1"] if spec["nic1"] else []) + (["br0"] if spec["bridge"] is not None else [])


# -- an independent reader of the kernel (ip -j), never the engine ---------------
class Reading:
    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.spaces = box.netns_names()
        self.links: Dict[Optional[str], Dict[str, Any]] = {}
        for ns in [None] + self.spaces:
            data = json.loads(box.ip("-j", "-d", "addr", "show", netns=ns) or "[]")
            self.links[ns] = {entry["ifname"]: entry for entry in data}

    def routes(self, ns: Optional[str]) -> List[Dict[str, Any]]:
        return json.loads(self.box.ip("-j", "-4", "route", "show", netns=ns) or "[]")

    def neighbors(self, ns: Optional[str]) -> List[Dict[str, Any]]:
        return json.loads(self.box.ip("-j", "neigh", "show", "nud", "permanent", netns=ns) or "[]")

    def sysctl(self, ns: str, key: str) -> str:
        return self.box.exec("cat", "/proc/sys/" + key.replace(".", "/"), netns=ns).stdout.strip()


def v4(entry: Dict[str, Any]) -> List[str]:
    return sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in entry.get("addr_info", [])
                  if a.get("family") == "inet")


def kernel_matches(box: Sandbox, doc: Dict[str, Any]) -> List[str]:
    """Where the document speaks, the kernel agrees; every disagreement, as text."""
    seen = Reading(box)
    problems: List[str] = []
    for space in doc["namespaces"]:
        name = space["name"]
        if name not in seen.spaces:
            problems.append("namespace %s is missing" % name)
            continue
        if "UP" not in seen.links[name].get("lo", {}).get("flags", []):
            problems.append("lo is down in %s" % name)
        for key, value in space.get("sysctls", {}).items():
            if seen.sysctl(name, key) != str(value):
                problems.append("%s %s = %s, not %s" % (name, key, seen.sysctl(name, key), value))
        routes = seen.routes(name)
        for route in space.get("routes", []):
            hit = [r for r in routes if r["dst"] == route["dest"]
                   and r.get("gateway") == route.get("via") and ("dev" not in route or r["dev"] == route["dev"])]
            if not hit:
                problems.append("route %s missing in %s: %s" % (route, name, routes))
        neighbors = seen.neighbors(name)
        for neigh in space.get("neighbors", []):
            if not [n for n in neighbors if n["dst"] == neigh["address"] and n.get("lladdr") == neigh["lladdr"]
                    and n["dev"] == neigh["dev"]]:
                problems.append("neighbor %s missing in %s: %s" % (neigh, name, neighbors))
    for link in doc["links"]:
        ns = link.get("netns")
        entry = seen.links.get(ns, {}).get(link["name"])
        where = "%s (netns %s)" % (link["name"], ns)
        if entry is None:
            problems.append("link %s is missing" % where)
            continue
        info = entry.get("linkinfo", {})
        if info.get("info_kind") != link["kind"]:
            problems.append("%s is a %s, not a %s" % (where, info.get("info_kind"), link["kind"]))
        if link.get("admin_state", "up") == "up" and "UP" not in entry["flags"]:
            problems.append("%s is down" % where)
        if "addresses" in link and v4(entry) != sorted(link["addresses"]):
            problems.append("%s has addresses %s, not %s" % (where, v4(entry), sorted(link["addresses"])))
        if "mtu" in link and entry["mtu"] != link["mtu"]:
            problems.append("%s has mtu %s, not %s" % (where, entry["mtu"], link["mtu"]))
        data = info.get("info_data", {})
        if link["kind"] in ("macvlan", "macvtap"):
            if data.get("mode") != link["mode"]:
                problems.append("%s has mode %s, not %s" % (where, data.get("mode"), link["mode"]))
            if ns is None and entry.get("link") != link["parent"]:
                problems.append("%s sits on %s, not %s" % (where, entry.get("link"), link["parent"]))
            if link["mode"] == "source" and sorted(data.get("macaddr_data", [])) != sorted(link["source_macs"]):
                problems.append("%s allows %s, not %s" % (where, data.get("macaddr_data"), link["source_macs"]))
        if link["kind"] == "bridge" and "stp" in link and bool(data.get("stp_state")) != link["stp"]:
            problems.append("%s stp_state %s, wanted %s" % (where, data.get("stp_state"), link["stp"]))
        if "routes" in link:
            dsts = sorted(r["dst"] for r in seen.routes(ns) if r.get("dev") == link["name"]
                          and r.get("protocol") == "static")
            if dsts != sorted(link["routes"]):
                problems.append("%s routes %s, not %s" % (where, dsts, link["routes"]))
    for port in doc["bridge_ports"]:
        entry = seen.links.get(port.get("netns"), {}).get(port["name"], {})
        if entry.get("master") != port["bridge"]:
            problems.append("port %s master %s, not %s" % (port["name"], entry.get("master"), port["bridge"]))
        elif "hairpin" in port and entry["linkinfo"]["info_slave_data"].get("hairpin") != port["hairpin"]:
            problems.append("port %s hairpin %s" % (port["name"], entry["linkinfo"]["info_slave_data"].get("hairpin")))
    return problems


def predicts(predicted: Any, actual: Any) -> bool:
    """Check mode's diff predicted the real one; a value check mode cannot know is written as a
    placeholder in parentheses, e.g. a MAC '(assigned by the kernel)'."""
    if isinstance(predicted, str) and predicted.startswith("(") and predicted.endswith(")"):
        return True
    if isinstance(predicted, dict) and isinstance(actual, dict):
        if "tap_device" in TOLERATE and "tap_device" in actual and "tap_device" not in predicted:
            actual = {k: v for k, v in actual.items() if k != "tap_device"}
        return set(predicted) == set(actual) and all(predicts(predicted[k], actual[k]) for k in predicted)
    if isinstance(predicted, list) and isinstance(actual, list):
        return len(predicted) == len(actual) and all(predicts(p, a) for p, a in zip(predicted, actual))
    return predicted == actual


def everything(box: Sandbox) -> Any:
    """A snapshot of every namespace in the sandbox, for 'nothing changed'."""
    return box.snapshot(*box.netns_names())


# -- the machine -------------------------------------------------------------------
def reported(method: Any) -> Any:
    """A failing step prints its message at once (-s shows it), even when Hypothesis later
    replays the example and reports something else (a kernel that answered differently)."""
    def step(self: Any, *args: Any, **kwargs: Any) -> Any:
        event("step: %s" % method.__name__)
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            sys.stderr.write("\n*** step %s failed: %s\n" % (method.__name__, str(exc)[:1500]))
            raise
    step.__name__ = method.__name__
    step.__doc__ = method.__doc__
    return step


class Day2(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.box = Sandbox()
        self.spec: Optional[Dict[str, Any]] = None
        self.foreign: List[Dict[str, Any]] = []
        self.owned_spaces: set = set()
        self.owned_links: set = set()   # (netns or None, name)
        self.counter = 0

    def teardown(self) -> None:
        self.box.cleanup()

    # -- helpers --
    def doc(self, state: str = "present") -> Dict[str, Any]:
        return dict(render(self.box, self.spec), state=state)

    def remember_owned(self, doc: Dict[str, Any]) -> None:
        for space in doc["namespaces"]:
            self.owned_spaces.add(space["name"])
        for link in doc["links"]:
            self.owned_links.add((link.get("netns"), link["name"]))
            if link["kind"] == "veth":
                self.owned_links.add((link.get("peer_netns"), link["peer"]))

    def converge(self, module: str, args: Dict[str, Any], must_succeed: bool = False) -> Optional[Dict[str, Any]]:
        """Check mode, the run, the rerun, with every invariant. Returns the real run's answer,
        or None when the run was refused cleanly (check mode refused it too, nothing changed)."""
        before = everything(self.box)
        predicted = run(self.box, module, args, check=True)
        after_check = everything(self.box)
        assert after_check == before, "check mode changed the kernel: %s\n%r" % (snapshot_diff(before, after_check), args)
        applied = run(self.box, module, args)
        if predicted.get("failed") or applied.get("failed"):
            assert predicted.get("failed") and applied.get("failed"), (
                "check mode did not predict the run:\ncheck: %s\nreal: %s" % (json.dumps(predicted), json.dumps(applied)))
            assert applied.get("msg"), applied
            assert applied.get("changed") is False, applied
            after = everything(self.box)
            assert after == before, "a failed run changed the kernel: %s\n%s\n%s" % (
                snapshot_diff(before, after), applied.get("msg"), applied)
            event("refused: %s %s" % (module, applied["msg"].split(":")[0][:60]))
            sys.stderr.write("\n(refused: %s %s %s)\n" % (module, applied["msg"], applied.get("errors", "")))
            self.check_refusal_names_foreign(args, applied)
            if "purge_moves" in TOLERATE and "still lists" in applied["msg"]:
                must_succeed = False
            if "passthru_purge" in TOLERATE and "passthru allows" in applied["msg"]:
                must_succeed = False
            assert not must_succeed, "a valid document on a clean sandbox was refused: %s\n%s" % (
                applied.get("msg"), json.dumps(args))
            self.check_foreign()
            return None
        assert applied["changed"] == predicted["changed"], (predicted, applied)
        assert applied.get("actions") == predicted.get("actions"), (predicted.get("actions"), applied.get("actions"))
        if "diff" in applied:
            assert predicts(predicted.get("diff", {}).get("after"), applied["diff"].get("after")), (
                "check mode's diff after differs:\n%s\n%s" % (json.dumps(predicted.get("diff")),
                                                              json.dumps(applied["diff"])))
        event("converged: %s" % module)
        self.settle()
        again = run(self.box, module, args)
        assert not again.get("failed"), again
        assert again["changed"] is False and again.get("actions", []) == [], again
        self.check_foreign()
        return applied

    def check_refusal_names_foreign(self, args: Dict[str, Any], answer: Dict[str, Any]) -> None:
        """A run that refuses because of an object the collection did not make names it."""
        text = "%s %s" % (answer.get("msg", ""), " ".join(answer.get("errors") or []))
        if "not the collection's" in text or "foreign" in text or "carries" in text:
            names = [f.get("name") or f.get("addr") for f in self.foreign]
            names += [f["peer"] for f in self.foreign if f["type"] == "veth"]
            assert any(name and name in text for name in names), (
                "a refusal blames an object it does not name (foreign here: %s): %s" % (names, text))

    def settle(self) -> None:
        """Carrier of a new veth comes asynchronously; it is not configuration."""
        time.sleep(0.05)

    def apply(self, spec: Dict[str, Any], state: str, must_succeed: bool = False) -> bool:
        """Converge a layout; False when it was refused cleanly (the old layout then still holds)."""
        doc = dict(render(self.box, spec), state=state)
        clean = must_succeed or (state == "overridden" and not self.foreign)
        if "group_purge" in TOLERATE and state == "overridden":
            run(self.box, "topology", dict(doc, state="present"))
            self.remember_owned(doc)
        applied = self.converge("topology", doc, must_succeed=clean)
        if applied is None:
            return False
        self.spec = spec
        problems = kernel_matches(self.box, doc)
        assert not problems, "the kernel does not match the document:\n  " + "\n  ".join(problems)
        self.remember_owned(doc)
        if state == "overridden":
            self.check_purged(doc)
        return True

    def check_purged(self, doc: Dict[str, Any]) -> None:
        """overridden: what the collection made earlier and is no longer listed is gone."""
        listed_spaces = {space["name"] for space in doc["namespaces"]}
        listed = {(link.get("netns"), link["name"]) for link in doc["links"]}
        listed |= {(link.get("peer_netns"), link["peer"]) for link in doc["links"] if link["kind"] == "veth"}
        seen = Reading(self.box)
        holding_foreign = {f.get("peer_ns") for f in self.foreign if f["type"] == "veth"}
        for space in sorted(self.owned_spaces - listed_spaces):
            if space in seen.spaces and space not in holding_foreign:
                raise AssertionError("overridden left the collection's namespace %s" % space)
        for ns, name in sorted(self.owned_links - listed, key=str):
            if ns is None or ns in seen.spaces:
                if name in seen.links.get(ns, {}) and not self.is_foreign_link(ns, name):
                    raise AssertionError("overridden left the collection's link %s (netns %s)" % (name, ns))
        self.owned_spaces &= listed_spaces | holding_foreign
        self.owned_links &= listed

    def is_foreign_link(self, ns: Optional[str], name: str) -> bool:
        return any(f["type"] in ("link", "veth") and f["ns"] == ns and f["name"] == name for f in self.foreign)

    def check_foreign(self) -> None:
        seen = Reading(self.box)
        for item in self.foreign:
            if item["type"] == "netns":
                assert item["name"] in seen.spaces, "foreign namespace %s is gone" % item["name"]
                continue
            ns = item.get("ns")
            entry = seen.links.get(ns, {}).get(item.get("name") or item.get("dev"))
            assert entry is not None, "foreign %s is gone: %s" % (item["type"], item)
            if item["type"] in ("link", "veth"):
                assert entry["ifindex"] == item["ifindex"], "foreign link %s was re-created" % item
            if item["type"] == "veth":
                peer = seen.links.get(item["peer_ns"], {}).get(item["peer"])
                assert peer is not None, "the peer of foreign veth %s is gone" % item
            if item["type"] == "addr":
                assert item["addr"] in v4(entry), "foreign address %s is gone" % item

    def fresh(self) -> str:
        self.counter += 1
        return "f%d" % self.counter

    # -- rules: layouts and edits through topology --
    @initialize(spec=layouts())
    @reported
    def first_layout(self, spec: Dict[str, Any]) -> None:
        self.apply(spec, "present", must_succeed=True)

    @rule(spec=layouts(), state=st.sampled_from(["present", "overridden"]))
    @reported
    def new_layout(self, spec: Dict[str, Any], state: str) -> None:
        self.apply(spec, state)

    @precondition(lambda self: self.spec is not None)
    @rule(what=st.sampled_from(["address", "mode", "netns", "add", "remove", "sysctl", "routes", "neighbors",
                                "hairpin", "link_routes", "mtu"]),
          pick=st.integers(0, 3), addresses=st.lists(st.sampled_from([10, 11, 12, 13]), max_size=2, unique=True),
          mode=st.sampled_from(MODES), sysctl=st.none() | st.sampled_from([0, 1, 2]), raw=RAW_CHILD,
          state=st.sampled_from(["present", "overridden"]))
    @reported
    def edit_layout(self, what: str, pick: int, addresses: List[int], mode: str, sysctl: Optional[int],
                    raw: Dict[str, Any], state: str) -> None:
        spec = copy.deepcopy(self.spec)
        names, spaces = sorted(spec["children"]), sorted(spec["namespaces"])
        if what in ("address", "mode", "netns", "remove", "link_routes") and names:
            name = names[pick % len(names)]
            child = spec["children"][name]
            if what == "address":
                child["addresses"] = one_address(addresses)
            elif what == "mode":
                child["mode"] = mode
            elif what == "netns":
                child["netns"] = ([None] + spaces)[pick % (len(spaces) + 1)]
            elif what == "link_routes":
                child["routes"] = not child["routes"]
            else:
                del spec["children"][name]
        elif what == "add":
            free = [n for n in CHILDREN if n not in spec["children"]]
            if free:
                spec["children"][free[0]] = resolve_child(raw, parents_of(spec), spaces)
        elif what in ("sysctl", "routes", "neighbors") and spaces:
            space = spec["namespaces"][spaces[pick % len(spaces)]]
            if what == "sysctl":
                space["sysctls"] = sysctl
            else:
                space[what] = not space[what]
        elif what == "hairpin" and spec["bridge"] is not None:
            port = spec["bridge"]["port"]
            spec["bridge"]["port"] = True if port is None else (not port)
        elif what == "mtu":
            spec["nic0_mtu"] = 1400 if spec["nic0_mtu"] == 1500 else 1500
        if not passthru_ok(spec["children"]):
            return
        self.apply(spec, state)

    # -- rules: the single-object modules on the same layout --
    @precondition(lambda self: self.spec is not None and self.spec["children"])
    @rule(pick=st.integers(0, 3), addresses=st.lists(st.sampled_from([10, 11, 12, 14]), max_size=2, unique=True))
    @reported
    def macvlan_link_edit(self, pick: int, addresses: List[int]) -> None:
        spec = copy.deepcopy(self.spec)
        names = sorted(spec["children"])
        name = names[pick % len(names)]
        spec["children"][name]["addresses"] = one_address(addresses)
        args = child_entry(self.box, name, spec["children"][name])
        if self.converge("macvlan_link", args) is not None:
            self.spec = spec
            self.after_single()

    @precondition(lambda self: self.spec is not None and self.spec["namespaces"])
    @rule(pick=st.integers(0, 3), value=st.sampled_from([0, 1, 2]))
    @reported
    def netns_edit(self, pick: int, value: int) -> None:
        spec = copy.deepcopy(self.spec)
        spaces = sorted(spec["namespaces"])
        short = spaces[pick % len(spaces)]
        spec["namespaces"][short]["sysctls"] = value
        sysctls = {"net.ipv4.conf.all.arp_ignore": value, "net.ipv4.conf.all.rp_filter": 2}
        args = {"name": self.box.ns(short), "sysctls": sysctls}
        if self.converge("netns", args) is not None:
            self.spec = spec
            self.after_single()

    @precondition(lambda self: self.spec is not None and self.spec["bridge"] is not None
                  and self.spec["bridge"]["port"] is not None)
    @rule()
    @reported
    def bridge_port_edit(self) -> None:
        spec = copy.deepcopy(self.spec)
        spec["bridge"]["port"] = not spec["bridge"]["port"]
        if self.converge("bridge_port", {"name": "vp0_br", "bridge": "br0", "hairpin": spec["bridge"]["port"]}):
            self.spec = spec
            self.after_single()

    @precondition(lambda self: self.spec is not None)
    @rule()
    @reported
    def veth_link_edit(self) -> None:
        spec = copy.deepcopy(self.spec)
        spec["nic0_mtu"] = 1400 if spec["nic0_mtu"] == 1500 else 1500
        if self.converge("veth_link", {"name": "nic0", "peer": "nic0_sw", "mtu": spec["nic0_mtu"]}) is not None:
            self.spec = spec
            self.after_single()

    @precondition(lambda self: self.spec is not None and self.spec["bridge"] is not None)
    @rule()
    @reported
    def bridge_link_edit(self) -> None:
        spec = copy.deepcopy(self.spec)
        spec["bridge"]["stp"] = not spec["bridge"]["stp"]
        args = {"name": "br0", "stp": spec["bridge"]["stp"]}
        if spec["bridge"]["addresses"]:
            args["addresses"] = ["10.9.0.1/24"]
        if self.converge("bridge_link", args) is not None:
            self.spec = spec
            self.after_single()

    def after_single(self) -> None:
        """The edit made with a single module is what the document now says: topology agrees
        (it may still have work: a removed address takes the kernel's routes through it along)."""
        assert self.apply(self.spec, "present", must_succeed=True)

    # -- rules: foreign changes behind the collection's back --
    @precondition(lambda self: self.spec is not None)
    @rule(parent=st.sampled_from(["nic0", "nic1"]), mode=st.sampled_from(["bridge", "vepa", "private"]))
    @reported
    def foreign_macvlan(self, parent: str, mode: str) -> None:
        links = Reading(self.box).links[None]
        if parent not in links:
            return
        name = self.fresh()
        if self.box.exec("ip", "link", "add", "link", parent, "name", name, "type", "macvlan", "mode", mode,
                         check=False).returncode != 0:
            return  # e.g. the parent has a passthru child: the kernel refuses, nothing to remember
        self.box.ip("link", "set", name, "up")
        self.foreign.append({"type": "link", "ns": None, "name": name,
                             "ifindex": Reading(self.box).links[None][name]["ifindex"]})
        self.check_foreign()

    @precondition(lambda self: self.spec is not None)
    @rule(host=st.integers(2, 250))
    @reported
    def foreign_address(self, host: int) -> None:
        addr = "192.0.2.%d/24" % host
        if any(f.get("addr") == addr for f in self.foreign):
            return
        self.box.ip("addr", "add", addr, "dev", "nic0")
        self.foreign.append({"type": "addr", "ns": None, "dev": "nic0", "addr": addr})

    @rule()
    @reported
    def foreign_namespace(self) -> None:
        name = self.box.ns(self.fresh())
        self.box.ip("netns", "add", name)
        self.foreign.append({"type": "netns", "name": name})

    @precondition(lambda self: self.spec is not None and self.spec["namespaces"])
    @rule(pick=st.integers(0, 3))
    @reported
    def foreign_veth_into_our_namespace(self, pick: int) -> None:
        spaces = sorted(self.spec["namespaces"])
        ours = self.box.ns(spaces[pick % len(spaces)])
        if ours not in self.box.netns_names():
            return
        name = self.fresh()
        self.box.ip("link", "add", name, "type", "veth", "peer", "name", name + "p", "netns", ours)
        self.foreign.append({"type": "veth", "ns": None, "name": name, "peer": name + "p", "peer_ns": ours,
                             "ifindex": Reading(self.box).links[None][name]["ifindex"]})

    # -- rules: crashes, races, invalid input --
    @precondition(lambda self: self.spec is not None)
    @rule(spec=layouts(), delay=st.floats(0.0, 1.5), state=st.sampled_from(["present", "overridden"]))
    @reported
    def killed_run_then_converge(self, spec: Dict[str, Any], delay: float, state: str) -> None:
        doc = dict(render(self.box, spec), state=state)
        expected = not run(self.box, "topology", doc, check=True).get("failed")
        victim = Run(self.box, "topology", doc)
        time.sleep(delay)
        victim.kill()
        self.remember_owned(doc)  # what it may have made is the collection's
        # The next run converges (or refuses cleanly, as check mode said before the kill).
        self.apply(spec, state, must_succeed=expected)

    @precondition(lambda self: self.spec is not None)
    @rule(spec=layouts())
    @reported
    def two_runs_at_once(self, spec: Dict[str, Any]) -> None:
        doc = render(self.box, spec)
        expected = not run(self.box, "topology", doc, check=True).get("failed")
        first, second = Run(self.box, "topology", doc), Run(self.box, "topology", doc)
        answers = [first.result(), second.result()]
        self.remember_owned(doc)
        converged = self.apply(spec, "present", must_succeed=expected)
        for answer in answers:
            if answer.get("failed") and converged:
                assert any(word in answer.get("msg", "") for word in LOCK_WORDS), (
                    "a run beside another failed, and not on the host lock: %s" % json.dumps(answer))

    @precondition(lambda self: self.spec is not None)
    @rule(case=st.sampled_from([
        "unknown_key", "long_name", "name_list", "bad_address", "bad_mac", "mtu_float", "vlan_id",
        "bad_netns_name", "routes_string", "sysctls_list", "missing_parent", "passthru_twice", "bad_mode",
        "single_bad_mode", "single_bad_name"]))
    @reported
    def invalid_input(self, case: str) -> None:
        doc = self.doc()
        links = doc["links"]
        module = "topology"
        if case == "unknown_key":
            links[0]["mdoe"] = "private"
        elif case == "long_name":
            links.append({"kind": "macvlan", "name": "x" * 16, "parent": "nic0"})
        elif case == "name_list":
            links.append({"kind": "macvlan", "name": ["a"], "parent": "nic0"})
        elif case == "bad_address":
            links.append({"kind": "macvlan", "name": "bad0", "parent": "nic0", "addresses": ["10.0.0.300/24"]})
        elif case == "bad_mac":
            links.append({"kind": "macvlan", "name": "bad0", "parent": "nic0", "macaddress": "52:54:00:zz:00:01"})
        elif case == "mtu_float":
            links.append({"kind": "macvlan", "name": "bad0", "parent": "nic0", "mtu": 1400.7})
        elif case == "vlan_id":
            links.append({"kind": "vlan", "name": "bad0", "parent": "nic0", "vlan_id": 5000})
        elif case == "bad_netns_name":
            doc["namespaces"].append({"name": "bad/ns"})
        elif case == "routes_string":
            doc["namespaces"].append({"name": self.box.ns("z"), "routes": ["default"]})
        elif case == "sysctls_list":
            doc["namespaces"].append({"name": self.box.ns("z"), "sysctls": ["net.ipv4.conf.all.arp_ignore"]})
        elif case == "missing_parent":
            links.append({"kind": "macvlan", "name": "bad0", "parent": "nosuch0"})
        elif case == "passthru_twice":
            links.append({"kind": "macvlan", "name": "bad0", "parent": "nic0", "mode": "passthru"})
            links.append({"kind": "macvlan", "name": "bad1", "parent": "nic0", "mode": "bridge"})
        elif case == "bad_mode":
            links.append({"kind": "macvlan", "name": "bad0", "parent": "nic0", "mode": "bridged"})
        elif case == "single_bad_mode":
            module, doc = "macvlan_link", {"name": "bad0", "parent": "nic0", "mode": "bridged"}
        elif case == "single_bad_name":
            module, doc = "macvlan_link", {"name": "bad name", "parent": "nic0"}
        before = everything(self.box)
        for check in (True, False):
            answer = run(self.box, module, doc, check=check)
            assert answer.get("failed") is True, "invalid input (%s) accepted: %s" % (case, answer)
            assert answer.get("changed", False) is False and answer.get("msg"), answer
            assert "Traceback" not in json.dumps(answer), answer
        after = everything(self.box)
        assert after == before, "invalid input (%s) changed the kernel: %s" % (case, snapshot_diff(before, after))
        self.check_foreign()


Day2.TestCase.settings = settings(settings.get_profile(PROFILE), **(
    {"phases": [Phase.explicit, Phase.reuse, Phase.generate]} if NO_SHRINK else {}))
TestDay2 = Day2.TestCase
