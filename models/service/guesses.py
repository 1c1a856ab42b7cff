"""Guess first, then see: a one-click guess before a visitor's first distillation and first copy,
kept with the run, and the room board that sets the room's guesses beside what its runs measured.

Readers who commit to a guess before they see the answer remember the answer better; a room that
sees its own guesses beside its own measurements sees where intuition was wrong. Guesses are
optional and never block a run.
"""
from __future__ import annotations

from dataclasses import dataclass

from models.service.report import run_rows
from models.service.store import RunStore

COPY_TARGET = 0.95  # the copy question's agreement with the teacher


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[str, ...]


DISTILL_GAIN = Question("distill_gain", "Before you press Distil: how many points will the teacher add to the "
                        "student, against its twin?", ("it will cost points", "0 to 1", "1 to 3", "3 to 5",
                                                       "more than 5"))
COPY_EXCHANGES = Question("copy_exchanges", "Before you copy: how many exchanges until a copy from full "
                          f"probabilities agrees with the teacher on {COPY_TARGET:.0%} of test digits?",
                          ("100", "1,000", "10,000", "more than 10,000"))
QUESTIONS = {q.key: q for q in (DISTILL_GAIN, COPY_EXCHANGES)}
GAIN_EDGES = (0.0, 1.0, 3.0, 5.0)  # points: the upper edges of DISTILL_GAIN's first four options


def gain_option(gain: float) -> str:
    """Which DISTILL_GAIN option a measured gain (a fraction, distilled minus twin) falls in."""
    points = 100 * gain
    for edge, option in zip(GAIN_EDGES, DISTILL_GAIN.options):
        if points < edge:
            return option
    return DISTILL_GAIN.options[-1]


def exchanges_option(curve: list[tuple[int, float]]) -> str | None:
    """Which COPY_EXCHANGES option a full-probabilities curve [(exchanges, fidelity)] answers: the
    fewest exchanges that reached the target; None when the curve cannot say (it stops short of
    10,000 without reaching it)."""
    for exchanges, fidelity in sorted(curve):
        if fidelity >= COPY_TARGET:
            for option, most in zip(COPY_EXCHANGES.options, (100, 1000, 10_000)):
                if exchanges <= most:
                    return option
            return COPY_EXCHANGES.options[-1]
    return COPY_EXCHANGES.options[-1] if curve and max(curve)[0] >= 10_000 else None


def measured(store: RunStore) -> dict[str, list[str]]:
    """Per question, the option each of the room's runs measured: every finished distillation on the
    leaderboard; every copy curve with a full-probabilities line."""
    gains = [gain_option(r["gain"]) for r in run_rows(store.list(kind="distill", status="done", archived=False))
             if r["gain"] is not None]
    curves: dict[str, list[tuple[int, float]]] = {}
    for run in store.list(kind="extract", status="done"):
        if run.group.startswith("curve-") and run.config.answers == "probs" and run.config.defence == "none":
            curves.setdefault(run.group, []).append((run.result.exchanges or run.result.queries, run.result.fidelity))
    copies = [option for option in map(exchanges_option, curves.values()) if option is not None]
    return {DISTILL_GAIN.key: gains, COPY_EXCHANGES.key: copies}


def room_board(store: RunStore) -> dict:
    """What the projector shows: per question, how many guessed and measured each option; the
    leaderboard's top runs; and the queue."""
    found = measured(store)
    board = {}
    for question in QUESTIONS.values():
        guessed = list(store.guesses(question.key).values())
        board[question.key] = {"text": question.text, "options": list(question.options),
                               "guessed": [guessed.count(o) for o in question.options],
                               "measured": [found[question.key].count(o) for o in question.options]}
    # Like with like: Distil runs only (a missing-digit run is graded on a test set with a digit it
    # never saw, and is no rival to them).
    rows = run_rows([run for run in store.list(kind="distill", status="done", archived=False)
                     if getattr(run.config, "omit_class", None) is None])
    leaders = sorted(rows, key=lambda r: -r["distilled_accuracy"])[:10]
    active = store.list(active=True)
    return {"questions": board, "leaderboard": leaders,
            "queue": {"running": sum(r.status == "running" for r in active),
                      "waiting": sum(r.status == "queued" for r in active)}}
