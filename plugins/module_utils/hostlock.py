# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One engine run at a time per host: every module and the boot unit hold this lock while
they read, plan and apply, so two runs never plan against a state the other is changing."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from typing import Iterator, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError

LOCK_PATH = "/run/lock/linuxnet-macvlan.lock"
TIMEOUT_VARIABLE = "LINUXNET_MACVLAN_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 300.0  # seconds; a big first converge of thousands of links takes well under this


class LockTimeout(EngineError):
    """Another run held the host's lock for longer than the wait allowed; nothing was changed."""


def lock_timeout() -> float:
    """The wait, in seconds: LINUXNET_MACVLAN_LOCK_TIMEOUT (a task's `environment:`) or the default."""
    text = os.environ.get(TIMEOUT_VARIABLE, "")
    try:
        return max(0.0, float(text)) if text.strip() else DEFAULT_TIMEOUT
    except ValueError:
        raise EngineError("%s=%r is not a number of seconds" % (TIMEOUT_VARIABLE, text))


@contextlib.contextmanager
def host_lock(path: str = LOCK_PATH, timeout: Optional[float] = None) -> Iterator[None]:
    """Hold the host's engine lock (flock: released by the kernel if the holder dies)."""
    wait = lock_timeout() if timeout is None else timeout
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout("another linuxnet.macvlan run (%s) held this host's lock %s for more than "
                                      "%g s; nothing was changed. Run again when it is done, or wait longer with "
                                      "the environment variable %s" % (_holder(fd), path, wait, TIMEOUT_VARIABLE))
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, ("pid %d\n" % os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return text or "pid unknown"
