"""Guess first, then see (models/service/guesses.py): guesses kept with runs, set beside what the
room's runs measured."""
import dataclasses

import pytest

from models.base.configs import DistillConfig
from models.base.results import DistillResult
from models.service.guesses import COPY_EXCHANGES, DISTILL_GAIN, exchanges_option, gain_option, room_board
from models.service.store import RunStore


@pytest.mark.parametrize("gain, option", [(-0.001, "it will cost points"), (0.0, "0 to 1"), (0.005, "0 to 1"),
                                          (0.0361, "3 to 5"), (0.03, "3 to 5"), (0.06, "more than 5")])
def test_a_measured_gain_falls_in_one_option(gain, option):
    assert gain_option(gain) == option and option in DISTILL_GAIN.options


@pytest.mark.parametrize("curve, option", [([(100, 0.74), (1000, 0.918), (10_000, 0.962)], "10,000"),
                                           ([(100, 0.96), (1000, 0.97)], "100"),
                                           ([(1000, 0.951)], "1,000"),
                                           ([(10_000, 0.90)], "more than 10,000"),
                                           ([(100, 0.5), (1000, 0.6)], None)])
def test_a_copy_curve_answers_the_exchanges_question_only_when_it_can(curve, option):
    assert exchanges_option(curve) == option
    assert option is None or option in COPY_EXCHANGES.options


def _finished_distill(store: RunStore, gain: float, seed: int, omit_class: int | None = None) -> int:
    run_id = store.create("distill", dataclasses.asdict(DistillConfig(seed=seed, omit_class=omit_class)), f"run {seed}")
    store.claim(run_id)
    store.finish(run_id, DistillResult(student="mlp-100", student_params=1, teacher_params=2, teacher_accuracy=0.99,
                                       distilled_accuracy=0.9 + gain, scratch_accuracy=0.9, gain=gain, seconds=1.0,
                                       dataset={"name": "MNIST"}))
    return run_id


def test_the_room_board_sets_the_rooms_guesses_beside_its_measurements(tmp_path):
    store = RunStore(tmp_path / "lab.sqlite")
    first, second = _finished_distill(store, 0.0361, 0), _finished_distill(store, 0.012, 1)
    store.add_guess(first, DISTILL_GAIN.key, "1 to 3", owner="a")
    store.add_guess(second, DISTILL_GAIN.key, "more than 5", owner="b")
    store.add_guess(second, DISTILL_GAIN.key, "1 to 3", owner="b")  # a second guess for one run replaces the first
    board = room_board(store)
    gain = board["questions"][DISTILL_GAIN.key]
    assert gain["options"] == list(DISTILL_GAIN.options)
    assert gain["guessed"] == [0, 0, 2, 0, 0] and gain["measured"] == [0, 0, 1, 1, 0]
    assert [r["id"] for r in board["leaderboard"]] == [first, second]  # best first
    assert board["questions"][COPY_EXCHANGES.key]["guessed"] == [0, 0, 0, 0]
    assert board["queue"] == {"running": 0, "waiting": 0}
    assert store.guesses() == {first: "1 to 3", second: "1 to 3"}


def test_the_board_ranks_distil_runs_only_never_a_missing_digit_run_beside_them(tmp_path):
    store = RunStore(tmp_path / "lab.sqlite")
    distilled = _finished_distill(store, 0.03, 0)
    _finished_distill(store, 0.08, 1, omit_class=3)  # its higher accuracy is on another question
    assert [r["id"] for r in room_board(store)["leaderboard"]] == [distilled]


def test_one_guess_per_visitor_and_question_however_often_they_reload(tmp_path):
    """Fifteen reloads were fifteen guesses on the room board; now a visitor's later runs carry none."""
    store = RunStore(tmp_path / "lab.sqlite")
    runs = [_finished_distill(store, 0.03, seed) for seed in range(4)]
    assert store.add_guess(runs[0], DISTILL_GAIN.key, "1 to 3", owner="a")
    assert not store.add_guess(runs[1], DISTILL_GAIN.key, "more than 5", owner="a")  # a reload's second try
    assert store.add_guess(runs[0], DISTILL_GAIN.key, "3 to 5", owner="a")  # the same run's guess may change
    assert store.add_guess(runs[2], DISTILL_GAIN.key, "1 to 3", owner="b")  # another visitor
    assert store.add_guess(runs[3], COPY_EXCHANGES.key, COPY_EXCHANGES.options[0], owner="a")  # another question
    assert store.guesses(DISTILL_GAIN.key) == {runs[0]: "3 to 5", runs[2]: "1 to 3"}
