"""Jobs on a Dask cluster, when one machine is not enough ($DISTILL_CLUSTER=tcp://HOST:8786).

The same JobPool (its round-robin queue, per-visitor limits, the facilitator's caps, queue places)
sends runs to Dask workers instead of this machine's processes. Workers never touch the app's
SQLite file: a worker reports progress as Dask events (`log_event`), reads a cancel request from a
named Dask `Event`, loads MNIST from its own $DISTILL_DATA (or the bundled sample, which its result
records), receives a non-bundled teacher checkpoint as bytes scattered once per content, and
returns the result and weights; this process writes them to the store.

Start the scheduler with `DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=0`: then a worker that
dies ends its run as *failed* (Dask's KilledWorker) instead of quietly restarting it elsewhere.
"""
from __future__ import annotations

import dataclasses
import io
import os
import re
import tempfile
import threading
import time
import uuid
from pathlib import Path

from models.config import FULL_BUDGET_EPOCHS, PAPER_TEACHER, ConfigError, HintonConfig
from models.jobs import JOB_KINDS, PROGRESS_EVERY_S, JobCancelled, JobPool, Queued
from models.paths import state_dir
from models.results import RESULT_TYPES, Progress
from models.store import RunStore

CONNECT_TIMEOUT_S = 5
RETRY_CONNECT_S = 10  # an unreachable scheduler is tried again at most this often
ADDRESS = re.compile(r"(tcp|tls|ucx)://[\w.\-\[\]:]+:\d+")
GPU = "GPU"  # the resource tag of GPU workers: dask worker ADDRESS --resources GPU=1


def cluster_address() -> str | None:
    return os.environ.get("DISTILL_CLUSTER") or None


def needs_gpu(config) -> bool:
    """The paper's own table at full budget asks for a GPU worker; everything else runs anywhere."""
    return isinstance(config, HintonConfig) and config.teacher == PAPER_TEACHER and config.epochs >= FULL_BUDGET_EPOCHS


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


def run_remote(run_id: int, kind: str, values: dict, teacher_blob: bytes | None, channel: str) -> dict:
    """Run one job on a Dask worker; returns what the app's process stores. Never raises for the
    job's own failure (the reason comes back), so only a dead worker surfaces as a Dask error.
    `channel` names this pool's progress topic and, with the run id, its cancel event."""
    import torch
    from distributed import Event, get_worker

    from models.config import TeacherError
    from models.data import default_dataset
    from models.device import best_device

    worker = get_worker()
    torch.set_num_threads(int(os.environ.get("DISTILL_TORCH_THREADS", "1")))
    where = {"worker": worker.address, "device": best_device().type}
    worker.log_event(channel, {"run": run_id, "trained_on": where})
    cancel = Event(f"{channel}-cancel-{run_id}")
    last = 0.0

    def on_progress(record: Progress) -> None:
        nonlocal last
        if record.epoch_end or time.monotonic() - last > PROGRESS_EVERY_S:
            worker.log_event(channel, {"run": run_id, "progress": record.to_json()})
            last = time.monotonic()
            if cancel.is_set():
                raise JobCancelled

    config_class, runner = JOB_KINDS[kind]
    try:
        if "teacher" in values and values["teacher"] != PAPER_TEACHER:
            values = {**values, "teacher": _local_teacher(teacher_blob, values["teacher"])}
        result, weights = runner(run_id, config_class(**values), default_dataset(), on_progress)
    except JobCancelled:
        return {**where, "status": "cancelled"}
    except (ConfigError, TeacherError) as error:
        return {**where, "status": "failed", "error": str(error)}
    except Exception as error:  # the worker outlives a bad job; the page shows the reason
        return {**where, "status": "failed", "error": f"{type(error).__name__}: {error}"}
    out = {**where, "status": "done", "result": result.to_json(), "weights": None, "checkpoint": None}
    if weights is not None:
        buffer = io.BytesIO()
        torch.save(weights, buffer)
        out["weights"] = buffer.getvalue()
    if kind == "teacher":  # trained on the worker's disk: the bytes travel back to the app
        out["checkpoint"] = Path(result.checkpoint).read_bytes()
    return out


# -- in the app's process -----------------------------------------------------------------------
class DaskPool(JobPool):
    """JobPool whose workers are a Dask cluster's. Pages cannot tell the difference."""

    def __init__(self, store: RunStore, address: str, per_owner: int | None = None):
        self.address = address
        self._client = None
        self._tried = 0.0
        self._why = ""
        self._connect_lock = threading.Lock()
        self._scattered: dict[tuple, object] = {}  # (teacher spec, digest) -> its scattered bytes
        # Run ids restart with every store: Dask keys and cancel events carry this pool's own token.
        self._channel = f"distillation-lab-{uuid.uuid4().hex[:12]}"
        super().__init__(store, per_owner=per_owner)

    # -- connecting -----------------------------------------------------------------------------
    def _open_workers(self, workers: int | None) -> int:
        try:
            self._connect()
        except ConfigError:  # pages keep working; every submit says the cluster is unreachable
            return 1
        return self._slots()

    def _connect(self):
        """The Dask client, connecting (again) if needed; ConfigError when the scheduler is unreachable."""
        with self._connect_lock:
            if self._client is not None and self._client.status == "running":
                return self._client
            if self._tried and time.monotonic() - self._tried < RETRY_CONNECT_S:
                raise self._unreachable(self._why)
            self._tried = time.monotonic()
            if not ADDRESS.fullmatch(self.address):
                self._why = "not an address like tcp://HOST:8786"
                raise self._unreachable(self._why)
            from distributed import Client
            try:
                self._client = Client(self.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as error:  # refused, timed out, or a malformed address
                self._client = None
                self._why = f"no answer within {CONNECT_TIMEOUT_S} s" if isinstance(error, TimeoutError) else \
                    type(error).__name__
                raise self._unreachable(self._why) from None
            self._client.subscribe_topic(self._channel, self._on_event)
            return self._client

    def _unreachable(self, why: str) -> ConfigError:
        return ConfigError(f"the Dask cluster at {self.address} is unreachable ({why}); start it, or unset "
                           "DISTILL_CLUSTER to train on this machine")

    def _slots(self) -> int:
        """Runs that may train at once: every worker thread in the cluster (at least one)."""
        try:
            return max(1, sum(self._client.nthreads().values()))
        except Exception:  # a scheduler gone quiet: keep the queue, start nothing new
            return 1

    # -- sending and receiving ------------------------------------------------------------------
    def submit(self, config, name: str = "", group: str = "", owner: str = "") -> int:
        client = self._connect()
        if needs_gpu(config) and not any(info.get("resources", {}).get(GPU)
                                         for info in client.scheduler_info()["workers"].values()):
            raise ConfigError(f"this run asks for a GPU worker and the cluster at {self.address} has none; start "
                              f"one with `dask worker {self.address} --resources {GPU}=1`")
        return super().submit(config, name, group, owner)

    def _teacher_bytes(self, spec: str | None):
        if not spec or spec in ("pretrained", PAPER_TEACHER):
            return None  # bundled with the code every worker runs
        from models.teacher import checkpoint_path, teacher_digest
        key = (spec, teacher_digest(spec))  # a checkpoint rewritten in place is new bytes
        if key not in self._scattered:
            # hash=True: the same bytes scatter once however many runs use them
            self._scattered[key] = self._client.scatter(checkpoint_path(spec).read_bytes(), hash=True)
        return self._scattered[key]

    def _start(self, job: Queued):
        self.workers = self._slots()
        config_class = JOB_KINDS[job.kind][0]
        resources = {GPU: 1} if needs_gpu(config_class(**job.values)) else None
        self.store.claim(job.run_id)
        return self._client.submit(run_remote, job.run_id, job.kind, job.values,
                                   self._teacher_bytes(job.values.get("teacher")), self._channel,
                                   key=f"{self._channel}-run-{job.run_id}", resources=resources, pure=False)

    def _on_event(self, event) -> None:
        """A worker's progress record (or where it runs): written to the store by this process."""
        _, message = event
        if "trained_on" in message:
            self.store.set_worker(message["run"], message["trained_on"]["worker"], message["trained_on"]["device"])
        if "progress" in message:
            self.store.set_progress(message["run"], Progress.from_json(message["progress"]))

    def _record_end(self, run_id: int, future) -> None:
        try:
            out = future.result()
        except Exception as error:
            name = type(error).__name__
            if name == "KilledWorker":
                self.store.end(run_id, "failed", "the worker running it stopped unexpectedly, possibly out of "
                                                 "memory (Dask: KilledWorker)")
            else:  # cancelled by a lost scheduler, or the connection dropped
                self.store.end(run_id, "interrupted", f"the Dask cluster went away before this run finished ({name})")
            return
        self.store.set_worker(run_id, out["worker"], out["device"])
        if out["status"] != "done":
            self.store.end(run_id, out["status"], out.get("error", ""))
            return
        kind = self.store.get(run_id).kind
        result = RESULT_TYPES[kind].from_json(out["result"])
        if out.get("checkpoint"):
            path = state_dir() / "teachers" / f"teacher-run{run_id}.pt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(out["checkpoint"])
            result = dataclasses.replace(result, checkpoint=str(path.resolve()))
        weights = None
        if out["weights"] is not None:
            import torch
            weights = torch.load(io.BytesIO(out["weights"]), map_location="cpu", weights_only=True)
        self.store.finish(run_id, result, weights)

    def _beat_once(self) -> None:
        super()._beat_once()
        self.store.beat_running(self.server)  # the cluster's runs live while this server watches them

    # -- cancelling and stopping ----------------------------------------------------------------
    def _cancel_running(self, run_id: int) -> None:
        from distributed import Event
        Event(f"{self._channel}-cancel-{run_id}", client=self._client).set()

    def _close_workers(self, grace_s: float) -> None:
        if self._client is not None:
            try:
                self._client.cancel([future for _, future in self._running.values()])
                self._client.close(timeout=grace_s)
            except Exception:  # the cluster is gone already: nothing left to stop
                pass


def run_on_cluster(address: str, configs: list, name: str, group: str, timeout_s: float | None = None) -> list:
    """Submit runs to the cluster through a DaskPool and wait for all of them (the CLI's `--cluster`).
    Returns the finished runs in order; they land in this lab's store like the app's runs."""
    from models.store import RunStore
    pool = DaskPool(RunStore(), address)
    try:
        ids = pool.submit_many(configs, name=name, group=group)
        deadline = time.monotonic() + timeout_s if timeout_s else None
        while True:
            runs = pool.store.get_many(ids)
            if all(run.finished for run in runs):
                return runs
            if deadline and time.monotonic() > deadline:
                raise ConfigError(f"the cluster did not finish within {timeout_s:.0f} s")
            time.sleep(0.5)
    finally:
        pool.shutdown()
