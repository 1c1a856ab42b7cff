"""One summary for any group of runs: seeds of one setting, a sweep's cells, a leaderboard group.

Each member is a (seed, distilled accuracy, scratch accuracy) triple; the gain is paired per seed
(distilled minus its own twin), which cancels the luck of initialisation that both share.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class GroupSummary:
    """Means and sample standard deviations over the group's seeds, and the verdict on the gain."""

    seeds: list
    distilled_mean: float
    distilled_std: float
    scratch_mean: float
    scratch_std: float
    gain_mean: float
    gain_std: float
    verdict: str

    @property
    def count(self) -> int:
        return len(self.seeds)


def spread(values: list[float]) -> float:
    """Sample standard deviation; 0 for a single value."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


def verdict(gain_mean: float, gain_std: float, k: int) -> str:
    """'clear gain', 'within noise' or 'worse': is the mean gain beyond twice its spread?

    With one seed there is no spread to compare against, so the answer is 'one seed only'.
    """
    if k < 2:
        return "one seed only"
    if gain_mean > 2 * gain_std:
        return "clear gain"
    if gain_mean < -2 * gain_std:
        return "worse"
    return "within noise"


def summarise(seeds: list, distilled: list[float], scratch: list[float]) -> GroupSummary:
    """Summarise paired results; the three lists run in step, one entry per seed."""
    if not (len(seeds) == len(distilled) == len(scratch)) or not seeds:
        raise ValueError("summarise needs one distilled and one scratch accuracy per seed")
    gains = [d - s for d, s in zip(distilled, scratch)]
    return GroupSummary(
        seeds=list(seeds),
        distilled_mean=statistics.fmean(distilled), distilled_std=spread(distilled),
        scratch_mean=statistics.fmean(scratch), scratch_std=spread(scratch),
        gain_mean=statistics.fmean(gains), gain_std=spread(gains),
        verdict=verdict(statistics.fmean(gains), spread(gains), len(gains)),
    )
