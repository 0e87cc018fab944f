"""dashboard.heap: the objects alive once modules are imported leave the per-run full collection, and a cycle
among them is still collected when the sweeper releases memory (collect_everything)."""

from __future__ import annotations

import gc
import weakref

import pytest

from dashboard import heap


class _Node:
    pass


@pytest.fixture()
def unfrozen():
    gc.unfreeze()
    before = heap._FROZEN_AT[0]
    heap._FROZEN_AT[0] = 0
    yield
    gc.unfreeze()
    heap._FROZEN_AT[0] = before


def test_a_full_collection_skips_what_was_frozen_and_the_sweeper_collects_it(unfrozen):
    cycle = _Node()
    cycle.me = cycle  # only the cycle collector can free it
    gone = weakref.ref(cycle)
    assert heap.freeze_new_modules()  # modules were imported since "never"
    assert gc.get_freeze_count() > 1000  # the modules' functions, dicts, types...
    assert not heap.freeze_new_modules()  # nothing imported since: nothing to do on the next run
    del cycle
    gc.collect(2)  # what Streamlit runs after every script run
    assert gone() is not None  # frozen: not walked
    heap.collect_everything()
    assert gone() is None
    assert gc.get_freeze_count() > 1000  # frozen again afterwards


def test_objects_made_after_the_freeze_are_collected_as_before(unfrozen):
    heap.freeze_new_modules()
    cycle = _Node()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    del cycle
    gc.collect(2)
    assert gone() is None


def test_a_sweeper_tick_after_scripts_ran_frees_a_frozen_garbage_cycle(unfrozen):
    # review finding: a page namespace frozen by a later freeze (holding a session's old frames) stayed alive
    # until some session closed; now the sweeper's next tick after any use collects it
    from dashboard import cache

    seen = cache._LAST_USE[0]
    cycle = _Node()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    heap._FROZEN_AT[0] = 0
    assert heap.freeze_new_modules()
    del cycle
    gc.collect(2)
    assert gone() is not None  # frozen: Streamlit's collection after each run does not walk it
    assert cache._collect_if_used(seen) == seen  # no script ran since the last tick: nothing done
    assert gone() is not None
    cache._LAST_USE[0] = seen + 1.0  # a script asked for data
    try:
        assert cache._collect_if_used(seen) == seen + 1.0
        assert gone() is None
    finally:
        cache._LAST_USE[0] = seen
