"""Slowing down and then locking out guesses of the facilitator secret, per visitor and for the
whole server (a visitor who reloads is a new visitor, so the server's count is what holds).

After a visitor's n-th wrong guess they wait 2^(n−1) seconds before the next one is even compared;
after PER_VISITOR wrong guesses in WINDOW_S, that visitor waits LOCK_S; after SERVER wrong guesses
in WINDOW_S from anyone, every visitor does. A right guess clears only its visitor's count.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Lockout:
    per_visitor: int = 5
    server: int = 30
    window_s: float = 600.0
    lock_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict = field(default_factory=dict)  # visitor -> times of their recent wrong guesses
    _all: list = field(default_factory=list)  # times of everyone's recent wrong guesses
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, times: list, now: float) -> list:
        return [t for t in times if now - t < self.window_s]

    def wait_s(self, visitor: str) -> float:
        """Seconds until this visitor's next guess will be compared (0: now)."""
        with self._lock:
            now = self.clock()
            self._all = self._recent(self._all, now)
            mine = self._failures[visitor] = self._recent(self._failures.get(visitor, []), now)
            waits = [0.0]
            if len(self._all) >= self.server:
                waits.append(self._all[-1] + self.lock_s - now)
            if len(mine) >= self.per_visitor:
                waits.append(mine[-1] + self.lock_s - now)
            elif mine:
                waits.append(mine[-1] + 2 ** (len(mine) - 1) - now)
            return max(waits)

    def failed(self, visitor: str) -> None:
        with self._lock:
            now = self.clock()
            self._failures.setdefault(visitor, []).append(now)
            self._all.append(now)

    def succeeded(self, visitor: str) -> None:
        with self._lock:
            self._failures.pop(visitor, None)


FACILITATOR_LOCKOUT = Lockout()  # one per server process: no page or cache clear can reset it


class RememberedBrowsers:
    """Browsers (visitor ids: one per browser cookie, shared by its tabs and reloads) that gave the
    facilitator secret on this server, so a reload of the facilitator page does not ask again. Kept
    in memory only: a restarted server, or a new secret, asks again. Clients without a browser cookie
    share one id, so they are never remembered."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, visitor: str, anonymous: str) -> None:
        if visitor != anonymous:
            with self._lock:
                self._known.add(visitor)

    def knows(self, visitor: str) -> bool:
        with self._lock:
            return visitor in self._known

    def forget(self, visitor: str) -> None:
        with self._lock:
            self._known.discard(visitor)


FACILITATOR_BROWSERS = RememberedBrowsers()
