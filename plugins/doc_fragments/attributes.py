# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.macvlan contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Every module of the collection plans before it acts, so all support both.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Predicts the change and the resulting state without touching the kernel.
  diff_mode:
    support: full
    description: Shows the object before and after, in the module's own parameter names.
"""
