"""Stored chat copies as the budget curve's points: one per answer mode and budget, over seeds.

Runs of one setting (every config field but the seed) are seeds of one point, each seed counted
once (the newest run of a repeated seed stands for it), as seed_groups does for distillation. The
gain is the twin's bits per character minus the copy's (bits saved per character by copying),
paired per seed, with the same interval and verdict as every gain in the lab (models/core/stats.py).
"""
from __future__ import annotations

import dataclasses
import json
import statistics

from models.core.stats import MIN_SEEDS_FOR_VERDICT, summarise, t_interval

ANSWER_ORDER = ("full", "top20", "top5", "top1", "text")
ANSWER_NAMES = {"text": "text only", "top1": "text + top-1 log-probability", "top5": "text + top-5 log-probabilities",
                "top20": "text + top-20 log-probabilities", "full": "full distributions (white box)"}


def _setting(config) -> str:
    fields = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    fields.pop("seed", None)
    return json.dumps(fields, sort_keys=True)


def _mean_and_interval(values: list[float]) -> tuple[float, float | None, float | None]:
    interval = t_interval(values)
    return statistics.fmean(values), *(interval if interval else (None, None))


def curve_points(runs) -> list[dict]:
    """Finished chat-copy runs (newest first, as the store lists them) as budget-curve points."""
    groups: dict[str, dict[int, object]] = {}
    for run in runs:
        if run.status == "done" and run.result is not None:
            groups.setdefault(_setting(run.config), {}).setdefault(run.config.seed, run)
    points = []
    for members in groups.values():
        chosen = sorted(members.values(), key=lambda run: run.config.seed)
        results = [run.result for run in chosen]
        summary = summarise([run.config.seed for run in chosen], [-r.bits_per_char for r in results],
                            [-r.scratch_bits_per_char for r in results])
        point = {"answers": results[0].answers, "answers_name": ANSWER_NAMES.get(results[0].answers, results[0].answers),
                 "exchanges": results[0].exchanges, "prompts": results[0].prompts, "seeds": summary.count,
                 "characters": statistics.fmean(r.characters for r in results),
                 "gain": summary.gain_mean, "gain_ci_low": summary.gain_ci_low, "gain_ci_high": summary.gain_ci_high,
                 "verdict": summary.verdict, "teacher_bits_per_char": results[0].teacher_bits_per_char,
                 "run_ids": [run.id for run in chosen],
                 "bits_by_seed": {run.config.seed: run.result.bits_per_char for run in chosen}}
        for name in ("bits_per_char", "scratch_bits_per_char", "teacher_agreement", "scratch_agreement",
                     "kl_to_teacher", "canary_exposure"):
            mean, low, high = _mean_and_interval([getattr(r, name) for r in results])
            point |= {name: mean, f"{name}_low": low, f"{name}_high": high}
        points.append(point)
    rank = {name: i for i, name in enumerate(ANSWER_ORDER)}
    return sorted(points, key=lambda p: (rank.get(p["answers"], 99), p["exchanges"]))


def curve_finding(points: list[dict]) -> str:
    """The budget curve in one sentence: at the smallest budget drawn, the best copy against its twin
    and, when the copy from text alone is drawn too, against it, paired over the seeds both have
    (same prompts, same replies, same starting weights)."""
    if not points:
        return ""
    smallest = min(p["exchanges"] for p in points)
    at = [p for p in points if p["exchanges"] == smallest]
    best = min(at, key=lambda p: p["bits_per_char"])
    text = next((p for p in at if p["answers"] == "text"), None)
    line = (f"At {smallest:,} exchanges the copy from {best['answers_name']} needs {best['bits_per_char']:.2f} bits "
            f"per character against its twin's {best['scratch_bits_per_char']:.2f} ({best['verdict']})")
    if text is None or text is best:
        return line + "."
    line += f", while the copy from text alone needs {text['bits_per_char']:.2f} ({text['verdict']})"
    seeds = sorted(set(best["bits_by_seed"]) & set(text["bits_by_seed"]))
    costs = [text["bits_by_seed"][seed] - best["bits_by_seed"][seed] for seed in seeds]
    interval = t_interval(costs)
    if interval is None or len(costs) < MIN_SEEDS_FOR_VERDICT:
        return line + f"; paired over {len(costs)} seed(s) that difference needs at least {MIN_SEEDS_FOR_VERDICT} for a verdict."
    low, high = interval
    judged = ("so what the API reveals beside the text is what made each exchange worth more here" if low > 0
              else "text alone did better here" if high < 0 else "a difference within seed-to-seed noise")
    return line + (f"; paired over {len(costs)} seeds, text alone costs {statistics.fmean(costs):+.2f} bits per character "
                   f"(95 % interval {low:+.2f} to {high:+.2f}): {judged}.")
