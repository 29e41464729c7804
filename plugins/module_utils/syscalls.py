# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""System calls the standard library lacks before Python 3.12 (setns, unshare, mount), for
the namespaces kernel.py creates, enters and deletes."""

from __future__ import annotations

import os
from typing import Any, Tuple

CLONE_NEWNET = 0x40000000
MS_BIND, MS_REC, MS_SHARED, MNT_DETACH = 0x1000, 0x4000, 0x100000, 2


def libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def check_call(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        code = ctypes.get_errno()
        raise OSError(code, "%s: %s" % (what, os.strerror(code)))


def setns(fd: int) -> None:
    """Move the calling thread into the network namespace of `fd` (< 1 ms, no fork)."""
    if hasattr(os, "setns"):
        os.setns(fd, CLONE_NEWNET)
    else:
        check_call(libc().setns(fd, CLONE_NEWNET), "setns")


def inode_of(fd: int) -> Tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino
