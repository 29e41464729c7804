# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors the engine raises; every one names what it is about."""

from __future__ import annotations

import os


class EngineError(Exception):
    """Base class: the message is meant to be shown to the user as is."""


class ValidationError(EngineError):
    """Bad input, found before anything on the host was touched."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__("%s: %s" % (field, reason))


class KernelError(EngineError):
    """The kernel refused an operation; names the object and the operation."""

    def __init__(self, operation: str, code: int, detail: str = "") -> None:
        self.operation = operation
        self.code = code
        text = "kernel refused `%s`: %s" % (operation, os.strerror(code) if code else detail)
        if detail and code:
            text += " (%s)" % detail
        super().__init__(text)


class ReadBackError(EngineError):
    """The kernel accepted a write but reads back something else."""

    def __init__(self, obj: str, field: str, wanted: object, got: object) -> None:
        super().__init__(
            "%s: %s reads back as %r after writing %r; the kernel did not apply it"
            % (obj, field, got, wanted)
        )


# The kernel module and config option behind each link kind (the kind's name is not
# always the module's: VLANs come from 8021q / CONFIG_VLAN_8021Q).
KERNEL_SUPPORT = {
    "macvlan": ("macvlan", "CONFIG_MACVLAN"),
    "macvtap": ("macvtap", "CONFIG_MACVTAP"),
    "vlan": ("8021q", "CONFIG_VLAN_8021Q"),
    "veth": ("veth", "CONFIG_VETH"),
    "bridge": ("bridge", "CONFIG_BRIDGE"),
    "ipvlan": ("ipvlan", "CONFIG_IPVLAN"),
    "dummy": ("dummy", "CONFIG_DUMMY"),
}


def missing_link_type_hint(kind: str) -> str:
    """Say what to load when the kernel does not know a link type."""
    module, config = KERNEL_SUPPORT.get(kind, (kind, "CONFIG_%s" % kind.upper()))
    return (
        "the running kernel has no '%s' link type; load it with `modprobe %s` "
        "(or use a kernel built with %s)" % (kind, module, config)
    )
