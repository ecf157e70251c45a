"""core/memory.py: the collector is paused inside the block and restored after."""
from __future__ import annotations

import gc

from wachat_tui.core.memory import gc_paused


def test_gc_paused_restores_the_collector_and_keeps_objects_collectable():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():          # nested: the outer block restores it
            assert not gc.isenabled()
        assert not gc.isenabled()
        cycle: list = []
        cycle.append(cycle)
        del cycle
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert gc.collect() >= 1       # the cycle made inside is still found


def test_gc_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
