"""Commands that train: a teacher, a sweep, the paper's table, a copy. Each run goes through the
service's one lifecycle and lands in the store (unless --no-store), as a page's run does."""
from __future__ import annotations

import dataclasses
import sys
import time
import uuid

from models.commands.common import dataset, emit, finished, run_each, run_store
from models.base.configs import (
    FULL_BUDGET_EPOCHS,
    LAPTOP_TABLE_EPOCHS,
    PAPER_TEACHER,
    ExtractConfig,
    HintonConfig,
    SweepConfig,
    TeacherConfig,
    check_output_path,
    check_train_size,
)


def cmd_teacher(args) -> int:
    config = TeacherConfig(epochs=args.epochs, seed=args.seed, train_size=args.train_size, max_lr=args.max_lr,
                           dropout=args.dropout)
    import json
    import platform
    import shutil
    from pathlib import Path

    import torch
    import torchvision

    from models.core.checkpoints import sidecar_path
    from models.core.data import data_root, default_dataset
    check_train_size(config.train_size, default_dataset().train_size)
    if args.save:
        check_output_path(args.save, "--save")
    with run_store(args) as store:
        dataset()
        trained = run_each(store, [config], "python -m models teacher")[0]
        result = trained.sidecar()
        if args.save:  # the run's checkpoint, copied out with how it was made
            sidecar = {**result, "seed": args.seed,
                       "command": f"DISTILL_DATA={data_root()} python -m models " + " ".join(sys.argv[1:]),
                       "versions": {"python": platform.python_version(), "torch": torch.__version__,
                                    "torchvision": torchvision.__version__}}
            shutil.copyfile(trained.checkpoint, args.save)
            sidecar_path(Path(args.save)).write_text(json.dumps(sidecar, indent=2) + "\n")
            result["saved"] = args.save
    emit(result, args.json, [f"teacher: {result['test_accuracy']:.2%} test accuracy after "
                             f"{config.epochs} epochs in {result['seconds']:.1f} s"])
    return 0


def cmd_sweep(args) -> int:
    config = SweepConfig(students=args.students, temperatures=args.temperatures, seeds=args.seeds,
                         seed=args.seed, train_size=args.train_size, epochs=args.epochs, alpha=args.alpha,
                         teacher=args.teacher, controls=args.controls)
    from models.core.checkpoints import teacher_logits
    from models.core.data import default_dataset
    from models.experiments.sweep import PAPER_FINDING, sweep_rows
    from models.service.lifecycle import run_and_wait
    from models.service.report import to_csv
    check_train_size(config.train_size, default_dataset().train_size)
    if args.csv:
        check_output_path(args.csv, "--csv")
    teacher_logits(config.teacher, default_dataset())  # fail fast on a bad teacher; warms the disk cache for workers
    from models.service.budget import work_seconds
    # Longest first: with a worker per core, the big students' cells no longer start last and run alone.
    cells = sorted(config.cells(), key=work_seconds, reverse=True)
    with run_store(args) as store:  # this machine's workers (one per core), or the cluster's
        if not args.cluster:  # a cluster's workers load their own data
            dataset()
        started = time.perf_counter()
        results = finished(run_and_wait(store, cells, "python -m models sweep", f"sweep-{uuid.uuid4().hex[:8]}",
                                        cluster=args.cluster, workers=len(cells)))
    rows = sweep_rows(results)
    seconds = round(time.perf_counter() - started, 2)
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            handle.write(to_csv(rows, rows[0]))
    lines = [f"{'student':9s} {'T':>5s} {'distilled':>16s} {'scratch':>16s} {'gain':>16s}  verdict"]
    lines += [f"{r['student']:9s} {r['temperature']:5g} {r['distilled_mean']:9.2%} ±{r['distilled_std']:5.2%} "
              f"{r['scratch_mean']:9.2%} ±{r['scratch_std']:5.2%} {r['gain_mean']:+9.2%} ±{r['gain_std']:5.2%}  "
              f"{r['verdict']}" for r in rows]
    lines.append(PAPER_FINDING)
    emit({"rows": rows, "seconds": seconds, "dataset": results[0].dataset}, args.json, lines)
    return 0


def hinton_config(args) -> HintonConfig:
    """No flags: the laptop version on a CPU, the paper's full setup on a GPU. --epochs alone means
    the paper's setup at that budget; --teacher chooses explicitly."""
    from models.core.device import best_device
    on_gpu = best_device().type != "cpu"
    teacher = args.teacher or (PAPER_TEACHER if on_gpu or args.epochs is not None else "pretrained")
    if teacher == PAPER_TEACHER:
        epochs = args.epochs if args.epochs is not None else FULL_BUDGET_EPOCHS
    else:
        epochs = args.epochs if args.epochs is not None else LAPTOP_TABLE_EPOCHS
    return HintonConfig(epochs=epochs, seed=args.seed, teacher=teacher)


def cmd_hinton(args) -> int:
    config = hinton_config(args)
    from models.core.checkpoints import load_teacher
    if config.teacher != PAPER_TEACHER:
        load_teacher(config.teacher)  # a bad checkpoint is bad input: refuse before any work
    name = "python -m models hinton"
    if args.cluster:  # on the cluster (a GPU worker when it asks for one); it lands in this store too
        from models.service.lifecycle import run_and_wait
        with run_store(args) as store:
            result = finished(run_and_wait(store, [config], name, cluster=args.cluster))[0]
    else:  # the same job as the page's button, run in this process: the Paper's table page shows it
        with run_store(args) as store:
            dataset()
            result = run_each(store, [config], name)[0]
    paper = result.paper_errors
    lines = [f"test errors out of {result.test_size:,} ({result.seconds:.0f} s on {result.device})",
             f"differences from the paper: {result.note}",
             f"{'':22s} {'here':>6s} {'paper':>6s}",
             f"{'teacher':22s} {result.teacher_errors:6d} {paper['teacher']:6d}",
             f"{'student 2x800 scratch':22s} {result.scratch_errors:6d} {paper['scratch']:6d}",
             f"{'student distilled T=20':22s} {result.distilled_errors:6d} {paper['distilled']:6d}"]
    # its dataset: the one the worker that trained it had
    emit(result.to_json() | {"config": dataclasses.asdict(config)}, args.json, lines)
    return 0


def cmd_extract(args) -> int:
    config = ExtractConfig(queries=args.queries, answers=args.answers, source=args.source, defence=args.defence,
                           defence_strength=args.defence_strength, student=args.student, seed=args.seed,
                           teacher=args.teacher, samples_per_image=args.samples_per_image,
                           api_temperature=args.api_temperature)
    from models.core.checkpoints import load_teacher
    from models.core.data import default_dataset
    from models.experiments.extraction import variant_label
    from models.experiments.queries import check_budget
    check_budget(config.source, config.queries, default_dataset())
    load_teacher(config.teacher)
    with run_store(args) as store:
        dataset()
        result = run_each(store, [config], "python -m models extract")[0]
    if result.source_notice:
        print(f"queries: {result.source_notice}", file=sys.stderr)
    lines = [f"{result.exchanges:,} exchanges about {result.images:,} images from {result.source_name}, answered "
             f"with {variant_label(config.answers, config.defence)}",
             f"copy ({result.student}, {result.student_params:,} params): {result.copy_accuracy:.2%} test "
             f"accuracy, agrees with the teacher on {result.fidelity:.2%} (teacher {result.teacher_accuracy:.2%})",
             f"forensics: repeats {result.teacher_mistakes_shared:.0%} of the teacher's test mistakes digit for "
             f"digit; a model of its size trained on true labels repeats {result.independent_mistakes_shared:.0%} "
             f"(paired McNemar p = {result.mistakes_mcnemar_p:.2g})",
             f"second choice: where each agrees with the teacher's answer, the copy shares its runner-up on "
             f"{result.teacher_second_choice_shared:.0%}, the independent model on "
             f"{result.independent_second_choice_shared:.0%} (p = {result.second_choice_mcnemar_p:.2g})"]
    emit(result.to_json() | {"images": result.images, "config": dataclasses.asdict(config)}, args.json, lines)
    return 0
