# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback of scripts/fleet_benchmark.py: how long each task took on each host.

A task's time on a host runs from the moment a worker starts it for that host
(v2_runner_on_start, so waiting for a free fork is not counted) to its result. Written as JSON
lines to $FLEET_TIMING_OUT at the end of the run."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: fleet_timing
type: aggregate
short_description: Per-host task durations for scripts/fleet_benchmark.py
description:
  - Writes one JSON line per task and host (task name, action, status, seconds) to E(FLEET_TIMING_OUT).
requirements:
  - enabled in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "fleet_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started = {}
        self.rows = []

    def v2_runner_on_start(self, host, task):
        self.started[(host.get_name(), task._uuid)] = time.monotonic()

    def _done(self, result, status):
        host, task = result._host.get_name(), result._task
        start = self.started.pop((host, task._uuid), None)
        seconds = time.monotonic() - start if start is not None else 0.0
        changed = bool(result._result.get("changed")) if isinstance(result._result, dict) else False
        self.rows.append({"host": host, "task": task.get_name(), "action": task.action, "status": status,
                          "changed": changed, "seconds": seconds})

    def v2_runner_on_ok(self, result):
        self._done(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._done(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._done(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("FLEET_TIMING_OUT")
        if path:
            with open(path, "w") as handle:
                for row in self.rows:
                    handle.write(json.dumps(row) + "\n")
