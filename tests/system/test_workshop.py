"""A room full of people on one server: a pool of real workers that heals, the facilitator's page, and
several real browser sessions finishing runs at once (the queue's rules: tests/service/test_scheduler.py)."""
import os
import signal

import pytest
from streamlit.testing.v1 import AppTest

from models.base.configs import ConfigError, DistillConfig
from models.service.room import room_limits
from models.service.scheduler import JobPool
from models.service.store import RunStore
from tests.conftest import PATIENCE_S, ROOT, wait_for, wait_until

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
    worker = wait_until(lambda: pool.store.get(slow).worker_pid, PATIENCE_S, "the slow run starting")
    assert pool.store.list(active=True)[0].id == slow
    os.kill(worker, signal.SIGKILL)
    run = wait_for(pool.store, slow, PATIENCE_S)
    assert run.status == "failed" and "worker stopped unexpectedly" in run.error and "out of memory" in run.error
    after = wait_for(pool.store, pool.submit(QUICK, owner="a"))
    assert after.status == "done" and after.worker_pid not in (None, worker)  # a fresh worker ran it








class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _facilitator(monkeypatch, secret, clock=None):
    """The facilitator page with this secret set; the server's lockout starts empty, on `clock`."""
    from models.service import lockout
    monkeypatch.setattr(lockout.FACILITATOR_LOCKOUT, "_failures", {})
    monkeypatch.setattr(lockout.FACILITATOR_LOCKOUT, "_all", [])
    monkeypatch.setattr(lockout.FACILITATOR_LOCKOUT, "clock", clock or FakeClock())
    monkeypatch.setattr(lockout.FACILITATOR_BROWSERS, "_known", set())
    if secret:
        monkeypatch.setenv("DISTILL_FACILITATOR_SECRET", secret)
    else:
        monkeypatch.delenv("DISTILL_FACILITATOR_SECRET", raising=False)
    import streamlit as st
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)
    at.run()
    at.switch_page("lessons/facilitator.py")
    return at.run()


def test_facilitator_page_without_a_secret_has_no_controls(monkeypatch):
    at = _facilitator(monkeypatch, None)
    assert not at.exception and "No facilitator secret is set" in at.info[0].value and not at.button


def _facilitator_tab(owner: str | None) -> AppTest:
    """A fresh tab on the facilitator page; `owner` stands for its browser's cookie (None: no cookie)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)
    if owner:
        at.session_state["owner"] = owner
    at.run()
    at.switch_page("lessons/facilitator.py")
    return at.run()


def test_a_reload_of_the_facilitator_page_keeps_it_unlocked_for_that_browser_only(monkeypatch):
    _facilitator(monkeypatch, "s3cret")
    tab = _facilitator_tab("the presenter's browser")
    tab.text_input(key="facilitator_secret").input("s3cret")
    tab.button(key="facilitator_unlock").click()
    assert tab.run().number_input(key="cap_epochs")
    reloaded = _facilitator_tab("the presenter's browser")
    assert reloaded.number_input(key="cap_epochs") and not reloaded.text_input  # no secret asked again
    assert _facilitator_tab("a visitor's browser").text_input(key="facilitator_secret")  # anyone else is asked
    assert _facilitator_tab(None).text_input(key="facilitator_secret")  # as is every client without a cookie
    reloaded.button(key="facilitator_lock").click()
    assert reloaded.run().text_input(key="facilitator_secret")
    assert _facilitator_tab("the presenter's browser").text_input(key="facilitator_secret")


def _qr_caption(at) -> str:
    return [e for e in at.main if type(e).__name__ == "Image"][0].proto.imgs[0].caption


def test_the_qr_code_on_the_projector_opens_the_laptops_network_address_not_localhost(monkeypatch):
    from models.service import links
    monkeypatch.setattr(links, "network_hosts", lambda: ["192.168.1.20", "10.0.0.3"])
    at = _facilitator(monkeypatch, "s3cret")
    at.text_input(key="facilitator_secret").input("s3cret")
    at.button(key="facilitator_unlock").click()
    at.run()
    choice = at.selectbox(key="room_address_choice")
    assert choice.value == "http://192.168.1.20:8501/" and "http://10.0.0.3:8501/" in choice.options
    # The code is drawn from the address its caption names (room_qr's own test decodes what it draws).
    assert "at http://192.168.1.20:8501/" in _qr_caption(at)
    choice.set_value("http://10.0.0.3:8501/").run()
    assert "at http://10.0.0.3:8501/" in _qr_caption(at)


def test_guessing_the_secret_is_slowed_then_locked_out_even_for_the_right_one(monkeypatch):
    clock = FakeClock()
    at = _facilitator(monkeypatch, "s3cret", clock)
    refusals = []
    for guess in ("a", "b", "c", "d", "e"):
        at.text_input(key="facilitator_secret").input(guess)
        at.button(key="facilitator_unlock").click()
        at.run()
        refusals.append(at.error[0].value)
        clock.now += 20  # past each growing delay (1, 2, 4, 8 s)
    assert refusals == ["That is not the facilitator secret."] * 5
    at.text_input(key="facilitator_secret").input("s3cret")
    at.button(key="facilitator_unlock").click()
    at.run()
    assert at.error[0].value.startswith("Too many wrong secrets: try again in 280 s") and not at.number_input
    clock.now += 300
    at.button(key="facilitator_unlock").click()
    at.run()
    assert not at.error and at.number_input(key="cap_epochs")


def test_facilitator_caps_the_room_and_archives_the_leaderboard(monkeypatch):
    clock = FakeClock()
    at = _facilitator(monkeypatch, "s3cret", clock)
    at.text_input(key="facilitator_secret").input("wrong")
    at.button(key="facilitator_unlock").click()
    at.run()
    assert [e.value for e in at.error] == ["That is not the facilitator secret."] and not at.number_input
    at.button(key="facilitator_unlock").click()  # at once again: not even compared
    at.run()
    assert at.error[0].value.startswith("Too many wrong secrets: try again in 1 s")
    clock.now += 1
    at.text_input(key="facilitator_secret").input("s3cret")
    at.button(key="facilitator_unlock").click()
    at.run()
    assert at.number_input(key="budget_minutes").value == 15  # the room's default budget, in minutes
    at.number_input(key="cap_epochs").set_value(3)
    at.number_input(key="budget_minutes").set_value(40)
    at.button(key="apply_limits").click()
    at.run()
    assert not at.exception and (room_limits(RunStore()).epochs, room_limits(RunStore()).budget_s) == (3, 2400)

    store = RunStore()
    done = store.create("distill", {**DistillConfig().__dict__})
    store.end(done, "cancelled")
    chat = store.create("chat_copy", {})
    store.end(chat, "cancelled")
    at.button(key="archive").click()  # archive clears every kind, the chat copies on Compare included
    at.run()
    assert "Archived 2 runs." in [s.value for s in at.success], [s.value for s in at.success]
    assert store.list(kind="distill", archived=False) == [] and store.get(done).archived

    at.switch_page("lessons/distill.py")
    at.run()
    epochs = at.number_input(key="epochs")
    assert (epochs.value, epochs.max) == (3, 3)  # the form starts inside the cap and cannot ask past it
    assert any(i.value.startswith("Capped by the facilitator at 3 epochs") for i in at.info)
    with pytest.raises(ConfigError):  # the server refuses a run past the cap all the same (a forged message)
        room_limits(RunStore()).check(DistillConfig(epochs=10))
    from lessons import shared
    shared.pool().shutdown()
    import streamlit as st
    st.cache_resource.clear()


def test_a_guess_is_kept_with_its_run_and_shows_on_the_room_board(monkeypatch):
    """One click before the first run; the projector's board sets it beside the measured gain."""
    import json
    import time

    from models.service.guesses import DISTILL_GAIN, gain_option
    from models.service import visitors
    monkeypatch.setattr(visitors, "_SEEDS", {})
    import streamlit as st
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)
    at.run()
    at.switch_page("lessons/distill.py")
    at.run()
    at.segmented_control(key="guess_distill_gain").set_value("1 to 3")
    at.selectbox(key="student").set_value("mlp-10")
    at.number_input(key="train_size").set_value(300)
    at.number_input(key="epochs").set_value(2)
    at.button(key="distill_submit").click()
    at.run()
    run_id = at.session_state["distill_runs"][0]
    assert RunStore().guesses(DISTILL_GAIN.key) == {run_id: "1 to 3"}
    run = wait_for(RunStore(), run_id, PATIENCE_S)
    deadline = time.monotonic() + PATIENCE_S
    while not any(i.value.startswith("You guessed **1 to 3**") for i in at.info) and time.monotonic() < deadline:
        at.run()
    assert any(i.value.startswith("You guessed **1 to 3**; this run measured") for i in at.info)
    assert at.get("segmented_control") == [] or not any(
        w.key == "guess_distill_gain" for w in at.get("segmented_control"))  # asked once: before the first run

    board = _facilitator(monkeypatch, "s3cret")
    board.text_input(key="facilitator_secret").input("s3cret")
    board.button(key="facilitator_unlock").click()
    board.run()
    charts = [json.loads(c.proto.spec) for c in board.get("plotly_chart")]
    gains = next(c for c in charts if c["layout"]["meta"]["title"] == DISTILL_GAIN.text)
    guessed, measured = gains["data"][0]["y"], gains["data"][1]["y"]
    assert list(guessed) == [0, 0, 1, 0, 0]
    assert list(measured) == [int(option == gain_option(run.result.gain)) for option in DISTILL_GAIN.options]
    assert list(board.dataframe[0].value["run"]) == [run_id]  # the leaderboard
    assert "**Queue:** 0 training, 0 waiting." in [m.value for m in board.markdown]


def test_the_room_board_is_refused_without_a_secret(monkeypatch):
    at = _facilitator(monkeypatch, None)
    assert "No facilitator secret is set" in at.info[0].value
    assert not at.get("plotly_chart") and not at.dataframe and "Room board" not in [h.value for h in at.header]
