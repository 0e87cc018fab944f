"""Start-up cost: the CLI and the statistics module load without scipy or pandas until a command needs them.

Checked in a fresh interpreter (what `python -m analysis --help` pays); the time itself is measured in
bench/, never here.
"""

import subprocess
import sys

from tests.conftest import ROOT


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_cli_help_imports_neither_pandas_nor_scipy():
    mods = _modules_after("import analysis.cli\ntry:\n    analysis.cli.main(['--help'])\nexcept SystemExit:\n    pass")
    assert "pandas" not in mods and "scipy" not in mods and "statsmodels" not in mods


def test_stats_module_imports_scipy_on_first_use_only():
    mods = _modules_after("import analysis.stats")
    assert "scipy" not in mods and "scipy.stats" not in mods
    # the tests the CLI's analysis runs use scipy.special only (tests/unit/test_stats_special.py)
    mods = _modules_after("import analysis.stats as s\ns.fisher_exact_p(3, 10, 1, 10)\ns.segment_vs_rest(3, 10, 1, 10)")
    assert "scipy.special" in mods and "scipy.stats" not in mods
    mods = _modules_after("import analysis.stats as s\ns.sps.beta.ppf(0.5, 2, 3)")  # e.g. shrink()
    assert "scipy.stats" in mods
