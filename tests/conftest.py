"""Shared test fixtures: the collection on sys.path, and throw-away network namespaces.

Integration tests run each module exactly as Ansible does on a managed host
(`python module.py args.json`, with `_ansible_check_mode`/`_ansible_diff`), inside a
sandbox that plays the host; state is read back with `ip -j`, never through the engine
under test.

A sandbox is hermetic: a private network namespace PLUS a private mount namespace with its
own /run (a tmpfs), hence its own /run/netns (the model is scripts/lab/emuhost). Both are
pinned on files in a private directory of the test run, never in the machine's /run/netns;
every namespace a module makes inside is registered only in the sandbox's /run/netns, so
`state: overridden` there sees nothing of the machine's (the lab's `lnlab_sw*`), and
unmounting the two pins removes the sandbox and everything made inside it. The session
fixture `machine_untouched` proves it: the machine's links, namespaces and the roles' files
under /etc are the same after the session as before.

In the User-mode Linux lane (a throw-away guest) modules run in-process (setns into the
network namespace only), so there a sandbox keeps the simple form: a named namespace in the
guest's own /run/netns, and the namespaces its modules make are registered there too.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import hashlib
import os
import shlex
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


# Carrier is the kernel's to report, asynchronously (linkwatch; a bridge's STP forward delay): not
# configuration a module could have changed.
CARRIER_FLAGS = {"LOWER_UP", "NO-CARRIER", "M-DOWN", "DORMANT"}


def _stable_link(entry: Dict[str, Any]) -> str:
    info = entry.get("linkinfo", {})
    data = info.get("info_data", {})
    return json.dumps({
        "name": entry["ifname"], "index": entry["ifindex"],
        "flags": sorted(set(entry.get("flags", [])) - CARRIER_FLAGS),
        "mtu": entry.get("mtu"), "mac": entry.get("address"), "master": entry.get("master"),
        "kind": info.get("info_kind"), "mode": data.get("mode"), "sources": data.get("macaddr_data"),
        "addresses": sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in entry.get("addr_info", [])
                            if a.get("scope") != "link"),
    }, sort_keys=True)


_PIN_DIR: Optional[str] = None


def pin_dir() -> str:
    """The run's private directory for the sandboxes' namespace pins (made on first use).

    A mount namespace can only be pinned on a mount that does not propagate: the directory
    is bind-mounted on itself and made private."""
    global _PIN_DIR
    if _PIN_DIR is None:
        sweep_pin_dirs()
        path = tempfile.mkdtemp(prefix="lnmt-sandboxes-%d-" % os.getpid())
        sh("mount", "--bind", path, path)
        sh("mount", "--make-private", path)
        _PIN_DIR = path
    return _PIN_DIR


def sweep_pin_dirs() -> None:
    """Release the pin directories of test runs that died without cleaning up (SIGKILL, timeout):
    their pid, in the name, is gone."""
    base = tempfile.gettempdir()
    for entry in os.listdir(base):
        parts = entry.split("-")
        if len(parts) != 4 or parts[:2] != ["lnmt", "sandboxes"] or not parts[2].isdigit():
            continue
        if os.path.exists("/proc/%s" % parts[2]):
            continue
        path = os.path.join(base, entry)
        for pin in os.listdir(path):
            sh("umount", os.path.join(path, pin), check=False)
            os.unlink(os.path.join(path, pin))
        sh("umount", path, check=False)
        os.rmdir(path)


def release_pin_dir() -> None:
    """Unmount the directory (and any pin a test left behind), then remove it."""
    global _PIN_DIR
    if _PIN_DIR is None:
        return
    path, _PIN_DIR = _PIN_DIR, None
    for entry in sorted(os.listdir(path)):
        sh("umount", os.path.join(path, entry), check=False)
    sh("umount", path, check=False)
    for entry in os.listdir(path):
        os.unlink(os.path.join(path, entry))
    os.rmdir(path)


def snapshot_diff(before: Dict[str, Any], after: Dict[str, Any]) -> str:
    """Only what differs between two snapshots (the assertion message)."""
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, list) and isinstance(new, list):
            out.append("%s: -%s +%s" % (key, sorted(set(old) - set(new)), sorted(set(new) - set(old))))
        else:
            out.append("%s: %r -> %r" % (key, old, new))
    return "; ".join(out)


class Sandbox:
    """A private network + mount namespace standing in for the managed host, plus helpers.

    Modules run as Ansible runs them (`python module.py args.json`, entered into the
    sandbox with nsenter), except in the User-mode Linux lane, where starting Python and
    importing Ansible costs 1-4 s: there they run in-process (same main(), same arguments,
    same kernel, no fork); tests that pass in_process=False keep the separate process in
    both lanes. `net_path` is the sandbox's network namespace as a file: `ip link ... netns
    PATH` (a name with a '/' is a path to iproute2) puts a link end into it from outside."""

    def __init__(self, in_process: bool = False, hermetic: Optional[bool] = None) -> None:
        self.in_process = in_process
        self.hermetic = (not IN_UML_LANE) if hermetic is None else hermetic
        if self.hermetic and in_process:
            raise ValueError("in-process modules join the network namespace only: not hermetic")
        self.name = "lnmt%s" % uuid.uuid4().hex[:8]
        if self.hermetic:
            base = pin_dir()
            self.net_path: str = os.path.join(base, self.name + ".net")
            self.mnt_path: Optional[str] = os.path.join(base, self.name + ".mnt")
            for path in (self.net_path, self.mnt_path):
                open(path, "w").close()
            # Inside: the pin directory is unmounted (its copies of the other sandboxes' pins
            # would keep their namespaces alive), /run becomes a tmpfs with an empty netns/.
            sh("unshare", "--net=" + self.net_path, "--mount=" + self.mnt_path, "--propagation", "private",
               "sh", "-c", 'umount -l "$1" && mount -t tmpfs -o mode=755 lnmt /run && '
               'mkdir -p /run/netns /run/lock && ip link set lo up', "sandbox", base)
        else:
            sh("ip", "netns", "add", self.name)
            sh("ip", "-n", self.name, "link", "set", "lo", "up")
            self.net_path = "/run/netns/%s" % self.name
            self.mnt_path = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    # namespaces a test asks the modules to create get the sandbox's prefix
    def ns(self, short: str) -> str:
        return "%s_%s" % (self.name, short)

    def cleanup(self) -> None:
        if self.hermetic:
            # Namespaces made inside are pinned only by mounts in its mount namespace: they go with it.
            for path in (self.mnt_path, self.net_path):
                if path and os.path.exists(path):
                    sh("umount", path, check=False)
                    os.unlink(path)
            return
        for entry in sorted(os.listdir("/run/netns")):
            if entry == self.name or entry.startswith(self.name + "_"):
                sh("ip", "netns", "del", entry, check=False)

    # -- entering the sandbox ------------------------------------------------
    def enter(self, cmd: List[str]) -> List[str]:
        """`cmd` as a command line that runs inside the sandbox (its network, its /run/netns)."""
        mount = ["--mount=" + self.mnt_path] if self.mnt_path else []
        return ["nsenter", "--net=" + self.net_path] + mount + ["--"] + list(cmd)

    def exec(self, *cmd: str, netns: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run a command in the sandbox, or in one of the named namespaces registered inside it."""
        if netns is not None and netns != self.name:
            cmd = ("ip", "netns", "exec", netns) + cmd
        return subprocess.run(self.enter(list(cmd)), check=check, capture_output=True, text=True)

    def netns_names(self) -> List[str]:
        """The named namespaces registered in the sandbox's /run/netns (not the sandbox itself)."""
        if not self.hermetic:
            return sorted(e for e in os.listdir("/run/netns") if e != self.name)
        return sorted(self.exec("ls", "-A", "/run/netns").stdout.split())

    def netns_exists(self, name: str) -> bool:
        return name in self.netns_names()

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
                self.enter([sys.executable, str(ROOT / "plugins" / "modules" / ("%s.py" % module)), handle.name]),
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
        target = os.open(self.net_path, os.O_RDONLY)
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
        """`ip ARGS` in the sandbox, or `ip -n NETNS ARGS` for a namespace registered inside it."""
        prefix = ("-n", netns) if netns is not None and netns != self.name else ()
        return self.exec("ip", *prefix, *args).stdout

    def links(self, netns: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
        data = json.loads(self.ip("-j", "-d", "link", "show", netns=netns) or "[]")
        return {entry["ifname"]: entry for entry in data}

    def addresses(self, dev: str, netns: Optional[str] = None) -> List[str]:
        data = json.loads(self.ip("-j", "addr", "show", "dev", dev, netns=netns))
        return sorted("%s/%s" % (a["local"], a["prefixlen"]) for a in data[0]["addr_info"]
                      if a.get("scope") != "link")

    def snapshot(self, *namespaces: Optional[str]) -> Any:
        """What configuration could change (not counters or timers), for 'check mode changed nothing'."""
        state: Dict[str, Any] = {}
        existing = self.netns_names()
        for ns in (None,) + namespaces:
            if ns is not None and ns not in existing:
                state[str(ns)] = None
                continue
            links = json.loads(self.ip("-j", "-d", "addr", "show", netns=ns) or "[]")
            state[str(ns)] = sorted(_stable_link(entry) for entry in links)
            # `linkdown` follows carrier, like the flags above
            state[str(ns) + "-routes"] = self.ip("route", "show", netns=ns).replace(" linkdown", "")
            state[str(ns) + "-neigh"] = self.ip("neigh", "show", "nud", "permanent", netns=ns)
        return state

    def veth(self, name: str, peer: str, netns: Optional[str] = None, up: bool = True) -> None:
        """A veth pair made behind the modules' back, as a stand-in for a physical NIC."""
        self.ip("link", "add", name, "type", "veth", "peer", "name", peer, netns=netns)
        if up:
            self.ip("link", "set", name, "up", netns=netns)
            self.ip("link", "set", peer, "up", netns=netns)
            self.wait_for_carrier(name, netns)
            self.wait_for_carrier(peer, netns)

    def wait_for_carrier(self, name: str, netns: Optional[str] = None, timeout: float = 3.0) -> None:
        """The kernel reports carrier asynchronously (linkwatch, up to ~1 s; IFF_LOWER_UP comes
        before IFF_RUNNING, so `ip` shows LOWER_UP and NO-CARRIER together for a while): wait
        for both flags to settle, so a later snapshot does not see them change and blame the module."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            flags = self.links(netns)[name].get("flags", [])
            if "LOWER_UP" in flags and "NO-CARRIER" not in flags:
                return
            time.sleep(0.02)

    def ping(self, netns: Optional[str], address: str, count: int = 1) -> bool:
        """Ping from the sandbox itself (netns=None or its name) or from a namespace inside it."""
        return self.exec("ping", "-c", str(count), "-W", "1", address, netns=netns, check=False).returncode == 0

    # -- the check / apply / idempotence cycle every test uses -------------
    def converge(self, module: str, args: Dict[str, Any], watch: tuple = ()) -> Dict[str, Any]:
        """Check mode predicts a change and touches nothing; the run changes; the rerun does not."""
        before = self.snapshot(*watch)
        predicted = self.run(module, args, check=True)
        assert not predicted.get("failed"), predicted
        assert predicted["changed"] is True, predicted
        after = self.snapshot(*watch)
        assert after == before, "check mode changed the kernel: %s" % snapshot_diff(before, after)
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
    """Try the link type in a throw-away network namespace of its own (`unshare -n`: nothing
    is registered anywhere; the answer is cached per run)."""
    if feature not in _FEATURES:
        script = " && ".join(shlex.join(["ip"] + cmd) for cmd in PROBES[feature])
        _FEATURES[feature] = sh("unshare", "-n", "sh", "-c", script, check=False).returncode == 0
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
        after = sandbox.snapshot(*watch)
        assert after == before, "a failed run changed the kernel: %s" % snapshot_diff(before, after)
        return result
    return run


# -- the suite proves it never touched the machine ---------------------------
ROLE_FILES = ("/etc/linuxnet-macvlan", "/etc/sysctl.d/60-linuxnet-arp.conf",
              "/etc/systemd/system/linuxnet-macvlan.service")


def _digest(path: str) -> Any:
    """A file's sha256, a directory's {entry: digest} (recursively), None when absent."""
    if os.path.isdir(path) and not os.path.islink(path):
        return {entry: _digest(os.path.join(path, entry)) for entry in sorted(os.listdir(path))}
    if os.path.lexists(path):
        if os.path.islink(path):
            return "-> " + os.readlink(path)
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    return None


def machine_state() -> Dict[str, Any]:
    """What a test could leave behind on the machine: every link as `ip -j -d link` shows it,
    `ip netns`, the listing of /run/netns, and the files the roles write under /etc."""
    links = json.loads(sh("ip", "-j", "-d", "link", "show").stdout or "[]")
    return {
        "links": {entry["ifname"]: entry for entry in links},
        "ip netns": sorted(sh("ip", "netns").stdout.splitlines()),
        "/run/netns": sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else None,
        "/etc": {path: _digest(path) for path in ROLE_FILES},
    }


def machine_differences(before: Dict[str, Any], after: Dict[str, Any]) -> List[str]:
    problems = []
    for name in sorted(set(before["links"]) | set(after["links"])):
        old, new = before["links"].get(name), after["links"].get(name)
        if old is None:
            problems.append("link %s appeared: %s" % (name, json.dumps(new)))
        elif new is None:
            problems.append("link %s disappeared (was %s)" % (name, json.dumps(old)))
        elif old != new:
            keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            problems.append("link %s changed: %s" % (name, ", ".join(
                "%s %s -> %s" % (k, json.dumps(old.get(k)), json.dumps(new.get(k))) for k in keys)))
    for key in ("ip netns", "/run/netns", "/etc"):
        if before[key] != after[key]:
            problems.append("%s: %s -> %s" % (key, json.dumps(before[key]), json.dumps(after[key])))
    return problems


@pytest.fixture(scope="session", autouse=True)
def machine_untouched() -> Any:
    """Fails the session when the machine's links, namespaces or the roles' files under /etc
    differ after it (in the User-mode Linux lane: the guest's). Only meaningful when nothing
    else changes the machine meanwhile: on a machine shared with other runs (the lab coming up,
    Molecule guests), LINUXNET_MACHINE_CHECK=off turns it off."""
    if os.environ.get("LINUXNET_MACHINE_CHECK") == "off":
        yield
        release_pin_dir()
        return
    before = machine_state()
    yield
    release_pin_dir()
    problems = machine_differences(before, machine_state())
    assert not problems, "the test session changed the machine:\n  " + "\n  ".join(problems)


def pytest_unconfigure(config: Any) -> None:
    release_pin_dir()
