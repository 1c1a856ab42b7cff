"""A Dask cluster as the job pool's backend, when one machine is not enough
($DISTILL_CLUSTER=tcp://HOST:8786).

The same JobPool (its round-robin queue, per-visitor limits, the facilitator's caps, queue places)
sends runs to Dask workers instead of this machine's processes, and each run goes through the same
`runner.execute`. Workers never touch the app's SQLite file: the worker's `EventLink` reports the
claim, where it trains and its progress as Dask events (`log_event`), reads a cancel request from a
named Dask `Event`, and returns its ending with the weights as bytes; this process writes them to
the store with `runner.finish_run`, as a local worker would. A worker loads MNIST from its own
$DISTILL_DATA (or the bundled sample, which its result records) and receives a non-bundled teacher
checkpoint as bytes scattered once per content.

Start the scheduler with `DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0`: then a worker that
dies ends its run as *failed* (Dask's KilledWorker) instead of quietly restarting it elsewhere.
"""
from __future__ import annotations

import importlib
import os
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from models.base.configs import PAPER_TEACHER
from models.base.errors import ConfigError
from models.base.results import Progress
from models.service.addresses import address_problem
from models.service.kinds import KINDS, config_of, kind_of
from models.service.runner import execute, finish_run
from models.service.store import RunStore

CONNECT_TIMEOUT_S = 5
HANDSHAKE_S = CONNECT_TIMEOUT_S + 5  # a port that accepts but never speaks Dask (an HTTP server) gives up here
RETRY_CONNECT_S = 10  # an unreachable scheduler is tried again at most this often
GPU = "GPU"  # the resource tag of GPU workers: dask worker ADDRESS --resources GPU=1


def needs_gpu(config) -> bool:
    """Whether only a GPU worker may take this run: its kind says (models/kinds/)."""
    return KINDS[kind_of(config)].needs_gpu(config)


# -- on the worker ------------------------------------------------------------------------------
def _local_teacher(blob: bytes | None, spec: str) -> str:
    """A checkpoint path on this worker: the bundled one, or the shipped bytes cached by content."""
    if blob is None:
        return spec
    import hashlib
    path = Path(tempfile.gettempdir()) / "distillation-lab-teachers" / f"{hashlib.sha1(blob).hexdigest()}.pt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(blob)
        partial.replace(path)  # atomic: two tasks on one machine never read half a file
    return str(path)


class EventLink:
    """A run on a Dask worker: its record is written by the app's process from this link's events
    and from the ending it returns."""

    def __init__(self, run_id: int, channel: str):
        from distributed import Event, get_worker
        self.run_id, self.channel = run_id, channel
        self.worker = get_worker()
        self._cancel = Event(f"{channel}-cancel-{run_id}")
        self.report: dict = {"status": "running", "worker": self.worker.address, "device": ""}

    def _send(self, **message) -> None:
        self.worker.log_event(self.channel, {"run": self.run_id, **message})

    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def claim(self) -> bool:
        self._send(claimed=True)
        return True

    @contextmanager
    def alive(self):
        yield threading.Event()  # the app's process beats for its cluster's runs (DaskBackend.beat)

    def started_on(self, device: str) -> None:
        self.report["device"] = device
        self._send(trained_on={"worker": self.worker.address, "device": device})

    def share_cores(self) -> None:
        """A Dask worker thread keeps the thread count it was started with."""

    def progress(self, record: Progress) -> None:
        self._send(progress=record.to_json())

    def finish(self, config, result, weights: bytes | None) -> None:
        self.report.update(status="done", result=result.to_json(), weights=weights)

    def end(self, status: str, error: str = "") -> None:
        self.report.update(status=status, error=error)

    def status(self) -> str:
        return self.report["status"]


def run_remote(run_id: int, kind: str, values: dict, teacher_blob: bytes | None, channel: str) -> dict:
    """Run one job on a Dask worker through the one lifecycle; returns its ending for the app's
    process to store. Never raises for the job's own failure, so only a dead worker surfaces as a
    Dask error. `channel` names this pool's event topic and, with the run id, its cancel event."""
    import torch
    torch.set_num_threads(int(os.environ.get("DISTILL_TORCH_THREADS", "1")))
    if "teacher" in values and values["teacher"] != PAPER_TEACHER:
        values = {**values, "teacher": _local_teacher(teacher_blob, values["teacher"])}
    link = EventLink(run_id, channel)
    execute(kind, values, link)
    return link.report


# A task's function must unpickle on the scheduler too, which has none of the lab's code (`dask
# scheduler`, as docs/architecture.md starts it). A lambda has no importable name, so Dask pickles it by value,
# with importlib as its only global; the lab is imported on the worker when the task runs.
RUN_REMOTE = lambda *args: importlib.import_module("models.service.cluster").run_remote(*args)  # noqa: E731


# -- in the app's process -----------------------------------------------------------------------
def bounded_client(address: str):
    """A Dask client within HANDSHAKE_S, or ConfigError saying why not. Dask's own timeout covers the
    TCP connection but not its handshake, so a port where something else listens would hang forever;
    the attempt runs in a thread, and a client that arrives after the deadline is closed."""
    from distributed import Client
    outcome: dict = {}
    gave_up, decided = threading.Event(), threading.Lock()

    def attempt():
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except Exception as error:  # refused, timed out, malformed: the reason is all the caller needs
            outcome["error"] = error
            return
        with decided:
            if not gave_up.is_set():
                outcome["client"] = client
                return
        client.close()

    thread = threading.Thread(target=attempt, name="dask-connect", daemon=True)
    thread.start()
    thread.join(HANDSHAKE_S)
    with decided:
        if "client" in outcome:
            return outcome["client"]
        gave_up.set()
    error = outcome.get("error")
    if error is None:
        raise ConfigError(f"something answers there but not as a Dask scheduler within {HANDSHAKE_S} s")
    if isinstance(error, TimeoutError):
        raise ConfigError(f"no answer within {CONNECT_TIMEOUT_S} s")
    raise ConfigError(type(error).__name__)


class DaskBackend:
    """The JobPool's backend whose workers are a Dask cluster's. Pages cannot tell the difference."""

    def __init__(self, store: RunStore, address: str):
        self.store, self.address = store, address
        self._client = None
        self._tried = 0.0
        self._why = ""
        self._connect_lock = threading.Lock()
        self._scattered: dict[tuple, object] = {}  # (teacher spec, digest) -> its scattered bytes
        # Run ids restart with every store: Dask keys and cancel events carry this pool's own token.
        self._channel = f"distillation-lab-{uuid.uuid4().hex[:12]}"
        try:
            self._connect()
        except ConfigError:  # pages keep working; every submit says the cluster is unreachable
            pass

    def _connect(self):
        """The Dask client, connecting (again) if needed; ConfigError when the scheduler is unreachable."""
        with self._connect_lock:
            if self._client is not None and self._client.status == "running":
                return self._client
            problem = address_problem(self.address)
            if problem:
                raise ConfigError(f"the Dask cluster address {self.address} cannot be used: {problem}")
            if self._tried and time.monotonic() - self._tried < RETRY_CONNECT_S:
                raise self._unreachable(self._why)
            self._tried = time.monotonic()
            try:
                self._client = bounded_client(self.address)
            except ConfigError as error:
                self._client, self._why = None, str(error)
                raise self._unreachable(self._why) from None
            self._client.subscribe_topic(self._channel, self._on_event)
            return self._client

    def _unreachable(self, why: str) -> ConfigError:
        return ConfigError(f"the Dask cluster at {self.address} is unreachable ({why}); start it, or unset "
                           "DISTILL_CLUSTER to train on this machine")

    def slots(self) -> int:
        """Runs that may train at once: every worker thread in the cluster (at least one)."""
        try:
            return max(1, sum(self._client.nthreads().values()))
        except Exception:  # no client, or a scheduler gone quiet: keep the queue, start nothing new
            return 1

    def check(self, config) -> None:
        client = self._connect()
        if needs_gpu(config) and not any(info.get("resources", {}).get(GPU)
                                         for info in client.scheduler_info()["workers"].values()):
            raise ConfigError(f"this run asks for a GPU worker and the cluster at {self.address} has none; start "
                              f"one with `dask worker {self.address} --resources {GPU}=1`")

    def _teacher_bytes(self, spec: str | None):
        if not spec or spec in ("pretrained", PAPER_TEACHER):
            return None  # bundled with the code every worker runs
        from models.core.checkpoints import checkpoint_path, teacher_digest
        key = (spec, teacher_digest(spec))  # a checkpoint rewritten in place is new bytes
        if key not in self._scattered:
            # hash=True: the same bytes scatter once however many runs use them
            self._scattered[key] = self._client.scatter(checkpoint_path(spec).read_bytes(), hash=True)
        return self._scattered[key]

    def start(self, run_id: int, kind: str, values: dict):
        resources = {GPU: 1} if needs_gpu(config_of(kind, values)) else None
        return self._client.submit(RUN_REMOTE, run_id, kind, values, self._teacher_bytes(values.get("teacher")),
                                   self._channel, key=f"{self._channel}-run-{run_id}", resources=resources,
                                   pure=False)

    def _on_event(self, event) -> None:
        """A worker's claim, where it trains, or a progress record: written to the store here."""
        _, message = event
        run_id = message["run"]
        if message.get("claimed"):
            self.store.claim(run_id)
        if "trained_on" in message:
            self.store.set_worker(run_id, message["trained_on"]["worker"], message["trained_on"]["device"])
        if "progress" in message:
            self.store.set_progress(run_id, Progress.from_json(message["progress"]))

    def ended(self, store: RunStore, run_id: int, future) -> None:
        try:
            report = future.result()
        except Exception as error:
            name = type(error).__name__
            if name == "KilledWorker":
                store.end(run_id, "failed", "the worker running it stopped unexpectedly, possibly out of "
                                            "memory (Dask: KilledWorker)")
            elif "deserialization of the task graph" in str(error):  # the scheduler's environment lacks something
                store.end(run_id, "failed", "the Dask scheduler refused this run's task: it could not read it "
                                            f"({' '.join(str(error).split())[:160]}…); see its log")
            else:  # cancelled by a lost scheduler, or the connection dropped
                store.end(run_id, "interrupted", f"the Dask cluster went away before this run finished ({name})")
            return
        store.claim(run_id)  # its claim event may arrive after its result: the row must be running
        store.set_worker(run_id, report["worker"], report["device"])
        if report["status"] != "done":
            store.end(run_id, report["status"], report.get("error", ""))
            return
        run = store.get(run_id)
        finish_run(store, run_id, run.kind, run.config, KINDS[run.kind].result_type.from_json(report["result"]),
                   report["weights"])

    def beat(self, store: RunStore, server: str) -> None:
        store.beat_running(server)  # the cluster's runs live while this server watches them

    def cancel(self, run_id: int) -> None:
        from distributed import Event
        Event(f"{self._channel}-cancel-{run_id}", client=self._client).set()

    def close(self, grace_s: float, futures: list) -> None:
        if self._client is not None:
            try:
                self._client.cancel(futures)
                self._client.close(timeout=grace_s)
            except Exception:  # the cluster is gone already: nothing left to stop
                pass
