"""Shared test fixtures: the collection on sys.path, and throw-away network namespaces.

Integration tests run each module exactly as Ansible does on a managed host
(`python module.py args.json`, with `_ansible_check_mode`/`_ansible_diff`), inside a
fresh network namespace that plays the host; state is read back with `ip -j`, never
through the engine under test.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "linuxnet" / "macvlan"


def ensure_collection_path() -> None:
    """Make `ansible_collections.linuxnet.macvlan` importable from the checkout."""
    LINK.parent.mkdir(parents=True, exist_ok=True)
    if not LINK.exists():
        LINK.symlink_to(ROOT)
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))


ensure_collection_path()


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def _stable_link(entry: Dict[str, Any]) -> str:
    info = entry.get("linkinfo", {})
    data = info.get("info_data", {})
    return json.dumps({
        "name": entry["ifname"], "index": entry["ifindex"], "flags": sorted(entry.get("flags", [])),
        "mtu": entry.get("mtu"), "mac": entry.get("address"), "master": entry.get("master"),
        "kind": info.get("info_kind"), "mode": data.get("mode"), "sources": data.get("macaddr_data"),
        "addresses": sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in entry.get("addr_info", [])
                            if a.get("scope") != "link"),
    }, sort_keys=True)


class Sandbox:
    """A network namespace standing in for the managed host, plus helpers.

    Modules run as Ansible runs them (`python module.py args.json`), except in the
    User-mode Linux lane, where starting Python and importing Ansible costs 1-4 s:
    there they run in-process (same main(), same arguments, same kernel, no fork);
    tests that pass in_process=False keep the separate process in both lanes."""

    def __init__(self, in_process: bool = False) -> None:
        self.in_process = in_process
        self.name = "lnmt%s" % uuid.uuid4().hex[:8]
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.name, "link", "set", "lo", "up")

    # namespaces a test asks the modules to create get the sandbox's prefix
    def ns(self, short: str) -> str:
        return "%s_%s" % (self.name, short)

    def cleanup(self) -> None:
        for entry in sorted(os.listdir("/run/netns")):
            if entry == self.name or entry.startswith(self.name + "_"):
                sh("ip", "netns", "del", entry, check=False)

    # -- running modules the way Ansible does -------------------------------
    def run(self, module: str, args: Dict[str, Any], check: bool = False, diff: bool = True,
            in_process: Optional[bool] = None) -> Dict[str, Any]:
        payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        if self.in_process if in_process is None else in_process:
            return self._run_in_process(module, payload)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": payload}, handle)
        try:
            # PYTHONPATH_PREFIX lets a test put a directory first (e.g. to hide a library).
            prefix = os.environ.get("PYTHONPATH_PREFIX")
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [prefix, str(COLLECTIONS)])))
            proc = subprocess.run(
                ["nsenter", "--net=/run/netns/%s" % self.name, sys.executable,
                 str(ROOT / "plugins" / "modules" / ("%s.py" % module)), handle.name],
                capture_output=True, text=True, env=env, timeout=120, check=False,
            )
        finally:
            os.unlink(handle.name)
        try:
            return json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("module printed no JSON (rc=%s):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))

    def _run_in_process(self, module: str, payload: Dict[str, Any]) -> Dict[str, Any]:
        from ansible.module_utils import basic
        from pyroute2.netns import setns

        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode()
        basic._ANSIBLE_PROFILE = "legacy"
        basic._PARSED_MODULE_ARGS = None
        code = importlib.import_module("ansible_collections.linuxnet.macvlan.plugins.modules." + module)
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open("/run/netns/%s" % self.name, os.O_RDONLY)
        out = io.StringIO()
        try:
            setns(target)
            with contextlib.redirect_stdout(out):
                try:
                    code.main()
                except SystemExit:
                    pass
        finally:
            setns(home)
            os.close(home)
            os.close(target)
            basic._ANSIBLE_ARGS = None
        try:
            return json.loads(out.getvalue())
        except ValueError:
            raise AssertionError("module printed no JSON:\n%s" % out.getvalue())

    # -- reading the kernel independently ---------------------------------
    def ip(self, *args: str, netns: Optional[str] = None) -> str:
        return sh("ip", "-n", netns or self.name, *args).stdout

    def links(self, netns: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
        data = json.loads(sh("ip", "-n", netns or self.name, "-j", "-d", "link", "show").stdout or "[]")
        return {entry["ifname"]: entry for entry in data}

    def addresses(self, dev: str, netns: Optional[str] = None) -> List[str]:
        data = json.loads(sh("ip", "-n", netns or self.name, "-j", "addr", "show", "dev", dev).stdout)
        return sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in data[0]["addr_info"]
                      if a.get("scope") != "link")

    def snapshot(self, *namespaces: Optional[str]) -> Any:
        """What configuration could change (not counters or timers), for 'check mode changed nothing'."""
        state: Dict[str, Any] = {}
        for ns in (None,) + namespaces:
            if ns is not None and not os.path.exists("/run/netns/%s" % ns):
                state[str(ns)] = None
                continue
            target = ns or self.name
            links = json.loads(sh("ip", "-n", target, "-j", "-d", "addr", "show").stdout or "[]")
            state[str(ns)] = sorted(_stable_link(entry) for entry in links)
            state[str(ns) + "-routes"] = sh("ip", "-n", target, "route", "show").stdout
            state[str(ns) + "-neigh"] = sh("ip", "-n", target, "neigh", "show", "nud", "permanent").stdout
        return state

    def veth(self, name: str, peer: str, netns: Optional[str] = None, up: bool = True) -> None:
        """A veth pair made behind the modules' back, as a stand-in for a physical NIC."""
        sh("ip", "-n", netns or self.name, "link", "add", name, "type", "veth", "peer", "name", peer)
        if up:
            sh("ip", "-n", netns or self.name, "link", "set", name, "up")
            sh("ip", "-n", netns or self.name, "link", "set", peer, "up")
            self.wait_for_carrier(name, netns)

    def wait_for_carrier(self, name: str, netns: Optional[str] = None, timeout: float = 3.0) -> None:
        """The kernel reports carrier asynchronously (linkwatch, up to ~1 s): wait for it, so a
        later snapshot does not see LOWER_UP appear and blame the module."""
        deadline = time.monotonic() + timeout
        while "LOWER_UP" not in self.links(netns)[name].get("flags", []) and time.monotonic() < deadline:
            time.sleep(0.02)

    def ping(self, netns: str, address: str, count: int = 1) -> bool:
        return sh("ip", "netns", "exec", netns, "ping", "-c", str(count), "-W", "1", address,
                  check=False).returncode == 0

    # -- the check / apply / idempotence cycle every test uses -------------
    def converge(self, module: str, args: Dict[str, Any], watch: tuple = ()) -> Dict[str, Any]:
        """Check mode predicts a change and touches nothing; the run changes; the rerun does not."""
        before = self.snapshot(*watch)
        predicted = self.run(module, args, check=True)
        assert not predicted.get("failed"), predicted
        assert predicted["changed"] is True, predicted
        assert self.snapshot(*watch) == before, "check mode changed the kernel"
        applied = self.run(module, args)
        assert not applied.get("failed"), applied
        assert applied["changed"] is True, applied
        assert applied["actions"] == predicted["actions"], (predicted["actions"], applied["actions"])
        again = self.run(module, args)
        assert not again.get("failed"), again
        assert again["changed"] is False and again["actions"] == [], again
        assert self.run(module, args, check=True)["changed"] is False
        applied["predicted"] = predicted
        return applied


# -- kernel features and the User-mode Linux lane ---------------------------
IN_UML_LANE = os.environ.get("LINUXNET_LANE") == "uml"
PROBES = {
    "8021q": [["link", "add", "probe0", "type", "veth", "peer", "name", "probe1"],
              ["link", "add", "link", "probe0", "name", "probe0.7", "type", "vlan", "id", "7"]],
    "dummy": [["link", "add", "probe0", "type", "dummy"]],
    "ipvlan": [["link", "add", "probe0", "type", "veth", "peer", "name", "probe1"],
               ["link", "add", "link", "probe0", "name", "probe2", "type", "ipvlan"]],
}
_FEATURES: Dict[str, bool] = {}


def kernel_has(feature: str) -> bool:
    """Try the link type in a throw-away namespace (the answer is cached per run)."""
    if feature not in _FEATURES:
        ns = "lnprobe%s" % uuid.uuid4().hex[:6]
        sh("ip", "netns", "add", ns)
        try:
            _FEATURES[feature] = all(sh("ip", "-n", ns, *cmd, check=False).returncode == 0 for cmd in PROBES[feature])
        finally:
            sh("ip", "netns", "del", ns, check=False)
    return _FEATURES[feature]


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "kernel(*features): link types the test needs (8021q, dummy, ipvlan)")
    config.addinivalue_line("markers", "host_lane_only(reason): runs on the host only; the reason is printed")


def missing_features(item: Any) -> List[str]:
    marker = item.get_closest_marker("kernel")
    return [f for f in (marker.args if marker else ()) if not kernel_has(f)]


def pytest_collection_modifyitems(config: Any, items: List[Any]) -> None:
    """Tests needing what this kernel lacks go to the UML lane when scripts/test.sh
    will run it (LINUXNET_LANE=routed); otherwise they fail saying what is missing.
    In the UML lane, host_lane_only tests (which need nothing from its kernel) are left
    to the host lane, and the summary says so."""
    if IN_UML_LANE:
        host_only = [item for item in items if item.get_closest_marker("host_lane_only")]
        if host_only:
            config.hook.pytest_deselected(items=host_only)
            items[:] = [item for item in items if item not in host_only]
            config._linuxnet_host_only = host_only
        return
    if os.environ.get("LINUXNET_LANE") != "routed":
        return
    routed = [item for item in items if missing_features(item)]
    if routed:
        config.hook.pytest_deselected(items=routed)
        items[:] = [item for item in items if item not in routed]
        config._linuxnet_routed = routed


def pytest_runtest_setup(item: Any) -> None:
    missing = missing_features(item)
    if missing:
        pytest.fail("this kernel lacks %s: run the test in the User-mode Linux lane "
                    "(scripts/test.sh does; or scripts/uml/uml-run -- .venv/bin/python -m pytest %s)"
                    % (", ".join(missing), item.nodeid), pytrace=False)


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    for item in getattr(config, "_linuxnet_host_only", []):
        terminalreporter.write_line("left to the host lane: %s (%s)"
                                    % (item.nodeid, item.get_closest_marker("host_lane_only").args[0]))
    routed = getattr(config, "_linuxnet_routed", [])
    if routed:
        features = sorted({f for item in routed for f in missing_features(item)})
        terminalreporter.write_line("routed to the User-mode Linux lane (this kernel lacks %s): %d tests"
                                    % (", ".join(features), len(routed)))


@pytest.fixture
def sandbox() -> Any:
    box = Sandbox(in_process=IN_UML_LANE)
    try:
        yield box
    finally:
        box.cleanup()


@pytest.fixture
def failing(sandbox: Sandbox) -> Callable[..., Dict[str, Any]]:
    """Run a module expecting failure; assert nothing changed and return the result."""
    def run(module: str, args: Dict[str, Any], field: Optional[str] = None, watch: tuple = (),
            check: bool = False) -> Dict[str, Any]:
        before = sandbox.snapshot(*watch)
        result = sandbox.run(module, args, check=check)
        assert result.get("failed") is True, result
        assert result.get("changed", False) is False, result
        if field is not None:
            assert result.get("field") == field or result["msg"].startswith(field), result
        assert sandbox.snapshot(*watch) == before, "a failed run changed the kernel"
        return result
    return run
