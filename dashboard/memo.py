"""Per-session memo of what a page rebuilds on every run from unchanged inputs: plotly figures (``chart``,
``figure``) and small pure computations on analysis results (``result``).

Building a figure is most of a warm page switch: plotly validates every property as it is set (about 0.05 s
a chart, 0.4 s for the Trends page's cohort chart), and the same figure is rebuilt on every rerun although
nothing it shows changed. ``chart(key, build, *args, **kwargs)`` draws ``build(*args, **kwargs)`` and keeps the
figure for this session under a fingerprint of the builder and of everything passed to it (frames by content,
pickled, not by identity: ``ctx.cached`` hands out a fresh copy on every run). A new filter, setting or
widget value changes the inputs, so the figure is built again; the same inputs give the same figure, because
the builders in dashboard.charts are pure functions of their arguments (and read nothing else).

Kept on the server for the session (dashboard.cache.hold, released with it), the MAX_FIGURES figures and
MAX_RESULTS results last used: about as many as all pages draw at one filter setting, so switching back and
forth never rebuilds, and the memo stays a few MB. ``result`` serves the same: a segment view, the pair grid
(20-70 ms each on the demo, a few hundred rows pickled in under 1 ms).
Inputs that do not pickle (and lambdas as builders) are not memoised: the figure is then built on every run,
as before.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import types
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import cache

if TYPE_CHECKING:
    from dashboard.context import Context

FIGURES = "figures"  # this session's memo {fingerprint: go.Figure}, held on the server (dashboard.cache.hold)
MAX_FIGURES = 32  # the pages draw 21 charts at one setting on the demo
RESULTS = "page_results"  # {fingerprint: result} of small pure computations the pages repeat on every run
MAX_RESULTS = 64
_LOCK = threading.Lock()


class Unhashable(TypeError):
    """An input the fingerprint cannot identify by content."""


def fingerprint(build: Callable[..., go.Figure], args: tuple, kwargs: dict) -> str:
    """A hash of the builder (a module-level function) and of the pickled inputs; Unhashable for closures and
    inputs that do not pickle.

    The pickle holds everything a builder can read of its inputs (values, dtypes, index, attrs), so equal
    pickles mean equal inputs. Equal inputs may pickle differently (e.g. one string object shared or two equal
    ones): that only costs a rebuild. Pickling the pages' small frames costs about 0.2 ms a chart, a tenth of
    hashing them column by column."""
    name = f"{getattr(build, '__module__', '?')}.{getattr(build, '__qualname__', '?')}"
    # a lambda or nested function may read what is not passed to it; a partial, bound method or callable
    # object carries state (bound arguments, self) that its name does not say
    if not isinstance(build, types.FunctionType) or "<" in name:
        raise Unhashable(f"builder {name} is not a module-level function")
    h = hashlib.blake2b(name.encode(), digest_size=20)
    try:
        _Pickler(_HashWriter(h), protocol=pickle.HIGHEST_PROTOCOL).dump((args, sorted(kwargs.items())))
    except (pickle.PicklingError, TypeError, AttributeError, ValueError) as e:
        raise Unhashable(str(e)) from e
    return h.hexdigest()


class _HashWriter:
    """A file that feeds what is written to it into a hash (the pickle is never kept)."""

    def __init__(self, h: Any) -> None:
        self.write = h.update


def _columns(*parts: Any) -> None:
    """Stands for a frame or series in the fingerprint's pickle (never unpickled)."""


class _Pickler(pickle.Pickler):
    """Pickles frames and series column by column: how pandas happens to lay out its blocks (a copy consolidates
    them) must not make equal frames look different."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, pd.DataFrame):
            cols = [c._values for _, c in obj.items()]
            return _columns, ("frame", obj.columns, obj.index, cols, dict(obj.attrs))
        if isinstance(obj, pd.Series):
            return _columns, ("series", obj.name, obj.index, obj._values, dict(obj.attrs))
        return NotImplemented


def _memo(name: str) -> OrderedDict:
    memo = cache.held(name)
    if memo is None:
        memo = OrderedDict()
        cache.hold(name, memo)
    return memo


def _remembered(
    name: str, limit: int, fn: Callable[..., Any], args: tuple, kwargs: dict, call: Callable[[], Any] | None = None
) -> Any:
    """fn(*args, **kwargs) (or call(), whose inputs args and kwargs identify) remembered under name."""
    run = call or (lambda: fn(*args, **kwargs))
    try:
        fp = fingerprint(fn, args, kwargs)
    except Unhashable:
        return run()
    memo = _memo(name)
    with _LOCK:
        if fp in memo:
            memo.move_to_end(fp)
            return memo[fp]
    value = run()
    with _LOCK:
        memo[fp] = value
        while len(memo) > limit:
            memo.popitem(last=False)
    return value


def result(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` for a pure function of small inputs (a page's segment frame, not the prepared
    lines: they are pickled to be recognised), remembered for the session. The result is shared by every run
    that asks again: read it, never change it in place."""
    return _remembered(RESULTS, MAX_RESULTS, fn, args, kwargs)


def on_data(ctx: Context, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(ctx.prepared, *args, **kwargs)`` remembered for the session: the filtered data is identified by what
    it is made from, ``ctx.key`` and ``ctx.filters`` (as ``ctx.cached`` does), the other inputs by content. For
    the pages' quick functions of the prepared data, without st.cache_data's copy of the result on every run.
    The result is shared: read it, never change it in place."""
    return _remembered(
        RESULTS, MAX_RESULTS, fn, (ctx.key, ctx.filters, *args), kwargs, lambda: fn(ctx.prepared, *args, **kwargs)
    )


def figure(build: Callable[..., go.Figure], /, *args: Any, **kwargs: Any) -> go.Figure:
    """``build(*args, **kwargs)``, or the figure this session built for the same builder and inputs."""
    return _remembered(FIGURES, MAX_FIGURES, build, args, kwargs)


def chart(key: str, build: Callable[..., go.Figure], /, *args: Any, **kwargs: Any) -> None:
    """``st.plotly_chart(build(*args, **kwargs), key=key)`` with the figure built once per session and inputs.
    The figure is not changed after it is built (st.plotly_chart copies it), so one object serves every run."""
    st.plotly_chart(figure(build, *args, **kwargs), key=key)
