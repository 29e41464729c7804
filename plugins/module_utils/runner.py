# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue between AnsibleModule and the engine, shared by every module."""

from __future__ import annotations

import gc
import importlib.util
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.linuxnet.macvlan.plugins.module_utils.engine import ApplyFailed, Resource, converge
from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import EngineError, ValidationError
from ansible_collections.linuxnet.macvlan.plugins.module_utils.hostlock import host_lock
from ansible_collections.linuxnet.macvlan.plugins.module_utils.kernel import Kernel
from ansible_collections.linuxnet.macvlan.plugins.module_utils.persist import Persistence
from ansible_collections.linuxnet.macvlan.plugins.module_utils.topology import gather, gather_owners


def without_cycle_collector() -> None:
    """A module is a process that lives for one task. On a document of thousands of entries, the
    cyclic garbage collector's passes over its objects cost a tenth of a no-op and find next to
    nothing to free; reference counting frees everything else as usual."""
    gc.disable()


def run_resource(module: AnsibleModule, build: Callable[[Dict[str, Any]], Resource], result_key: str,
                 rollback: bool = True, persistence: Optional[Persistence] = None,
                 object_when_unchanged: bool = True) -> None:
    """Validate parameters, converge, and exit with changed / diff / actions / the object.
    `persistence` (topology's `persist`): stored in the same call, after the kernel's changes;
    when storing fails, those are rolled back. `object_when_unchanged=False` leaves the object out
    of a run that changes nothing (a whole layout: thousands of entries nobody needs then)."""
    require_pyroute2(module)
    try:
        resource = build(module.params)
        if persistence is not None:
            persistence.check()
    except ValidationError as exc:
        fail_validation(module, exc)
    except EngineError as exc:
        module.fail_json(msg=str(exc), changed=False)
    kernel = Kernel()
    try:
        with host_lock():
            outcome = converge(resource, kernel, module.check_mode, rollback,
                               finish=persistence.finish if persistence is not None else None)
            if persistence is not None and module.check_mode:
                persistence.plan(outcome.after)
    except ApplyFailed as exc:
        module.fail_json(msg=str(exc), changed=bool(exc.done) and len(exc.rolled_back) < len(exc.done),
                         failed_action=exc.failed_action, actions=exc.done,
                         rolled_back=exc.rolled_back, rollback_errors=exc.rollback_errors)
    except ValidationError as exc:
        fail_validation(module, exc)
    except EngineError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except Exception as exc:  # pylint: disable=broad-except  # every answer is JSON, even for a bug of ours
        module.fail_json(msg="%s: unexpected %s: %s" % (resource.label, type(exc).__name__, exc),
                         exception=traceback.format_exc(), changed=False)
    finally:
        kernel.close()
    result: Dict[str, Any] = {"changed": outcome.changed, "actions": outcome.actions}
    if outcome.changed or object_when_unchanged:
        result[result_key] = outcome.after
    if module._diff:
        result["diff"] = {"before": outcome.before or {}, "after": outcome.after or {}}
        if outcome.explanation:
            result["diff"]["after_header"] = "%s (%s)" % (resource.label, outcome.explanation)
    if persistence is not None and persistence.steps:
        result["changed"] = True
        result["actions"] = outcome.actions + [step.render() for step in persistence.steps]
        if module._diff:
            before, after = persistence.diff()
            result["diff"]["before"] = dict(result["diff"]["before"], persist=before)
            result["diff"]["after"] = dict(result["diff"]["after"], persist=after)
    module.exit_json(**result)


def fail_validation(module: AnsibleModule, exc: ValidationError) -> None:
    """One message; `errors` lists every problem when a whole document was checked."""
    errors = [str(error) for error in getattr(exc, "errors", [exc])]
    module.fail_json(msg=str(exc), field=exc.field, errors=errors, changed=False)


def require_pyroute2(module: AnsibleModule) -> None:
    """pyroute2 is a requirement on every managed host (the collection's declared netlink library);
    the engine's requests all go through its own codec (rtnl.py), so here it is only looked up."""
    if importlib.util.find_spec("pyroute2") is None:
        module.fail_json(msg=missing_required_lib("pyroute2"), exception="No module named 'pyroute2'", changed=False)


def gathered_layout(module: AnsibleModule, namespaces: Optional[List[str]]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The host's layout in the topology document's format, and which scope made each object the
    collection created (topology state=gathered, netlink_facts)."""
    require_pyroute2(module)
    kernel = Kernel()
    try:
        with host_lock():
            return gather(kernel, namespaces), gather_owners(kernel, namespaces)
    except EngineError as exc:
        module.fail_json(msg=str(exc), changed=False)
    finally:
        kernel.close()
