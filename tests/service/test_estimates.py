"""What a page says a run has left (models/service/budget.py: time_left, steady, pace_now): honest
when the estimate was wrong, and never a jump upward larger than the margin it stated."""
import random

import pytest

from models.service.budget import TimeLeft, pace_now, steady, time_left

POLL_S = 2.0


def _shown_while_running(estimate_s: float, true_s: float, startup_s: float, noise: float, seed: int):
    """What a page polling every POLL_S shows, for a run estimated at estimate_s that takes true_s,
    the first startup_s of it with no progress to show (loading, asking an API), and its pace
    drifting by up to `noise` over its course (progress ** power, the power drawn from the seed)."""
    rng, shown, out = random.Random(seed), None, []
    power = 1 + rng.uniform(-noise, noise)
    elapsed = 0.0
    while elapsed < true_s:
        fraction = 0.0 if elapsed < startup_s else ((elapsed - startup_s) / (true_s - startup_s)) ** power
        new = steady(shown, POLL_S, time_left(elapsed, fraction, estimate_s))
        out.append((elapsed, new))
        shown = new
        elapsed += POLL_S
    return out


@pytest.mark.parametrize("estimate_s, true_s, startup_s", [
    (19.0, 97.0, 15.0),  # the chat copy of the report: said "about 19 s", took 97 s, asked the API first
    (120.0, 483.0, 5.0),  # the paper table: "about 2 minutes", took 483 s
    (7.0, 40.0, 0.0),  # a Distil run beside three others
    (60.0, 20.0, 2.0),  # an estimate too long
])
def test_time_left_never_rises_by_more_than_the_margin_it_stated(estimate_s, true_s, startup_s):
    for seed in range(5):
        shown = _shown_while_running(estimate_s, true_s, startup_s, noise=0.1, seed=seed)
        for (_, before), (_, after) in zip(shown, shown[1:]):
            assert after.seconds - max(0.0, before.seconds - POLL_S) <= before.margin_s + 1e-9
        late = [left for elapsed, left in shown if elapsed >= 0.6 * true_s]
        # once well along, the truth lies within what the page says, give or take its margin
        assert all(abs(left.seconds - (true_s - elapsed)) <= left.margin_s + 0.3 * (true_s - elapsed) + POLL_S
                   for (elapsed, left) in [(e, l) for e, l in shown if e >= 0.6 * true_s])
        assert late


def test_a_bigger_surprise_widens_the_margin_instead_of_jumping():
    before = TimeLeft(1.0, 2.0)
    after = steady(before, POLL_S, TimeLeft(540.0, 60.0))
    assert after.seconds <= 1.0 + 2.0 and after.margin_s >= 537.0
    assert "give or take" in after.words()


def test_the_rooms_pace_now_is_the_median_slowdown_of_the_runs_far_enough_along():
    assert pace_now([]) == 1.0 and pace_now([(5.0, 0.05, 10.0)]) == 1.0  # not far enough along to tell
    assert pace_now([(20.0, 0.5, 10.0), (30.0, 0.5, 20.0), (100.0, 0.5, 10.0)]) == pytest.approx(4.0)
    assert pace_now([(20.0, 0.5, 10.0), (30.0, 0.5, 20.0)]) == pytest.approx(3.5)
    assert pace_now([(1.0, 1.0, 100.0)]) == 0.5  # kept within 0.5-4
