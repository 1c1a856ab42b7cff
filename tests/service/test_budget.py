"""What a submission costs the room, estimated before it starts, and the room's budget."""
import dataclasses

import pytest

from models.base.configs import DistillConfig, SweepConfig
from models.base.errors import ConfigError
from models.service import budget
from models.service.room import RoomLimits, room_limits, set_room_limits
from models.service.scheduler import JobPool
from models.service.store import RunStore
from tests.service.test_scheduler import FakeBackend

WORST_DISTIL = DistillConfig(student="mlp-800", train_size=60_000, epochs=500, controls=True)


def test_the_estimate_is_the_work_times_this_machines_measured_pace():
    pace = budget.pace()["images"]["mlp-100"]
    per_epoch = 2 * (2000 * pace["train_s_per_1k"] + 10_000 * pace["eval_s_per_1k"]) / 1000  # student and twin
    assert budget.work_seconds(DistillConfig()) == pytest.approx(budget.RUN_OVERHEAD_S + 50 * per_epoch)
    controls = dataclasses.replace(DistillConfig(), controls=True)
    assert budget.work_seconds(controls) - budget.RUN_OVERHEAD_S == pytest.approx(2 * 50 * per_epoch)
    bigger = dataclasses.replace(DistillConfig(), student="mlp-800")
    assert budget.work_seconds(bigger) > 5 * budget.work_seconds(DistillConfig())  # a bigger student costs more
    assert budget.estimate_seconds([DistillConfig()] * 3, {}) == pytest.approx(3 * budget.work_seconds(DistillConfig()))


def test_runs_that_finished_here_correct_the_estimate_by_kind():
    config = dataclasses.asdict(DistillConfig())
    estimate = budget.work_seconds(DistillConfig())
    assert budget.corrections([("distill", config, 3 * estimate)] * 3) == {"distill": pytest.approx(3.0)}
    assert budget.corrections([("distill", config, 100 * estimate)]) == {"distill": 4.0}  # one odd run is bounded
    assert budget.corrections([("no-such-kind", {}, 5.0)]) == {}
    # Many tiny runs that took almost nothing do not make a big run look cheap: sizes weigh in.
    tiny = dataclasses.asdict(DistillConfig(student="mlp-10", train_size=300, epochs=1))
    big = dataclasses.asdict(DistillConfig(epochs=500))
    mixed = [("distill", tiny, 0.05)] * 20 + [("distill", big, budget.work_seconds(DistillConfig(epochs=500)))]
    assert budget.corrections(mixed)["distill"] > 0.75  # the median of ratios said 0.25 here


def test_the_estimate_reads_as_words():
    assert [budget.in_words(s) for s in (12.4, 240, 83 * 3600)] == ["about 12 s", "about 4 minutes", "about 83.0 hours"]


@pytest.fixture
def pool():
    pool = JobPool(RunStore(), FakeBackend(slots=2), per_owner=3)
    yield pool
    pool.shutdown()


def test_a_visitor_cannot_submit_days_of_work_but_the_cli_can(pool):
    with pytest.raises(ConfigError, match=r"this would take about \d+\.\d hours of the room's worker time, more than "
                                          r"the 15 minutes one submission may use here"):
        pool.submit_many([WORST_DISTIL.with_seed(k) for k in range(10)], owner="visitor")
    assert pool.store.list() == []  # nothing stored, nothing started
    assert len(pool.submit_many([WORST_DISTIL], owner="")) == 1  # the command line has no owner and no budget


def test_every_default_submission_fits_the_default_budget(pool):
    assert pool.cost_s(SweepConfig().cells()) < budget.DEFAULT_BUDGET_S
    assert len(pool.submit_many([DistillConfig().with_seed(k) for k in range(3)], owner="visitor")) == 3


def test_the_facilitator_raises_lowers_or_lifts_the_budget(pool):
    set_room_limits(pool.store, RoomLimits(budget_s=1))
    with pytest.raises(ConfigError, match="more than the 1 s one submission"):
        pool.submit_many([DistillConfig()], owner="visitor")
    set_room_limits(pool.store, RoomLimits(budget_s=0))  # 0: no budget
    assert room_limits(pool.store).budget_s == 0
    assert len(pool.submit_many([WORST_DISTIL], owner="visitor")) == 1


def test_a_server_sets_its_default_budget_from_the_environment(pool, monkeypatch):
    monkeypatch.setenv("DISTILL_BUDGET_S", "2")
    assert room_limits(pool.store).budget_s == 2
    with pytest.raises(ConfigError, match="more than the 2 s"):
        pool.submit_many([DistillConfig()], owner="visitor")


def test_a_queue_estimate_counts_the_running_runs_and_each_runs_own_size(pool):
    """Two slots busy with long runs: the next run waits for the shorter of their remainders, and a
    bigger run behind it adds its own length, not a kind's typical one."""
    long, short = DistillConfig(epochs=500), DistillConfig(epochs=5)
    pool.submit_many([long], owner="a")
    pool.submit_many([long], owner="b")
    first = pool.submit_many([short], owner="c")[0]
    second = pool.submit_many([long], owner="d")[0]
    places = pool.queue_places()
    remaining = budget.work_seconds(long)  # neither running run has done much yet
    assert places[first].place == 1 and places[first].wait_s == pytest.approx(remaining, rel=0.05)
    assert places[second].place == 2 and places[second].wait_s == pytest.approx(remaining, rel=0.05)
    assert remaining > 30  # the old estimate said "about 1 s to go" behind runs that took 99 s


def test_a_sweep_cells_cost_counts_every_temperature_and_the_shared_twin():
    """A 5-temperature cell trains 6 networks (5 students and one twin), a Distil run 2: catches a
    cell's cost that forgets its twin (5 instead of 6, 17 % low)."""
    from models.base.configs import SweepCell
    cell = SweepCell("mlp-100", (1, 2.5, 4, 8, 20), train_size=2000, epochs=50)
    pair = budget.work_seconds(DistillConfig()) - budget.RUN_OVERHEAD_S
    assert budget.work_seconds(cell) - budget.RUN_OVERHEAD_S == pytest.approx(pair * 6 / 2)
    with_controls = SweepCell("mlp-100", (1, 2.5, 4, 8, 20), train_size=2000, epochs=50, controls=True)
    assert budget.work_seconds(with_controls) - budget.RUN_OVERHEAD_S == pytest.approx(pair * 16 / 2)
