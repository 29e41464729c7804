"""The lab of the Molecule scenarios (extensions/molecule/): User-mode Linux guests that boot
systemd, reached over SSH, their NICs plugged into Linux bridges (the switches), everything
inside one network namespace of the host that the lab creates and removes. Nothing reaches
the host's own interfaces, routes or sysctls.

    python scripts/molecule/lab.py up SPEC.json      # create the lab (fails if it exists)
    python scripts/molecule/lab.py down [RUN_DIR] [--netns NS]
                                                     # remove it, also after a failed `up`
                                                     # (no RUN_DIR: only what runs in NS, and NS)
    python scripts/molecule/lab.py proxy NS HOST PORT
                                                     # ssh ProxyCommand: a TCP connection made
                                                     # inside namespace NS

From Python (the tests' guest fleet, the fleet benchmark): `Lab(spec, enter=...)`: up(), wait(),
ssh(guest, cmd...), ansible_vars(guest), down(); `enter` runs the lab where it lives (e.g. nsenter
into a test's private mount namespace, whose /run/netns holds the lab's namespace).

SPEC.json (written by extensions/molecule/shared/create.yml from the inventory):

    {"netns": "lnmol-fleet", "run_dir": "/abs/dir", "udev": true, "max_life": 7200,
     "bridges": [{"name": "mgmt", "addresses": ["10.88.0.254/24"]}, {"name": "data"}],
     "guests": [{"name": "fleet1", "mgmt": "10.88.0.11/24", "mem": "384M", "disk": "2G",
                 "nics": [{"bridge": "mgmt"}, {"bridge": "data", "hairpin": false}],
                 "systemd": true}]}

A guest with "systemd": false boots without it (uml-boot --no-systemd): a host whose init
system is another one.

The first NIC of a guest (eth0) is its management NIC; the others are its "physical" NICs
eth1, eth2, ... Each NIC is a tap device in the namespace, named GUEST-eN, enslaved to its
bridge, with the fixed MAC 02:6c:6e:00:<guest>:<nic>: a UML `vector` NIC of transport `tap`
(the kernel is scripts/uml/kernel's, whose legacy `ethN=tuntap` NICs are gone), seen as vecN
and renamed ethN by the guest's init. Each guest is started by the project's one launcher,
`scripts/uml/uml-boot --ssh` (its disk seeded there, with udev; scripts/uml/init.sh as PID 1,
the host's sshd run by the guest's systemd). The taps are made here, before the guest, and outlive
its reboots: a reboot re-executes the kernel in the same process, which would still hold the
taps open and could not attach to them again, so the guest takes its NICs down at the very
end of its shutdown (a systemd-shutdown hook), which closes them. (Raw sockets on a veth
survive a reboot without that, but lose VLAN tags: the host's kernel strips them on receive.)
RUN_DIR gets the SSH keys (id_ed25519, known_hosts), per guest a
directory with its disk image, console and logs, and lab.json (what `down` removes).
"""

from __future__ import annotations

import ctypes
import glob
import json
import os
import shlex
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Dict, List, Sequence

CLONE_NEWNET = 0x40000000
HERE = os.path.dirname(os.path.abspath(__file__))
# The one launcher of User-mode Linux guests (its --ssh mode: a long-running guest booting systemd).
UML_BOOT = os.path.join(os.path.dirname(HERE), "uml", "uml-boot")
KERNEL = os.path.join(os.path.dirname(HERE), "uml", "kernel")
SSHD_CONFIG = """# sshd of the uml-guest {name} (scripts/molecule/lab.py)
Port 22
HostKey {dir}/ssh_host_ed25519_key
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile {dir}/authorized_keys
# the keys live on a host directory seen through hostfs: owner and modes are the host's
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SystemExit("lab: %s failed (%d): %s" % (" ".join(cmd), proc.returncode, proc.stderr.strip()))
    return proc


def log(msg: str) -> None:
    print("lab: " + msg, flush=True)


def netns_exists(name: str) -> bool:
    return os.path.exists("/run/netns/" + name)


def tap_name(guest: str, nic: int) -> str:
    return "%s-e%d" % (guest, nic)


def check_kernel() -> None:
    """Before anything is made: a usable kernel (scripts/uml/kernel), or one line why not."""
    proc = subprocess.run([KERNEL], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("lab: " + (proc.stderr.strip() or "scripts/uml/kernel failed"))


def nic_mac(guest_index: int, nic: int) -> str:
    return "02:6c:6e:00:%02x:%02x" % (guest_index + 1, nic)


def check_spec(spec: Dict[str, Any]) -> None:
    problems = []
    if not spec.get("netns", "").startswith("lnmol"):
        problems.append("netns must start with 'lnmol' (got %r)" % spec.get("netns"))
    run_dir = spec.get("run_dir", "")
    if not os.path.isabs(run_dir) or any(c in run_dir for c in " :,"):
        problems.append("run_dir must be an absolute path without spaces, ':' or ',' (got %r)" % run_dir)
    bridges = {b["name"] for b in spec.get("bridges", [])}
    for guest in spec.get("guests", []):
        name = guest.get("name", "")
        if not name or len(name) > 12 or not name.replace("-", "").replace("_", "").isalnum():
            problems.append("guest name %r: 1-12 letters, digits, '-' or '_'" % name)
        if not guest.get("mgmt") or "/" not in guest["mgmt"]:
            problems.append("guest %s: mgmt must be ADDRESS/PREFIX" % name)
        nics = guest.get("nics", [])
        if not nics:
            problems.append("guest %s: no NICs (the first one is the management NIC)" % name)
        for nic in nics:
            if nic.get("bridge") not in bridges:
                problems.append("guest %s: no bridge %r in bridges" % (name, nic.get("bridge")))
    if problems:
        raise SystemExit("lab: bad spec: " + "; ".join(problems))


def keys(run_dir: str, guests: List[Dict[str, Any]]) -> None:
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lnmol-client", "-f", os.path.join(run_dir, "id_ed25519"))
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lnmol-guest",
        "-f", os.path.join(run_dir, "ssh_host_ed25519_key"))
    with open(os.path.join(run_dir, "ssh_host_ed25519_key.pub"), encoding="utf-8") as pub:
        host_key = " ".join(pub.read().split()[:2])
    with open(os.path.join(run_dir, "known_hosts"), "w", encoding="utf-8") as out:
        out.write("%s %s\n" % (",".join(g["mgmt"].split("/")[0] for g in guests), host_key))


def start_guest(spec: Dict[str, Any], index: int, guest: Dict[str, Any]) -> Dict[str, Any]:
    netns, run_dir, name = spec["netns"], spec["run_dir"], guest["name"]
    gdir = os.path.join(run_dir, "guests", name)
    os.makedirs(gdir)
    for key in ("ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"):
        shutil.copy2(os.path.join(run_dir, key), gdir)
    shutil.copy2(os.path.join(run_dir, "id_ed25519.pub"), os.path.join(gdir, "authorized_keys"))
    with open(os.path.join(gdir, "sshd_config"), "w", encoding="utf-8") as out:
        out.write(SSHD_CONFIG.format(name=name, dir=gdir))
    nics = []
    for n, nic in enumerate(guest["nics"]):
        tap, mac = tap_name(name, n), nic_mac(index, n)
        run("ip", "-n", netns, "tuntap", "add", "dev", tap, "mode", "tap")
        run("ip", "-n", netns, "link", "set", tap, "master", nic["bridge"])
        run("ip", "-n", netns, "link", "set", tap, "type", "bridge_slave",
            "hairpin", "on" if nic.get("hairpin") else "off")
        run("ip", "-n", netns, "link", "set", tap, "up")
        nics.append({"guest_nic": "eth%d" % n, "tap": tap, "mac": mac, "bridge": nic["bridge"],
                     "hairpin": bool(nic.get("hairpin"))})
    # The launcher seeds the disk (with udev), starts the guest in the lab's namespace under a
    # `timeout` (the backstop should `down` never run) and returns its process id at once.
    cmd = [UML_BOOT, "--ssh", gdir, "--name", name, "--mgmt", guest["mgmt"], "--netns", netns,
           "--mem", guest.get("mem", "384M"), "--disk", guest.get("disk", "2G"),
           "--timeout", str(spec.get("max_life", 7200))]
    if spec.get("udev", True):
        cmd.append("--udev")
    if not guest.get("systemd", True):
        cmd.append("--no-systemd")
    for nic in nics:
        cmd += ["--nic", "%s,%s" % (nic["tap"], nic["mac"])]
    pid = int(run(*cmd).stdout.split()[-1])
    taps = ", ".join("%s=%s" % (n["guest_nic"], n["tap"]) for n in nics)
    log("guest %s started (pid %d, %s, %s)" % (name, pid, guest["mgmt"], taps))
    return {"name": name, "pid": pid, "dir": gdir, "mgmt": guest["mgmt"], "nics": nics}


def write_state(run_dir: str, state: Dict[str, Any]) -> None:
    tmp = os.path.join(run_dir, "lab.json.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(state, out, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(run_dir, "lab.json"))


def up(spec_file: str) -> None:
    with open(spec_file, encoding="utf-8") as handle:
        spec = json.load(handle)
    check_spec(spec)
    netns, run_dir = spec["netns"], spec["run_dir"]
    if netns_exists(netns):
        raise SystemExit("lab: network namespace %s exists (a lab left over? `lab.py down %s --netns %s`)"
                         % (netns, run_dir, netns))
    if os.path.exists(os.path.join(run_dir, "lab.json")):
        raise SystemExit("lab: %s holds a lab (lab.json): bring it down first" % run_dir)
    os.makedirs(run_dir, mode=0o700, exist_ok=True)
    for name in ("id_ed25519", "id_ed25519.pub", "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"):
        if os.path.exists(os.path.join(run_dir, name)):
            os.unlink(os.path.join(run_dir, name))
    shutil.rmtree(os.path.join(run_dir, "guests"), ignore_errors=True)
    # Recorded first: whatever `up` did before failing is found by `down`.
    state: Dict[str, Any] = {"netns": netns, "run_dir": run_dir, "guests": [], "bridges": spec["bridges"]}
    write_state(run_dir, state)
    check_kernel()
    keys(run_dir, spec["guests"])
    run("ip", "netns", "add", netns)
    run("ip", "-n", netns, "link", "set", "lo", "up")
    for bridge in spec["bridges"]:
        # No vlan_filtering: this host's kernel refuses it; tagged frames are switched as they are.
        run("ip", "-n", netns, "link", "add", bridge["name"], "type", "bridge", "stp_state", "0",
            "forward_delay", "0")
        for address in bridge.get("addresses", []):
            run("ip", "-n", netns, "address", "add", address, "dev", bridge["name"])
        run("ip", "-n", netns, "link", "set", bridge["name"], "up")
    for index, guest in enumerate(spec["guests"]):
        state["guests"].append(start_guest(spec, index, guest))
        write_state(run_dir, state)
    log("up: %d guest(s) in network namespace %s" % (len(state["guests"]), netns))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ours(pid: int, marker: str) -> bool:
    """Only a process whose command line names this lab's directory is ever signalled."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return marker.encode() in handle.read()
    except OSError:
        return False


def stop_guest(guest: Dict[str, Any]) -> None:
    pid, marker = guest["pid"], guest["dir"]
    if alive(pid) and ours(pid, marker):
        # `timeout` passes TERM on to the kernel, which tears its helper processes down (they
        # run in a session of the kernel's own; `down` kills whatever is left in the namespace).
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 5
        while alive(pid) and time.time() < deadline:
            time.sleep(0.1)
    log("guest %s stopped" % guest["name"])


def close_ssh_masters(run_dir: str) -> None:
    for sock in glob.glob(os.path.join(run_dir, "cp", "*")):
        subprocess.run(["ssh", "-o", "ControlPath=" + sock, "-O", "exit", "lnmol"], capture_output=True,
                       check=False, timeout=10)


def down(run_dir: str, netns: str) -> None:
    state: Dict[str, Any] = {}
    state_file = os.path.join(run_dir, "lab.json")
    if run_dir and os.path.exists(state_file):
        with open(state_file, encoding="utf-8") as handle:
            state = json.load(handle)
    netns = netns or state.get("netns", "")
    if netns and not netns.startswith("lnmol"):
        raise SystemExit("lab: refusing to remove network namespace %r (not lnmol*)" % netns)
    if run_dir and os.path.isdir(run_dir):
        close_ssh_masters(run_dir)
    for guest in state.get("guests", []):
        stop_guest(guest)
    if netns and netns_exists(netns):
        # Anything still running inside the lab's namespace was started in it by the lab
        # (a guest whose pid was not recorded, an ssh proxy): nothing else lives there.
        for pid in run("ip", "netns", "pids", netns, check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        run("ip", "netns", "del", netns)
        log("network namespace %s removed" % netns)
    if run_dir and os.path.isdir(run_dir):
        shutil.rmtree(run_dir)
        log("%s removed" % run_dir)


def proxy(netns: str, host: str, port: str) -> None:
    """ssh's ProxyCommand: relay stdin/stdout to HOST:PORT, connected inside NETNS."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/run/netns/" + netns, "rb") as handle:
        if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
            raise SystemExit("lab: setns %s: %s" % (netns, os.strerror(ctypes.get_errno())))
    try:
        conn = socket.create_connection((host, int(port)), timeout=10)
    except OSError as exc:
        sys.stderr.write("lab proxy: %s:%s in %s: %s\n" % (host, port, netns, exc.strerror or exc))
        sys.exit(255)
    conn.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, "in")
    sel.register(conn, selectors.EVENT_READ, "sock")
    while True:
        for key, _events in sel.select():
            if key.data == "in":
                data = os.read(0, 65536)
                if not data:
                    conn.shutdown(socket.SHUT_WR)
                    sel.unregister(0)
                    continue
                conn.sendall(data)
            else:
                data = conn.recv(65536)
                if not data:
                    return
                os.write(1, data)


class Lab:
    """A lab driven from Python. `enter`: the argv prefix that runs a command where the lab's
    namespace is registered (empty: this process's own /run/netns)."""

    def __init__(self, spec: Dict[str, Any], enter: Sequence[str] = ()) -> None:
        check_spec(spec)
        self.spec = spec
        self.enter = list(enter)
        self.run_dir = spec["run_dir"]
        self.guests = {guest["name"]: guest for guest in spec["guests"]}

    def _lab(self, *args: str) -> None:
        run(*self.enter, sys.executable, os.path.abspath(__file__), *args)

    def up(self) -> None:
        os.makedirs(self.run_dir, mode=0o700, exist_ok=True)
        spec_file = self.run_dir + ".json"
        with open(spec_file, "w", encoding="utf-8") as out:
            json.dump(self.spec, out)
        try:
            self._lab("up", spec_file)
        except SystemExit:
            self.down()
            raise

    def down(self) -> None:
        self._lab("down", self.run_dir, "--netns", self.spec["netns"])

    def ssh_args(self) -> List[str]:
        """ssh's options for the guests: the per-run key and known_hosts, the TCP connection made
        inside the lab's namespace (the host's own interfaces and routes are never used)."""
        proxy = " ".join(self.enter + [sys.executable, os.path.abspath(__file__), "proxy", self.spec["netns"],
                                       "%h", "%p"])
        return ["-o", "ProxyCommand=" + proxy, "-o", "UserKnownHostsFile=%s/known_hosts" % self.run_dir,
                "-o", "StrictHostKeyChecking=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
                "-o", "ConnectTimeout=10"]

    def address(self, guest: str) -> str:
        return self.guests[guest]["mgmt"].split("/")[0]

    def ssh(self, guest: str, *cmd: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        argv = ["ssh", "-i", os.path.join(self.run_dir, "id_ed25519"), "-o", "BatchMode=yes", *self.ssh_args(),
                "root@" + self.address(guest), "--", " ".join(shlex.quote(word) for word in cmd)]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError("lab: on %s, %s failed (%d): %s" % (guest, " ".join(cmd), proc.returncode,
                                                                   proc.stderr.strip()))
        return proc

    def wait(self, timeout: float = 180) -> None:
        """Until every guest answers over SSH; else the console's last lines of the first that does not."""
        deadline = time.time() + timeout
        for name in self.guests:
            while self.ssh(name, "true", check=False, timeout=30).returncode != 0:
                if time.time() > deadline:
                    console = os.path.join(self.run_dir, "guests", name, "console.log")
                    tail = open(console, encoding="utf-8", errors="replace").read()[-3000:] \
                        if os.path.exists(console) else "(no console)"
                    raise RuntimeError("lab: %s did not answer over SSH in %ds:\n%s" % (name, timeout, tail))
                time.sleep(0.5)

    def ansible_vars(self, guest: str) -> Dict[str, Any]:
        """How Ansible reaches the guest. The guests see the host's files: the controller's Python
        (with pyroute2) is their interpreter too."""
        return {"ansible_host": self.address(guest), "ansible_user": "root",
                "ansible_ssh_private_key_file": os.path.join(self.run_dir, "id_ed25519"),
                "ansible_ssh_common_args": " ".join(shlex.quote(arg) for arg in self.ssh_args()),
                "ansible_python_interpreter": sys.executable}

    def ansible_env(self) -> Dict[str, str]:
        """Ansible's ssh masters under the run directory: `down` closes them."""
        return {"ANSIBLE_SSH_CONTROL_PATH_DIR": os.path.join(self.run_dir, "cp"), "ANSIBLE_PIPELINING": "1"}


def main(argv: List[str]) -> None:
    if len(argv) == 2 and argv[0] == "up":
        up(argv[1])
    elif argv[:1] == ["down"] and len(argv) in (2, 3, 4):
        rest = argv[1:]
        netns = ""
        if "--netns" in rest:
            index = rest.index("--netns")
            if index + 1 >= len(rest):
                raise SystemExit(__doc__)
            netns = rest[index + 1]
            del rest[index:index + 2]
        if len(rest) > 1 or (not rest and not netns):
            raise SystemExit(__doc__)
        down(os.path.abspath(rest[0]) if rest else "", netns)
    elif len(argv) == 4 and argv[0] == "proxy":
        proxy(argv[1], argv[2], argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
