"""A server's pools from start to stop: the one pool a room shares, the backend it gets, and a
clean stop on signals or exit.

The room's pool is a process singleton, not something a page cache holds: any visitor can send
Streamlit a `clear_cache` message, and a pool rebuilt after each one would spawn another set of
workers while the old ones lived on.
"""
from __future__ import annotations

import atexit
import os
import threading

from models.service.scheduler import LIVE_POOLS, JobPool
from models.service.store import RunStore

_room: dict[str, JobPool] = {}
_room_lock = threading.Lock()


def cluster_address() -> str | None:
    return os.environ.get("DISTILL_CLUSTER") or None


def make_pool(store: RunStore, cluster: str | None = None, workers: int | None = None) -> JobPool:
    """This machine's worker processes, or a Dask cluster's workers when `cluster` (or
    $DISTILL_CLUSTER) names one."""
    address = cluster or cluster_address()
    if address:
        from models.service.cluster import DaskBackend
        return JobPool(store, DaskBackend(store, address))
    return JobPool(store, workers=workers)


def room_pool(store: RunStore) -> JobPool:
    """The pool every page of this server shares: made once per process and per store file, and
    stopped (runs marked interrupted, workers gone) when the process exits."""
    key = str(store.path.resolve())
    with _room_lock:
        if key not in _room or _room[key].stopped:  # only a server's own stop ends its pool
            _room[key] = make_pool(store)
            atexit.register(_room[key].shutdown)
        return _room[key]


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


def run_and_wait(store: RunStore, configs: list, name: str = "", group: str = "", cluster: str | None = None,
                 workers: int | None = None, timeout_s: float | None = None) -> list:
    """Submit runs to a pool of their own (this machine's workers, or a cluster's) and wait for all
    of them: the CLI's sweep and `--cluster`. They land in `store` like the app's runs."""
    pool = make_pool(store, cluster, workers)
    try:
        return pool.wait(pool.submit_many(configs, name=name, group=group), timeout_s)
    finally:
        pool.shutdown()
