# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a sysctl key lives under /proc/sys (read and written inside a namespace by kernel.py)."""

from __future__ import annotations

import os


def sysctl_path(key: str) -> str:
    """/proc/sys path of a sysctl key, in dotted or slash form.

    Per-interface keys (net.ipv4.conf.IF.x, net.ipv6.conf.IF.x, net.ipv4.neigh.IF.x)
    may name an interface with dots (eth0.100.200): parameter names never contain
    dots, so everything between the table and the last dot is the interface name."""
    if "/" in key:
        return os.path.join("/proc/sys", *key.split("/"))
    parts = key.split(".")
    if len(parts) > 5 and parts[0] == "net" and parts[1] in ("ipv4", "ipv6") and parts[2] in ("conf", "neigh"):
        parts = parts[:3] + [".".join(parts[3:-1]), parts[-1]]
    return os.path.join("/proc/sys", *parts)
