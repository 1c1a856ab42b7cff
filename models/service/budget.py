"""What a submission costs the room, in worker-seconds, before it starts.

The estimate is the config's work (every network it trains, every epoch, every example) times this
machine's measured pace per network (models/assets/pace.json, from `python -m bench.pace --write`,
one thread as a worker runs), corrected by how the runs of that kind that finished here compared
with their own estimates. Queue waits come from the same figures, and the room refuses a
submission whose estimate exceeds its budget (a default the facilitator may change; the CLI, which
has no owner, runs anything).
"""
from __future__ import annotations

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


OWN_PACE_FROM = 0.05  # once a run is 5 % done, its own pace says more about the rest than any estimate


def time_left_s(elapsed_s: float, fraction: float, estimate_s: float) -> float:
    """Seconds a running run has left: from its own pace so far once it has done enough to have one,
    else the estimate less what has passed (never below zero)."""
    if fraction >= OWN_PACE_FROM and elapsed_s > 0:
        return elapsed_s * (1 - fraction) / fraction
    return max(0.0, estimate_s - elapsed_s)


def check_cost(seconds: float, budget_s: float) -> None:
    """Refuse, in one sentence, a submission that would cost more of the room than its budget."""
    if budget_s and seconds > budget_s:
        raise ConfigError(f"this would take {in_words(seconds)} of the room's worker time, more than the "
                          f"{in_words(budget_s).removeprefix('about ')} one submission may use here; choose fewer "
                          "seeds, epochs, images or a smaller student, or ask the facilitator to raise the budget "
                          "(the command line, python -m models, has none)")
