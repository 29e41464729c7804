# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The owner mark: which objects the collection created, and for which layout (scope).

A link the topology module creates carries its scope twice: in its link group, set in the
same request that creates it (so no crash can leave it unmarked, and removal of a whole
scope is one request), and in its alias, written with its last settings (readable by people:
`ip -d link` shows `alias linuxnet.macvlan:SCOPE`). A namespace carries the alias on its
`lo`, written before the namespace appears under /run/netns. Marks of the default scope
are the ones 0.1.0 wrote (`linuxnet.macvlan`, group 19534), so they read as that scope."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Optional

from ansible_collections.linuxnet.macvlan.plugins.module_utils.errors import ValidationError

MARK = "linuxnet.macvlan"
DEFAULT_SCOPE = "default"
DEFAULT_GROUP = 19534  # 0x4c4e, "LN"
_SCOPE_GROUP_BASE = 0x4C4E0000  # other scopes: this plus 16 bits of the scope's CRC
_SCOPE_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def scope_name(field: str, value: object) -> str:
    """A scope: 1-64 letters, digits, '.', '_' or '-' (it is written into link aliases)."""
    if value is None or value == "":
        return DEFAULT_SCOPE
    if not isinstance(value, str) or not _SCOPE_RE.fullmatch(value):
        raise ValidationError(field, "%r is not a scope name (1-64 letters, digits, '.', '_', '-')" % (value,))
    return value


@dataclass(frozen=True)
class Owner:
    """One layout's mark."""

    scope: str = DEFAULT_SCOPE

    @property
    def alias(self) -> str:
        return MARK if self.scope == DEFAULT_SCOPE else "%s:%s" % (MARK, self.scope)

    @property
    def group(self) -> int:
        if self.scope == DEFAULT_SCOPE:
            return DEFAULT_GROUP
        return _SCOPE_GROUP_BASE | (zlib.crc32(self.scope.encode()) & 0xFFFF)

    def marked(self, alias: Optional[str], group: int) -> bool:
        """Whether a link with this alias and group is this scope's. A link with our group and
        no alias is one whose creation was cut short before the alias was written."""
        return alias == self.alias or (not alias and group == self.group)

    def unfinished(self, alias: Optional[str], group: int) -> bool:
        return not alias and group == self.group


def scope_of(alias: Optional[str], group: int = 0) -> Optional[str]:
    """The scope an object's mark names (None: not the collection's, as far as can be told)."""
    if alias == MARK:
        return DEFAULT_SCOPE
    if alias and alias.startswith(MARK + ":"):
        return alias[len(MARK) + 1:] or None
    if not alias and group == DEFAULT_GROUP:
        return DEFAULT_SCOPE
    return None


def is_collection_mark(alias: Optional[str], group: int = 0) -> bool:
    """Marked by some scope of the collection (an unfinished link of another scope included)."""
    return scope_of(alias, group) is not None or (not alias and group & 0xFFFF0000 == _SCOPE_GROUP_BASE)
