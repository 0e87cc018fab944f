"""Keep Streamlit's garbage collection after every script run off the objects that live as long as the server.

Streamlit runs a full ``gc.collect(2)`` when each script run finishes (``runner.postScriptGC``). A full
collection walks every container object the process holds, and this app's imports alone (pandas, plotly,
scipy, DuckDB, the analysis modules) leave about 235,000 of them: functions, their dicts, types, weak
references. Measured in an AppTest process on the demo: 0.13-0.15 s of CPU per collection, more than the whole
warm rerun of a page (0.02-0.04 s), on every page switch. A bare Streamlit app imports a fraction of that.

``freeze_new_modules`` (run before each page, dashboard.context.shell) moves the objects alive then into the
permanent generation (``gc.freeze``) whenever modules were imported since it last did, i.e. a few times per
server (the first visits of the pages), so the collection after each run only walks what was made since.
Objects that became garbage are still freed by reference counting; only garbage *cycles* among frozen objects
wait, for ``collect_everything``, which the cache sweeper runs on every tick (at most 30 s apart) after scripts
ran, and whenever it releases a closed session or empties the caches (dashboard.cache._release_pools):
unfreeze, collect all generations, freeze again. So a garbage cycle frozen with a page's namespace (holding a
session's old frames) waits at most one tick, and memory still returns once sessions close.
"""

from __future__ import annotations

import gc
import sys
import threading

_LOCK = threading.Lock()
_FROZEN_AT = [0]  # len(sys.modules) when the heap was last frozen


def freeze_new_modules() -> bool:
    """Freeze the objects alive now if modules were imported since the last freeze; True when it froze."""
    if len(sys.modules) == _FROZEN_AT[0]:
        return False
    with _LOCK:
        n = len(sys.modules)
        if n == _FROZEN_AT[0]:
            return False
        gc.freeze()
        _FROZEN_AT[0] = n
    return True


def collect_everything() -> None:
    """A full collection that includes the frozen objects (their garbage cycles too), then freeze again."""
    with _LOCK:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _FROZEN_AT[0] = len(sys.modules)
