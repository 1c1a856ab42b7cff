"""Whole-page runs take turns (lessons/turns.py); a page that waits too long runs anyway."""
import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from lessons import turns
from tests.conftest import PATIENCE_S, ROOT


def _most_at_once(runs: int) -> int:
    """Start `runs` page runs together, each busy for a moment; the most that ran at one time."""
    inside, most, lock = 0, 0, threading.Lock()

    def page():
        nonlocal inside, most
        with turns.page_turn():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=page) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return most


def test_at_most_the_set_number_of_page_runs_execute_at_once():
    assert turns.PAGE_RUNS_AT_ONCE >= 1
    assert _most_at_once(3 * turns.PAGE_RUNS_AT_ONCE) == turns.PAGE_RUNS_AT_ONCE


def test_a_page_gives_its_turn_back_when_it_fails():
    for _ in range(turns.PAGE_RUNS_AT_ONCE + 1):
        with pytest.raises(RuntimeError):
            with turns.page_turn():
                raise RuntimeError("the page failed")
    assert _most_at_once(2 * turns.PAGE_RUNS_AT_ONCE) == turns.PAGE_RUNS_AT_ONCE  # none was lost


@pytest.fixture
def every_turn_taken(monkeypatch):
    """Every turn held elsewhere (a room of long page loads), with a short wait before going ahead."""
    monkeypatch.setattr(turns, "WAIT_AT_MOST_S", 0.2)
    for _ in range(turns.PAGE_RUNS_AT_ONCE):
        assert turns._turns.acquire(timeout=5)
    yield
    for _ in range(turns.PAGE_RUNS_AT_ONCE):
        turns._turns.release()


def test_the_app_takes_a_turn_and_still_draws_its_page_when_none_comes(every_turn_taken):
    """app.py runs its pages inside page_turn: with every turn taken the start page waits, then is
    drawn anyway, and the late start is counted."""
    import streamlit as st
    before = turns.ran_without_a_turn
    st.cache_resource.clear()  # this test's own store; and none left behind for later tests
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)
    try:
        at.run()
    finally:
        st.cache_resource.clear()
    assert not at.exception
    assert at.title[0].value == "Distillation Lab"
    assert turns.ran_without_a_turn == before + 1
