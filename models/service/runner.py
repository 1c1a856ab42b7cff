"""The one lifecycle of a run, wherever it trains: a local worker, the CLI's own process, or a
Dask worker.

`execute` claims the run, keeps it alive, throttles its progress, checks for a cancel at every
progress record, maps exceptions to a status, and turns the weights into bytes. Where the record
lives differs, so it talks to the record through a *link*: `StoreLink` writes the store directly
(this machine), `cluster.EventLink` sends Dask events that the app's process writes. `finish_run`
is the one way a finished run lands in the store, from either link.
"""
from __future__ import annotations

import dataclasses
import io
import os
import socket
import sys
import threading
import time
from contextlib import AbstractContextManager, contextmanager
from typing import Iterator, Protocol

from models.core.device import set_threads_for
from models.core.stopping import checked_between_steps
from models.base.errors import ConfigError, StoreError, TeacherError
from models.base.results import JsonRecord, Progress
from models.service.kinds import KINDS, kind_of
from models.service.store import SERVER_ID, Run, RunStore, heartbeat_seconds

PROGRESS_EVERY_S = 0.25  # step records land at most this often; epoch ends always land
FINISH_RETRY_S = 600.0  # a finished result waits in memory this long for a store that cannot be written
FINISH_RETRY_EVERY_S = 5.0
CANCEL_CHECK_S = 2.0  # between progress records, a running run reads its cancel flag this often


class JobCancelled(Exception):
    """Its owner (or the facilitator) asked the run to stop."""


class RunEnded(Exception):
    """The run was ended elsewhere (cancelled, or marked interrupted by a server that thought it
    dead): stop working on it and leave its status alone."""


class Link(Protocol):
    """How a running run reads and writes its record."""

    def cancel_requested(self) -> bool: ...
    def claim(self) -> bool: ...
    def alive(self) -> AbstractContextManager[threading.Event]: ...  # the event: ended elsewhere
    def started_on(self, device: str) -> None: ...
    def share_cores(self) -> None: ...
    def progress(self, record: Progress) -> None: ...
    def finish(self, config, result: JsonRecord, weights: bytes | None) -> None: ...
    def end(self, status: str, error: str = "") -> None: ...
    def status(self) -> str: ...


def weights_bytes(weights: dict | None) -> bytes | None:
    if weights is None:
        return None
    import torch
    buffer = io.BytesIO()
    torch.save({key: value.detach().cpu() for key, value in weights.items()}, buffer)
    return buffer.getvalue()


def execute(kind: str, values: dict, link: Link, dataset=None) -> str:
    """Run one job to its end; returns the final status. Never raises for the job's own failure:
    the reason goes into its record."""
    if link.cancel_requested():
        link.end("cancelled")
        return "cancelled"
    if not link.claim():  # cancelled or interrupted while it waited
        return link.status()
    from models.core.data import default_dataset
    from models.core.device import best_device
    link.started_on(best_device().type)
    link.share_cores()
    last_write = 0.0
    last_record: list[Progress] = []  # the experiment's newest record, which a mid-epoch tick moves on
    entry = KINDS[kind]
    with link.alive() as ended:
        def on_progress(record: Progress) -> None:
            nonlocal last_write
            if ended.is_set():
                raise RunEnded
            last_record[:] = [record]
            if record.epoch_end or time.monotonic() - last_write > PROGRESS_EVERY_S:
                last_write = time.monotonic()
                try:
                    link.progress(record)
                    cancelled = link.cancel_requested()
                    link.share_cores()  # a lone job uses every core; busy workers share them
                except StoreError:  # the store is down for now: train on, the next record tries again
                    return
                if cancelled:
                    raise JobCancelled

        last_check = time.monotonic()

        def between_steps(position=None) -> None:
            """A cancel lands within seconds, not at the next epoch's end (which can be minutes), and
            the page hears where the run is as often."""
            nonlocal last_check
            if time.monotonic() - last_check < CANCEL_CHECK_S:
                return
            last_check = time.monotonic()
            if ended.is_set():
                raise RunEnded
            try:
                cancelled = link.cancel_requested()
            except StoreError:  # the store is briefly unreadable: keep training, ask again later
                return
            if cancelled:
                raise JobCancelled
            if position is not None:
                tick_progress(link, last_record[0] if last_record else None, *position)

        try:
            config = entry.config_type(**values)
            with checked_between_steps(between_steps):
                outcome = entry.run(config, dataset or default_dataset(), on_progress)
            weights = weights_bytes(outcome.weights)
            keep_until_written(lambda: link.finish(config, outcome.result, weights), ended)
        except JobCancelled:
            link.end("cancelled")
        except RunEnded:
            pass
        except StoreError:  # nothing can be recorded here: the pool ends the row once the store is back
            raise
        except (ConfigError, TeacherError) as error:
            link.end("failed", str(error))
        except Exception as error:  # a worker must outlive a bad job; the page shows the reason
            link.end("failed", f"{type(error).__name__}: {error}")
    return link.status()


def tick_progress(link: Link, last: Progress | None, epochs_done: float, of: int) -> None:
    """Move the newest progress record on to a mid-epoch position (its curves kept). A loop with
    another epoch count than the record's (a later stage that has not reported yet) starts its own."""
    if last is None or last.of != of:
        last = Progress(stage=last.stage if last else "training", of=of)
    try:
        link.progress(dataclasses.replace(last, epoch=round(epochs_done, 3), epoch_end=False))
    except StoreError:  # the store is down for now: the next tick tries again
        pass


def keep_until_written(write, ended: threading.Event) -> None:
    """Write a finished run, retrying while the store cannot take it (a full disk, a damaged file
    being restored): minutes of a visitor's training are not thrown away for a moment's fault. The
    run stays alive meanwhile; after FINISH_RETRY_S the StoreError goes up to the pool."""
    deadline, said = time.monotonic() + FINISH_RETRY_S, ""
    while True:
        try:
            write()
            return
        except StoreError as error:
            if ended.is_set() or time.monotonic() > deadline:
                raise
            if str(error) != said:  # an operator's console, once per reason: the page cannot be written either
                said = str(error)
                print(f"distillation lab: a finished run waits in memory: {said}", file=sys.stderr, flush=True)
            time.sleep(FINISH_RETRY_EVERY_S)


def finish_run(store: RunStore, run_id: int, kind: str, config, result: JsonRecord, weights: bytes | None) -> bool:
    """Store a finished run: its kind keeps what it must (a teacher's checkpoint file), then the row."""
    keep = KINDS[kind].keep
    if keep is not None:
        result, weights = keep(store.path.parent, run_id, config, result, weights)
    return store.finish(run_id, result, weights)


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


class StoreLink:
    """A run on this machine: its record is the store's row, written here."""

    def __init__(self, store: RunStore, run_id: int, kind: str):
        self.store, self.run_id, self.kind = store, run_id, kind

    def cancel_requested(self) -> bool:
        return self.store.cancel_requested(self.run_id)

    def claim(self) -> bool:
        return self.store.claim(self.run_id)

    @contextmanager
    def alive(self) -> Iterator[threading.Event]:
        with Heartbeat(self.store, self.run_id) as heartbeat:
            yield heartbeat.ended

    def started_on(self, device: str) -> None:
        self.store.set_worker(self.run_id, f"{socket.gethostname()} pid {os.getpid()}", device)

    def share_cores(self) -> None:
        set_threads_for(self.store.count_running())

    def progress(self, record: Progress) -> None:
        self.store.set_progress(self.run_id, record)

    def finish(self, config, result: JsonRecord, weights: bytes | None) -> None:
        finish_run(self.store, self.run_id, self.kind, config, result, weights)

    def end(self, status: str, error: str = "") -> None:
        self.store.end(self.run_id, status, error)

    def status(self) -> str:
        peek = self.store.peek(self.run_id)
        return peek[0] if peek else "missing"


def run_job(store_path: str, run_id: int, kind: str, values: dict) -> str:
    """A stored job, run here (what a local worker process is sent). Returns the final status."""
    return execute(kind, values, StoreLink(RunStore(store_path), run_id, kind))


def run_here(store: RunStore, config, name: str = "", group: str = "") -> Run:
    """One run in this process, through the same lifecycle as a worker's, landing in `store` (the
    CLI's way: its runs show on Compare like a page's)."""
    kind, values = kind_of(config), dataclasses.asdict(config)
    run_id = store.create(kind, values, name, group, server=SERVER_ID)
    execute(kind, values, StoreLink(store, run_id, kind))
    return store.get(run_id)
