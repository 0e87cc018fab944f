"""One cache mechanism (dashboard/cache.py): below the dashboard, no cache keyed by object identity.

analysis/ and data/ may reuse a result only through a Prepared's own memo (analysis.prepare.Prepared.memo)
or functools.lru_cache on a pure function of constants (parameters annotated str, int, float, bool or
tuples / frozensets of them). Read from the source with `ast`: no `import weakref`, no call of the builtin
id(), no functools.cached_property / functools.cache, and no lru_cache on a function that takes an object.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("analysis", "data")
CONSTANT_TYPES = {"str", "int", "float", "bool", "None", "tuple", "frozenset", "bytes"}
BANNED_DECORATORS = {"cached_property", "cache"}


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def findings(source: str, where: str = "<source>") -> list[str]:
    """Every identity cache or non-constant lru_cache in `source`, as 'where:line: what'."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "weakref" for a in node.names):
            out.append(f"{where}:{node.lineno}: imports weakref")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "weakref":
            out.append(f"{where}:{node.lineno}: imports from weakref")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "id":
            out.append(f"{where}:{node.lineno}: calls id() (an identity key)")
        elif isinstance(node, ast.ImportFrom) and node.module == "functools":
            for a in node.names:
                if a.name in BANNED_DECORATORS:
                    out.append(f"{where}:{node.lineno}: imports functools.{a.name} (use Prepared.memo)")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                name = _decorator_name(dec)
                if name in BANNED_DECORATORS:
                    out.append(f"{where}:{node.lineno}: @{name} on {node.name} (use Prepared.memo)")
                elif name == "lru_cache":
                    params = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                    for arg in params:
                        words = set(re.findall(r"[A-Za-z_]+", ast.unparse(arg.annotation))) if arg.annotation else {"?"}
                        if not words <= CONSTANT_TYPES:
                            out.append(
                                f"{where}:{node.lineno}: lru_cache on {node.name}({arg.arg}: "
                                f"{ast.unparse(arg.annotation) if arg.annotation else 'unannotated'})"
                            )
    return out


def test_the_check_finds_identity_caches():
    # the patterns this file exists to keep out (the caches analysis/ held before Prepared.memo)
    bad = """
import weakref
from functools import cached_property, lru_cache
_CACHE = {}
def f(prepared):
    _CACHE[id(prepared)] = (weakref.ref(prepared), 1)
@lru_cache(maxsize=None)
def g(prepared: Prepared, name: str) -> int:
    return 1
"""
    found = findings(bad)
    assert any("imports weakref" in f for f in found)
    assert any("calls id()" in f for f in found)
    assert any("functools.cached_property" in f for f in found)
    assert any("lru_cache on g(prepared: Prepared)" in f for f in found)
    assert len(found) == 4, found
    ok = """
from functools import lru_cache
@lru_cache(maxsize=64)
def sql_text(name: str, dims: tuple[str, ...] | None = None) -> str:
    return name
"""
    assert findings(ok) == []


def test_analysis_and_data_hold_no_identity_caches():
    files = sorted(f for pkg in PACKAGES for f in (ROOT / pkg).rglob("*.py"))
    assert len(files) > 20  # the packages were found
    found = [hit for f in files for hit in findings(f.read_text(encoding="utf-8"), str(Path(f).relative_to(ROOT)))]
    assert not found, "caches keyed by object identity below the dashboard (use Prepared.memo):\n" + "\n".join(found)
