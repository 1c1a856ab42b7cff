"""The room's queue on a fake backend: fair turns, shares, caps, cancels and stalls, in milliseconds.
The real backends each keep a smoke test (tests/system: worker processes, a Dask cluster)."""
from concurrent.futures import Future

import pytest

from models.base.configs import DistillConfig, ExtractConfig, HintonConfig
from models.base.errors import ConfigError, StoreError
from models.service.room import RoomLimits, room_limits, set_room_limits
from models.service.scheduler import JobPool
from models.service.store import RunStore

QUICK = DistillConfig(student="mlp-10", train_size=300, epochs=1)


class FakeBackend:
    """Trains nothing: a started run waits until the test ends it with `end(run_id, status)`."""

    def __init__(self, slots: int = 1):
        self.count, self.started, self.cancelled, self.futures = slots, [], [], {}
        self.fail_recording = False

    def slots(self) -> int:
        return self.count

    def check(self, config) -> None:
        pass

    def start(self, run_id: int, kind: str, values: dict) -> Future:
        future = Future()
        future.set_running_or_notify_cancel()
        self.started.append(run_id)
        self.futures[run_id] = future
        return future

    def cancel(self, run_id: int) -> None:
        self.cancelled.append(run_id)

    def ended(self, store, run_id: int, future) -> None:
        if self.fail_recording:
            raise StoreError("the run store lab.sqlite is damaged")

    def beat(self, store, server) -> None:
        pass

    def close(self, grace_s: float, futures: list) -> None:
        pass

    def end(self, store: RunStore, run_id: int, status: str = "cancelled") -> None:
        store.claim(run_id)
        store.end(run_id, status)
        self.futures[run_id].set_result(status)


@pytest.fixture
def fake():
    backend = FakeBackend()
    pool = JobPool(RunStore(), backend, per_owner=3)
    yield pool, backend
    pool.shutdown()


def test_the_queue_takes_owners_in_turn_and_says_where_each_run_stands(fake):
    pool, backend = fake
    first = pool.submit(QUICK, owner="alice")
    alice = [pool.submit(QUICK, owner="alice") for _ in range(2)]
    bob = pool.submit(QUICK, owner="bob")
    assert backend.started == [first]  # one slot: the rest wait in the pool's own queue
    places = pool.queue_places()
    # Bob has had nothing yet, so his one run goes ahead of Alice's second and third.
    assert [places[i].place for i in (bob, *alice)] == [1, 2, 3]
    assert places[bob].wait_s <= places[alice[0]].wait_s <= places[alice[1]].wait_s
    backend.end(pool.store, first)
    assert backend.started == [first, bob]  # the free slot went to bob, not to alice's next
    backend.end(pool.store, bob)
    assert backend.started == [first, bob, alice[0]]


def test_a_submissions_wall_time_counts_the_runs_ahead_and_its_own_length(fake):
    """Four visitors pressing at once waited three to seven times the worker time they were told."""
    pool, _ = fake
    first = pool.submit(QUICK, owner="alice")  # takes the one slot
    queued = [pool.submit(QUICK, owner=who) for who in ("bob", "carol", "dave")]
    alone = pool.cost_s([QUICK])
    # Nothing here depends on how long the test machine took: the running run's time so far only
    # shifts every place alike, so only the differences and the bounds are asserted.
    places = pool.queue_places()
    done = [places[i].done_s for i in queued]
    assert all(places[i].done_s == pytest.approx(places[i].wait_s + alone, abs=0.2) for i in queued)
    assert [b - a for a, b in zip(done, done[1:])] == [pytest.approx(alone, abs=0.2)] * 2  # one run after another
    assert 3 * alone - 0.2 <= pool.done_in_s([queued[-1]]) <= 4 * alone + 0.2  # three ahead, then its own
    assert pool.done_in_s([first]) <= alone + 0.2  # running: its length less its time so far


def test_only_the_owner_or_the_facilitator_cancels_and_a_running_run_is_told(fake):
    pool, backend = fake
    running = pool.submit(QUICK, owner="alice")
    queued = pool.submit(QUICK, owner="bob")
    assert not pool.cancel(queued, owner="alice")  # only the session that started a run may cancel it
    assert pool.cancel(queued, owner="bob") and pool.store.get(queued).status == "cancelled"
    assert queued not in pool.queue_places() and backend.cancelled == []  # never started: nothing to tell
    assert pool.cancel(running)  # the facilitator (no owner) may cancel anyone's
    assert backend.cancelled == [running] and pool.store.cancel_requested(running)


def test_each_session_has_a_share_of_submissions(fake):
    pool, _ = fake
    pool.submit_many([QUICK], owner="carol")
    pool.submit_many([QUICK, QUICK], group="seeds-x", owner="carol")  # a group counts once
    pool.submit_many([QUICK], owner="carol")
    with pytest.raises(ConfigError, match="already have 3 submissions"):
        pool.submit_many([QUICK], owner="carol")
    pool.submit_many([QUICK], owner="dave")  # others are not affected


def test_room_caps_refuse_what_exceeds_them_before_anything_starts(fake):
    pool, backend = fake
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
    assert pool.store.list() == [] and backend.started == []  # nothing stored or started


def test_a_failure_to_record_an_ending_never_stalls_the_queue(fake):
    pool, backend = fake
    first, second = pool.submit(QUICK, owner="a"), pool.submit(QUICK, owner="b")
    backend.fail_recording = True
    backend.end(pool.store, first)
    assert backend.started == [first, second]


def test_a_stopping_pool_ends_its_runs_interrupted_and_takes_no_more(fake):
    pool, backend = fake
    running, waiting = pool.submit(QUICK, owner="a"), pool.submit(QUICK, owner="a")
    pool.store.claim(running)
    pool.shutdown()
    assert [r.status for r in pool.store.get_many([running, waiting])] == ["interrupted", "interrupted"]
    with pytest.raises(ConfigError, match="server is stopping"):
        pool.submit(QUICK)


def test_the_room_pool_is_one_per_process_whatever_the_page_caches_forget(monkeypatch):
    """A visitor can send Streamlit clear_cache: the pool must not be rebuilt beside the old one
    (each rebuild spawned two more workers). Only the server's own stop ends it."""
    import streamlit as st

    from lessons import shared
    from models.service import lifecycle
    made = []
    monkeypatch.setattr(lifecycle, "make_pool", lambda store: made.append(JobPool(store, FakeBackend())) or made[-1])
    st.cache_resource.clear()  # this test's store, not one an earlier test left cached
    first = shared.pool()
    st.cache_resource.clear()
    st.cache_data.clear()
    assert shared.pool() is first and len(made) == 1
    first.shutdown()
    assert shared.pool() is not first and len(made) == 2  # a stopped pool is replaced, not reused
    made[-1].shutdown()


def test_a_run_whose_ending_could_not_be_saved_ends_interrupted_once_the_store_answers(monkeypatch):
    """The worker could not write its ending and neither could the pool: no ghost stays 'running'
    (this server's own heartbeat would keep it alive for good), and the queue moved on meanwhile."""
    from tests.conftest import wait_until
    monkeypatch.setenv("DISTILL_HEARTBEAT_S", "0.05")
    backend = FakeBackend()
    pool = JobPool(RunStore(), backend, per_owner=3)
    try:
        first, second = pool.submit(QUICK, owner="a"), pool.submit(QUICK, owner="b")
        pool.store.claim(first)
        backend.fail_recording = True
        backend.futures[first].set_exception(StoreError("the run store lab.sqlite is damaged"))
        assert backend.started == [first, second]
        run = wait_until(lambda: (r := pool.store.get(first)).finished and r, 10, "the ghost to end")
        assert run.status == "interrupted" and run.error == (
            "this run's ending could not be saved (the run store lab.sqlite is damaged); start it again")
        assert pool.active_submissions("a") == 0
    finally:
        pool.shutdown()


def test_the_facilitator_cancels_a_visitors_flood_and_clears_the_queue(fake):
    pool, backend = fake
    pool.per_owner = 100
    flood = [pool.submit(QUICK, owner="flood") for _ in range(6)]
    other = [pool.submit(QUICK, owner="other") for _ in range(2)]
    assert pool.cancel_visitor("") == 0  # the command line's runs (no owner) are not "everyone's"
    assert backend.started == [flood[0]]  # one slot
    assert pool.cancel_visitor("flood") == 6
    assert backend.cancelled == [flood[0]] and pool.active_submissions("other") == 2
    assert [r.status for r in pool.store.get_many(flood[1:])] == ["cancelled"] * 5
    backend.end(pool.store, flood[0])
    assert backend.started == [flood[0], other[0]]
    assert pool.clear_queue() == 1  # the waiting one; the running one goes on
    run = pool.store.get(other[1])
    assert (run.status, run.error) == ("cancelled", "the facilitator cleared the queue")
    assert not pool.store.get(other[0]).finished  # started by the backend, left to train


def test_the_facilitator_on_one_server_reaches_the_runs_queued_on_another():
    """front.py's servers share one store, each with its own queue: a cancel or a cleared queue on
    the facilitator's server ends the other's waiting runs, and that server never starts them."""
    store = RunStore()
    here_backend, there_backend = FakeBackend(), FakeBackend()
    here = JobPool(store, here_backend, per_owner=10)
    there = JobPool(RunStore(store.path), there_backend, per_owner=10)
    try:
        training = there.submit(QUICK, owner="bob")
        store.claim(training)  # as the other server's worker does
        waiting = [there.submit(QUICK, owner="bob") for _ in range(3)]
        assert here.cancel(waiting[0])
        assert store.get(waiting[0]).status == "cancelled"
        there._drop_ended()  # its next heartbeat
        assert waiting[0] not in there.queue_places() and waiting[1] in there.queue_places()
        assert here.clear_queue() == 2
        assert [r.status for r in store.get_many(waiting)] == ["cancelled"] * 3
        assert store.get(training).status == "running"  # training on the other server: it goes on
        there._drop_ended()
        there_backend.end(store, training, "interrupted")
        assert there_backend.started == [training]  # nothing that ended was started
    finally:
        here.shutdown()
        there.shutdown()


def test_the_store_lists_the_command_lines_runs_as_their_own_owner(fake):
    pool, _ = fake
    pool.submit(QUICK, owner="")
    pool.submit(QUICK, owner="visitor")
    assert [r.owner for r in pool.store.list(owner="")] == [""]
    assert len(pool.store.list()) == 2  # None: everyone's


def _threads_when_alone() -> int:
    """What a room worker's torch uses for a job that runs alone (runner.share_cores with one running)."""
    import torch

    from models.core.device import set_threads_for
    set_threads_for(1)
    return torch.get_num_threads()


def test_a_room_worker_keeps_one_thread_even_when_its_job_runs_alone():
    """A lone job that took every core at nice 10 stalled behind the server and the browsers
    (python -m bench.lone_job: over 55 times slower under one busy process); a worker keeps its share."""
    from models.service.local import worker_pool
    pool = worker_pool(2)
    try:
        assert pool.schedule(_threads_when_alone).result(timeout=120) == 1
    finally:
        pool.stop()
        pool.join(timeout=20)


def test_the_command_line_still_uses_every_core_when_alone():
    import torch

    from models.core import device
    before = torch.get_num_threads()
    try:
        device.set_threads_for(1)
        assert torch.get_num_threads() == device.cores()  # no cap in this process: at normal priority
    finally:
        torch.set_num_threads(before)
