# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""read -> check -> plan -> apply -> read back -> (on failure) roll back.

Every resource (a macvlan link, a namespace, ...) plugs into converge() by
providing the five small methods of Resource; nothing here knows link kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import (
    EngineError,
    ReadBackError,
)
from ansible_collections.linuxnet.macvlan.plugins.module_utils.ops import Op

try:  # typing.Protocol is 3.8+; modules may run on older managed hosts
    from typing import Protocol
except ImportError:  # pragma: no cover
    Protocol = object  # type: ignore

# Placeholder in a predicted view for values only the kernel decides (a random MAC).
KERNEL_ASSIGNED = "(assigned by the kernel)"

View = Optional[Dict[str, Any]]


def first_given(*values: Any) -> Any:
    """The first value that is not None: in a prediction, the spec's, else the current one, else the default."""
    for value in values:
        if value is not None:
            return value
    return None


class Resource(Protocol):
    label: str

    def read(self, kernel: Any) -> View:
        """The object as it is now (None: absent), in the module's own vocabulary."""

    def check(self, kernel: Any, before: View) -> None:
        """Validation that needs the kernel (parents, ranges); raises ValidationError."""

    def plan(self, before: View) -> List[Op]:
        """Ordered operations that turn `before` into the desired state."""

    def predict(self, before: View) -> View:
        """The view expected after the plan ran (what check mode reports)."""

    def explain(self, before: View) -> Optional[str]:
        """Why the plan does something surprising (a re-creation), for the diff header."""


@dataclass
class Outcome:
    changed: bool
    actions: List[str]
    before: View
    after: View
    explanation: Optional[str] = None


class ApplyFailed(EngineError):
    """A step failed; what ran was rolled back as far as possible."""

    def __init__(self, cause: EngineError, failed: Optional[Op], done: List[Op],
                 undone: List[str], undo_errors: List[str]) -> None:
        self.cause = cause
        self.failed_action = failed.render() if failed else None
        self.done = [op.render() for op in done]
        self.rolled_back = undone
        self.rollback_errors = undo_errors
        text = str(cause)
        if done and not undone and not undo_errors:
            text += "; rollback is off: %d completed action(s) left in place" % len(done)
        elif done:
            text += "; rolled back %d of %d completed action(s)" % (len(undone), len(undone) + len(undo_errors))
        if undo_errors:
            text += "; could NOT undo: " + "; ".join(undo_errors)
        super().__init__(text)


# A last step of the real run, given the state read back (what persistence stores): when it fails,
# the kernel's changes are rolled back like any other failure.
Finish = Optional[Callable[[View], None]]


def converge(resource: Resource, kernel: Any, check_mode: bool, rollback: bool = True, finish: Finish = None) -> Outcome:
    before = resource.read(kernel)
    resource.check(kernel, before)
    ops = resource.plan(before)
    predicted = resource.predict(before)
    outcome = Outcome(changed=bool(ops), actions=[op.render() for op in ops], before=before, after=predicted,
                      explanation=resource.explain(before) if ops else None)
    if check_mode:
        return outcome
    if not ops:
        if finish is not None:
            finish(before)
        return outcome
    outcome.after = apply_and_verify(resource, kernel, ops, predicted, rollback, finish)
    return outcome


def apply_and_verify(resource: Resource, kernel: Any, ops: List[Op], predicted: View, rollback: bool = True,
                     finish: Finish = None) -> View:
    done: List[Op] = []
    try:
        kernel.apply_all(ops, done)  # batched; `done` grows as the kernel acknowledges
        after = resource.read(kernel)
        verify(resource.label, predicted, after)
        if finish is not None:
            finish(after)
        return after
    except EngineError as exc:
        undone, errors = roll_back(kernel, done) if rollback else ([], [])
        raise ApplyFailed(exc, getattr(exc, "failed_op", None), done, undone, errors)


def verify(label: str, predicted: View, after: View) -> None:
    """Read-back check: pyroute2 drops unknown arguments silently, the kernel may clamp."""
    if (predicted is None) != (after is None):
        raise ReadBackError(label, "presence", predicted is not None, after is not None)
    for key, wanted in (predicted or {}).items():
        if not matches(wanted, (after or {}).get(key)):
            raise ReadBackError(label, key, wanted, (after or {}).get(key))


def matches(wanted: Any, got: Any) -> bool:
    """Equality where KERNEL_ASSIGNED matches anything and dicts compare on wanted keys."""
    if wanted == KERNEL_ASSIGNED:
        return True
    if isinstance(wanted, dict) and isinstance(got, dict):
        return all(matches(value, got.get(key)) for key, value in wanted.items())
    if isinstance(wanted, list) and isinstance(got, list):
        return len(wanted) == len(got) and all(matches(w, g) for w, g in zip(wanted, got))
    return wanted == got


def roll_back(kernel: Any, done: List[Op]) -> "tuple[List[str], List[str]]":
    """Undo completed operations, newest first; keep going past failures.

    Consecutive undos that only delete a link (the undo of each creation) go to the kernel
    in bulk: one deletion costs ~20 ms of kernel time however it is asked for, a whole
    group of links costs that once (kernel.delete_links)."""
    undone: List[str] = []
    errors: List[str] = []
    deletions: List[Op] = []  # completed creations whose undo is a plain deletion, newest first

    def undo_deletions() -> None:
        if not deletions:
            return
        try:
            kernel.delete_links([op.undo[0] for op in deletions])
            undone.extend(op.render() for op in deletions)
        except EngineError:
            for op in deletions:  # one by one, to say exactly which could not be undone
                undo_each(op)
        deletions.clear()

    def undo_each(op: Op) -> None:
        try:
            for undo in op.undo:
                kernel.apply(undo)
            undone.append(op.render())
        except EngineError as exc:
            errors.append("%s (%s)" % (op.render(), exc))

    for op in reversed(done):
        if op.irreversible:
            errors.append("%s (cannot be undone)" % op.render())
        elif len(op.undo) == 1 and op.undo[0].verb == "link_del" and not op.undo[0].undo:
            deletions.append(op)
        elif not op.undo:
            # Nothing to undo (an alias or address on a link the run created goes with it): it
            # must not cut the run of bulk deletions, or each link would cost a dump and a delete.
            undone.append(op.render())
        else:
            undo_deletions()
            undo_each(op)
    undo_deletions()
    return undone, errors
