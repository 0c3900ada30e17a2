"""How a service process sets Python's cyclic garbage collector once it is wired (docs/operations.md, "Memory").

Every live object the collector tracks is scanned again at each full collection, and a full collection holds the
event loop: in `metrology-verification run` under 16 clients, ~190,000 objects took ~100 ms, every 3–4 s. Two
settings make those pauses rare and short:

- The objects a process holds once it is wired (modules, the app, its models and wiring) live as long as it does.
  They are frozen out of every later collection (`gc.freeze`) after one full collection, so no cycle that was
  already garbage is frozen with them.
- A young collection runs every `GC_YOUNG_THRESHOLD` allocations (Python's default: 700). A request's objects then
  mostly die by reference counting before a collection sees them; at 700 they are caught while the request is in
  flight, promoted to the old generation, and that promotion is what sets off full collections.
"""

from __future__ import annotations

import gc


def settle_garbage_collector(young_threshold: int) -> int:
    """Freeze what the process holds now and set the young generation's threshold; returns the frozen count."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
    return gc.get_freeze_count()
