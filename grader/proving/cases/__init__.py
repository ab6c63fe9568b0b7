"""Variants of each assignment's solution: the bugs its tests must catch, the correct
alternatives they must accept. One module per assignment, named after its notebook, with
``ASSIGNMENT`` (its id), ``NOTEBOOK`` (the notebook's name without ``.ipynb``) and
``VARIANTS`` (a list of :class:`grader.proving.variants.Variant`) and ``END_TO_END`` (the
grade_ids of the tests that train on real data: one bug, one deduction lets any bug fail them,
while every other test grades its own function only).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def all_cases() -> list[ModuleType]:
    """Every assignment's case module, in assignment order."""
    modules = [importlib.import_module(f"{__name__}.{info.name}")
               for info in pkgutil.iter_modules(__path__)]
    return sorted(modules, key=lambda m: m.ASSIGNMENT)
