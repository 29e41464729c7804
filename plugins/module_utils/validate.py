# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks that need no kernel: each raises ValidationError naming the field."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError

IFNAMSIZ = 16  # kernel buffer, including the trailing NUL
# Always used with fullmatch: re.match's `$` also matches before a trailing newline ("ns1\n").
_MAC_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
_NETNS_RE = re.compile(r"[A-Za-z0-9_.-]+")
_NOT_IN_NAMES_RE = re.compile(r"[/:\s]")  # \s: what str.isspace() takes
_INT_RE = re.compile(r"[+-]?[0-9]+")


def show(value: Any) -> str:
    """A value as the user wrote it (repr, so 'ns1\n' shows its newline), cut to one line's worth."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def text(field: str, value: Any) -> str:
    """A str as given; Ansible's type=str would turn ['a'] or 5 into text, which is never meant."""
    if not isinstance(value, str):
        raise ValidationError(field, "%s is not a string (quote it)" % show(value))
    return value


def interface_name(field: str, value: Optional[str]) -> str:
    """A kernel interface name: 1-15 bytes, no '/', ':' or white space."""
    if not value:
        raise ValidationError(field, "an interface name is required")
    value = text(field, value)
    size = len(value.encode("utf-8"))
    if size >= IFNAMSIZ:
        raise ValidationError(
            field, "'%s' is %d bytes; the kernel allows at most %d" % (value, size, IFNAMSIZ - 1)
        )
    if value in (".", ".."):
        raise ValidationError(field, "'%s' is not a valid interface name" % value)
    bad = _NOT_IN_NAMES_RE.search(value)
    if bad:
        raise ValidationError(
            field, "'%s' contains %r; interface names cannot hold '/', ':' or white space"
            % (value, bad.group())
        )
    return value


def netns_name(field: str, value: Optional[str]) -> Optional[str]:
    """A named namespace under /run/netns; empty or None means the host's own."""
    if value in (None, ""):
        return None
    value = text(field, value)
    if value in (".", "..") or not _NETNS_RE.fullmatch(value) or len(value) > 255:
        raise ValidationError(
            field, "'%s' is not a valid namespace name (letters, digits, '.', '_', '-')" % value
        )
    return value


def mac_address(field: str, value: str) -> str:
    """A unicast Ethernet address, returned in the kernel's lower-case form."""
    mac = text(field, value).strip().lower().replace("-", ":")
    if not _MAC_RE.fullmatch(mac):
        raise ValidationError(field, "'%s' is not a MAC address like 02:00:00:00:00:01" % value)
    if int(mac[:2], 16) & 1:
        raise ValidationError(field, "'%s' is a multicast address; a link needs a unicast one" % value)
    if mac == "00:00:00:00:00:00":
        raise ValidationError(field, "the all-zero MAC address cannot be assigned")
    return mac


def mac_list(field: str, values: List[Any]) -> List[str]:
    """A list of unicast MACs without duplicates, sorted for stable diffs."""
    seen = []
    for index, value in enumerate(values):
        mac = mac_address("%s[%d]" % (field, index), value)
        if mac in seen:
            raise ValidationError("%s[%d]" % (field, index), "'%s' is listed twice" % value)
        seen.append(mac)
    return sorted(seen)


def interface_address(field: str, value: str) -> str:
    """An address with prefix length (CIDR), normalised, e.g. '10.0.0.1/24'."""
    address = text(field, value).strip()
    if "/" not in address:
        raise ValidationError(field, "'%s' needs a prefix length, e.g. '%s/24'" % (value, address))
    if _canonical_ipv4_interface(address):
        return address  # the common case, without ipaddress objects (a big layout lists thousands)
    try:
        return str(ipaddress.ip_interface(address))
    except ValueError as exc:
        raise ValidationError(field, "'%s' is not an IPv4/IPv6 address in CIDR form (%s)" % (value, exc))


def _canonical_ipv4_interface(text: str) -> bool:
    """'a.b.c.d/p' already in the form ipaddress would print (anything else takes the slow path)."""
    address, prefix = text.split("/", 1)
    # isdigit() alone takes '²' (int() then raises); inet_pton raises ValueError on a NUL
    if not (prefix.isascii() and prefix.isdigit()) or prefix != str(int(prefix)) or int(prefix) > 32:
        return False
    try:
        return socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, address)) == address
    except (OSError, ValueError):
        return False


def address_list(field: str, values: List[Any]) -> List[str]:
    """Exact address list: normalised, no duplicates, sorted for stable diffs.

    An address is listed twice even with another prefix (10.0.0.1/24 and 10.0.0.1/16): the
    kernel keeps one address once, so the second would fail (or replace the first) half-way."""
    result: List[str] = []
    seen: Dict[str, str] = {}
    for index, value in enumerate(values):
        address = interface_address("%s[%d]" % (field, index), value)
        bare = address.split("/")[0]
        if bare in seen:
            raise ValidationError("%s[%d]" % (field, index), "'%s' is listed twice (also as %s)" % (value, seen[bare]))
        seen[bare] = address
        result.append(address)
    return sort_addresses(result)


def sort_addresses(addresses: List[str]) -> List[str]:
    """IPv4 before IPv6, then by network, then by address (ipaddress's interface order)."""
    if len(addresses) < 2:  # most links have one: no keys to compute
        return list(addresses)
    return sorted(addresses, key=address_order)


def address_order(text: str) -> Tuple[int, int, int, int]:
    """Sort key of a normalised 'address/prefix' without building ipaddress objects
    (a whole-host read sorts thousands of them)."""
    address, prefix = text.split("/")
    family, bits = (socket.AF_INET6, 128) if ":" in address else (socket.AF_INET, 32)
    value = int.from_bytes(socket.inet_pton(family, address), "big")
    mask = ((1 << bits) - 1) ^ ((1 << (bits - int(prefix))) - 1)
    return (6 if bits == 128 else 4), value & mask, mask, value


def ip_address(field: str, value: str) -> str:
    """A single IPv4/IPv6 address without prefix."""
    try:
        return str(ipaddress.ip_address(text(field, value).strip()))
    except ValueError:
        raise ValidationError(field, "'%s' is not an IPv4 or IPv6 address" % value)


def route_destination(field: str, value: str) -> "tuple[str, Optional[int]]":
    """'default' (or 0.0.0.0/0, ::/0) or a network prefix; returns (dest, family or None)."""
    dest = text(field, value).strip()
    if dest in ("default", "0.0.0.0/0"):
        return "default", 4 if dest != "default" else None
    if dest == "::/0":
        return "default", 6
    try:
        network = ipaddress.ip_network(dest, strict=True)
    except ValueError as exc:
        raise ValidationError(field, "'%s' is not 'default' or a network prefix (%s)" % (value, exc))
    return str(network), network.version


_TRUE = ("true", "yes", "on", "1", "y", "t")
_FALSE = ("false", "no", "off", "0", "n", "f")


def boolean(field: str, value: Any) -> Optional[bool]:
    """A boolean as Ansible reads one ('no', 'False', 0 ...); None stays None.

    Entries inside a topology document skip Ansible's own type checks, and a templated
    value often arrives as the string 'False', which bool() would take for True."""
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValidationError(field, "%s is not a boolean (true/false, yes/no, on/off, 1/0)" % show(value))


def integer(field: str, value: Any) -> int:
    """An int, an integral float or a string of digits; never a bool (int() takes true for 1)
    or a float with a fraction (int() drops it)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.fullmatch(value.strip()):
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, "%s is not an integer" % show(value))
    return value


def int_range(field: str, value: Any, low: int, high: int) -> int:
    """An integer (see integer()) within [low, high]."""
    number = integer(field, value)
    if not low <= number <= high:
        raise ValidationError(field, "%d is out of range %d-%d" % (number, low, high))
    return number


@dataclass(frozen=True)
class Choice:
    """A text option's valid values and its default, named once: the engine parses with it and
    the option tables (registry.py, schema.py) are written from it."""
    values: Tuple[str, ...]
    default: str = ""  # "": none

    def parse(self, field: str, value: Any) -> str:
        """One of the values; the default when not given."""
        value = (self.default or None) if value is None else value
        if value not in self.values:
            raise ValidationError(field, "'%s' is not one of %s" % (value, ", ".join(self.values)))
        return value

    def option(self, **more: Any) -> Dict[str, Any]:
        """The option's table entry (type, choices, default), with `more` (its description, ...)."""
        entry: Dict[str, Any] = dict(type="str", choices=list(self.values))
        if self.default:
            entry["default"] = self.default
        entry.update(more)
        return entry


PRESENCE = Choice(("present", "absent"), "present")  # every object's `state`
ADMIN_STATE = Choice(("up", "down"), "up")
