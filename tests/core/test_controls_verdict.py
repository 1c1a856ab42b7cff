"""Knowledge or softness, judged by paired intervals over seeds, never by point estimates."""
import pytest

from models.core.stats import CONTROLS_VERDICTS, controls_summary, t_interval

SCRATCH = [0.900, 0.902, 0.898]


def test_gains_within_noise_say_nothing_about_knowledge():
    """The issue's mlp-30 runs: gains −0.35 / −0.29 / +0.04 points, each 'beating both controls'."""
    distilled = [s + g for s, g in zip(SCRATCH, (-0.0035, -0.0029, 0.0004))]
    summary = controls_summary(distilled, SCRATCH, [d - 0.001 for d in distilled], [d - 0.002 for d in distilled])
    assert summary.verdict == CONTROLS_VERDICTS[2] == "no clear gain to explain"


def test_fewer_than_three_seeds_get_no_verdict_even_when_every_gap_is_positive():
    summary = controls_summary([0.95], [0.90], [0.91], [0.92])
    assert summary.verdict == "need at least 3 seeds" and summary.beyond_smoothed_ci is None
    assert summary.beyond_smoothed_mean == pytest.approx(0.04)


def test_beating_both_controls_needs_both_paired_intervals_above_zero():
    distilled = [s + g for s, g in zip(SCRATCH, (0.020, 0.022, 0.018))]
    smoothed = [d - g for d, g in zip(distilled, (0.010, 0.012, 0.011))]
    shuffled = [d - g for d, g in zip(distilled, (0.006, 0.007, 0.005))]
    summary = controls_summary(distilled, SCRATCH, smoothed, shuffled)
    assert summary.verdict == "more than softness alone"
    assert summary.beyond_shuffled_ci == pytest.approx(t_interval([0.006, 0.007, 0.005]))
    # One control within noise (its paired gap straddles zero): not shown, though every mean is positive.
    shuffled = [d - g for d, g in zip(distilled, (0.006, -0.004, 0.001))]
    summary = controls_summary(distilled, SCRATCH, smoothed, shuffled)
    assert summary.beyond_shuffled_mean > 0 and summary.verdict == "not shown to be more than softness"


def test_the_gaps_are_paired_per_seed_not_compared_as_separate_means():
    """Large seed-to-seed swings shared by student and control cancel in the pairs."""
    scratch = [0.80, 0.90, 0.85]
    distilled = [0.83, 0.93, 0.88]
    smoothed = [0.82, 0.92, 0.87]  # always 1 point below its own student: clear when paired
    summary = controls_summary(distilled, scratch, smoothed, [d - 0.01 for d in distilled])
    assert summary.beyond_smoothed_ci == pytest.approx((0.01, 0.01)) and summary.verdict == "more than softness alone"
