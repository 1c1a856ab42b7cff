"""This machine's backend for the job pool, and the one way the lab starts worker processes:
spawned (no forked torch threads or locks), each at a lower CPU priority than the process that
serves pages, with at most its share of the cores in torch threads, and gone when the process that
started it is gone.

pebble's ProcessPool rather than the standard library's: when a worker dies (killed, out of
memory) pebble fails only that worker's task and starts a fresh worker, where a
ProcessPoolExecutor breaks for good and fails every later submit.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pebble

from models.core.device import cores
from models.base.errors import StoreError
from models.service.runner import run_job

WORKER_NICENESS = 10  # sliders in the web server stay responsive while workers train
PARENT_CHECK_S = 0.5


def _exit_with_parent(parent: int) -> None:
    """A worker whose server died (SIGKILL, out of memory) exits by itself instead of living on
    with a gigabyte of torch and taking a dead server's jobs: orphans get a new parent process."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _init_worker(threads: int) -> None:
    import torch  # imported here: the parent may not have loaded torch yet

    from models.core.device import cap_threads
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not permitted on this platform: run at normal priority
        pass
    torch.set_num_threads(threads)
    # Never more than its share, even alone: a multi-threaded job at low priority stalls whenever the
    # server or a browser takes one of its cores (models/core/device.py: cap_threads).
    cap_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()


def warm_up() -> None:
    """Load what every job needs (torch is already in; the dataset) before the first job asks."""
    from models.core.data import default_dataset
    default_dataset()


def worker_pool(workers: int | None = None, threads: int | None = None) -> pebble.ProcessPool:
    """At most one worker per core; threads per worker default to the worker's share of the cores
    (one each with a worker per core, the default), and a lone job keeps that share.
    Submit with `.schedule(function, args=...)`; use as a context manager or call `.stop()`."""
    workers = max(1, min(workers or cores(), cores()))
    return pebble.ProcessPool(max_workers=workers, initializer=_init_worker,
                              initargs=(threads or max(1, cores() // workers),),
                              context=multiprocessing.get_context("spawn"))


class LocalBackend:
    """Runs jobs in this machine's worker processes, each of which runs `runner.run_job` against the
    store file: the worker itself claims, beats, reports and finishes its run."""

    def __init__(self, store_path: str, workers: int | None = None):
        self.store_path = store_path
        self.count = max(1, min(workers or cores(), cores()))
        self._pool = worker_pool(self.count)
        # Start the workers now rather than at the first submit: spawning one (Python, torch, the
        # dataset) costs seconds of CPU, which would otherwise land on a room that is moving sliders.
        for _ in range(self.count):
            self._pool.schedule(warm_up)

    def slots(self) -> int:
        return self.count

    def check(self, config) -> None:
        """Every config runs here."""

    def start(self, run_id: int, kind: str, values: dict):
        return self._pool.schedule(run_job, args=(self.store_path, run_id, kind, values))

    def cancel(self, run_id: int) -> None:
        """Local workers read the store's cancel flag themselves."""

    def ended(self, store, run_id: int, future) -> None:
        """The worker wrote the run's ending; only a worker that died (killed, out of memory) did not."""
        error = None if future.cancelled() else future.exception()
        if isinstance(error, StoreError):  # the worker could not record the ending; raises while the store is down
            store.end(run_id, "interrupted", f"this run's ending could not be saved ({error}); start it again")
        elif error is not None:
            code = getattr(error, "exitcode", None)
            reason = ("the worker stopped unexpectedly" + (f" (exit code {code})" if code is not None else "")
                      + ", possibly out of memory")
            store.end(run_id, "failed", reason)  # a no-op when the run had ended already

    def beat(self, store, server: str) -> None:
        """The workers beat for their own runs."""

    def close(self, grace_s: float, futures: list) -> None:
        self._pool.stop()
        self._pool.join(timeout=grace_s)
