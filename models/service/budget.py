"""What a submission costs the room, in worker-seconds, before it starts.

The estimate is the config's work (every network it trains, every epoch, every example) times this
machine's measured pace per network (models/assets/pace.json, from `python -m bench.pace --write`,
one thread as a worker runs), corrected by how the runs of that kind that finished here compared
with their own estimates. Queue waits come from the same figures, and the room refuses a
submission whose estimate exceeds its budget (a default the facilitator may change; the CLI, which
has no owner, runs anything).
"""
from __future__ import annotations

from dataclasses import dataclass

from models.base.errors import ConfigError
from models.core.pace import pace  # noqa: F401  (the benches read it from here)
from models.service.kinds import KINDS, config_of, kind_of

DEFAULT_BUDGET_S = 15 * 60  # worker-seconds one visitor's submission may cost ($DISTILL_BUDGET_S or the facilitator)
RUN_OVERHEAD_S = 0.5  # a warm worker's own cost per run (data and teacher are cached): a tiny run takes ~0.1 s


def work_seconds(config) -> float:
    """One run's estimated seconds on one worker thread of this machine, before any correction: its
    kind's own cost (models/kinds/) plus a warm worker's overhead."""
    return RUN_OVERHEAD_S + KINDS[kind_of(config)].cost(config)


def corrections(finished: list[tuple[str, dict, float]]) -> dict[str, float]:
    """kind -> measured over estimated seconds, summed over the runs of that kind that finished here
    (so the big runs a budget is about weigh most, and a room of tiny runs, whose fixed costs the
    estimate cannot know, does not shrink every estimate), kept within 0.25-4 so a few odd runs
    cannot make the room refuse everything (or nothing)."""
    totals: dict[str, list[float]] = {}
    for kind, values, seconds in finished:
        try:
            estimate = work_seconds(config_of(kind, values))
        except (TypeError, KeyError, ValueError, AttributeError):  # an older row or an unknown kind
            continue
        measured_and_estimated = totals.setdefault(kind, [0.0, 0.0])
        measured_and_estimated[0] += seconds
        measured_and_estimated[1] += estimate
    return {kind: min(4.0, max(0.25, measured / estimated)) for kind, (measured, estimated) in totals.items()}


def estimate_seconds(configs: list, correction: dict[str, float]) -> float:
    """A whole submission's worker-seconds (every seed, cell and control), corrected by kind."""
    return sum(work_seconds(config) * correction.get(kind_of(config), 1.0) for config in configs)


def in_words(seconds: float) -> str:
    """'about 40 s', 'about 4 minutes', 'about 3.5 hours' of the room's time."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} minutes"
    return f"about {seconds / 3600:.1f} hours"


TRUST_OWN_PACE_AT = 0.3  # by 30 % done a run's own pace says all there is to say about the rest
LEAST_LEFT_SHARE = 0.25  # barely started: never "1 s left", whatever the estimate said
PRIOR_SPREAD = 0.5  # an estimate made before a run starts was off by half either way under load
LEAST_MARGIN_SHARE = 0.15


@dataclass(frozen=True)
class TimeLeft:
    """Seconds a run has left, and how far either way the lab would not be surprised."""

    seconds: float
    margin_s: float

    def words(self) -> str:
        margin = in_words(self.margin_s).removeprefix("about ")
        return f"{in_words(self.seconds)} left (give or take {margin})"


def time_left(elapsed_s: float, fraction: float, estimate_s: float) -> TimeLeft:
    """What a running run has left: the estimate (this machine's pace, corrected for the room's load)
    and the run's own pace so far, blended by how much of it is done, so neither a stale estimate
    ("about 1 s left" for a quarter of a minute) nor the pace of a first few percent (a sudden "about
    9 minutes") rules alone. The margin is how far the two disagree, shrinking as the run goes on."""
    prior = max(estimate_s - elapsed_s, LEAST_LEFT_SHARE * estimate_s * (1 - fraction))
    if fraction <= 0 or elapsed_s <= 0:
        return TimeLeft(prior, max(PRIOR_SPREAD * prior, 1.0))
    own = elapsed_s * (1 - fraction) / fraction
    weight = min(1.0, fraction / TRUST_OWN_PACE_AT)
    left = (1 - weight) * prior + weight * own
    margin = max(LEAST_MARGIN_SHARE * left, (1 - weight) * max(PRIOR_SPREAD * prior, abs(own - prior)), 1.0)
    return TimeLeft(left, margin)


def steady(previous: TimeLeft | None, since_s: float, new: TimeLeft) -> TimeLeft:
    """What a page shows next: the new estimate, except that time left never rises by more than the
    margin the page stated last; a larger surprise widens the margin instead, so a reader sees the
    lab less sure, never a jump from "about 1 s" to "about 9 minutes"."""
    if previous is None:
        return new
    ceiling = max(0.0, previous.seconds - since_s) + previous.margin_s
    if new.seconds <= ceiling:
        return new
    return TimeLeft(ceiling, max(new.margin_s, new.seconds - ceiling))


PACE_KNOWN_FROM = 0.1  # a run 10 % done has a pace worth comparing with its estimate
PACE_RANGE = (0.5, 4.0)


def pace_now(running: list[tuple[float, float, float]]) -> float:
    """How much longer than estimated the running runs take now, from (elapsed, fraction done,
    estimate) of each: the median of their projected over estimated lengths, within 0.5-4; 1 with
    none far enough along. A room whose workers share the cores with its web servers runs slower
    than this machine's quiet pace, and every wait it states should say so."""
    ratios = sorted(elapsed / fraction / estimate for elapsed, fraction, estimate in running
                    if fraction >= PACE_KNOWN_FROM and elapsed > 0 and estimate > 0)
    if not ratios:
        return 1.0
    middle = ratios[len(ratios) // 2] if len(ratios) % 2 else (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
    return min(PACE_RANGE[1], max(PACE_RANGE[0], middle))


def check_cost(seconds: float, budget_s: float) -> None:
    """Refuse, in one sentence, a submission that would cost more of the room than its budget."""
    if budget_s and seconds > budget_s:
        raise ConfigError(f"this would take {in_words(seconds)} of the room's worker time, more than the "
                          f"{in_words(budget_s).removeprefix('about ')} one submission may use here; choose fewer "
                          "seeds, epochs, images or a smaller student, or ask the facilitator to raise the budget "
                          "(the command line, python -m models, has none)")
