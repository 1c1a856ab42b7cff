"""Sweeps: temperature × student size, and transfer-set size, each repeated over seeds.

The unit of work is a SweepCell (models/base/configs): one student, one seed, one transfer set,
several temperatures. All of a cell's models start from the same weights and see the same batches;
the scratch twin is trained once per cell and shared by every temperature, so a 5-temperature cell
trains 6 models, not 10.
"""
from __future__ import annotations

import statistics
import time
from typing import Iterable

from models.base.configs import SweepCell
from models.core.data import Dataset
from models.experiments.controls import soft_distribution_loss
from models.experiments.distill import control_targets, fit_on_teacher, soft_target_loss, student_and_twin, transfer_indices
from models.core.nets import student_params
from models.base.results import Outcome, Progress, SweepCellResult
from models.core.stats import MIN_SEEDS_FOR_VERDICT, summarise, t_interval, verdict
from models.core.checkpoints import TeacherLogits, teacher_digest, teacher_logits
from models.core.training import BATCH_ORDER_OFFSET, FitSettings, ProgressFn, epochs_for_size, hard_label_loss, no_progress

PAPER_FINDING = ("Hinton et al. (2015): with 30 units per layer, T between 2.5 and 4 worked clearly best; "
                 "with 300 or more units per layer, all T above 8 worked about equally well.")
SIZE_SWEEP_STUDENTS = ("mlp-30", "mlp-100", "mlp-300")


def size_sweep_cells(student: str, temperature: float, sizes: Iterable[int], seeds: int, alpha: float = 0.9,
                     teacher: str = "pretrained") -> list[SweepCell]:
    return [SweepCell(student, (temperature,), seed, size, epochs_for_size(size), alpha, teacher)
            for seed in range(seeds) for size in sizes]


def run_cell(cell: SweepCell, dataset: Dataset, logits: TeacherLogits | None = None,
             on_progress: ProgressFn = no_progress) -> SweepCellResult:
    """Train every temperature of the cell beside one shared scratch twin."""
    started = time.perf_counter()
    index = transfer_indices(cell.seed, cell.train_size, dataset.train_y)
    logits = logits or teacher_logits(cell.teacher, dataset)
    names = [f"{t:g}" for t in cell.temperatures]
    losses = {"scratch": hard_label_loss,
              **{name: soft_target_loss(t, cell.alpha) for name, t in zip(names, cell.temperatures)}}
    extra = {}
    if cell.controls:  # at each T, the two controls' targets (models/experiments/controls.py), trained beside the rest
        for name, t in zip(names, cell.temperatures):
            targets, _ = control_targets(logits.train[index], dataset.train_y[index], t, cell.seed)
            for control, target in targets.items():
                extra[f"{control}-{name}"] = target
                losses[f"{control}-{name}"] = soft_distribution_loss(t, cell.alpha, f"{control}-{name}")
    models = dict(zip(losses, student_and_twin(cell.student, cell.seed, copies=len(losses))))
    settings = FitSettings(cell.epochs, seed=cell.seed + BATCH_ORDER_OFFSET)
    _, last = fit_on_teacher(models, losses, dataset, logits, index, settings,
                            lambda points: on_progress(Progress("sweep", points[-1]["epoch"], cell.epochs,
                                                                epoch_end=True)), extra, curves_wanted=False)
    controls = {c: {n: last[f"{c}-{n}"] for n in names} if cell.controls else None for c in ("smoothed", "shuffled")}
    return SweepCellResult(student=cell.student, seed=cell.seed, train_size=len(index), epochs=cell.epochs,
                           alpha=cell.alpha, scratch=last["scratch"], distilled={n: last[n] for n in names},
                           seconds=round(time.perf_counter() - started, 2), dataset=dataset.summary(),
                           teacher_digest=teacher_digest(cell.teacher), **controls)


def sweep_rows(cell_results: Iterable[SweepCellResult]) -> list[dict]:
    """One row per (student, T, transfer-set size), smallest student first, with mean and spread over
    the seeds finished so far."""
    groups: dict[tuple, list[tuple]] = {}
    for result in cell_results:
        for temperature, distilled in result.distilled.items():
            key = (result.student, float(temperature), result.train_size)
            controls = tuple((getattr(result, c) or {}).get(temperature) for c in ("smoothed", "shuffled"))
            groups.setdefault(key, []).append((result.seed, distilled, result.scratch, *controls))
    rows = []
    by_size = sorted(groups.items(), key=lambda item: (student_params(item[0][0]), item[0][1], item[0][2]))
    for (student, temperature, train_size), members in by_size:
        seeds, distilled, scratch, smoothed, shuffled = zip(*sorted(members))
        s = summarise(list(seeds), list(distilled), list(scratch))
        with_controls = None not in smoothed
        rows.append({"student": student, "temperature": temperature, "train_size": train_size,
                     "seeds": s.count, "distilled_mean": s.distilled_mean, "distilled_std": s.distilled_std,
                     "scratch_mean": s.scratch_mean, "scratch_std": s.scratch_std,
                     "gain_mean": s.gain_mean, "gain_std": s.gain_std, "gain_ci_low": s.gain_ci_low,
                     "gain_ci_high": s.gain_ci_high, "verdict": s.verdict,
                     "smoothed_mean": statistics.fmean(smoothed) if with_controls else None,
                     "shuffled_mean": statistics.fmean(shuffled) if with_controls else None})
    return rows


def temperature_findings(cell_results: Iterable[SweepCellResult]) -> list[dict]:
    """Per student and transfer set: the best temperature by mean, and the paired interval of the
    best T against every other T over the seeds (each cell trains all its temperatures from the same
    start on the same batches, so the pair shares the seed's luck). Overlapping per-T bars can hide a
    clear paired difference; this does not."""
    by_setting: dict[tuple, dict[int, dict]] = {}
    for result in cell_results:
        by_setting.setdefault((result.student, result.train_size), {})[result.seed] = {
            float(t): accuracy for t, accuracy in result.distilled.items()}
    findings = []
    for (student, train_size), seeds in sorted(by_setting.items(), key=lambda item: (student_params(item[0][0]),
                                                                                      item[0][1])):
        shared_ts = sorted(set.intersection(*(set(per_t) for per_t in seeds.values())))
        if len(shared_ts) < 2:
            continue
        means = {t: statistics.fmean(per_t[t] for per_t in seeds.values()) for t in shared_ts}
        best = max(shared_ts, key=means.get)
        contrasts = []
        for t in shared_ts:
            if t != best:
                differences = [per_t[best] - per_t[t] for per_t in seeds.values()]
                interval = t_interval(differences)
                contrasts.append({"temperature": t, "difference": statistics.fmean(differences),
                                  "ci": interval, "verdict": verdict(interval, len(differences))})
        findings.append({"student": student, "train_size": train_size, "seeds": len(seeds), "best": best,
                         "contrasts": contrasts})
    return findings


def _points(value: float) -> str:
    return f"{value * 100:+.2f}"


def what_the_sweep_shows(rows: list[dict], findings: list[dict]) -> list[str]:
    """One sentence per student: where distillation gained, where it hurt, and which temperature is
    best by paired intervals; nothing is said without the seeds for a verdict."""
    sentences = []
    for finding in findings:
        mine = [r for r in rows if r["student"] == finding["student"] and r["train_size"] == finding["train_size"]]
        if finding["seeds"] < MIN_SEEDS_FOR_VERDICT:
            sentences.append(f"**{finding['student']}**: {finding['seeds']} seed(s) so far; a verdict needs "
                             f"{MIN_SEEDS_FOR_VERDICT}.")
            continue
        gains = [f"T = {r['temperature']:g}" for r in mine if r["verdict"] == "clear gain"]
        worse = [f"T = {r['temperature']:g} ({_points(r['gain_mean'])} points [{_points(r['gain_ci_low'])}, "
                 f"{_points(r['gain_ci_high'])}])" for r in mine if r["verdict"] == "worse"]
        said = (f"gains clearly at {', '.join(gains)}" if gains else "gains clearly at no temperature here")
        if worse:
            said += f"; distillation hurts this student at {', '.join(worse)}"
        clear = [c for c in finding["contrasts"] if c["verdict"] == "clear gain"]
        best = (f"T = {finding['best']:g} has the highest mean here (picked on these test results, so the gaps "
                "below may flatter it a little), clearly above " + ", ".join(
            f"T = {c['temperature']:g} ({_points(c['difference'])} points [{_points(c['ci'][0])}, {_points(c['ci'][1])}])"
            for c in clear) if clear else f"no temperature is clearly better than the others (best mean: T = "
            f"{finding['best']:g})")
        sentences.append(f"**{finding['student']}** ({finding['seeds']} seeds): {said}; {best}, paired over seeds.")
    return sentences


def run(cell: SweepCell, dataset: Dataset, on_progress: ProgressFn = no_progress) -> Outcome:
    return Outcome(run_cell(cell, dataset, on_progress=on_progress))
