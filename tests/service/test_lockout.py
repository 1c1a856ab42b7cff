"""Guessing the facilitator secret: slowed down per visitor, then locked out for the visitor and,
past the server's count, for everyone; a right guess clears only its own visitor."""
from models.service.lockout import Lockout


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_wrong_guesses_wait_longer_each_time_then_lock_the_visitor_out():
    clock = Clock()
    guard = Lockout(per_visitor=5, server=100, lock_s=300, clock=clock)
    waits = []
    for _ in range(4):
        guard.failed("a")
        waits.append(guard.wait_s("a"))
        clock.now += waits[-1]
    assert waits == [1, 2, 4, 8]
    guard.failed("a")
    assert guard.wait_s("a") == 300 and guard.wait_s("b") == 0  # another visitor is not held up
    clock.now += 299
    assert guard.wait_s("a") == 1
    guard.succeeded("a")
    assert guard.wait_s("a") == 0


def test_many_visitors_guessing_lock_the_whole_server():
    clock = Clock()
    guard = Lockout(per_visitor=5, server=30, lock_s=300, window_s=600, clock=clock)
    for visitor in range(30):  # thirty reloads, one wrong guess each
        guard.failed(f"tab-{visitor}")
        clock.now += 1
    assert guard.wait_s("a-new-tab") == 300 - 1
    clock.now += 600  # the window passes: the count is forgotten
    assert guard.wait_s("a-new-tab") == 0
