import subprocess
import sys
import time

import torch

from models.config import DistillConfig
from models.jobs import JobPool, run_job
from models.store import RunStore
from tests.conftest import ROOT, cli_env


def wait_for(store: RunStore, run_id: int, timeout_s: float = 180):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = store.get(run_id)
        if run.finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {store.get(run_id)}")


def test_finished_run_survives_into_a_new_process(isolated_lab):
    store = RunStore()
    config = DistillConfig(student="mlp-10", train_size=200, epochs=1)
    run_id = store.create("distill", config.__dict__, name="mine")
    assert run_job(str(store.path), run_id, "distill", config.__dict__) == "done"
    reader = ("from models.store import RunStore; s = RunStore(); r = s.get(%d); "
              "print(r.status, r.name, round(r.result['distilled_accuracy'], 6), len(s.weights(%d)))"
              % (run_id, run_id))
    out = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True, cwd=ROOT, env=cli_env())
    accuracy = store.get(run_id).result["distilled_accuracy"]
    assert out.stdout.split() == ["done", "mine", str(round(accuracy, 6)), "6"], out.stderr


def test_run_of_a_dead_process_shows_as_interrupted():
    store = RunStore()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    run_id = store.create("distill", {"student": "mlp-10"}, owner_pid=int(dead.stdout))
    store.set_status(run_id, "running")
    run = store.list(kind="distill")[0]
    assert run.id == run_id and run.status == "interrupted" and "server stopped" in run.error


def test_stored_weights_round_trip():
    store = RunStore()
    run_id = store.create("distill", {})
    weights = {"w": torch.arange(6.0).reshape(2, 3)}
    store.finish(run_id, {"ok": 1}, weights)
    assert torch.equal(store.weights(run_id)["w"], weights["w"])


def test_job_that_fails_records_a_reason_instead_of_crashing():
    store = RunStore()
    config = {**DistillConfig().__dict__, "train_size": 10**6}
    run_id = store.create("distill", config)
    assert run_job(str(store.path), run_id, "distill", config) == "failed"
    assert "train size must be between 1 and 8000" in store.get(run_id).error


def test_pool_runs_jobs_in_workers_and_cancels(isolated_lab):
    store = RunStore()
    pool = JobPool(store, workers=2)
    try:
        quick = pool.submit(DistillConfig(student="mlp-10", train_size=300, epochs=2), name="quick")
        slow = pool.submit(DistillConfig(student="mlp-300", train_size=8000, epochs=200))
        run = wait_for(store, quick)
        assert run.status == "done" and run.result["distilled_accuracy"] > 0
        assert len(run.progress["curves"]) == 2
        while not store.get(slow).progress:  # started and reporting
            time.sleep(0.2)
        pool.cancel(slow)
        assert wait_for(store, slow).status == "cancelled"
    finally:
        pool.shutdown()


def test_get_many_keeps_the_order_asked_and_skips_missing_ids():
    store = RunStore()
    first, second = store.create("distill", {"n": 1}), store.create("distill", {"n": 2})
    assert [r.config["n"] for r in store.get_many([second, 999, first])] == [2, 1]
