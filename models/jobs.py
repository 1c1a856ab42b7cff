"""A bounded pool of worker processes that run configs and write their results to the store.

Why processes: in Streamlit a widget click aborts the page's script, closing a tab does not stop a
loop, and torch's thread pool and seeds are process-wide. So training never runs in a page. A page
submits a frozen config, polls the store for progress, and may ask to cancel; each worker runs
one job at a time with its own torch thread count and seed. The CLI runs the same `run_job`
in its own process, so a run has one lifecycle wherever it runs.
"""
from __future__ import annotations

import dataclasses
import heapq
import os
import socket
import threading
import time
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

from models.config import (
    ConfigError,
    DistillConfig,
    ExtractConfig,
    HintonConfig,
    StoreError,
    SweepCell,
    TeacherConfig,
    TeacherError,
)
from models.data import default_dataset
from models.paths import state_dir
from models.results import JsonRecord, Progress
from models.store import SERVER_ID, RunStore, heartbeat_seconds
from models.workers import cores, set_threads_for, warm_up, worker_pool

PROGRESS_EVERY_S = 0.25  # step records land at most this often; epoch ends always land
DEFAULT_PER_OWNER = 3  # submissions one browser session may have queued or running ($DISTILL_SESSION_JOBS)
DEFAULT_RUN_S = 30.0  # a run's expected length before any of its kind has finished here


class JobCancelled(Exception):
    pass


def _run_teacher(run_id: int, config: TeacherConfig, dataset, on_progress) -> tuple[JsonRecord, None]:
    from models.teacher import save_teacher
    from models.training import train_teacher
    model, result = train_teacher(config, dataset, on_progress)
    path = state_dir() / "teachers" / f"teacher-run{run_id}.pt"
    save_teacher(model, path, {**result.sidecar(), "seed": config.seed, "trained_by": f"app run {run_id}"})
    return dataclasses.replace(result, checkpoint=str(path.resolve())), None


def _run_distill(run_id: int, config: DistillConfig, dataset, on_progress) -> tuple[JsonRecord, dict]:
    from models.distill import distill
    return distill(config, dataset, on_progress=on_progress)


def _run_sweep_cell(run_id: int, cell: SweepCell, dataset, on_progress) -> tuple[JsonRecord, None]:
    from models.sweep import run_cell
    return run_cell(cell, dataset, on_progress=on_progress), None


def _run_hinton(run_id: int, config: HintonConfig, dataset, on_progress) -> tuple[JsonRecord, None]:
    from models.hinton import run_hinton
    return run_hinton(config, dataset, on_progress), None


def _run_extraction(run_id: int, config: ExtractConfig, dataset, on_progress) -> tuple[JsonRecord, dict]:
    from models.extraction import run_extraction
    return run_extraction(config, dataset, on_progress)


# kind -> (config class, runner). New lessons register their kinds here.
JOB_KINDS: dict[str, tuple[type, Callable]] = {
    "teacher": (TeacherConfig, _run_teacher),
    "distill": (DistillConfig, _run_distill),
    "sweep_cell": (SweepCell, _run_sweep_cell),
    "hinton": (HintonConfig, _run_hinton),
    "extract": (ExtractConfig, _run_extraction),
}


def kind_of(config) -> str:
    for kind, (config_class, _) in JOB_KINDS.items():
        if isinstance(config, config_class):
            return kind
    raise TypeError(f"no job kind for {type(config).__name__}")


class RunEnded(Exception):
    """The run was ended elsewhere (cancelled, or marked interrupted by a server that thought it
    dead): stop working on it and leave its status alone."""


class Heartbeat:
    """Beats on a running run's row from a background thread, so liveness never depends on how
    often the training loop reports. `ended` is set once the row says the run is over."""

    def __init__(self, store: RunStore, run_id: int):
        self.store, self.run_id = store, run_id
        self.ended = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(heartbeat_seconds()):
            try:
                if not self.store.beat(self.run_id):
                    self.ended.set()
                    return
            except StoreError:  # a store briefly locked: the next beat tries again
                continue


def run_job(store_path: str, run_id: int, kind: str, values: dict) -> str:
    """Run one stored job here (a worker, or the CLI's own process). Returns the final status;
    never raises for a job's own failure: the reason goes into the run's row."""
    store = RunStore(store_path)
    if store.cancel_requested(run_id):
        store.end(run_id, "cancelled")
        return "cancelled"
    if not store.claim(run_id):  # cancelled or interrupted while it waited
        return _status(store, run_id)
    from models.device import best_device
    store.set_worker(run_id, f"{socket.gethostname()} pid {os.getpid()}", best_device().type)
    config_class, runner = JOB_KINDS[kind]
    last_write = 0.0
    set_threads_for(store.count_running())

    with Heartbeat(store, run_id) as heartbeat:
        def on_progress(record: Progress) -> None:
            nonlocal last_write
            if heartbeat.ended.is_set():
                raise RunEnded
            if record.epoch_end or time.monotonic() - last_write > PROGRESS_EVERY_S:
                store.set_progress(run_id, record)
                last_write = time.monotonic()
                if store.cancel_requested(run_id):
                    raise JobCancelled
                set_threads_for(store.count_running())  # a lone job uses every core; busy workers share them

        try:
            config = config_class(**values)
            result, weights = runner(run_id, config, default_dataset(), on_progress)
            store.finish(run_id, result, weights)
        except JobCancelled:
            store.end(run_id, "cancelled")
        except RunEnded:
            pass
        except (ConfigError, TeacherError) as error:
            store.end(run_id, "failed", str(error))
        except Exception as error:  # a worker must outlive a bad job; the page shows the reason
            store.end(run_id, "failed", f"{type(error).__name__}: {error}")
    return _status(store, run_id)


def _status(store: RunStore, run_id: int) -> str:
    rows = store.peek(run_id)
    return rows[0] if rows else "missing"


@dataclass(frozen=True)
class RoomLimits:
    """Caps a workshop facilitator sets for everyone's runs (0 = no cap), and a pinned teacher."""

    epochs: int = 0
    train_size: int = 0
    teacher: str = ""

    def check(self, config) -> None:
        """Raise ConfigError naming the cap when a config exceeds it."""
        epochs = getattr(config, "epochs", None)
        if self.epochs and epochs is not None and epochs > self.epochs:
            raise ConfigError(f"the facilitator capped epochs at {self.epochs} for this room, got {epochs}")
        size = getattr(config, "train_size", getattr(config, "queries", None))
        if self.train_size and size is not None and (size == 0 or size > self.train_size):
            raise ConfigError(f"the facilitator capped training images at {self.train_size:,} for this room, "
                              f"got {'all' if size == 0 else f'{size:,}'}")


def room_limits(store: RunStore) -> RoomLimits:
    settings = store.settings()
    return RoomLimits(int(settings.get("cap_epochs", 0)), int(settings.get("cap_train_size", 0)),
                      settings.get("pinned_teacher", ""))


def set_room_limits(store: RunStore, limits: RoomLimits) -> None:
    store.set_setting("cap_epochs", str(limits.epochs))
    store.set_setting("cap_train_size", str(limits.train_size))
    store.set_setting("pinned_teacher", limits.teacher)


LIVE_POOLS: "weakref.WeakSet[JobPool]" = weakref.WeakSet()  # every pool this process has open


def shutdown_all() -> None:
    """Stop every pool of this process (a server told to stop): runs end interrupted, workers exit."""
    for pool in list(LIVE_POOLS):
        pool.shutdown()


def stop_pools_on_signals() -> None:
    """For servers where nothing turns SIGTERM/SIGINT into a normal exit (Streamlit's ASGI mode;
    `streamlit run app.py` does, and the atexit hook covers it): stop the pools first, then die of
    the signal as usual. Call from the main thread."""
    import signal

    def stop(signum, _frame) -> None:
        shutdown_all()
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)


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


class JobPool:
    """Submit configs; results land in the store. One per server process.

    The pool keeps its own queue and starts a run only when a worker is free, picking owners in
    turn (round robin), so one visitor's ten jobs do not make another's single job wait behind
    all of them. A worker that dies takes only its own run down: the run ends as failed with a
    reason and a fresh worker replaces it.
    """

    def __init__(self, store: RunStore, workers: int | None = None, per_owner: int | None = None):
        self.store = store
        self.server = SERVER_ID
        self.store.beat_server(self.server)
        self.store.mark_orphans()
        self.per_owner = per_owner or int(os.environ.get("DISTILL_SESSION_JOBS", DEFAULT_PER_OWNER))
        self.workers = self._open_workers(workers)
        self._lock = threading.Lock()
        self._waiting: list[Queued] = []
        self._running: dict[int, tuple[str, Future]] = {}  # run id -> (owner, future)
        self._last_served: dict[str, int] = {}  # owner -> dispatch counter when last served
        self._stopping = threading.Event()
        LIVE_POOLS.add(self)
        # Beats for the runs this server queued: they stay alive while it does, whatever the PIDs.
        threading.Thread(target=self._beat, name="server-heartbeat", daemon=True).start()

    def _open_workers(self, workers: int | None) -> int:
        """Start the worker processes (here: this machine's); returns how many runs may train at once."""
        count = max(1, min(workers or cores(), cores()))
        self._pool = worker_pool(count)
        # Start the workers now rather than at the first submit: spawning one (Python, torch, the
        # dataset) costs seconds of CPU, which would otherwise land on a room that is moving sliders.
        for _ in range(count):
            self._pool.schedule(warm_up)
        return count

    def _start(self, job: "Queued"):
        """Send a run to a worker; returns a future whose callback reports how it ended."""
        return self._pool.schedule(run_job, args=(str(self.store.path), job.run_id, job.kind, job.values))

    def _beat(self) -> None:
        while not self._stopping.wait(heartbeat_seconds()):
            try:
                self._beat_once()
            except StoreError:  # a store briefly locked: the next beat tries again
                continue

    def _beat_once(self) -> None:
        self.store.beat_server(self.server)

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
        values = dataclasses.asdict(config)
        if self._stopping.is_set():
            raise ConfigError("the server is stopping; start the run again once it is back")
        run_id = self.store.create(kind, values, name, group, owner=owner, server=self.server)
        with self._lock:
            self._waiting.append(Queued(run_id, owner, kind, values))
        self._dispatch()
        return run_id

    def submit_many(self, configs: list, name: str = "", group: str = "", owner: str = "") -> list[int]:
        """One submission of several runs (seeds, a sweep, a curve): checked against the owner's room once."""
        self.check_room(owner)
        limits = room_limits(self.store)
        for config in configs:  # all or nothing: refuse before the first one starts
            limits.check(config)
        return [self.submit(config, name, group, owner) for config in configs]

    # -- dispatching ----------------------------------------------------------------------------
    def _next_waiting(self) -> Queued:
        """The earliest run of the owner served longest ago (round robin over owners)."""
        owners = list(dict.fromkeys(q.owner for q in self._waiting))
        owner = min(owners, key=lambda o: (self._last_served.get(o, -1), owners.index(o)))
        return next(q for q in self._waiting if q.owner == owner)

    def _dispatch(self) -> None:
        started = []
        with self._lock:
            while self._waiting and len(self._running) < self.workers:
                job = self._next_waiting()
                self._waiting.remove(job)
                self._last_served[job.owner] = max(self._last_served.values(), default=0) + 1
                future = self._start(job)
                self._running[job.run_id] = (job.owner, future)
                started.append((job.run_id, future))
        # Outside the lock: a future that is already done runs its callback at once, in this thread.
        for run_id, future in started:
            future.add_done_callback(lambda f, run_id=run_id: self._on_done(run_id, f))

    def _on_done(self, run_id: int, future: Future) -> None:
        with self._lock:
            self._running.pop(run_id, None)
        self._record_end(run_id, future)
        if not self._stopping.is_set():
            self._dispatch()

    def _record_end(self, run_id: int, future: Future) -> None:
        """What the store should say once a worker's future is done (run_job wrote the rest)."""
        error = None if future.cancelled() else future.exception()
        if error is not None:  # the worker itself died (killed, out of memory): run_job never raises
            code = getattr(error, "exitcode", None)
            reason = ("the worker stopped unexpectedly" + (f" (exit code {code})" if code is not None else "")
                      + ", possibly out of memory")
            self.store.end(run_id, "failed", reason)  # a no-op when the run had ended already

    def queue_places(self) -> dict[int, QueuePlace]:
        """Every waiting run's place in line and estimated wait, in the order the pool will start them."""
        with self._lock:
            waiting, last_served = list(self._waiting), dict(self._last_served)
            running = list(self._running)
        order = []
        while waiting:  # replay the round robin without starting anything
            owners = list(dict.fromkeys(q.owner for q in waiting))
            owner = min(owners, key=lambda o: (last_served.get(o, -1), owners.index(o)))
            job = next(q for q in waiting if q.owner == owner)
            waiting.remove(job)
            last_served[owner] = max(last_served.values(), default=0) + 1
            order.append(job)
        estimates = self.store.typical_seconds()
        busy = [max(0.0, estimates.get(run.kind, DEFAULT_RUN_S) - run.elapsed) for run in self.store.get_many(running)]
        finish_times = sorted(busy + [0.0] * (self.workers - len(busy)))[: self.workers]
        places = {}
        for place, job in enumerate(order, 1):
            start = heapq.heappop(finish_times)  # the earliest free worker takes the next run
            places[job.run_id] = QueuePlace(place, round(start, 1))
            heapq.heappush(finish_times, start + estimates.get(job.kind, DEFAULT_RUN_S))
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
        if queued:
            self.store.end(run_id, "cancelled")
        else:
            self.store.request_cancel(run_id)  # the worker checks at its next progress record
            self._cancel_running(run_id)
        return True

    def _cancel_running(self, run_id: int) -> None:
        """Local workers read the store's cancel flag themselves; remote ones need telling."""

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Stop for good (the server is stopping): queued runs and running ones end as interrupted,
        workers are stopped within grace_s, and the server stops beating."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        with self._lock:
            waiting, self._waiting = self._waiting, []
            running = list(self._running)
        try:
            for job in waiting:
                self.store.end(job.run_id, "interrupted", "the server was stopped before this run started")
            for run_id in running:
                self.store.end(run_id, "interrupted", "the server was stopped while this run was training")
            self.store.forget_server(self.server)
        except StoreError:  # the store is gone too: stopping the workers matters more
            pass
        self._close_workers(grace_s)

    def _close_workers(self, grace_s: float) -> None:
        self._pool.stop()
        self._pool.join(timeout=grace_s)


def make_pool(store: RunStore) -> JobPool:
    """This machine's worker processes, or a Dask cluster's workers when $DISTILL_CLUSTER names one."""
    address = os.environ.get("DISTILL_CLUSTER")
    if address:
        from models.cluster import DaskPool
        return DaskPool(store, address)
    return JobPool(store)
