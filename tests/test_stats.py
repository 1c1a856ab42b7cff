"""The one group summary, checked against independent computations."""
import math

import pytest

from models.stats import summarise, verdict


def test_summary_means_and_sample_spreads_match_a_hand_computation():
    s = summarise([0, 1, 2], [0.90, 0.92, 0.94], [0.88, 0.89, 0.93])
    gains = [0.02, 0.03, 0.01]
    mean = sum(gains) / 3
    sd = math.sqrt(sum((g - mean) ** 2 for g in gains) / 2)  # n - 1 in the denominator
    assert s.count == 3 and s.seeds == [0, 1, 2]
    assert s.distilled_mean == pytest.approx(0.92) and s.scratch_mean == pytest.approx(0.9)
    assert s.gain_mean == pytest.approx(mean) and s.gain_std == pytest.approx(sd)
    assert s.distilled_std == pytest.approx(0.02)


def test_gains_are_paired_per_seed():
    # Both twins vary a lot between seeds, but each student beats its own twin by exactly 1 point.
    s = summarise([0, 1, 2], [0.80, 0.90, 0.70], [0.79, 0.89, 0.69])
    assert s.gain_std == pytest.approx(0.0, abs=1e-12) and s.distilled_std > 0.09
    assert s.verdict == "clear gain"


@pytest.mark.parametrize("mean, sd, k, expected", [
    (0.03, 0.005, 3, "clear gain"), (0.01, 0.01, 3, "within noise"), (-0.03, 0.005, 3, "worse"),
    (0.05, 0.0, 1, "one seed only"),
])
def test_verdict(mean, sd, k, expected):
    assert verdict(mean, sd, k) == expected


def test_summary_refuses_uneven_lists():
    with pytest.raises(ValueError):
        summarise([0, 1], [0.9], [0.8, 0.7])
