"""The room's job pool: its own queue, fair turns, each visitor's share, the facilitator's caps
and queue places, in front of a backend that trains the runs.

Why a pool of processes: in Streamlit a widget click aborts the page's script, closing a tab does
not stop a loop, and torch's thread pool and seeds are process-wide. So training never runs in a
page. A page submits a frozen config, polls the store for progress, and may ask to cancel. The
backend (this machine's worker processes, `local.LocalBackend`, or a Dask cluster's,
`cluster.DaskBackend`) starts a run when the pool says so; every run goes through
`runner.execute`, wherever it trains.
"""
from __future__ import annotations

import dataclasses
import heapq
import os
import threading
import time
import weakref
from concurrent.futures import Future
from typing import Protocol

from models.base.errors import ConfigError, StoreError
from models.service.budget import check_cost, corrections, estimate_seconds, pace_now, work_seconds
from models.service.fair import Queued, QueuePlace, fair_order, take_fair  # noqa: F401  (pages read them here)
from models.service.kinds import config_of, kind_of
from models.service.room import room_limits
from models.service.store import BEATING, SERVER_ID, RunStore, heartbeat_seconds

DEFAULT_PER_OWNER = 3  # submissions one browser session may have queued or running ($DISTILL_SESSION_JOBS)
CORRECTIONS_TTL_S = 10.0
QUEUE_PLACES_TTL_S = 1.0  # a waiting visitor's place may be a second old
LIVE_POOLS: "weakref.WeakSet[JobPool]" = weakref.WeakSet()  # every pool this process has open


class Backend(Protocol):
    """What trains the pool's runs."""

    def slots(self) -> int: ...  # runs that may train at once
    def check(self, config) -> None: ...  # raise ConfigError when this backend cannot run it
    def start(self, run_id: int, kind: str, values: dict) -> Future: ...
    def cancel(self, run_id: int) -> None: ...  # tell a running run (the store's flag is already set)
    def ended(self, store: RunStore, run_id: int, future: Future) -> None: ...  # record what the run did not
    def beat(self, store: RunStore, server: str) -> None: ...  # extra liveness duties each beat
    def close(self, grace_s: float, futures: list) -> None: ...


class JobPool:
    """Submit configs; results land in the store. One per server process (lifecycle.room_pool).

    The pool starts a run only when the backend has a free slot, picking owners in turn, so one
    visitor's ten jobs do not make another's single job wait behind all of them.
    """

    def __init__(self, store: RunStore, backend: Backend | None = None, workers: int | None = None,
                 per_owner: int | None = None):
        self.store = store
        self.server = SERVER_ID
        BEATING.add(self.server)
        self.store.beat_server(self.server)
        self.store.mark_orphans()
        self.per_owner = per_owner or int(os.environ.get("DISTILL_SESSION_JOBS", DEFAULT_PER_OWNER))
        if backend is None:
            from models.service.local import LocalBackend
            backend = LocalBackend(str(store.path), workers)
        self.backend = backend
        self._lock = threading.Lock()
        self._waiting: list[Queued] = []
        self._running: dict[int, tuple[str, Future]] = {}  # run id -> (owner, future)
        self._last_served: dict[str, int] = {}  # owner -> dispatch counter when last served
        self._unrecorded: dict[int, str] = {}  # run id -> why its ending could not be written yet
        self._correction: dict[str, float] = {}
        self._corrected_at = -float("inf")
        self._places: dict = {}
        self._places_at, self._places_for = -float("inf"), None
        self._pace_now = 1.0
        self._stopping = threading.Event()
        LIVE_POOLS.add(self)
        # Beats for the runs this server queued: they stay alive while it does, whatever the PIDs.
        threading.Thread(target=self._beat, name="server-heartbeat", daemon=True).start()

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    @property
    def workers(self) -> int:
        """Runs that may train at once."""
        return self.backend.slots()

    def _beat(self) -> None:
        while not self._stopping.wait(heartbeat_seconds()):
            try:
                self.store.beat_server(self.server)
                self.backend.beat(self.store, self.server)
                self._record_endings()
                self._drop_ended()
            except StoreError:  # a store briefly locked: the next beat tries again
                continue

    # -- submitting -----------------------------------------------------------------------------
    def active_submissions(self, owner: str) -> int:
        """Submissions of this owner still queued or running; a group of runs counts once."""
        runs = self.store.list(owner=owner, active=True)
        return len({r.group or f"run-{r.id}" for r in runs})

    def check_room(self, owner: str) -> None:
        """Raise ConfigError when this owner already has the most active submissions allowed."""
        if owner and self.active_submissions(owner) >= self.per_owner:
            raise ConfigError(f"you already have {self.per_owner} submissions queued or running; wait for one "
                              "to finish or cancel it (everyone in the room shares the workers)")

    def submit(self, config, name: str = "", group: str = "", owner: str = "") -> int:
        kind = kind_of(config)
        room_limits(self.store).check(config)
        self.backend.check(config)
        values = dataclasses.asdict(config)
        if self._stopping.is_set():
            raise ConfigError("the server is stopping; start the run again once it is back")
        run_id = self.store.create(kind, values, name, group, owner=owner, server=self.server)
        with self._lock:
            self._waiting.append(Queued(run_id, owner, kind, values))
        self._dispatch()
        return run_id

    def _corrections(self) -> dict[str, float]:
        """budget.corrections from the store's recent finished runs, read at most every
        CORRECTIONS_TTL_S: every waiting page asks for its queue place each poll."""
        now = time.monotonic()
        if now - self._corrected_at > CORRECTIONS_TTL_S:
            self._correction, self._corrected_at = corrections(self.store.recent_timings()), now
        return self._correction

    def pace_now(self) -> float:
        """How much longer than their estimates the running runs are taking right now (1: as
        estimated; budget.pace_now), worked out with the queue's places."""
        self.queue_places()
        return self._pace_now

    def done_in_s(self, run_ids: list[int]) -> float:
        """Wall-clock seconds until the last of these runs should be finished, with the runs ahead of
        them and beside them on the workers (a running one: its estimated length less its time so far)."""
        places = self.queue_places()
        waiting = [places[i].done_s for i in run_ids if i in places]
        running = [max(0.0, self.pace_now() * work_seconds(run.config) * self._corrections().get(run.kind, 1.0)
                       - run.elapsed)
                   for run in self.store.get_many([i for i in run_ids if i not in places]) if not run.finished]
        return max(waiting + running + [0.0])

    def cost_s(self, configs: list) -> float:
        """A submission's estimated worker-seconds on this machine (models/service/budget.py)."""
        return estimate_seconds(configs, self._corrections())

    def submit_many(self, configs: list, name: str = "", group: str = "", owner: str = "") -> list[int]:
        """One submission of several runs (seeds, a sweep, a curve): checked against the owner's room
        once. A visitor's submission must also fit the room's budget; the CLI (no owner) runs anything."""
        self.check_room(owner)
        limits = room_limits(self.store)
        for config in configs:  # all or nothing: refuse before the first one starts
            limits.check(config)
        if owner:
            check_cost(self.cost_s(configs), limits.budget_s)
        return [self.submit(config, name, group, owner) for config in configs]

    # -- dispatching ----------------------------------------------------------------------------
    def _dispatch(self) -> None:
        started = []
        with self._lock:
            while self._waiting and len(self._running) < self.backend.slots():
                job = take_fair(self._waiting, self._last_served)
                future = self.backend.start(job.run_id, job.kind, job.values)
                self._running[job.run_id] = (job.owner, future)
                started.append((job.run_id, future))
        # Outside the lock: a future that is already done runs its callback at once, in this thread.
        for run_id, future in started:
            future.add_done_callback(lambda f, run_id=run_id: self._on_done(run_id, f))

    def _on_done(self, run_id: int, future: Future) -> None:
        with self._lock:
            self._running.pop(run_id, None)
        try:
            self.backend.ended(self.store, run_id, future)
        except StoreError as error:  # the store is down: the queue must still move; the beat ends the row later
            with self._lock:
                self._unrecorded[run_id] = str(error)
        finally:
            if not self._stopping.is_set():
                self._dispatch()

    def _record_endings(self) -> None:
        """Runs whose ending the store could not take: once it answers again they end as interrupted,
        with the reason, so no run stays 'running' for good (this server's heartbeat would keep such a
        ghost alive, counting against its owner's share)."""
        with self._lock:
            pending = dict(self._unrecorded)
        for run_id, reason in pending.items():
            self.store.end(run_id, "interrupted", f"this run's ending could not be saved ({reason}); start it again")
            with self._lock:
                self._unrecorded.pop(run_id, None)

    def queue_places(self) -> dict[int, QueuePlace]:
        """Every waiting run's place in line and estimated wait, in the order the pool will start them:
        each run's own estimated length (its config at this machine's pace), less what the running
        ones have already done. Worked out at most every QUEUE_PLACES_TTL_S for everyone: each
        waiting visitor asks on every poll, and a hundred of them asking about a hundred runs was
        the largest single cost of a full room's server."""
        with self._lock:  # a changed queue is worked out again at once; a second's ageing is not
            queue = (tuple(job.run_id for job in self._waiting), tuple(self._running))
        now = time.monotonic()
        if queue != self._places_for or now - self._places_at > QUEUE_PLACES_TTL_S:
            self._places, self._places_at, self._places_for = self._work_out_places(), now, queue
        return self._places

    def _work_out_places(self) -> dict[int, QueuePlace]:
        with self._lock:
            order = fair_order(self._waiting, self._last_served)
            running = list(self._running)
        slots = self.backend.slots()
        correction = self._corrections()

        def length(kind: str, config) -> float:
            try:
                return work_seconds(config) * correction.get(kind, 1.0)
            except (TypeError, KeyError, ValueError, AttributeError):  # a config estimates cannot read
                return 0.0

        running_runs = self.store.get_many(running)
        self._pace_now = pace_now([(run.elapsed, run.progress.fraction, length(run.kind, run.config))
                                   for run in running_runs])
        slower = self._pace_now  # the room's load now: the runs ahead of and beside a waiting one go at this pace
        busy = [max(0.0, slower * length(run.kind, run.config) - run.elapsed) for run in running_runs]
        finish_times = sorted(busy + [0.0] * (slots - len(busy)))[:slots]
        places = {}
        for place, job in enumerate(order, 1):
            start = heapq.heappop(finish_times)  # the earliest free worker takes the next run
            done = start + slower * length(job.kind, config_of(job.kind, job.values))
            places[job.run_id] = QueuePlace(place, round(start, 1), round(done, 1))
            heapq.heappush(finish_times, done)
        return places

    # -- cancelling and stopping ----------------------------------------------------------------
    def cancel(self, run_id: int, owner: str | None = None) -> bool:
        """Cancel a run. With an owner, only that owner's runs; None (the facilitator) may cancel any.
        Returns whether the request was accepted."""
        run = self.store.get(run_id)
        if run is None or run.finished or (owner is not None and run.owner != owner):
            return False
        with self._lock:
            queued = next((q for q in self._waiting if q.run_id == run_id), None)
            if queued:
                self._waiting.remove(queued)
            # Waiting in another server's queue (front.py): it ends here, and that server's worker,
            # finding it ended, leaves it.
            elsewhere = run.status == "queued" and run_id not in self._running
        if queued or elsewhere:
            self.store.end(run_id, "cancelled")
        else:
            self.store.request_cancel(run_id)  # the run checks at its next progress record
            self.backend.cancel(run_id)
        return True

    def cancel_visitor(self, owner: str) -> int:
        """The facilitator cancels everything one visitor has queued or running; returns how many."""
        return sum(self.cancel(run.id) for run in self.store.list(owner=owner, active=True))

    def clear_queue(self) -> int:
        """The facilitator empties the room's queue, this server's and any other's on the same store
        (front.py): every waiting run ends as cancelled; running ones go on. Returns how many."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
            running = set(self._running)
        queued = {job.run_id for job in waiting}
        queued |= {run.id for run in self.store.list(status="queued", limit=100_000) if run.id not in running}
        return sum(self.store.end(run_id, "cancelled", "the facilitator cleared the queue") for run_id in sorted(queued))

    def _drop_ended(self) -> None:
        """Waiting runs that ended elsewhere (the facilitator, on another server of the same room)
        leave this queue, so they hold no place in line and no worker's start."""
        with self._lock:
            waiting = [job.run_id for job in self._waiting]
        if not waiting:
            return
        ended = {run.id for run in self.store.get_many(waiting) if run.finished}
        if ended:
            with self._lock:
                self._waiting = [job for job in self._waiting if job.run_id not in ended]

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Stop for good (the server is stopping): queued runs and running ones end as interrupted,
        workers are stopped within grace_s, and the server stops beating."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if not any(pool.server == self.server and not pool.stopped for pool in LIVE_POOLS):
            BEATING.discard(self.server)
        with self._lock:
            waiting, self._waiting = self._waiting, []
            running = dict(self._running)
        try:
            for job in waiting:
                self.store.end(job.run_id, "interrupted", "the server was stopped before this run started")
            for run_id in running:
                self.store.end(run_id, "interrupted", "the server was stopped while this run was training")
            self.store.forget_server(self.server)
        except StoreError:  # the store is gone too: stopping the workers matters more
            pass
        self.backend.close(grace_s, [future for _, future in running.values()])

    def wait(self, run_ids: list[int], timeout_s: float | None = None) -> list:
        """The runs once all have finished (the CLI's sweep, hinton --cluster)."""
        deadline = time.monotonic() + timeout_s if timeout_s else None
        while True:
            runs = self.store.get_many(run_ids)
            if all(run.finished for run in runs):
                return runs
            if deadline and time.monotonic() > deadline:
                raise ConfigError(f"the runs did not finish within {timeout_s:.0f} s")
            time.sleep(0.5)
