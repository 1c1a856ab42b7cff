"""One summary for any group of runs: seeds of one setting, a sweep's cells, a leaderboard group.

Each member is a (seed, distilled accuracy, scratch accuracy) triple; the gain is paired per seed
(distilled minus its own twin), which cancels the luck of initialisation that both share. The
verdict reads the 95 % t-interval of the mean paired gain: is all of it above zero, below, or not?
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from scipy import stats as scipy_stats

CONFIDENCE = 0.95
MIN_SEEDS_FOR_VERDICT = 3  # with 2 seeds the interval is so wide (t = 12.7) that a verdict means little
VERDICTS = ("clear gain", "within noise", "worse", f"need at least {MIN_SEEDS_FOR_VERDICT} seeds")


@dataclass(frozen=True)
class GroupSummary:
    """Means and sample standard deviations over the group's seeds, the gain's 95 % interval
    (None below 2 seeds) and the verdict on the gain."""

    seeds: list
    distilled_mean: float
    distilled_std: float
    scratch_mean: float
    scratch_std: float
    gain_mean: float
    gain_std: float
    gain_ci_low: float | None
    gain_ci_high: float | None
    verdict: str

    @property
    def count(self) -> int:
        return len(self.seeds)


def spread(values: list[float]) -> float:
    """Sample standard deviation; 0 for a single value."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


def t_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """mean ± t(K−1) · sd / √K: the two-sided confidence interval of the mean; None for K < 2."""
    k = len(values)
    if k < 2:
        return None
    mean, half = statistics.fmean(values), 0.0
    if spread(values) > 0:
        half = float(scipy_stats.t.ppf(0.5 + confidence / 2, k - 1)) * spread(values) / math.sqrt(k)
    return mean - half, mean + half


def verdict(interval: tuple[float, float] | None, k: int) -> str:
    """'clear gain' when the whole interval is above 0, 'worse' when below, else 'within noise'."""
    if interval is None or k < MIN_SEEDS_FOR_VERDICT:
        return VERDICTS[3]
    low, high = interval
    if low > 0:
        return "clear gain"
    if high < 0:
        return "worse"
    return "within noise"


def chance_clear_gains(judged: int, confidence: float = CONFIDENCE) -> float:
    """How many 'clear gain' verdicts chance alone gives among `judged` settings that truly have no
    effect: each interval lies wholly above 0 with probability (1 − confidence) / 2."""
    return judged * (1 - confidence) / 2


def summarise(seeds: list, distilled: list[float], scratch: list[float]) -> GroupSummary:
    """Summarise paired results; the three lists run in step, one entry per seed."""
    if not (len(seeds) == len(distilled) == len(scratch)) or not seeds:
        raise ValueError("summarise needs one distilled and one scratch accuracy per seed")
    gains = [d - s for d, s in zip(distilled, scratch)]
    interval = t_interval(gains)
    return GroupSummary(
        seeds=list(seeds),
        distilled_mean=statistics.fmean(distilled), distilled_std=spread(distilled),
        scratch_mean=statistics.fmean(scratch), scratch_std=spread(scratch),
        gain_mean=statistics.fmean(gains), gain_std=spread(gains),
        gain_ci_low=interval[0] if interval else None, gain_ci_high=interval[1] if interval else None,
        verdict=verdict(interval, len(gains)),
    )


CONTROLS_VERDICTS = ("more than softness alone", "not shown to be more than softness", "no clear gain to explain",
                     VERDICTS[3])


@dataclass(frozen=True)
class ControlsSummary:
    """Knowledge or just softness, paired per seed: the distilled student against each control twin
    trained beside it (the same starting weights and batches). Intervals are None below 2 seeds."""

    beyond_smoothed_mean: float
    beyond_smoothed_ci: tuple[float, float] | None
    beyond_shuffled_mean: float
    beyond_shuffled_ci: tuple[float, float] | None
    verdict: str
    softness_mean: float = 0.0  # smoothed-label twin − scratch twin: what softness alone is worth
    softness_ci: tuple[float, float] | None = None


def controls_summary(distilled: list[float], scratch: list[float], smoothed: list[float],
                     shuffled: list[float]) -> ControlsSummary:
    """The verdict says something about the teacher's knowledge only when there is a gain to explain
    (the main gain is clear by the same rule as `summarise`) and the distilled student beats *both*
    controls with the whole of each paired interval above zero; below 3 seeds it says nothing."""
    if not len(distilled) == len(scratch) == len(smoothed) == len(shuffled) or not distilled:
        raise ValueError("controls_summary needs one accuracy of each model per seed")
    beyond_smoothed = [d - s for d, s in zip(distilled, smoothed)]
    beyond_shuffled = [d - s for d, s in zip(distilled, shuffled)]
    k = len(distilled)
    smoothed_ci, shuffled_ci = t_interval(beyond_smoothed), t_interval(beyond_shuffled)
    if k < MIN_SEEDS_FOR_VERDICT:
        said = CONTROLS_VERDICTS[3]
    elif verdict(t_interval([d - s for d, s in zip(distilled, scratch)]), k) != "clear gain":
        said = CONTROLS_VERDICTS[2]
    elif smoothed_ci[0] > 0 and shuffled_ci[0] > 0:
        said = CONTROLS_VERDICTS[0]
    else:
        said = CONTROLS_VERDICTS[1]
    softness = [s - c for s, c in zip(smoothed, scratch)]
    return ControlsSummary(statistics.fmean(beyond_smoothed), smoothed_ci, statistics.fmean(beyond_shuffled),
                           shuffled_ci, said, statistics.fmean(softness), t_interval(softness))
