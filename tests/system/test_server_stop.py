"""Stopping the server (SIGTERM, or SIGKILL in a hurry) leaves no worker behind and no run that
claims to be alive. A real server and a real browser visit queue four long jobs through the app's pool."""
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from models.service.store import RunStore
from tests.conftest import PATIENCE_S, wait_until
from tests.servers import CHROMIUM, alive as _alive, children as _children, spawned_workers, start_server

PATIENCE_MS = PATIENCE_S * 1000  # Playwright counts milliseconds

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
HEARTBEAT_S = "0.2"  # quick beats, so a dead server's runs go stale within seconds






# The test page as `streamlit run PAGE` serves it, and behind Streamlit's ASGI app as serve.py does.
ENTRY_POINTS = ["tests/apps/submit_long.py", "tests/apps/serve_long.py"]


def _serve_and_queue_long_jobs(state: Path, entry: str = ENTRY_POINTS[0]):
    """Start the server, visit the test page once (it queues four long runs), wait until two train."""
    server, port = start_server(entry, DISTILL_HEARTBEAT_S=HEARTBEAT_S)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}")
        page.get_by_text("submitted").wait_for(timeout=PATIENCE_MS)
        browser.close()
    wait_until(lambda: _statuses(state).count("running") == 2, PATIENCE_S, "two runs training")
    return server




def _statuses(state: Path) -> list[str]:
    with sqlite3.connect(state / "lab.sqlite") as db:
        return [row[0] for row in db.execute("SELECT status FROM runs ORDER BY id")]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_sigterm_stops_workers_and_marks_every_run_interrupted(isolated_lab, entry):
    server = _serve_and_queue_long_jobs(isolated_lab, entry)
    workers = _children(server.pid)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)  # not after the queue (500 epochs each): within seconds
    wait_until(lambda: not any(_alive(w) for w in workers), 10, "workers to exit")
    runs = RunStore(isolated_lab / "lab.sqlite").list()
    assert [r.status for r in runs] == ["interrupted"] * 4
    assert sorted(r.error for r in runs) == ["the server was stopped before this run started"] * 2 + \
        ["the server was stopped while this run was training"] * 2


def test_after_sigkill_no_worker_survives_and_runs_end_interrupted(isolated_lab, monkeypatch):
    server = _serve_and_queue_long_jobs(isolated_lab)
    workers = _children(server.pid)
    assert len(workers) >= 2
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    wait_until(lambda: not any(_alive(w) for w in workers), 10, "orphaned workers to exit")
    monkeypatch.setenv("DISTILL_HEARTBEAT_S", HEARTBEAT_S)
    store = RunStore(isolated_lab / "lab.sqlite")
    runs = wait_until(lambda: [r for r in store.list() if r.status == "interrupted"] == store.list() and
                      store.list(), 30, "every run to read as interrupted")
    assert len(runs) == 4
    assert all(r.error == "the server stopped before this run finished" for r in runs)


def test_serve_prepares_the_room_before_anyone_visits(isolated_lab):
    """Workers spawned and the teacher's answers cached as serve.py starts, so the first visitors
    do not pay for them while the room moves its sliders."""
    server, port = start_server("serve.py")
    try:
        wait_until(lambda: len(spawned_workers(server.pid)) == min(2, os.cpu_count() or 1), PATIENCE_S, "workers spawned")
        wait_until(lambda: list((isolated_lab / "cache").glob("logits-*.pt")), PATIENCE_S, "teacher's answers cached")
        assert RunStore(isolated_lab / "lab.sqlite").list() == []  # nobody visited: no run was made
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
