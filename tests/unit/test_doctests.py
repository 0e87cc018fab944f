"""Every doctest in analysis/ and data/ runs (not only analysis.stats): a docstring example is a test.

Modules are discovered, so a new module's examples run without being listed here. A module whose
import fails is a failure, never a skip.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import analysis
import data

MODULES = sorted(
    f"{pkg.__name__}.{m.name}"
    for pkg in (analysis, data)
    for m in pkgutil.iter_modules(pkg.__path__)
    if m.name != "__main__"  # importing it would run the CLI
) + ["dashboard.formatting"]  # the pages' words for numbers and comparison groups


def test_every_module_is_discovered():
    # guards the discovery itself: these modules carry examples today
    assert {"analysis.stats", "analysis.trends", "analysis.prepare", "data.readers", "data.shopify_sample"} <= set(
        MODULES
    )


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} doctest examples failed (run it with -s)"
