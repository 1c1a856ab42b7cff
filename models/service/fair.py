"""Fair turns: who starts next when several visitors wait. Round robin over owners, earliest run
first within an owner, so one visitor's ten jobs never make another's single job wait behind them all.
The pool (scheduler.JobPool) starts runs with `take_fair`; the queue places pages show replay it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Queued:
    """A run waiting in the pool's own queue (the store says 'queued')."""

    run_id: int
    owner: str
    kind: str
    values: dict


@dataclass(frozen=True)
class QueuePlace:
    """Where a queued run stands: 1 = next to start; wait_s estimated from the runs ahead."""

    place: int
    wait_s: float
    done_s: float = 0.0  # when it should be finished: its wait plus its own estimated length


def next_fair(waiting: list[Queued], last_served: dict[str, int]) -> Queued:
    """The run to start next: the earliest run of the owner served longest ago (round robin)."""
    owners = list(dict.fromkeys(q.owner for q in waiting))
    owner = min(owners, key=lambda o: (last_served.get(o, -1), owners.index(o)))
    return next(q for q in waiting if q.owner == owner)


def take_fair(waiting: list[Queued], last_served: dict[str, int]) -> Queued:
    """The one fair turn: take the next run out of `waiting` and mark its owner served now (both
    changed in place). The pool starts runs with it; fair_order replays it on copies."""
    job = next_fair(waiting, last_served)
    waiting.remove(job)
    last_served[job.owner] = max(last_served.values(), default=0) + 1
    return job


def fair_order(waiting: list[Queued], last_served: dict[str, int]) -> list[Queued]:
    """The order the pool will start these runs (the round robin replayed on copies, nothing started)."""
    waiting, last_served = list(waiting), dict(last_served)
    return [take_fair(waiting, last_served) for _ in range(len(waiting))]
