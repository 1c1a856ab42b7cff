import json
import sqlite3
import subprocess
import sys

import torch

from models.base.configs import DistillConfig
from models.service.runner import run_job, weights_bytes
from models.service.scheduler import JobPool
from models.base.results import DistillResult, Progress, SweepCellResult, TeacherResult
from models.service.store import RunStore, stale_after
from tests.conftest import PATIENCE_S, ROOT, cli_env, wait_for, wait_until


def test_finished_run_survives_into_a_new_process(isolated_lab):
    store = RunStore()
    config = DistillConfig(student="mlp-10", train_size=200, epochs=1)
    run_id = store.create("distill", config.__dict__, name="mine")
    assert run_job(str(store.path), run_id, "distill", config.__dict__) == "done"
    reader = ("from models.service.store import RunStore, stale_after; s = RunStore(); r = s.get(%d); "
              "print(r.status, r.name, round(r.result.distilled_accuracy, 6), len(s.weights(%d)))"
              % (run_id, run_id))
    out = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True, cwd=ROOT, env=cli_env())
    run = store.get(run_id)
    assert isinstance(run.result, DistillResult) and run.progress.curves == run.result.curves
    assert out.stdout.split() == ["done", "mine", str(round(run.result.distilled_accuracy, 6)), "12"], out.stderr  # student + twin


def _age(store: RunStore, seconds: float, run_id: int | None = None, server: str | None = None) -> None:
    """Make a run's heartbeat (or a server's) `seconds` old, as if its process had stopped beating."""
    with sqlite3.connect(store.path) as db:
        if run_id is not None:
            db.execute("UPDATE runs SET heartbeat = heartbeat - ?, updated = updated - ? WHERE id=?",
                       (seconds, seconds, run_id))
        if server is not None:
            db.execute("UPDATE servers SET heartbeat = heartbeat - ? WHERE id=?", (seconds, server))


def test_a_run_whose_worker_and_server_went_quiet_shows_as_interrupted():
    store = RunStore()
    run_id = store.create("distill", {"student": "mlp-10"}, server="a-server-that-never-beat")
    assert store.claim(run_id)
    assert store.list(kind="distill")[0].status == "running"  # its heartbeat is fresh
    _age(store, stale_after() + 1, run_id=run_id)
    run = store.list(kind="distill")[0]
    assert run.id == run_id and run.status == "interrupted" and "server stopped" in run.error


def test_a_live_server_in_another_pid_namespace_keeps_its_runs():
    """Its PIDs mean nothing here (the owner PID below is dead in this namespace): only beats count."""
    store = RunStore()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    store.beat_server("other-container")
    queued = store.create("distill", {}, owner_pid=int(dead.stdout), server="other-container")
    running = store.create("distill", {}, owner_pid=int(dead.stdout), server="other-container")
    assert store.claim(running)
    _age(store, stale_after() + 1, run_id=queued)
    _age(store, stale_after() + 1, run_id=running)  # its worker is quiet, but its server still beats
    assert [r.status for r in store.get_many([queued, running])] == ["queued", "running"]
    _age(store, stale_after() + 1, server="other-container")
    assert [r.status for r in store.get_many([queued, running])] == ["interrupted", "interrupted"]


def test_an_ended_run_never_becomes_done_and_a_done_run_has_no_error():
    store = RunStore()
    result = SweepCellResult(student="mlp-10", seed=1, train_size=200, epochs=1, alpha=0.9, scratch=0.5,
                             distilled={"4": 0.6}, seconds=1.0, dataset={"name": "x"})
    interrupted = store.create("sweep_cell", {})
    assert store.claim(interrupted) and store.end(interrupted, "interrupted", "the server stopped")
    assert not store.finish(interrupted, result) and not store.beat(interrupted)
    assert not store.end(interrupted, "failed", "late")  # the first ending stands
    run = store.get(interrupted)
    assert (run.status, run.error, run.result) == ("interrupted", "the server stopped", None)
    assert not store.claim(interrupted)  # and no worker picks it up again

    done = store.create("sweep_cell", {})
    store.claim(done)
    store._write("UPDATE runs SET error='stale text' WHERE id=?", (done,))
    assert store.finish(done, result) and (store.get(done).status, store.get(done).error) == ("done", "")


def test_results_and_weights_round_trip_with_their_types():
    store = RunStore()
    run_id = store.create("sweep_cell", {})
    store.claim(run_id)
    result = SweepCellResult(student="mlp-10", seed=1, train_size=200, epochs=1, alpha=0.9, scratch=0.5,
                             distilled={"4": 0.6}, seconds=1.0, dataset={"name": "x"})
    weights = {"w": torch.arange(6.0).reshape(2, 3)}
    store.finish(run_id, result, weights_bytes(weights))
    assert store.get(run_id).result == result
    assert torch.equal(store.weights(run_id)["w"], weights["w"])


def test_weights_live_apart_from_the_run_rows_that_pages_read_every_second(isolated_lab):
    """A row that held its weights made every read of its later columns walk the blob: keep them out,
    and move an older store's (schema 4: weights in the row) into their table when it opens."""
    path = isolated_lab / "v4.sqlite"
    store = RunStore(path)
    blob = weights_bytes({"w": torch.arange(6.0)})
    old = store.create("distill", {})
    store.claim(old)
    assert store.finish(old, _any_result(), None)
    with sqlite3.connect(path) as db:  # as a version-4 server left it: weights inside the row
        db.execute("DELETE FROM weights")
        db.execute("UPDATE runs SET weights=? WHERE id=?", (blob, old))
        db.execute("PRAGMA user_version = 4")
    store = RunStore(path)
    assert torch.equal(store.weights(old)["w"], torch.arange(6.0)) and store.with_weights([old]) == {old}
    new = store.create("distill", {})
    store.claim(new)
    assert store.finish(new, _any_result(), blob)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE weights IS NOT NULL").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM weights").fetchone()[0] == 2
    assert store.with_weights([old, new, 999]) == {old, new}


def _any_result() -> SweepCellResult:
    return SweepCellResult(student="mlp-10", seed=1, train_size=200, epochs=1, alpha=0.9, scratch=0.5,
                           distilled={"4": 0.6}, seconds=1.0, dataset={"name": "x"})


def test_progress_record_round_trips_and_reads_old_teacher_progress():
    record = Progress("teacher", 1.5, 2, 30, [{"epoch": 1, "teacher": 0.98}], [[0.5, 0.3]], False)
    assert Progress.from_json(json.loads(json.dumps(record.to_json()))) == record
    old = {"epoch": 1, "loss_curve": [[0.5, 0.3]], "curve": [{"epoch": 1, "test_accuracy": 0.98}], "epoch_end": True}
    assert Progress.from_json(old).curves == [{"epoch": 1, "teacher": 0.98}]
    assert Progress.from_json({"epoch": 2, "of": 4}).fraction == 0.5


def test_a_store_written_before_groups_opens_with_its_groups(isolated_lab):
    """An older lab.sqlite (no group column; sweeps grouped by a config field, curves by a name prefix)."""
    path = isolated_lab / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, config TEXT NOT NULL,
            progress TEXT NOT NULL DEFAULT '{}', result TEXT, weights BLOB, error TEXT NOT NULL DEFAULT '',
            cancel_requested INTEGER NOT NULL DEFAULT 0, owner_pid INTEGER NOT NULL, created REAL NOT NULL,
            updated REAL NOT NULL);""")
        old_teacher = {"test_accuracy": 0.99, "params": 5, "epochs": 1, "seconds": 2.0, "dataset": {}, "device": "cpu",
                       "curve": [{"epoch": 1, "test_accuracy": 0.99}], "loss_curve": [[0.5, 0.2]], "checkpoint": "t.pt"}
        rows = [("sweep_cell", "", json.dumps({"student": "mlp-10", "sweep_id": "t-abc"}), None),
                ("extract", "curve-xyz", json.dumps({"queries": 100}), None),
                ("teacher", "", "{}", json.dumps(old_teacher))]
        for kind, name, config, result in rows:
            db.execute("INSERT INTO runs (kind, name, status, config, result, owner_pid, created, updated) "
                       "VALUES (?, ?, 'done', ?, ?, 1, 0, 0)", (kind, name, config, result))
    store = RunStore(path)
    assert [r.kind for r in store.group("t-abc")] == ["sweep_cell"]
    assert store.latest_group("extract", "curve-") == "curve-xyz" and store.group("curve-xyz")[0].name == ""
    teacher = store.list(kind="teacher")[0].result
    assert isinstance(teacher, TeacherResult) and teacher.curves == [{"epoch": 1, "teacher": 0.99}]


def test_groups_list_their_runs_in_submission_order():
    store = RunStore()
    first = store.create("extract", {"n": 1}, group="curve-a")
    store.create("extract", {"n": 2}, group="curve-b")
    third = store.create("extract", {"n": 3}, group="curve-a")
    assert [r.id for r in store.group("curve-a")] == [first, third]
    assert store.latest_group("extract", "curve-") == "curve-a" and store.latest_group("distill") is None


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
        assert run.status == "done" and run.result.curves == run.progress.curves and run.result.distilled_accuracy > 0
        assert [p["epoch"] for p in run.progress.curves] == [1, 2]
        wait_until(lambda: store.get(slow).progress.epoch >= 1, what="the slow run reporting progress")
        pool.cancel(slow)
        assert wait_for(store, slow).status == "cancelled"
    finally:
        pool.shutdown()


def test_get_many_keeps_the_order_asked_and_skips_missing_ids():
    store = RunStore()
    first, second = store.create("distill", {"seed": 1}), store.create("distill", {"seed": 2})
    assert [r.config.seed for r in store.get_many([second, 999, first])] == [2, 1]


def test_a_run_config_comes_back_typed_even_from_an_older_or_odd_row():
    store = RunStore()
    config = DistillConfig(student="mlp-10", train_size=200, epochs=1, controls=True)
    same = store.create("distill", config.__dict__)
    old = store.create("distill", {"student": "mlp-30", "sweep_id": "gone", "temperature": 1e20})
    assert store.get(same).config == config  # one copy of the config, typed, as it was submitted
    odd = store.get(old).config  # a field since dropped is ignored; a value today's checks refuse is kept
    assert isinstance(odd, DistillConfig) and (odd.student, odd.temperature, odd.epochs) == ("mlp-30", 1e20, 50)


def test_a_worker_stops_a_run_that_was_ended_elsewhere(monkeypatch):
    """A run marked interrupted (say by a new server) is dropped by the worker still training it."""
    import threading
    monkeypatch.setenv("DISTILL_HEARTBEAT_S", "0.1")
    store = RunStore()
    config = DistillConfig(student="mlp-10", train_size=500, epochs=500)
    run_id = store.create("distill", config.__dict__)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(status=run_job(str(store.path), run_id, "distill",
                                                                            config.__dict__)))
    worker.start()
    wait_until(lambda: store.get(run_id).progress.epoch, PATIENCE_S, "training to start")
    assert store.end(run_id, "interrupted", "a new server found this run's server gone")
    worker.join(timeout=30)
    assert not worker.is_alive() and outcome["status"] == "interrupted"
    run = store.get(run_id)
    assert (run.status, run.error, run.result) == ("interrupted", "a new server found this run's server gone", None)


def test_a_chat_copy_runs_in_the_pool_reports_progress_and_cancels_mid_epoch(isolated_lab):
    """The chat copy is a kind like the others: queued, trained by a worker with progress records
    within its first epoch, cancelled on request, and its config back typed."""
    from models.base.configs import ChatCopyConfig
    store = RunStore()
    pool = JobPool(store, workers=1)
    try:
        long = pool.submit(ChatCopyConfig(exchanges=1000, epochs=50))
        wait_until(lambda: store.get(long).progress.stage == "training the copy" and store.get(long).progress.epoch > 0,
                   PATIENCE_S, "the copy training")
        assert store.get(long).progress.epoch < 1  # progress comes within an epoch, not at its end
        pool.cancel(long)
        run = wait_for(store, long, PATIENCE_S)
        assert run.status == "cancelled" and isinstance(run.config, ChatCopyConfig) and run.config.epochs == 50
    finally:
        pool.shutdown()


def test_the_store_answers_the_pages_room_wide_questions_without_loading_every_run(tmp_path):
    """A full room asks on every visit: the highest seed (each new visitor's own seed) and whether
    anything changed (Compare's cache); both are one SQL read."""
    store = RunStore(tmp_path / "lab.sqlite")
    assert store.highest_seed("distill") == -1
    empty = store.change_mark("distill")
    first = store.create("distill", {"seed": 3})
    store.create("distill", {"seed": 12})
    store.create("extract", {"seed": 99})  # another kind's seeds are its own
    assert store.highest_seed("distill") == 12
    added = store.change_mark("distill")
    assert added != empty
    store.claim(first)
    started = store.change_mark("distill")
    assert started != added
    store.set_progress(first, Progress("distill", 0.5, 2, 0, [], [], False))
    assert store.change_mark("distill") == started  # a progress tick changes nothing Compare shows
    store.end(first, "cancelled")
    ended = store.change_mark("distill")
    assert ended != added
    store.archive("distill")
    assert store.change_mark("distill") != ended
