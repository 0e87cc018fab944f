"""Pages only lay out: no page module (dashboard/views/*.py) holds arithmetic over data.

Every number a page shows is computed by a function of `analysis` (CONTRIBUTING.md: "where a number comes from"),
so a newcomer finds it in one step and it is unit-tested there. This test reads each page's syntax tree and
flags what computes over data frames or series:

- aggregating / reshaping methods (``.groupby``, ``.sum()``, ``.mean()``, ``.merge``, ``.pivot_table``,
  ``.value_counts()``, ...) and the pandas / numpy functions that do the same (``pd.crosstab``, any ``np.*``);
- arithmetic with a column (``df["a"] / df["b"]``, ``100 * view["change"]``);
- selecting rows by a condition on a column (``df[df["q"] <= 0.1]``);
- the builtin ``sum(...)`` (counting or totalling in the page).

A page that needs one of these calls a function in analysis/ instead. ALLOWED lists the few exceptions, each
with its reason; keep it short.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = sorted((ROOT / "dashboard" / "views").glob("*.py"))

# methods that aggregate, reshape or do arithmetic over a frame or series
DATA_METHODS = frozenset(
    {
        "groupby",
        "merge",
        "pivot",
        "pivot_table",
        "melt",
        "stack",
        "unstack",
        "crosstab",
        "resample",
        "rolling",
        "expanding",
        "ewm",
        "agg",
        "aggregate",
        "transform",
        "sum",
        "mean",
        "median",
        "std",
        "var",
        "sem",
        "min",
        "max",
        "cumsum",
        "cumprod",
        "cummax",
        "cummin",
        "prod",
        "quantile",
        "value_counts",
        "nunique",
        "describe",
        "corr",
        "cov",
        "idxmax",
        "idxmin",
        "nlargest",
        "nsmallest",
        "div",
        "truediv",
        "floordiv",
        "mul",
        "sub",
        "pow",
        "mod",
        "pct_change",
        "diff",
        "clip",
        "cut",
        "qcut",
    }
)
PANDAS_FUNCTIONS = frozenset({"crosstab", "pivot_table", "merge", "cut", "qcut", "concat", "eval"})
NOT_DATA = frozenset({"re", "math", "st", "datetime", "json", "os"})  # modules whose .sub/.max/... are not data
ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)

# (page file name, the flagged expression as ast.unparse writes it) -> why it is allowed
ALLOWED: dict[tuple[str, str], str] = {}


def _is_column(node: ast.AST) -> bool:
    """``frame["name"]`` or ``frame[name]`` on a name or attribute (a column of a frame), or a row of one."""
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, (ast.Name, ast.Attribute))
        and not isinstance(node.slice, ast.Slice)
        and not (isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int))
    )


def _has_column(node: ast.AST) -> bool:
    return any(_is_column(n) for n in ast.walk(node))


def _is_data_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in DATA_METHODS


def findings(source: str, filename: str = "<page>") -> list[str]:
    """Each computation over data in a page's source, as "line: expression (why)"."""
    out: list[tuple[int, str, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        why = None
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            )
            if any(n == "numpy" or n.startswith("numpy.") for n in names):
                why = "imports numpy"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in ("np", "numpy"):
                why = f"numpy call np.{node.func.attr}"
            elif isinstance(owner, ast.Name) and owner.id in ("pd", "pandas") and node.func.attr in PANDAS_FUNCTIONS:
                why = f"pandas computation pd.{node.func.attr}"
            elif (
                node.func.attr in DATA_METHODS
                and not isinstance(owner, ast.Constant)
                and not (isinstance(owner, ast.Name) and owner.id in NOT_DATA)
            ):
                why = f".{node.func.attr}() over data"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum":
            why = "builtin sum()"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ARITHMETIC):
            if any(_is_column(side) or _is_data_call(side) for side in (node.left, node.right)):
                why = "arithmetic with a column"
        elif isinstance(node, ast.Subscript) and isinstance(
            node.slice, (ast.Compare, ast.BoolOp, ast.BinOp, ast.UnaryOp)
        ):
            if _has_column(node.slice):
                why = "rows selected by a condition on a column"
        if why:
            expr = ast.unparse(node)
            if (filename, expr) not in ALLOWED:
                out.append((getattr(node, "lineno", 0), expr, why))
    return [f"{line}: {expr[:120]} ({why})" for line, expr, why in sorted(out)]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_module_holds_no_arithmetic_over_data(page: Path):
    found = findings(page.read_text(encoding="utf-8"), page.name)
    assert not found, (
        f"dashboard/views/{page.name} computes over data; move it into a function of analysis/ "
        f"(or, if unavoidable, add it to ALLOWED with the reason):\n  " + "\n  ".join(found)
    )


def test_the_check_flags_a_page_that_computes():
    # a page written the way the issue found them: shares, a heatmap matrix, a filter and a total in the page
    computing = """
import numpy as np
import streamlit as st
ctx = require_data()
seg = ctx.analysis.segments
seg["share"] = seg["returned"] / seg["returned"].sum()
m = seg.pivot_table(index="a", columns="b", values="rate")
high = seg[seg["q_value"] <= 0.1]
per = seg.groupby("dimension")["n"].sum()
shown = 100 * seg["change"]
n_ok = sum(1 for r in seg.itertuples() if r.ok)
z = np.log(seg["n"])
"""
    whys = "\n".join(findings(computing))
    for expected in (
        "imports numpy",
        "arithmetic with a column",
        ".sum() over data",
        ".pivot_table() over data",
        "rows selected by a condition on a column",
        ".groupby() over data",
        "builtin sum()",
        "numpy call np.log",
    ):
        assert expected in whys, (expected, whys)


def test_the_check_lets_layout_through():
    layout = """
import streamlit as st
ctx = require_data()
view = dimension_view(ctx.analysis.segments, "channel", orders_basis=False, refunds=False)
st.metric("Orders", fmt.num(ctx.analysis.totals["orders"]))
st.markdown(f"**{fmt.md(row['segment'])}**: " + fmt.pct(row["rate"]) + ", ".join(names))
st.dataframe(view.segments[["segment", "rate"]], key="t")
first = rows.iloc[0]
label = labels[d] if d in labels else d
"""
    assert findings(layout) == []
