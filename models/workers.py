"""The one way the lab starts worker processes: spawned (no forked torch threads or locks), each
with a bounded torch thread count and a lower CPU priority than the process that serves pages."""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

WORKER_NICENESS = 10  # sliders in the web server stay responsive while workers train


def cores() -> int:
    return os.cpu_count() or 1


def _init_worker(threads: int) -> None:
    import torch  # imported here: the parent may not have loaded torch yet
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not permitted on this platform: run at normal priority
        pass
    torch.set_num_threads(threads)


def worker_pool(workers: int | None = None, threads: int | None = None) -> ProcessPoolExecutor:
    """At most one worker per core; threads per worker default to the worker's share of the cores."""
    workers = max(1, min(workers or cores(), cores()))
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads or max(1, cores() // workers),))
