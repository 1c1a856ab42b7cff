"""Turns for whole-page runs, so a full room's slider moves are not stuck behind its page loads.

One server process runs every visitor's script on one interpreter lock. When a hundred visitors
open pages at once, a hundred script threads take turns on that lock with the event loop, which
sends every reply and reads every request; the loop then fell behind by up to a second at a time
(7 s in all over the first 30 s of a 100-visitor room; about 4.4 s with turns), and slider moves, a
few milliseconds of work each, took up to a second to come back. So at most
PAGE_RUNS_AT_ONCE whole-page runs execute at once; the others wait for a turn in arrival order,
without holding the lock. Fragment reruns (a slider move, a run's polling) never wait: they are
short, and they are what a visitor feels. A page that waits longer than WAIT_AT_MOST_S runs anyway,
so one page that takes long (a cold cache) cannot stall the room.
"""
from __future__ import annotations

import contextlib
import threading

# Paired rooms of 100 visitors: 1 and 2 both beat no limit on the slider's p95; 1 doubled its median.
PAGE_RUNS_AT_ONCE = 2
WAIT_AT_MOST_S = 2.0

_turns = threading.BoundedSemaphore(PAGE_RUNS_AT_ONCE)
_count_lock = threading.Lock()
ran_without_a_turn = 0  # page runs that waited WAIT_AT_MOST_S and went ahead anyway


@contextlib.contextmanager
def page_turn():
    """Run the body as one of at most PAGE_RUNS_AT_ONCE whole-page runs (or after WAIT_AT_MOST_S)."""
    global ran_without_a_turn
    got = _turns.acquire(timeout=WAIT_AT_MOST_S)
    if not got:
        with _count_lock:
            ran_without_a_turn += 1
    try:
        yield
    finally:
        if got:
            _turns.release()
