# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Persistence, done by the topology call itself (its `persist` option): the layout as applied
stored under <dir>/layouts.d/, the engine copied as one runnable zip, and a systemd unit that
re-applies every stored layout at boot with that engine (boot.py), without Ansible.

One module run instead of five tasks (directories, engine copy, stored layout, unit, enable):
over SSH each task costs a module start on the host. What persistence writes is planned like
the kernel's changes (check mode and the diff show it), written atomically, and undone when a
later step fails; a failure fails the whole call, which then rolls the layout back too.

`state: absent` forgets this scope's stored layout; the unit and the engine copy go with the
last stored layout (other scopes may still need them)."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

# Imported, not only named: a module's payload holds only the module_utils it imports, and the
# engine's copy is built from boot.py and what boot.py imports.
from ansible_collections.linuxnet.macvlan.plugins.module_utils import boot
from ansible_collections.linuxnet.macvlan.plugins.module_utils import validate
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.macvlan import KINDS as MACVLAN_KINDS
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ownership import DEFAULT_SCOPE
from ansible_collections.linuxnet.macvlan.plugins.module_utils.preflight import SYSTEMD_MARKER, systemd_is_init
from ansible_collections.linuxnet.macvlan.plugins.module_utils.registry import SECTION_NAMES as SECTIONS

PACKAGE = "ansible_collections.linuxnet.macvlan.plugins.module_utils"
PACKAGE_PATH = PACKAGE.replace(".", "/")
BOOT_MODULE = boot.__name__.rsplit(".", 1)[1]
MAIN = (b"# linuxnet.macvlan boot entry point: python ARCHIVE [--wait SECS] DIR\n"
        b"from ansible_collections.linuxnet.macvlan.plugins.module_utils.boot import main\n"
        b"raise SystemExit(main())\n")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the same bytes on every build
UNIT_DIR = "/etc/systemd/system"
UNIT_NAME = re.compile(r"[A-Za-z0-9@_.:-]+\.service")
WANTED_BY = "multi-user.target"
NO_SYSTEMD = ("persistence needs systemd as the init system (no %s): nothing would re-apply the layout at boot"
              % SYSTEMD_MARKER)


# -- the engine, as one runnable archive ---------------------------------------------------------
def imported_names(source: bytes) -> List[str]:
    """The module_utils modules a source imports (`from PACKAGE import x`, `from PACKAGE.x import y`)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                names += [alias.name for alias in node.names]
            elif node.module.startswith(PACKAGE + "."):
                names.append(node.module[len(PACKAGE) + 1:].split(".")[0])
    return names


def running_source(name: str) -> bytes:
    """A module_utils file of the engine that runs now: from the checkout, or from the module's
    AnsiballZ payload (a zip), which holds every module_utils file the module imports."""
    spec = importlib.util.find_spec("%s.%s" % (PACKAGE, name))
    if spec is None or spec.origin is None or not hasattr(spec.loader, "get_data"):
        raise EngineError("persistence: the engine's %s.py cannot be read from this module run" % name)
    return spec.loader.get_data(spec.origin)  # type: ignore[union-attr]


def engine_sources(read: Callable[[str], bytes] = running_source) -> Dict[str, bytes]:
    """boot.py and every module_utils file it needs, following imports: the same set whether the
    engine runs from a checkout or from a module payload, so the archive's bytes are the same."""
    sources: Dict[str, bytes] = {}
    pending = [BOOT_MODULE]
    while pending:
        name = pending.pop()
        if name not in sources:
            sources[name] = read(name)
            pending += imported_names(sources[name])
    return sources


def engine_archive(sources: Dict[str, bytes]) -> bytes:
    """A zip Python runs directly (its __main__ runs boot.main), byte-for-byte the same for the
    same sources: fixed timestamps, sorted entries."""
    parts = PACKAGE_PATH.split("/")
    entries = {"__main__.py": MAIN}
    entries.update({"/".join(parts[:depth]) + "/__init__.py": b"" for depth in range(1, len(parts) + 1)})
    entries.update({"%s/%s.py" % (PACKAGE_PATH, name): content for name, content in sources.items()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name])
    return buffer.getvalue()


# -- what is stored --------------------------------------------------------------------------------
def layout_file_name(owner: str) -> str:
    """One stored document per scope (the default scope keeps the name 0.1.0 used)."""
    return "50-macvlan_topology%s.json" % ("" if owner == DEFAULT_SCOPE else "-" + owner)


def with_applied_macs(layout: Dict[str, Any], applied: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The layout with the MAC the kernel chose written into each macvlan/macvtap entry that left
    it open, from the topology read-back (keyed by path, `links[N]`): a layout re-applied at boot
    then brings back the same MACs (switch tables, DHCP reservations), not new random ones.

    Only links in named namespaces: in the host's namespace udev may replace a new link's random
    MAC a moment after creation (MACAddressPolicy=persistent), so the MAC read back can be stale;
    udev gives the link the same name-derived MAC again at the next boot."""
    def valid_mac(value: Any) -> bool:
        try:
            validate.mac_address("", value)
        except ValidationError:
            return False
        return True

    links = []
    for index, link in enumerate(layout.get("links") or []):
        mac = ((applied or {}).get("links[%d]" % index) or {}).get("macaddress")
        left_open = link.get("kind") in MACVLAN_KINDS and not link.get("macaddress")
        if left_open and valid_mac(mac) and link.get("netns") and link.get("state", "present") == "present":
            link = dict(link, macaddress=mac)
        links.append(link)
    return dict(layout, links=links)


def stored_document(params: Dict[str, Any], applied: Optional[Dict[str, Any]]) -> bytes:
    """The topology document as given (options left unset are left out), the MACs as applied, and
    the owner scope: what boot.py converges."""
    layout = {section: [{key: value for key, value in entry.items() if value is not None}
                        for entry in params.get(section) or []] for section in SECTIONS}
    document = dict(with_applied_macs(layout, applied), owner=params.get("owner") or DEFAULT_SCOPE)
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def unit_text(python: str, engine: str, layouts: str, wait: float) -> bytes:
    return ("""# Managed by Ansible (linuxnet.macvlan.topology, option persist): edits are overwritten.
# Re-applies the layouts last applied by Ansible (namespaces, links, addresses, routes, neighbors)
# with the collection's own engine.
[Unit]
Description=linuxnet.macvlan layouts (namespaces, macvlan/VLAN links) as last applied by Ansible
DefaultDependencies=no
Wants=network-pre.target
After=local-fs.target systemd-sysctl.service systemd-udevd.service network-pre.target
Before=network.target shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=%s %s --wait %s %s

[Install]
WantedBy=%s
""" % (python, engine, ("%g" % wait), layouts, WANTED_BY)).encode()


# -- files and systemd -----------------------------------------------------------------------------
def read_bytes(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def list_json(directory: str) -> List[str]:
    try:
        return sorted(name for name in os.listdir(directory) if name.endswith(".json"))
    except FileNotFoundError:
        return []


def describe(path: str, content: Optional[bytes]) -> str:
    if content is None:
        return "(absent)"
    if path.endswith((".json", ".service")):
        return content.decode("utf-8", "replace")
    return "engine archive, %d bytes, sha256 %s" % (len(content), hashlib.sha256(content).hexdigest()[:16])


def make_parents(path: str, made: List[str]) -> None:
    """Create the missing directories above `path`, outermost first, each added to `made` as it is."""
    missing = []
    directory = os.path.dirname(path)
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for directory in reversed(missing):
        os.mkdir(directory, 0o755)
        made.append(directory)


def write_atomically(path: str, content: bytes) -> None:
    """The new content appears whole or not at all (a crash never leaves half a unit)."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    partial = "%s.%d.partial" % (path, os.getpid())
    with open(partial, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(partial, 0o644)
    os.replace(partial, path)


def restore(path: str, content: Optional[bytes]) -> None:
    try:
        if content is None:
            if os.path.lexists(path):
                os.unlink(path)
        else:
            write_atomically(path, content)
    except OSError:
        pass  # best effort: the failure being reported says what was being written


def systemctl(*args: str) -> None:
    proc = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise EngineError("systemctl %s: %s" % (" ".join(args), (proc.stderr or proc.stdout).strip()))


# -- the plan: files and the unit's enablement ------------------------------------------------------
@dataclass
class Step:
    """One change: a file written (content) or removed (None), or a systemctl call."""
    action: str  # write | remove | rmdir | systemctl
    path: str = ""
    content: Optional[bytes] = None
    args: Tuple[str, ...] = ()
    previous: Optional[bytes] = None  # the file's content when planned (the diff's before, the undo)

    def __post_init__(self) -> None:
        if self.action in ("write", "remove"):
            self.previous = read_bytes(self.path)

    def render(self) -> str:
        if self.action == "systemctl":
            return "systemctl " + " ".join(self.args)
        return {"write": "write %s", "remove": "rm %s", "rmdir": "rmdir %s"}[self.action] % self.path


@dataclass
class Persistence:
    """The `persist` option of a topology call: where the layout, the engine and the unit go, and
    whether they stay. `document`: the call's parameters (the layout to store, its owner)."""
    state: str
    directory: str
    engine: str
    unit: str
    wait: float
    document: Dict[str, Any]
    python: str = sys.executable
    unit_dir: str = UNIT_DIR
    systemctl: Callable[..., None] = systemctl  # unit tests pass a recorder
    steps: List[Step] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: Dict[str, Any]) -> Optional["Persistence"]:
        """The topology call's `persist`, checked (None: not given)."""
        persist = params.get("persist")
        if not persist:
            return None
        if params.get("state") not in ("present", "overridden"):
            raise ValidationError("persist", "only with state present or overridden (not %s)" % params.get("state"))
        for key in ("dir", "engine"):
            if not os.path.isabs(persist[key]) or persist[key].rstrip("/") in ("", "/etc", "/usr", "/usr/local"):
                raise ValidationError("persist.%s" % key, "'%s' is not an absolute path of its own" % persist[key])
        if not UNIT_NAME.fullmatch(persist["unit"]):
            raise ValidationError("persist.unit", "'%s' is not a unit file name like linuxnet-macvlan.service"
                                  % persist["unit"])
        if persist["wait"] < 0:
            raise ValidationError("persist.wait", "must be 0 or more seconds")
        return cls(state=persist["state"], directory=persist["dir"].rstrip("/"), engine=persist["engine"],
                   unit=persist["unit"], wait=float(persist["wait"]), document=params)

    @property
    def owner(self) -> str:
        return self.document.get("owner") or DEFAULT_SCOPE

    @property
    def layouts(self) -> str:
        return os.path.join(self.directory, "layouts.d")

    @property
    def layout_file(self) -> str:
        return os.path.join(self.layouts, layout_file_name(self.owner))

    @property
    def unit_file(self) -> str:
        return os.path.join(self.unit_dir, self.unit)

    @property
    def enabled_link(self) -> str:
        return os.path.join(self.unit_dir, WANTED_BY + ".wants", self.unit)

    def check(self) -> None:
        if self.state == "present" and not systemd_is_init():
            raise EngineError(NO_SYSTEMD)

    def plan(self, applied: Optional[Dict[str, Any]]) -> List[Step]:
        """What the call changes on disk, given the layout as read back (or predicted)."""
        self.steps = self._store(applied) if self.state == "present" else self._forget()
        return self.steps

    def finish(self, applied: Optional[Dict[str, Any]]) -> None:
        """The real run's last step (engine.converge's `finish`)."""
        self.plan(applied)
        self.apply()

    def _store(self, applied: Optional[Dict[str, Any]]) -> List[Step]:
        wanted = [(self.engine, engine_archive(engine_sources())),
                  (self.layout_file, stored_document(self.document, applied)),
                  (self.unit_file, unit_text(self.python, self.engine, self.layouts, self.wait))]
        steps = [Step("write", path, content) for path, content in wanted if read_bytes(path) != content]
        if any(step.path == self.unit_file for step in steps):
            steps.append(Step("systemctl", args=("daemon-reload",)))
        if not os.path.lexists(self.enabled_link):
            steps.append(Step("systemctl", args=("enable", self.unit)))
        return steps

    def _forget(self) -> List[Step]:
        steps = [Step("remove", self.layout_file)] if os.path.lexists(self.layout_file) else []
        # No layouts directory: nothing was stored there, and the unit and engine of that name (if
        # any) belong to something else (another copy of the collection with its own directory).
        others = [name for name in list_json(self.layouts) if name != layout_file_name(self.owner)]
        if others or not os.path.isdir(self.layouts):
            return steps
        if os.path.lexists(self.enabled_link):
            steps.append(Step("systemctl", args=("disable", self.unit)))
        steps += [Step("remove", path) for path in (self.unit_file, self.engine) if os.path.lexists(path)]
        if any(step.path == self.unit_file for step in steps):
            steps.append(Step("systemctl", args=("daemon-reload",)))
        # The directories the role made, when nothing else is in them.
        for path in (self.layouts, self.directory, os.path.dirname(self.engine)):
            if os.path.isdir(path) and set(os.listdir(path)) <= self._removed_inside(path, steps):
                steps.append(Step("rmdir", path))
        return steps

    @staticmethod
    def _removed_inside(directory: str, steps: List[Step]) -> set:
        return {os.path.basename(step.path) for step in steps
                if step.action in ("remove", "rmdir") and os.path.dirname(step.path) == directory}

    def diff(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """Before/after of what the plan touches: text files as text, the engine by digest."""
        before: Dict[str, Any] = {}
        after: Dict[str, Any] = {}
        for step in self.steps:
            if step.action in ("write", "remove"):
                before[step.path] = describe(step.path, step.previous)
                after[step.path] = describe(step.path, step.content)
            elif step.action == "systemctl" and step.args[0] in ("enable", "disable"):
                before[self.unit + " enabled"] = step.args[0] == "disable"
                after[self.unit + " enabled"] = step.args[0] == "enable"
        return before, after

    def apply(self) -> None:
        """The planned steps; when one fails, the files written so far get their old content back."""
        undo: List[Tuple[str, Optional[bytes]]] = []
        made: List[str] = []  # directories created on the way, removed again on failure
        try:
            for step in self.steps:
                if step.action == "write":
                    undo.append((step.path, step.previous))
                    make_parents(step.path, made)
                    write_atomically(step.path, step.content or b"")
                elif step.action == "remove":
                    undo.append((step.path, step.previous))
                    os.unlink(step.path)
                elif step.action == "rmdir":
                    os.rmdir(step.path)
                else:
                    self.systemctl(*step.args)
        except (OSError, EngineError) as exc:
            for path, content in reversed(undo):
                restore(path, content)
            for directory in reversed(made):
                try:
                    os.rmdir(directory)
                except OSError:
                    pass  # not empty: something else lives there now
            if any(path == self.unit_file for path, _content in undo):
                try:  # systemd forgets the unit it may have loaded
                    self.systemctl("daemon-reload")
                except EngineError:
                    pass
            raise EngineError("persistence: %s failed: %s" % (step.render(), exc))
