"""The cyclic garbage collector, paused while a big chat is turned into records and files.

Building a dataset allocates millions of small containers (rows, messages of samples, pairs,
turns) and frees none of them until the end, so CPython's cyclic collector runs again and again,
each full pass walking every record still alive: on a 200k-message export that was ~40% of
``wachat import``'s CPU time. None of these objects form cycles (reference counting frees them
as before, memory does not grow), so the collector is paused for the duration and resumed after.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block (if it was running).

    What the block made and kept (a dataset, a project's records) is long-lived: on leaving, it
    goes straight to the oldest generation (``freeze`` + ``unfreeze``), where the collector
    would have put it after walking it twice (~0.2 s for a 200k-message chat). It stays
    collectable: the next full collection sees it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
