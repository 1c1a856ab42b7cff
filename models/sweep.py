"""Sweeps: temperature × student size, and transfer-set size, each repeated over seeds.

The unit of work is a SweepCell: one student, one seed, one transfer set, several temperatures.
All of a cell's models start from the same weights and see the same batches; the scratch twin is
trained once per cell and shared by every temperature, so a 5-temperature cell trains 6 models,
not 10.
"""
from __future__ import annotations

import dataclasses
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Callable, Iterable

from models.config import ConfigError, DistillConfig, check_epochs, check_seed, check_student, check_temperature
from models.data import Dataset, default_dataset
from models.distill import (
    fit_together,
    hard_label_loss,
    soft_target_loss,
    student_and_twin,
    summarise,
    transfer_indices,
)
from models.nets import student_params
from models.teacher import TeacherLogits, teacher_logits

PAPER_FINDING = ("Hinton et al. (2015): with 30 units per layer, T between 2.5 and 4 worked clearly best; "
                 "with 300 or more units per layer, all T above 8 worked about equally well.")


def _check_all(students: tuple, temperatures: tuple) -> None:
    if not students:
        raise ConfigError("give at least one student")
    if not temperatures:
        raise ConfigError("give at least one temperature")
    for name in students:
        check_student(name)
    for temperature in temperatures:
        check_temperature(temperature)


@dataclass(frozen=True)
class SweepCell:
    """One student and seed, trained at several temperatures beside one shared scratch twin."""

    student: str
    temperatures: tuple
    seed: int = 0
    train_size: int = 5000
    epochs: int = 10
    alpha: float = 0.9
    teacher: str = "pretrained"
    sweep_id: str = ""  # groups the cells of one sweep in the store

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperatures", tuple(float(t) for t in self.temperatures))
        _check_all((self.student,), self.temperatures)
        check_epochs(self.epochs)
        check_seed(self.seed)
        DistillConfig(student=self.student, alpha=self.alpha, train_size=self.train_size)  # same checks

    def distill_config(self) -> DistillConfig:
        return DistillConfig(student=self.student, alpha=self.alpha, train_size=self.train_size,
                             epochs=self.epochs, seed=self.seed, teacher=self.teacher)


@dataclass(frozen=True)
class SweepConfig:
    """Every student × every temperature × seeds S..S+K-1, at one transfer-set size."""

    students: tuple = ("mlp-30", "mlp-100", "mlp-300")
    temperatures: tuple = (1.0, 2.0, 4.0, 8.0, 20.0)
    seeds: int = 2
    seed: int = 0
    train_size: int = 5000
    epochs: int = 10
    alpha: float = 0.9
    teacher: str = "pretrained"

    def __post_init__(self) -> None:
        _check_all(self.students, self.temperatures)
        if not 1 <= self.seeds <= 10:
            raise ConfigError(f"seeds must be between 1 and 10, got {self.seeds}")
        self.cells()  # validates the rest

    def cells(self, sweep_id: str = "") -> list[SweepCell]:
        return [SweepCell(student, tuple(self.temperatures), self.seed + k, self.train_size, self.epochs,
                          self.alpha, self.teacher, sweep_id)
                for k in range(self.seeds) for student in self.students]


def epochs_for_size(train_size: int, image_steps: int = 100_000) -> int:
    """Epochs giving every transfer-set size a similar training budget (3 to 200 passes)."""
    return max(3, min(200, round(image_steps / max(train_size, 1))))


def size_sweep_cells(student: str, temperature: float, sizes: Iterable[int], seeds: int, alpha: float = 0.9,
                     teacher: str = "pretrained", sweep_id: str = "") -> list[SweepCell]:
    return [SweepCell(student, (temperature,), seed, size, epochs_for_size(size), alpha, teacher, sweep_id)
            for seed in range(seeds) for size in sizes]


def run_cell(cell: SweepCell, dataset: Dataset, logits: TeacherLogits | None = None,
             on_progress: Callable[[dict], None] = lambda _: None) -> dict:
    """Returns {student, seed, train_size, epochs, scratch, distilled: {"T": accuracy}, seconds}."""
    started = time.perf_counter()
    config = cell.distill_config()
    index = transfer_indices(config, dataset.train_y)
    logits = logits or teacher_logits(cell.teacher, dataset)
    names = [f"{t:g}" for t in cell.temperatures]
    models = student_and_twin(cell.student, cell.seed, copies=len(names) + 1)
    losses = {"scratch": hard_label_loss,
              **{name: soft_target_loss(t, cell.alpha) for name, t in zip(names, cell.temperatures)}}
    curves = fit_together(dict(zip(["scratch", *names], models)), losses, config, dataset, logits, index,
                          lambda point: on_progress({"epoch": point["epoch"], "of": cell.epochs}))
    last = curves[-1]
    return {"student": cell.student, "seed": cell.seed, "train_size": len(index), "epochs": cell.epochs,
            "alpha": cell.alpha, "scratch": last["scratch"], "distilled": {name: last[name] for name in names},
            "seconds": round(time.perf_counter() - started, 2), "dataset": dataset.summary()}


def sweep_rows(cell_results: Iterable[dict]) -> list[dict]:
    """One row per (student, T, transfer-set size), smallest student first, with mean and spread over
    the seeds finished so far."""
    groups: dict[tuple, list[tuple]] = {}
    for result in cell_results:
        for temperature, distilled in result["distilled"].items():
            key = (result["student"], float(temperature), result["train_size"])
            groups.setdefault(key, []).append((result["seed"], distilled, result["scratch"]))
    rows = []
    by_size = sorted(groups.items(), key=lambda item: (student_params(item[0][0]), item[0][1], item[0][2]))
    for (student, temperature, train_size), members in by_size:
        seeds, distilled, scratch = zip(*sorted(members))
        s = summarise(seeds, list(distilled), list(scratch))
        rows.append({"student": student, "temperature": temperature, "train_size": train_size,
                     "seeds": len(seeds), "distilled_mean": s.distilled_mean, "distilled_std": s.distilled_std,
                     "scratch_mean": s.scratch_mean, "scratch_std": s.scratch_std,
                     "gain_mean": s.gain_mean, "gain_std": s.gain_std, "verdict": s.verdict})
    return rows


def _cell_in_worker(values: dict) -> dict:
    cell = SweepCell(**values)
    return run_cell(cell, default_dataset())


def _one_thread() -> None:
    import torch
    torch.set_num_threads(1)


def run_cells(cells: list[SweepCell], workers: int | None = None) -> list[dict]:
    """Run cells in parallel worker processes, one thread each (small nets scale better that way)."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(cells)))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_one_thread) as pool:
        return list(pool.map(_cell_in_worker, [dataclasses.asdict(c) for c in cells]))
