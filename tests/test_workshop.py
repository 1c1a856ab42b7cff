"""A room full of people on one server: a pool that heals, a fair queue, owners' cancels, the
facilitator's caps, and several real browser sessions finishing runs at once."""
import os
import signal

import pytest
from streamlit.testing.v1 import AppTest

from models.config import ConfigError, DistillConfig, ExtractConfig, HintonConfig
from models.jobs import JobPool, RoomLimits, room_limits, set_room_limits
from models.store import RunStore
from tests.conftest import ROOT, wait_for, wait_until

SLOW = DistillConfig(student="mlp-300", train_size=8000, epochs=200)
QUICK = DistillConfig(student="mlp-10", train_size=300, epochs=1)


@pytest.fixture
def pool():
    store = RunStore()
    pool = JobPool(store, workers=1, per_owner=3)
    yield pool
    pool.shutdown()


def test_a_killed_worker_fails_only_its_run_and_the_pool_goes_on(pool):
    slow = pool.submit(SLOW, owner="a")
    worker = wait_until(lambda: pool.store.get(slow).worker_pid, 120, "the slow run starting")
    assert pool.store.list(active=True)[0].id == slow
    os.kill(worker, signal.SIGKILL)
    run = wait_for(pool.store, slow, 60)
    assert run.status == "failed" and "worker stopped unexpectedly" in run.error and "out of memory" in run.error
    after = wait_for(pool.store, pool.submit(QUICK, owner="a"))
    assert after.status == "done" and after.worker_pid not in (None, worker)  # a fresh worker ran it


def test_the_queue_takes_owners_in_turn_and_says_where_each_run_stands(pool):
    first = pool.submit(SLOW, owner="alice")
    wait_until(lambda: pool.store.get(first).status == "running", 120, "alice's first run starting")
    alice = [pool.submit(QUICK, owner="alice") for _ in range(2)]
    bob = pool.submit(QUICK, owner="bob")
    places = pool.queue_places()
    # Bob has had nothing yet, so his one run goes ahead of Alice's second and third.
    assert [places[i].place for i in (bob, *alice)] == [1, 2, 3]
    assert places[bob].wait_s <= places[alice[0]].wait_s <= places[alice[1]].wait_s
    assert not pool.cancel(bob, owner="alice")  # only the session that started a run may cancel it
    assert pool.cancel(bob, owner="bob") and pool.store.get(bob).status == "cancelled"
    assert bob not in pool.queue_places()
    assert pool.cancel(first)  # the facilitator (no owner) may cancel anyone's
    assert wait_for(pool.store, first).status == "cancelled"


def test_each_session_has_a_share_of_submissions(pool):
    pool.submit_many([SLOW], owner="carol")
    pool.submit_many([QUICK, QUICK], group="seeds-x", owner="carol")  # a group counts once
    pool.submit_many([QUICK], owner="carol")
    with pytest.raises(ConfigError, match="already have 3 submissions"):
        pool.submit_many([QUICK], owner="carol")
    pool.submit_many([QUICK], owner="dave")  # others are not affected
    for run in pool.store.list(active=True):
        pool.cancel(run.id)


def test_room_caps_refuse_what_exceeds_them_before_anything_starts(pool):
    set_room_limits(pool.store, RoomLimits(epochs=5, train_size=1000, teacher="pretrained"))
    assert room_limits(pool.store) == RoomLimits(5, 1000, "pretrained")
    with pytest.raises(ConfigError, match="capped epochs at 5"):
        pool.submit_many([QUICK, DistillConfig(epochs=6, train_size=100)], owner="erin")
    with pytest.raises(ConfigError, match="capped training images at 1,000 for this room, got all"):
        pool.submit_many([DistillConfig(epochs=1, train_size=0)], owner="erin")
    with pytest.raises(ConfigError, match="got 3,000"):
        pool.submit_many([ExtractConfig(queries=3000)], owner="erin")
    with pytest.raises(ConfigError, match="capped epochs"):
        pool.submit_many([HintonConfig(epochs=10)], owner="erin")
    assert pool.store.list() == []  # nothing was stored from a refused submission


def _facilitator(monkeypatch, secret):
    if secret:
        monkeypatch.setenv("DISTILL_FACILITATOR_SECRET", secret)
    else:
        monkeypatch.delenv("DISTILL_FACILITATOR_SECRET", raising=False)
    import streamlit as st
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("lessons/facilitator.py")
    return at.run()


def test_facilitator_page_without_a_secret_has_no_controls(monkeypatch):
    at = _facilitator(monkeypatch, None)
    assert not at.exception and "No facilitator secret is set" in at.info[0].value and not at.button


def test_facilitator_caps_the_room_and_archives_the_leaderboard(monkeypatch):
    at = _facilitator(monkeypatch, "s3cret")
    at.text_input(key="facilitator_secret").input("wrong")
    at.button(key="facilitator_unlock").click()
    at.run()
    assert [e.value for e in at.error] == ["That is not the facilitator secret."] and not at.number_input
    at.text_input(key="facilitator_secret").input("s3cret")
    at.button(key="facilitator_unlock").click()
    at.run()
    at.number_input(key="cap_epochs").set_value(3)
    at.button(key="apply_limits").click()
    at.run()
    assert not at.exception and room_limits(RunStore()).epochs == 3

    store = RunStore()
    done = store.create("distill", {**DistillConfig().__dict__})
    store.end(done, "cancelled")
    at.button(key="archive").click()
    at.run()
    assert "Archived 1 runs." in [s.value for s in at.success]
    assert store.list(kind="distill", archived=False) == [] and store.get(done).archived

    at.switch_page("lessons/distill.py")
    at.run()
    at.number_input(key="epochs").set_value(10)
    at.button(key="distill_submit").click()
    at.run()
    assert [e.value for e in at.error] == ["Not started: the facilitator capped epochs at 3 for this room, got 10"]
    from lessons import shared
    shared.pool().shutdown()
    import streamlit as st
    st.cache_resource.clear()
