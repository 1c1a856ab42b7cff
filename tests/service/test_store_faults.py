"""A damaged, truncated, empty or read-only lab.sqlite gives one plain sentence on every page and
in the CLI (exit 2), never a traceback or a server path; a read-only store can still be browsed."""
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from models.base.configs import StoreError
from models.service.store import RunStore
from tests.conftest import PATIENCE_S, ROOT, cli, done_distill_run

PAGES = ["intro", "compare", "distill", "teacher", "sweep", "facilitator"]


@pytest.fixture
def visit():
    st.cache_resource.clear()

    def _visit(page: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)
        at.switch_page(f"lessons/{page}.py")
        at.run()
        assert not at.exception, at.exception
        return at

    yield _visit
    st.cache_resource.clear()


def _messages(at: AppTest) -> list[str]:
    return [e.value for e in at.error] + [w.value for w in at.warning]


def _assert_said_once(at: AppTest, words: str, state) -> None:
    said = [m for m in _messages(at) if words in m]
    assert len(said) == 1, _messages(at)
    assert str(state) not in said[0] and "Traceback" not in said[0]


@pytest.mark.parametrize("page", PAGES)
def test_a_garbage_store_is_one_sentence_on_every_page(isolated_lab, visit, page):
    (isolated_lab / "lab.sqlite").write_bytes(b"this is not a database " * 200)
    _assert_said_once(visit(page), "lab.sqlite is damaged or not a SQLite database; move it aside", isolated_lab)
    assert (isolated_lab / "lab.sqlite").read_bytes().startswith(b"this is not")  # never overwritten


def test_a_truncated_store_is_one_sentence_and_keeps_its_bytes(isolated_lab, visit):
    store = RunStore()
    for k in range(40):
        done_distill_run(store, f"run {k} " + "x" * 60)
    with sqlite3.connect(store.path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = store.path.read_bytes()
    store.path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StoreError, match="damaged"):
        RunStore().list()
    _assert_said_once(visit("compare"), "lab.sqlite is damaged", isolated_lab)
    assert store.path.read_bytes() == data[: len(data) // 3]


def test_an_empty_store_file_is_started_afresh_and_says_so(isolated_lab, visit):
    (isolated_lab / "lab.sqlite").write_bytes(b"")
    _assert_said_once(visit("intro"), "was an empty file (0 bytes), so a fresh store was started", isolated_lab)


def test_the_cli_says_what_is_wrong_with_the_store(isolated_lab, capsys):
    (isolated_lab / "lab.sqlite").write_bytes(b"garbage" * 100)
    status, out, err = cli(capsys, "hinton", "--epochs", "1")
    assert status == 2 and out == "" and err.count("\n") == 1 and "lab.sqlite is damaged" in err


@pytest.fixture
def read_only_store(isolated_lab):
    """A store with one finished run whose file cannot be written, even by root (chattr +i)."""
    store = RunStore()
    done_distill_run(store, "before the lock")
    path = store.path
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("chattr +i is not available here")
    yield path
    subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_store_can_be_browsed_but_not_written(read_only_store, visit):
    store = RunStore(read_only_store)
    assert store.read_only and [r.name for r in store.list()] == ["before the lock"]
    with pytest.raises(StoreError, match="read-only"):
        store.create("distill", {})

    compare = visit("compare")
    assert "before the lock" in compare.dataframe[0].value.to_string()
    _assert_said_once(compare, "lab.sqlite is read-only", read_only_store.parent)

    distill = visit("distill")
    distill.number_input(key="train_size").set_value(200)
    distill.number_input(key="epochs").set_value(1)
    distill.button(key="distill_submit").click()
    distill.run()
    assert not distill.exception
    assert any(m.startswith("Not started: the run store lab.sqlite is read-only") for m in _messages(distill))


def test_a_store_damaged_and_restored_while_runs_train_leaves_no_ghosts(isolated_lab, monkeypatch):
    """Two runs train while lab.sqlite is moved aside and garbage stands in its place for longer
    than a run's heartbeat may be silent; then the file is moved back. They keep
    training, their results wait in memory, and nothing stays 'running' for good; the run queued
    behind them starts and finishes."""
    import time

    from models.base.configs import DistillConfig
    from models.service import runner
    from models.service.scheduler import JobPool
    from tests.conftest import wait_for, wait_until
    monkeypatch.setenv("DISTILL_HEARTBEAT_S", "0.2")
    monkeypatch.setattr(runner, "FINISH_RETRY_EVERY_S", 0.2)
    store = RunStore()
    pool = JobPool(store, workers=2)
    try:
        long = DistillConfig(student="mlp-10", train_size=1000, epochs=40)
        first, second = pool.submit(long, owner="a"), pool.submit(long, owner="b")
        queued = pool.submit(DistillConfig(student="mlp-10", train_size=300, epochs=1), owner="c")
        wait_until(lambda: all(r.progress.epoch >= 1 for r in store.get_many([first, second])), PATIENCE_S, "both to train")
        aside = store.path.with_name("aside.sqlite")
        store.path.replace(aside)
        store.path.write_bytes(b"this is not a database " * 200)
        time.sleep(2.0)  # ten heartbeats: every beat and progress record failed meanwhile
        aside.replace(store.path)
        runs = [wait_for(store, run_id, PATIENCE_S) for run_id in (first, second, queued)]
        for run in runs[:2]:
            assert run.status == "done" or (run.status == "interrupted" and "could not be saved" in run.error), run
        assert runs[2].status == "done"
        assert store.count_running() == 0 and pool.active_submissions("a") == 0
    finally:
        pool.shutdown()


def test_a_full_disk_is_said_on_every_page(tiny_disk, monkeypatch, visit):
    from tests.conftest import fill_disk
    monkeypatch.setenv("DISTILL_STATE", str(tiny_disk))
    RunStore()
    fill_disk(tiny_disk)
    _assert_said_once(visit("intro"), "the disk holding the run store lab.sqlite is full, so new runs cannot be saved; "
                      "free disk space", tiny_disk)


@pytest.fixture
def store_on_a_read_only_filesystem(tiny_disk):
    """A store with one finished run, on a filesystem then remounted read-only (no -shm can be made)."""
    store = RunStore(tiny_disk / "lab.sqlite")
    done_distill_run(store, "before the remount")
    db = sqlite3.connect(store.path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()  # a connection left open keeps the filesystem busy
    if subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], capture_output=True).returncode != 0:
        pytest.skip("this machine cannot remount a filesystem read-only")
    yield store.path
    subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True)


def test_a_store_on_a_read_only_filesystem_can_still_be_browsed(store_on_a_read_only_filesystem, monkeypatch, visit):
    """WAL would need a -shm file beside it; the store opens immutable for reading instead of
    saying it "cannot be opened" with an empty Compare page."""
    monkeypatch.setenv("DISTILL_STATE", str(store_on_a_read_only_filesystem.parent))
    store = RunStore()
    assert store.read_only and [r.name for r in store.list()] == ["before the remount"]
    compare = visit("compare")
    assert "before the remount" in compare.dataframe[0].value.to_string()
    _assert_said_once(compare, "lab.sqlite is read-only", store_on_a_read_only_filesystem.parent)


def test_a_read_only_store_from_before_schema_5_still_gives_its_weights(tiny_disk, monkeypatch):
    """A read-only file cannot move its weights out of the rows; they are read where they are."""
    import torch
    from models.service.runner import weights_bytes
    store = RunStore(tiny_disk / "lab.sqlite")
    run_id = done_distill_run(store, "old weights")
    db = sqlite3.connect(store.path)
    db.execute("DROP TABLE weights")
    db.execute("UPDATE runs SET weights=?", (weights_bytes({"w": torch.ones(3)}),))
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    if subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], capture_output=True).returncode != 0:
        pytest.skip("this machine cannot remount a filesystem read-only")
    try:
        old = RunStore(tiny_disk / "lab.sqlite")
        assert old.read_only and old.with_weights([run_id, 99]) == {run_id}
        assert torch.equal(old.weights(run_id)["w"], torch.ones(3))
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True)


# Several servers of one room (front.py) open the one store at the same moment: here, processes
# started side by side and each told the instant at which to open it.
_OPEN_AT_ONCE = """
import sys, time
from models.service.store import RunStore
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time() - 0.02))
while time.time() < start:  # the last 20 ms spun, so that all of them open within a millisecond or so
    pass
print(repr(RunStore(sys.argv[1]).notice))
"""


def test_servers_opening_a_new_store_at_once_never_take_it_for_an_empty_file(tmp_path):
    """A new store appears whole: a server that opened it while another was still creating it saw a
    0-byte file and told every one of its visitors, all workshop long, that the store had been an
    empty file and was started afresh (found with `python front.py` in a fresh clone)."""
    for trial in range(4):
        path = tmp_path / f"trial-{trial}" / "lab.sqlite"
        start = f"{time.time() + 2.0:.3f}"  # after every process has imported the store
        openers = [subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, str(path), start], cwd=ROOT,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
        said = [opener.communicate(timeout=60) for opener in openers]
        assert [err for _, err in said if err] == []
        assert [out.strip() for out, _ in said] == ["''"] * 6, trial
        assert RunStore(path).notice == ""
