"""Test fleets for playbooks/site.yml: hosts net1, net2, net3, each with an "eth1" on one switch.

Two kinds, behind one interface (`hosts`, `inventory()`, `site()`, `close()`):
- emulated: each host is scripts/lab/emuhost's (a network + mount namespace with its own /run
  and /etc/sysctl.d) inside the test's sandbox network, reached by Ansible through an
  interpreter wrapper (connection local). They have no systemd.
- guests: User-mode Linux guests reached over SSH (scripts/molecule/lab.py, the Molecule
  scenarios' lab), their lab's network namespace registered in the sandbox's own /run/netns.
  net1 boots without systemd (a host whose init system is another one), net2 and net3 with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from conftest import ROOT, Sandbox

sys.path.insert(0, str(ROOT / "scripts" / "molecule"))
from lab import Lab  # noqa: E402  (the Molecule scenarios' lab)

EMUHOST = str(ROOT / "scripts" / "lab" / "emuhost")
SITE = str(ROOT / "playbooks" / "site.yml")
NAMES = ("net1", "net2", "net3")
WITHOUT_SYSTEMD = "net1"  # the host of each fleet whose init is not systemd


class Host:
    """One host of a test fleet; `run` executes a command on it (its network, its /run/netns)."""

    def __init__(self, name: str, child: str, runner: Callable[..., subprocess.CompletedProcess]) -> None:
        self.name = name
        self.child = child  # the namespace the tests' layouts give it
        self._runner = runner
        self.sysctl_files_found = self.sysctl_files()

    def run(self, *cmd: str, check: bool = True) -> str:
        return self._runner(*cmd, check=check).stdout

    def ok(self, *cmd: str) -> bool:
        return self._runner(*cmd, check=False).returncode == 0

    def links(self, child: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
        prefix = ("ip", "-n", child) if child else ("ip",)
        return {entry["ifname"]: entry for entry in json.loads(self.run(*prefix, "-j", "-d", "link", "show") or "[]")}

    def namespaces(self) -> List[str]:
        return sorted(line.split()[0] for line in self.run("ip", "netns", "list").splitlines() if line.strip())

    def sysctl_files(self) -> List[str]:
        return sorted(self.run("ls", "/etc/sysctl.d").split())

    def ping(self, address: str, child: Optional[str] = None, count: int = 1) -> bool:
        prefix = ("ip", "netns", "exec", child) if child else ()
        return self.ok(*prefix, "ping", "-c", str(count), "-W", "1", address)

    def sysctl(self, key: str, child: Optional[str] = None) -> str:
        prefix = ("ip", "netns", "exec", child) if child else ()
        return self.run(*prefix, "cat", "/proc/sys/" + key.replace(".", "/")).strip()


class Fleet:
    """What both kinds share: the inventory (common variables + each host's connection) and
    site.yml run as a user runs it, outside the hosts."""

    kind = ""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.hosts: Dict[str, Host] = {}
        self.env: Dict[str, str] = {}

    def connection(self, name: str) -> Dict[str, Any]:
        raise NotImplementedError

    def inventory(self, host_vars: Dict[str, Any], extra: Optional[Dict[str, Any]] = None) -> str:
        """An inventory of the hosts given a layout (macvlan_topology), plus per-host extras."""
        data: Dict[str, Any] = {"all": {"hosts": {}, "vars": {
            # persistence (a systemd unit) is proved by a real reboot in test_reboot.py
            "macvlan_topology_persist": False,
            # pyroute2 is in the interpreter: a failed lookup must fail, not install on the machine
            "macvlan_topology_install_pyroute2": False,
            "macvlan_topology_group": {"links": [{"kind": "macvlan", "name": "macvlan1", "parent": "eth1",
                                                  "mode": "bridge"}]}}}}
        for name in NAMES:
            if name in host_vars:
                data["all"]["hosts"][name] = dict(self.connection(name), macvlan_topology=host_vars[name],
                                                  **(extra or {}).get(name, {}))
        path = self.work / "inventory.json"
        path.write_text(json.dumps(data))
        return str(path)

    def site(self, inventory: str, *extra: str) -> Tuple[subprocess.CompletedProcess, Dict[str, int]]:
        """ansible-playbook site.yml; the process (with .failed: failed tasks per host) and the
        changed tasks per host, from the recap."""
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", **self.env)
        proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", inventory, SITE, *extra],
                              cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=900, check=False)
        recap = re.findall(r"^(net\d)\s+: ok=\d+\s+changed=(\d+).*failed=(\d+)", proc.stdout, re.M)
        proc.failed = {host: int(failed) for host, _changed, failed in recap}  # type: ignore[attr-defined]
        return proc, {host: int(changed) for host, changed, _failed in recap}

    def module(self, inventory: str, host: str, name: str, args: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
        """One module run on one host, as `ansible HOST -m NAME -a JSON` runs it: its exit status
        and its result (as the `tree` output keeps it)."""
        tree = self.work / "tree"
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", **self.env)
        proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible"), host, "-i", inventory, "-m", name,
                               "-a", json.dumps(args), "-t", str(tree)], cwd=str(ROOT), env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        return proc.returncode, json.loads((tree / host).read_text())

    def close(self) -> None:
        raise NotImplementedError


class EmulatedFleet(Fleet):
    kind = "emulated"

    def __init__(self, sandbox: Sandbox, work: Path) -> None:
        super().__init__(work)
        self.netns = {name: sandbox.ns(name) for name in NAMES}
        sandbox.ip("link", "add", "sw", "type", "bridge")
        sandbox.ip("link", "set", "sw", "up")
        try:
            for index, name in enumerate(NAMES, start=1):
                netns = self.netns[name]
                subprocess.run([EMUHOST, "up", netns], check=True)
                subprocess.run([EMUHOST, "plug", netns, "eth1", "%sp" % name, sandbox.net_path, "sw"], check=True)
                self.hosts[name] = Host(name, "ns%d" % index, self._runner(netns))
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _runner(netns: str) -> Callable[..., subprocess.CompletedProcess]:
        def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
            return subprocess.run([EMUHOST, "exec", netns, *cmd], check=check, capture_output=True, text=True)
        return run

    def connection(self, name: str) -> Dict[str, Any]:
        wrapper = subprocess.run([EMUHOST, "python", self.netns[name]], check=True, capture_output=True,
                                 text=True).stdout.strip()
        # No systemd, and /etc is the machine's: whatever persistence looks for stays in the host's own /run.
        return {"ansible_connection": "local", "ansible_python_interpreter": wrapper,
                "macvlan_topology_persist_dir": "/run/linuxnet-macvlan",
                "macvlan_topology_persist_lib": "/run/linuxnet-macvlan-lib"}

    def close(self) -> None:
        for netns in self.netns.values():
            subprocess.run([EMUHOST, "down", netns], check=False)


class GuestFleet(Fleet):
    kind = "guests"

    def __init__(self, sandbox: Sandbox, work: Path) -> None:
        super().__init__(work)
        spec = {"netns": "lnmol-tests", "run_dir": str(work / "lab"), "udev": False, "max_life": 1800,
                "bridges": [{"name": "mgmt", "addresses": ["10.88.0.254/24"]}, {"name": "data"}],
                "guests": [{"name": name, "mgmt": "10.88.0.%d/24" % (10 + index), "mem": "384M",
                            "nics": [{"bridge": "mgmt"}, {"bridge": "data"}], "systemd": name != WITHOUT_SYSTEMD}
                           for index, name in enumerate(NAMES, start=1)]}
        self.lab = Lab(spec, enter=sandbox.enter([]))
        self.env = self.lab.ansible_env()
        self.lab.up()
        try:
            self.lab.wait()
            for index, name in enumerate(NAMES, start=1):
                self.hosts[name] = Host(name, "ns%d" % index, self._runner(name))
        except BaseException:
            self.close()
            raise

    def _runner(self, name: str) -> Callable[..., subprocess.CompletedProcess]:
        def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
            proc = self.lab.ssh(name, *cmd, check=False)
            if check and proc.returncode != 0:
                raise subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)
            return proc
        return run

    def connection(self, name: str) -> Dict[str, Any]:
        return self.lab.ansible_vars(name)

    def close(self) -> None:
        self.lab.down()
