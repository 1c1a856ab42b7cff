"""The one way the lab starts worker processes: spawned (no forked torch threads or locks), each at
a lower CPU priority than the process that serves pages, with a torch thread count that follows
how many jobs share the cores, and gone when the process that started it is gone.

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

WORKER_NICENESS = 10  # sliders in the web server stay responsive while workers train
PARENT_CHECK_S = 0.5


def cores() -> int:
    return os.cpu_count() or 1


def set_threads_for(jobs_running: int) -> None:
    """Give this worker its share of the cores: all of them when it runs alone."""
    import torch
    threads = max(1, cores() // max(1, jobs_running))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _exit_with_parent(parent: int) -> None:
    """A worker whose server died (SIGKILL, out of memory) exits by itself instead of living on
    with a gigabyte of torch and taking a dead server's jobs: orphans get a new parent process."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _init_worker(threads: int) -> None:
    import torch  # imported here: the parent may not have loaded torch yet
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not permitted on this platform: run at normal priority
        pass
    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()


def warm_up() -> None:
    """Load what every job needs (torch is already in; the dataset) before the first job asks."""
    from models.data import default_dataset
    default_dataset()


def worker_pool(workers: int | None = None, threads: int | None = None) -> pebble.ProcessPool:
    """At most one worker per core; threads per worker default to the worker's share of the cores.
    Submit with `.schedule(function, args=...)`; use as a context manager or call `.stop()`."""
    workers = max(1, min(workers or cores(), cores()))
    return pebble.ProcessPool(max_workers=workers, initializer=_init_worker,
                              initargs=(threads or max(1, cores() // workers),),
                              context=multiprocessing.get_context("spawn"))
