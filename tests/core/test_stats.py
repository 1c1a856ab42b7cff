"""The one group summary and its verdict, checked against independent computations."""
import math

import pytest
from scipy import stats as scipy_stats

from models.core.stats import VERDICTS, chance_clear_gains, summarise, t_interval, verdict

T_975_DF2 = 4.302652729749464  # the t table's 97.5 % point for 2 degrees of freedom


def test_summary_means_spreads_and_interval_match_a_hand_computation():
    s = summarise([0, 1, 2], [0.90, 0.92, 0.94], [0.88, 0.89, 0.93])
    gains = [0.02, 0.03, 0.01]
    mean = sum(gains) / 3
    sd = math.sqrt(sum((g - mean) ** 2 for g in gains) / 2)  # n - 1 in the denominator
    assert s.count == 3 and s.seeds == [0, 1, 2]
    assert s.distilled_mean == pytest.approx(0.92) and s.scratch_mean == pytest.approx(0.9)
    assert s.gain_mean == pytest.approx(mean) and s.gain_std == pytest.approx(sd)
    half = T_975_DF2 * sd / math.sqrt(3)
    assert (s.gain_ci_low, s.gain_ci_high) == (pytest.approx(mean - half), pytest.approx(mean + half))
    assert s.verdict == "within noise"  # +2 points, but three seeds this noisy cannot rule out zero


def test_interval_agrees_with_scipy():
    values = [0.011, 0.018, 0.004, 0.022, 0.015]
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=sum(values) / 5,
                                       scale=scipy_stats.sem(values))
    assert t_interval(values) == (pytest.approx(low), pytest.approx(high))
    assert t_interval([0.5]) is None


def test_gains_are_paired_per_seed():
    # Both twins vary a lot between seeds, but each student beats its own twin by exactly 1 point.
    s = summarise([0, 1, 2], [0.80, 0.90, 0.70], [0.79, 0.89, 0.69])
    assert s.gain_std == pytest.approx(0.0, abs=1e-12) and s.distilled_std > 0.09
    assert s.verdict == "clear gain"


@pytest.mark.parametrize("interval, k, expected", [
    ((0.001, 0.03), 3, "clear gain"), ((-0.01, 0.03), 5, "within noise"), ((-0.04, -0.002), 3, "worse"),
    ((0.01, 0.02), 2, VERDICTS[3]), (None, 1, VERDICTS[3]),
])
def test_verdict_reads_the_interval(interval, k, expected):
    assert verdict(interval, k) == expected


def test_two_seeds_get_no_verdict_however_large_the_gain():
    assert summarise([0, 1], [0.95, 0.96], [0.90, 0.90]).verdict == "need at least 3 seeds"


def test_chance_alone_gives_two_and_a_half_percent_clear_gains():
    assert chance_clear_gains(15) == pytest.approx(0.375)


def test_summary_refuses_uneven_lists():
    with pytest.raises(ValueError):
        summarise([0, 1], [0.9], [0.8, 0.7])
