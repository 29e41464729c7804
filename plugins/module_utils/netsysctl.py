# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""net.* sysctls of the host's network namespace and of named namespaces, set in one call
(the `net_sysctls` module, which the arp_sysctl role runs once per host).

Every key is checked before the first write; the host's keys are kept in one sysctl.d file
(exactly the listed keys, so systemd-sysctl applies them again at boot); the value each key
had before this collection first changed it is recorded (`record`, a JSON file beside the
sysctl.d file: systemd-sysctl reads only *.conf), so that a key no longer listed, and every
key on `state: absent`, gets that value back. A failed write restores the keys already
written."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel
from ansible_collections.linuxnet.macvlan.plugins.module_utils.sysctls import sysctl_path

HOST = ""  # the host's own network namespace, as a key of the per-namespace tables
PER_INTERFACE_TABLES = (("net", "ipv4", "conf"), ("net", "ipv6", "conf"), ("net", "ipv4", "neigh"),
                        ("net", "ipv6", "neigh"))
KERNEL_INTERFACES = ("all", "default", "lo")


def split_key(key: str) -> Optional[Tuple[str, str, str]]:
    """(table, interface, parameter) of a per-interface key in either form, else None."""
    if "/" in key:
        parts = key.split("/")
        if len(parts) == 5 and tuple(parts[:3]) in PER_INTERFACE_TABLES:
            return "/".join(parts[:3]), parts[3], parts[4]
        return None
    parts = key.split(".")
    if len(parts) >= 5 and tuple(parts[:3]) in PER_INTERFACE_TABLES:
        return "/".join(parts[:3]), ".".join(parts[3:-1]), parts[-1]
    return None


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        value = int(value)
    return " ".join(str(value).split())


def wanted_tables(params: Dict[str, Any]) -> Dict[str, Dict[str, str]]:
    """namespace ('' = the host's) -> key -> value, in the order given."""
    tables: Dict[str, Dict[str, str]] = {}
    if params.get("sysctls"):
        tables[HOST] = {str(key): value_text(value) for key, value in params["sysctls"].items()}
    for entry in params.get("namespaces") or []:
        tables[str(entry["name"])] = {str(key): value_text(value) for key, value in (entry.get("sysctls") or {}).items()}
    return tables


def pending_of(params: Dict[str, Any]) -> Dict[str, Any]:
    """What an earlier step of the same run creates: namespaces, and interfaces per namespace."""
    pending = params.get("pending") or {}
    return {"namespaces": set(pending.get("namespaces") or []),
            "interfaces": {str(netns or HOST): set(names or []) for netns, names in (pending.get("interfaces") or {}).items()}}


class Reader:
    """Sysctl reads through the engine's Kernel (setns into a namespace, never creating one)."""

    def __init__(self) -> None:
        self.kernel = Kernel()
        self._exists: Dict[str, bool] = {HOST: True}

    def close(self) -> None:
        self.kernel.close()

    def namespace_exists(self, netns: str) -> bool:
        if netns not in self._exists:
            self._exists[netns] = self.kernel.namespace_exists(netns)
        return self._exists[netns]

    def read(self, netns: str, key: str) -> Optional[str]:
        return self.kernel.read_sysctl(netns or None, key)

    def write(self, netns: str, key: str, value: str) -> None:
        self.kernel.write_sysctl(netns or None, key, value)


def _will_exist(reader: Reader, netns: str, key: str, pending: Dict[str, Any]) -> bool:
    """A key missing now that an earlier step of the run makes: on an interface it creates
    (the parameter exists for `all` there), or `all`/`default`/`lo` and any other key of a
    namespace it creates (the same kernel: present when the host's namespace has it)."""
    parts = split_key(key)
    new_namespace = bool(netns) and netns in pending["namespaces"] and not reader.namespace_exists(netns)
    if parts is None:
        return new_namespace and reader.read(HOST, key) is not None
    table, ifname, name = parts
    made = ifname in pending["interfaces"].get(netns or HOST, set())
    if not made and not (new_namespace and ifname in KERNEL_INTERFACES):
        return False
    where = netns if netns and reader.namespace_exists(netns) else HOST
    return reader.read(where, "%s/all/%s" % (table, name)) is not None


def missing(params: Dict[str, Any], reader: Reader) -> Tuple[List[str], List[Dict[str, str]]]:
    """(namespaces that do not exist and are not pending, keys that do not exist and will not)
    for `state: present`; a teardown needs nothing to exist."""
    if params.get("state", "present") == "absent":
        return [], []
    pending = pending_of(params)
    lost_namespaces, lost_keys = [], []
    for netns, table in wanted_tables(params).items():
        if netns and not reader.namespace_exists(netns):
            if netns not in pending["namespaces"]:
                lost_namespaces.append(netns)
                continue
        for key in table:
            exists = reader.namespace_exists(netns) and reader.read(netns, key) is not None
            if not exists and not _will_exist(reader, netns, key, pending):
                lost_keys.append({"netns": netns, "key": key, "path": sysctl_path(key)})
    return lost_namespaces, lost_keys


def describe_missing(lost_namespaces: List[str], lost_keys: List[Dict[str, str]]) -> List[str]:
    out = ["no network namespace %s (this module never creates one)" % name for name in lost_namespaces]
    for item in lost_keys:
        where = "netns %s" % item["netns"] if item["netns"] else "the host's network namespace"
        out.append("no such sysctl in %s (%s)" % (where, item["path"]))
    return out


# -- the record of values found before the first change ----------------------------
def load_record(paths: List[str]) -> Dict[str, Dict[str, str]]:
    for path in paths:
        if path and os.path.exists(path):
            with open(path) as handle:
                data = json.load(handle)
            record = {HOST: dict(data.get("host") or {})}
            for netns, table in (data.get("namespaces") or {}).items():
                record[netns] = dict(table)
            return record
    return {HOST: {}}


def record_text(record: Dict[str, Dict[str, str]]) -> Optional[str]:
    if not any(record.values()):
        return None
    data = {"comment": "linuxnet.macvlan: each key's value before the collection first changed it; restored when the "
                       "key is no longer managed or on state=absent",
            "host": record.get(HOST, {}),
            "namespaces": {netns: table for netns, table in sorted(record.items()) if netns and table}}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def file_text(header: str, table: Dict[str, str]) -> str:
    return "".join(["%s\n" % header] + ["%s=%s\n" % (key, value) for key, value in table.items()])


def read_text(path: Optional[str]) -> Optional[str]:
    if not path:
        return None
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_text(path: str, text: str) -> None:
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o755, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class Failed(Exception):
    def __init__(self, msg: str, **extra: Any) -> None:
        super().__init__(msg)
        self.extra = extra


def converge(params: Dict[str, Any], check_mode: bool) -> Dict[str, Any]:
    """Plan, then (unless check mode) write; the result for exit_json."""
    reader = Reader()
    try:
        return _converge(params, check_mode, reader)
    finally:
        reader.close()


def _converge(params: Dict[str, Any], check_mode: bool, reader: Reader) -> Dict[str, Any]:
    if not check_mode:  # by the real run, what earlier steps make exists
        params = dict(params, pending=None)
    absent = params.get("state", "present") == "absent"
    tables = {} if absent else wanted_tables(params)
    lost_namespaces, lost_keys = missing(params, reader)
    if lost_namespaces or lost_keys:
        raise Failed("; ".join(describe_missing(lost_namespaces, lost_keys)), missing_namespaces=lost_namespaces,
                     missing_keys=lost_keys)
    record_paths = [params.get("record")] + list(params.get("previous_records") or [])
    record = load_record([path for path in record_paths if path])

    writes: List[Tuple[str, str, Optional[str], str]] = []  # (netns, key, before, after)
    before: Dict[str, Dict[str, Optional[str]]] = {}
    after: Dict[str, Dict[str, Optional[str]]] = {}
    for netns, table in tables.items():
        here = reader.namespace_exists(netns)
        for key, value in table.items():
            current = reader.read(netns, key) if here else None
            if current is None and not check_mode:
                raise Failed("no such sysctl in %s (%s)" % ("netns %s" % netns if netns else "the host's network namespace",
                                                            sysctl_path(key)))
            before.setdefault(netns, {})[key] = current
            after.setdefault(netns, {})[key] = value
            if current != value:
                writes.append((netns, key, current, value))
                if current is not None and key not in record.setdefault(netns, {}):
                    record[netns][key] = current
    restored: List[Dict[str, Any]] = []
    gone: List[Dict[str, str]] = []
    for netns in list(record):
        for key, old in list(record[netns].items()):
            if key in tables.get(netns, {}):
                continue
            del record[netns][key]
            current = reader.read(netns, key) if reader.namespace_exists(netns) else None
            if current is None:
                gone.append({"netns": netns, "key": key})
                continue
            before.setdefault(netns, {})[key] = current
            after.setdefault(netns, {})[key] = old
            if current != old:
                writes.append((netns, key, current, old))
                restored.append({"netns": netns, "key": key, "value": old})

    host_table = tables.get(HOST, {})
    files: List[Tuple[str, Optional[str], Optional[str]]] = []  # (path, before, after)
    target = params.get("file")
    if target:
        files.append((target, read_text(target), file_text(params["header"], host_table) if host_table else None))
    for path in params.get("remove_files") or []:
        if path and path != target:
            files.append((path, read_text(path), None))
    new_record_text = record_text(record)
    record_path = params.get("record")
    if record_path:
        files.append((record_path, read_text(record_path), new_record_text))
    for path in params.get("previous_records") or []:
        if path and path != record_path:
            files.append((path, read_text(path), None))
    file_changes = [(path, old, new) for path, old, new in files if old != new]

    changed = bool(writes or file_changes)
    result: Dict[str, Any] = {
        "changed": changed,
        "sysctls": {("host" if netns == HOST else netns): table for netns, table in after.items()},
        "written": [{"netns": netns or None, "key": key, "before": old, "after": new} for netns, key, old, new in writes],
        "restored": restored, "forgotten": gone,
        "files": [path for path, _old, _new in file_changes],
        "diff": [{"before_header": "net sysctls", "after_header": "net sysctls",
                  "before": _view(before), "after": _view(after)}]
        + [{"before_header": path, "after_header": path, "before": old or "", "after": new or ""}
           for path, old, new in file_changes],
    }
    if check_mode or not changed:
        return result
    done: List[Tuple[str, str, Optional[str], str]] = []
    try:
        for write in writes:
            netns, key, _old, new = write
            reader.write(netns, key, new)
            done.append(write)
        mismatched = [(netns, key, new, reader.read(netns, key)) for netns, key, _old, new in writes
                      if reader.read(netns, key) != new]
        if mismatched:
            raise Failed("the kernel did not take: %s" % ", ".join("%s=%s (reads %s)%s" % (
                key, new, seen, " in netns %s" % netns if netns else "") for netns, key, new, seen in mismatched))
    except (OSError, Failed) as exc:
        undone = []
        for netns, key, old, _new in reversed(done):
            if old is not None:
                try:
                    reader.write(netns, key, old)
                    undone.append(key)
                except OSError:
                    pass
        raise Failed("%s; restored %d key(s) already written" % (exc, len(undone)),
                     written=[key for _n, key, _o, _v in done], rolled_back=undone)
    for path, _old, new in file_changes:
        if new is None:
            if os.path.exists(path):
                os.unlink(path)
        else:
            write_text(path, new)
    return result


def _view(table: Dict[str, Dict[str, Optional[str]]]) -> Dict[str, Any]:
    return {("host" if netns == HOST else "netns %s" % netns): dict(keys) for netns, keys in table.items()}
