"""The one lifecycle of a run (models/service/runner.py): a cancel lands between training steps in
every kind of run, not at the next epoch's end."""
import threading
from contextlib import contextmanager

import pytest

from models.base.configs import ChatCopyConfig, DistillConfig, ExtractConfig, HintonConfig, SweepCell, TeacherConfig
from models.service import runner
from models.service.kinds import kind_of


class CancelAfterStart:
    """A link whose owner pressed Cancel just after the run started training."""

    def __init__(self):
        self.asked, self.records, self.ending = 0, [], None

    def cancel_requested(self) -> bool:
        self.asked += 1
        return self.asked > 1  # the first ask is execute's own, before the run is claimed

    def claim(self) -> bool:
        return True

    @contextmanager
    def alive(self):
        yield threading.Event()

    def started_on(self, device: str) -> None:
        pass

    def share_cores(self) -> None:
        pass

    def progress(self, record) -> None:
        self.records.append(record)

    def finish(self, config, result, weights) -> None:
        self.ending = "done"

    def end(self, status: str, error: str = "") -> None:
        self.ending = status

    def status(self) -> str:
        return self.ending


# Each is many epochs long; a cancel that waited for an epoch's end would let one epoch's record land.
LONG_RUNS = [
    TeacherConfig(epochs=5, train_size=2000),
    DistillConfig(student="mlp-10", train_size=2000, epochs=20),
    SweepCell(student="mlp-10", temperatures=(2.0, 4.0), train_size=2000, epochs=20),
    HintonConfig(epochs=5),
    ExtractConfig(queries=2000),
    ChatCopyConfig(exchanges=300, epochs=20),
]


@pytest.mark.parametrize("config", LONG_RUNS, ids=lambda c: type(c).__name__)
def test_a_cancel_lands_before_the_first_epoch_ends_in_every_kind(config, monkeypatch, sample):
    monkeypatch.setattr(runner, "CANCEL_CHECK_S", 0.0)  # check at every step: the test is about where, not when
    link = CancelAfterStart()
    status = runner.execute(kind_of(config), config.__dict__, link, sample)
    assert status == "cancelled" and link.asked >= 2
    assert not [record for record in link.records if record.epoch_end]  # stopped inside the first epoch


def test_a_store_that_cannot_be_read_between_steps_does_not_stop_the_run(monkeypatch, sample):
    from models.base.errors import StoreError
    monkeypatch.setattr(runner, "CANCEL_CHECK_S", 0.0)

    class Unreadable(CancelAfterStart):
        def cancel_requested(self) -> bool:
            self.asked += 1
            if self.asked > 1 and not self.records:  # between steps, before the first record
                raise StoreError("the run store lab.sqlite is locked")
            return False

    link = Unreadable()
    config = DistillConfig(student="mlp-10", train_size=300, epochs=1)
    assert runner.execute("distill", config.__dict__, link, sample) == "done" and link.asked > 2


def test_a_finished_run_waits_in_memory_while_the_disk_is_full(tiny_disk, monkeypatch, sample, capsys):
    from tests.conftest import fill_disk
    """Fill the disk just as the run finishes: the result is kept, the console says "free disk space",
    and once space is freed the run lands as done with its result and weights."""
    from models.service.store import RunStore
    monkeypatch.setattr(runner, "FINISH_RETRY_EVERY_S", 0.1)
    store = RunStore(tiny_disk / "lab.sqlite")
    config = DistillConfig(student="mlp-10", train_size=300, epochs=1)
    run_id = store.create("distill", config.__dict__)
    filler = tiny_disk / "filler"

    class FullDiskAtTheEnd(runner.StoreLink):
        tries = 0

        def finish(self, config, result, weights):
            self.tries += 1
            if self.tries == 1:
                fill_disk(tiny_disk)
                threading.Timer(1.0, filler.unlink).start()  # an operator frees space a moment later
            super().finish(config, result, weights)

    link = FullDiskAtTheEnd(store, run_id, "distill")
    status = runner.execute("distill", config.__dict__, link, sample)
    said = capsys.readouterr().err
    assert "a finished run waits in memory: the disk holding the run store lab.sqlite is full" in said
    assert "free disk space" in said
    run = store.get(run_id)
    assert status == "done" and run.status == "done" and run.result.distilled_accuracy > 0.1 and link.tries > 1
    assert store.weights(run_id)


class NeverCancelled(CancelAfterStart):
    def cancel_requested(self) -> bool:
        self.asked += 1
        return False


@pytest.mark.parametrize("config", [DistillConfig(student="mlp-10", train_size=2000, epochs=2),
                                    HintonConfig(epochs=1), TeacherConfig(epochs=1, train_size=2000)],
                         ids=lambda c: type(c).__name__)
def test_a_run_says_where_it_is_between_epoch_ends(config, monkeypatch, sample):
    """Progress used to land once per epoch, so a minutes-long epoch showed nothing. Now the
    step check moves the newest record on to a fractional epoch, keeping its stage and curves."""
    monkeypatch.setattr(runner, "CANCEL_CHECK_S", 0.0)
    link = NeverCancelled()
    assert runner.execute(kind_of(config), config.__dict__, link, sample) == "done"
    ticks = [r for r in link.records if not r.epoch_end and 0 < r.epoch % 1]
    assert ticks, "no record landed inside an epoch"
    assert all(0 < r.fraction < 1 and r.of == config.epochs for r in ticks)
    epochs = [r.epoch for r in link.records]
    assert epochs == sorted(epochs)  # never backwards
    if isinstance(config, DistillConfig):  # a tick in the second epoch keeps the first epoch's curve point
        late = [r for r in ticks if r.epoch > 1]
        assert late and all(len(r.curves) == 1 and r.stage == "distill" for r in late)
    if isinstance(config, HintonConfig):
        assert {r.stage for r in ticks} == {"students"}


def test_time_left_blends_the_estimate_with_the_runs_own_pace_as_it_proceeds():
    from models.service.budget import time_left
    assert time_left(10.0, 0.5, 999.0).seconds == pytest.approx(10.0)  # half done in 10 s: its own pace rules
    early = time_left(1.0, 0.01, 60.0)
    assert early.seconds == pytest.approx(59.0, rel=0.05) and early.margin_s >= 20  # too early: the estimate, unsure
    stale = time_left(100.0, 0.0, 60.0)
    assert stale.seconds >= 0.25 * 60 and stale.margin_s > 0  # past its estimate, no pace yet: never "1 s left"
    assert time_left(30.0, 0.9, 10.0).margin_s < time_left(3.0, 0.1, 10.0).margin_s  # surer as it goes