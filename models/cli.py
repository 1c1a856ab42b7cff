"""`python -m models`: the lab without a browser, on the same engine as the app.

Bad values print one line naming the problem and the valid range, and exit with status 2. Heavy
modules (torch and the engine) load only inside the command that needs them, so `--help` and a
refusal are quick.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from models.config import (
    ANSWER_MODES,
    DEFAULT_NOISE,
    DEFENCES,
    FULL_BUDGET_EPOCHS,
    LAPTOP_TABLE_EPOCHS,
    MAX_SAMPLES_PER_IMAGE,
    MAX_SEEDS,
    MISSING_DIGIT_DEFAULTS,
    PAPER_TEACHER,
    SOURCES,
    STUDENT_NAMES,
    ConfigError,
    DistillConfig,
    ExtractConfig,
    HintonConfig,
    SweepConfig,
    TeacherConfig,
    TeacherError,
    check_output_path,
    check_seeds,
)

BAD_INPUT = 2
MAX_IMAGE_BYTES = 20_000_000  # predict reads the file whole: a photo, not a disk image


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr instead of usage plus error."""

    def error(self, message: str):
        self.exit(BAD_INPUT, f"error: {message} (see --help)\n")


def _emit(payload: dict, as_json: bool, lines: list[str]) -> None:
    print(json.dumps(payload) if as_json else "\n".join(lines))


def _dataset():
    """The dataset, named on stderr (which data it is matters to the numbers; --json stays one object)."""
    from models.data import default_dataset
    dataset = default_dataset()
    print(f"dataset: {dataset.describe()}", file=sys.stderr)
    return dataset


def cmd_students(args) -> int:
    from models.nets import student_params
    rows = {name: student_params(name) for name in STUDENT_NAMES}
    lines = [f"{name:10s} {params:>10,d} parameters" for name, params in rows.items()]
    _emit({"students": rows}, args.json, lines)
    return 0


def cmd_evaluate(args) -> int:
    from models.export import load_model
    from models.nets import count_params
    from models.teacher import read_sidecar
    from models.training import evaluate
    model = load_model(args.teacher)  # a teacher checkpoint, or a student downloaded from the app
    card = read_sidecar(args.teacher)
    dataset = _dataset()
    result = {"test_accuracy": evaluate(model, dataset), "params": count_params(model),
              "epochs": card.get("epochs"), "kind": card.get("kind", "teacher"), "dataset": dataset.summary()}
    _emit(result, args.json, [f"{result['kind']} {args.teacher}: {result['test_accuracy']:.2%} test accuracy, "
                              f"{result['params']:,} parameters"])
    return 0


def cmd_teacher(args) -> int:
    config = TeacherConfig(epochs=args.epochs, seed=args.seed, train_size=args.train_size, max_lr=args.max_lr,
                           dropout=args.dropout)
    import platform
    from pathlib import Path

    import torch
    import torchvision

    from models.config import check_train_size
    from models.data import data_root, default_dataset
    from models.teacher import save_teacher
    from models.training import train_teacher
    check_train_size(config.train_size, default_dataset().train_size)
    if args.save:
        check_output_path(args.save, "--save")
    model, trained = train_teacher(config, _dataset())
    result = trained.sidecar()
    if args.save:
        sidecar = {**result, "seed": args.seed,
                   "command": f"DISTILL_DATA={data_root()} python -m models " + " ".join(sys.argv[1:]),
                   "versions": {"python": platform.python_version(), "torch": torch.__version__,
                                "torchvision": torchvision.__version__}}
        save_teacher(model, Path(args.save), sidecar)
        result["saved"] = args.save
    _emit(result, args.json, [f"teacher: {result['test_accuracy']:.2%} test accuracy after "
                              f"{config.epochs} epochs in {result['seconds']:.1f} s"])
    return 0


def _distill_config(args) -> DistillConfig:
    # An omit-class run starts from the paper-like missing-digit defaults; flags given override either.
    base = MISSING_DIGIT_DEFAULTS if args.omit_class is not None else DistillConfig()
    given = {key: value for key, value in dict(student=args.student, temperature=args.temperature, alpha=args.alpha,
                                               train_size=args.train_size, epochs=args.epochs).items()
             if value is not None}
    return dataclasses.replace(base, **given, seed=args.seed, teacher=args.teacher, omit_class=args.omit_class,
                               controls=args.controls)


def cmd_distill(args) -> int:
    base = _distill_config(args)
    check_seeds(args.seed, args.seeds)
    import statistics
    import time

    from models.distill import distill
    from models.results import MISSING_DIGIT_FIGURES
    from models.stats import summarise
    from models.data import default_dataset
    from models.teacher import teacher_logits
    base.check_train_size(default_dataset().train_size)
    logits = teacher_logits(base.teacher, default_dataset())
    dataset = _dataset()
    started = time.perf_counter()
    results = [distill(base.with_seed(args.seed + k), dataset, logits)[0] for k in range(args.seeds)]
    first = results[0]
    summary = summarise([r.config["seed"] for r in results], [r.distilled_accuracy for r in results],
                        [r.scratch_accuracy for r in results])
    out = {
        "student": base.student, "student_params": first.student_params,
        "teacher_params": first.teacher_params, "teacher_accuracy": first.teacher_accuracy,
        "distilled_accuracy": summary.distilled_mean, "scratch_accuracy": summary.scratch_mean,
        "gain": summary.gain_mean, "seconds": round(time.perf_counter() - started, 2),
        "dataset": dataset.summary(), "temperature": base.temperature, "alpha": base.alpha,
        "train_size": base.train_size, "epochs": base.epochs, "seeds": summary.seeds,
    }
    lines_extra = []
    if base.omit_class is not None:
        reports = [r.missing_digit for r in results]
        out["omitted_class"] = base.omit_class
        for key in MISSING_DIGIT_FIGURES:  # averaged over seeds
            out[key] = statistics.fmean(getattr(report, key) for report in reports)
        lines_extra = [f"digit {base.omit_class} never seen: scratch twin {out['scratch_omitted_class_accuracy']:.1%}, "
                       f"distilled {out['omitted_class_accuracy']:.1%}, after raising its bias by "
                       f"{out['bias_shift']:.2f}: {out['omitted_class_accuracy_adjusted']:.1%}"]
    if base.controls:
        for key in ("smoothed_accuracy", "shuffled_accuracy"):
            out[key] = statistics.fmean(getattr(r, key) for r in results)
        lines_extra.append(f"controls: smoothed-label twin {out['smoothed_accuracy']:.2%}, "
                           f"shuffled-teacher twin {out['shuffled_accuracy']:.2%}")
    out |= {"distilled_accuracy_std": summary.distilled_std, "scratch_accuracy_std": summary.scratch_std,
            "gain_std": summary.gain_std, "gain_ci_low": summary.gain_ci_low, "gain_ci_high": summary.gain_ci_high,
            "verdict": summary.verdict, "teacher_digest": first.teacher_digest,
            "teacher_mistakes_shared": statistics.fmean(r.teacher_mistakes_shared for r in results),
            "scratch_mistakes_shared": statistics.fmean(r.scratch_mistakes_shared for r in results)}
    interval = (f", 95 % interval {summary.gain_ci_low:+.2%} to {summary.gain_ci_high:+.2%}"
                if summary.gain_ci_low is not None else "")
    lines = [f"{base.student} ({out['student_params']:,} params) vs teacher ({out['teacher_params']:,} params, "
             f"{out['teacher_accuracy']:.2%})",
             f"distilled {out['distilled_accuracy']:.2%}  scratch twin {out['scratch_accuracy']:.2%}  "
             f"gain {out['gain']:+.2%}{interval}  ({summary.verdict})", *lines_extra]
    _emit(out, args.json, lines)
    return 0


def _float_list(text: str) -> tuple:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _name_list(text: str) -> tuple:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def cmd_sweep(args) -> int:
    config = SweepConfig(students=args.students, temperatures=args.temperatures, seeds=args.seeds,
                         seed=args.seed, train_size=args.train_size, epochs=args.epochs, alpha=args.alpha,
                         teacher=args.teacher, controls=args.controls)
    import time

    from models.config import check_train_size
    from models.data import default_dataset
    from models.report import to_csv
    from models.sweep import PAPER_FINDING, run_cells, sweep_rows
    from models.teacher import teacher_logits
    check_train_size(config.train_size, default_dataset().train_size)
    if args.csv:
        check_output_path(args.csv, "--csv")
    teacher_logits(config.teacher, default_dataset())  # fail fast on a bad teacher; warms the disk cache for workers
    dataset = default_dataset() if args.cluster else _dataset()  # a cluster's workers load their own data
    started = time.perf_counter()
    if args.cluster:
        import uuid

        from models.cluster import run_on_cluster
        runs = run_on_cluster(args.cluster, config.cells(), "python -m models sweep", f"sweep-{uuid.uuid4().hex[:8]}")
        failed = [run for run in runs if run.status != "done"]
        if failed:
            print(f"error: {len(failed)} of {len(runs)} cells did not finish: {failed[0].status} "
                  f"{failed[0].error}".rstrip(), file=sys.stderr)
            return 1
        rows = sweep_rows(run.result for run in runs)
        dataset_summary = runs[0].result.dataset
    else:
        rows = sweep_rows(run_cells(config.cells()))
        dataset_summary = dataset.summary()
    seconds = round(time.perf_counter() - started, 2)
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            handle.write(to_csv(rows, rows[0]))
    lines = [f"{'student':9s} {'T':>5s} {'distilled':>16s} {'scratch':>16s} {'gain':>16s}  verdict"]
    lines += [f"{r['student']:9s} {r['temperature']:5g} {r['distilled_mean']:9.2%} ±{r['distilled_std']:5.2%} "
              f"{r['scratch_mean']:9.2%} ±{r['scratch_std']:5.2%} {r['gain_mean']:+9.2%} ±{r['gain_std']:5.2%}  "
              f"{r['verdict']}" for r in rows]
    lines.append(PAPER_FINDING)
    _emit({"rows": rows, "seconds": seconds, "dataset": dataset_summary}, args.json, lines)
    return 0


def _hinton_config(args) -> HintonConfig:
    """No flags: the laptop version on a CPU, the paper's full setup on a GPU. --epochs alone means
    the paper's setup at that budget; --teacher chooses explicitly."""
    from models.device import best_device
    on_gpu = best_device().type != "cpu"
    teacher = args.teacher or (PAPER_TEACHER if on_gpu or args.epochs is not None else "pretrained")
    if teacher == PAPER_TEACHER:
        epochs = args.epochs if args.epochs is not None else FULL_BUDGET_EPOCHS
    else:
        epochs = args.epochs if args.epochs is not None else LAPTOP_TABLE_EPOCHS
    return HintonConfig(epochs=epochs, seed=args.seed, teacher=teacher)


def cmd_hinton(args) -> int:
    config = _hinton_config(args)
    from models.jobs import run_job
    from models.store import RunStore
    from models.teacher import load_teacher
    if config.teacher != PAPER_TEACHER:
        load_teacher(config.teacher)  # a bad checkpoint is bad input: refuse before any work
    store = RunStore()
    if args.cluster:  # on the cluster (a GPU worker when it asks for one); it lands in this store too
        from models.cluster import run_on_cluster
        run = run_on_cluster(args.cluster, [config], "python -m models hinton", "")[0]
    else:  # the same job as the page's button, run in this process: the Paper's table page shows it
        _dataset()
        run_id = store.create("hinton", dataclasses.asdict(config), name="python -m models hinton")
        run_job(str(store.path), run_id, "hinton", dataclasses.asdict(config))
        run = store.get(run_id)
    if run.status != "done":
        print(f"error: the run {run.status}: {run.error}".rstrip(": "), file=sys.stderr)
        return 1
    result = run.result
    paper = result.paper_errors
    lines = [f"test errors out of {result.test_size:,} ({result.seconds:.0f} s on {result.device})",
             f"differences from the paper: {result.note}",
             f"{'':22s} {'here':>6s} {'paper':>6s}",
             f"{'teacher':22s} {result.teacher_errors:6d} {paper['teacher']:6d}",
             f"{'student 2x800 scratch':22s} {result.scratch_errors:6d} {paper['scratch']:6d}",
             f"{'student distilled T=20':22s} {result.distilled_errors:6d} {paper['distilled']:6d}"]
    _emit(result.to_json(), args.json, lines)  # its dataset: the one the worker that trained it had
    return 0


def cmd_extract(args) -> int:
    config = ExtractConfig(queries=args.queries, answers=args.answers, source=args.source, defence=args.defence,
                           defence_strength=args.defence_strength, student=args.student, seed=args.seed,
                           teacher=args.teacher, samples_per_image=args.samples_per_image,
                           api_temperature=args.api_temperature)
    from models.data import default_dataset
    from models.extraction import run_extraction, variant_label
    from models.queries import check_budget
    from models.teacher import load_teacher
    check_budget(config.source, config.queries, default_dataset())
    load_teacher(config.teacher)
    result, _ = run_extraction(config, _dataset())
    if result.source_notice:
        print(f"queries: {result.source_notice}", file=sys.stderr)
    lines = [f"{result.exchanges:,} exchanges about {result.images:,} images from {result.source_name}, answered "
             f"with {variant_label(config.answers, config.defence)}",
             f"copy ({result.student}, {result.student_params:,} params): {result.copy_accuracy:.2%} test "
             f"accuracy, agrees with the teacher on {result.fidelity:.2%} (teacher {result.teacher_accuracy:.2%})",
             f"forensics: repeats {result.teacher_mistakes_shared:.0%} of the teacher's test mistakes digit for "
             f"digit; a model of its size trained on true labels repeats {result.independent_mistakes_shared:.0%}"]
    _emit(result.to_json() | {"images": result.images}, args.json, lines)
    return 0


def cmd_predict(args) -> int:
    from pathlib import Path

    from models.config import check_temperature
    check_temperature(args.temperature)
    path = Path(args.image)
    if not path.is_file():
        raise ConfigError(f"image {args.image} {'is a directory' if path.is_dir() else 'does not exist'}")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise ConfigError(f"image {args.image} is larger than {MAX_IMAGE_BYTES // 1_000_000} MB; send a smaller one")
    from models.digit import read_digit
    from models.export import load_model
    from models.training import predict_logits
    digit = read_digit(path.read_bytes())
    student_model, run = None, None
    if args.run_id is not None:
        student_model, run = _stored_student(args.run_id)
    logits = predict_logits(load_model(args.teacher), digit.tensor())[0]
    probs = logits.softmax(0)
    out = {"label": int(probs.argmax()), "probs": probs.tolist(),
           "soft_targets": (logits / args.temperature).softmax(0).tolist(),
           "temperature": args.temperature, "inverted": digit.inverted}
    lines = [f"teacher: {out['label']} ({probs.max():.1%} sure)" + (" (dark ink on light paper, inverted)"
                                                                    if digit.inverted else "")]
    if student_model is not None:
        student_probs = predict_logits(student_model, digit.tensor())[0].softmax(0)
        out["student"] = {"run": run.id, "student": run.result.student, "label": int(student_probs.argmax()),
                          "probs": student_probs.tolist()}
        lines.append(f"run {run.id} ({run.result.student}): {out['student']['label']} ({student_probs.max():.1%} sure)")
    _emit(out, args.json, lines)
    return 0


def _stored_student(run_id: int):
    """A finished distillation's student from the store, or ConfigError naming what is wrong."""
    from models.nets import load_student
    from models.store import RunStore
    store = RunStore()
    run = store.get(run_id)
    if run is None or run.kind != "distill":
        raise ConfigError(f"run {run_id} is not a distillation run in this lab's store")
    if run.status != "done" or not store.has_weights(run_id):
        raise ConfigError(f"run {run_id} is {run.status} and has no stored student")
    return load_student(run.result.student, store.weights(run_id)), run


def _cluster_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", metavar="ADDRESS", default=os.environ.get("DISTILL_CLUSTER") or None,
                        help="run on this Dask scheduler (tcp://HOST:8786; default $DISTILL_CLUSTER, else this machine)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m models", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    p = sub.add_parser("students", help="list the student presets and their parameter counts")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_students)

    p = sub.add_parser("evaluate", help="test accuracy and size of a teacher checkpoint or a downloaded student")
    p.add_argument("--teacher", default="pretrained",
                   help="'pretrained', a path to a teacher .pt, or a student .pt downloaded from the app (with its .json card)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("teacher", help="train a teacher CNN on the training set")
    p.add_argument("--epochs", type=int, default=TeacherConfig.epochs, help="passes over the training set")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and batch order")
    p.add_argument("--train-size", type=int, default=0,
                   help="train on the first N training images only (0 = all; a small N is a quick smoke run)")
    p.add_argument("--max-lr", type=float, default=TeacherConfig.max_lr, help="peak learning rate of the one-cycle schedule")
    p.add_argument("--dropout", type=float, default=TeacherConfig.dropout,
                   help="dropout on the wide layer while training (the bundled teacher used 0.3)")
    p.add_argument("--save", help="write the checkpoint here, with a .json sidecar beside it")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_teacher)

    plain, missing = DistillConfig(), MISSING_DIGIT_DEFAULTS

    def default(name: str) -> str:
        return f"default {getattr(plain, name)}, or {getattr(missing, name)} with --omit-class"

    p = sub.add_parser("distill", help="distil a student and train its scratch twin")
    p.add_argument("--student", help=f"one of: {', '.join(STUDENT_NAMES)} ({default('student')})")
    p.add_argument("--temperature", "-T", type=float,
                   help=f"softmax temperature T > 0 for the soft targets ({default('temperature')})")
    p.add_argument("--alpha", type=float, help=f"weight on the teacher's soft targets, in [0, 1] ({default('alpha')})")
    p.add_argument("--epochs", type=int, help=f"passes over the transfer set ({default('epochs')})")
    p.add_argument("--train-size", type=int,
                   help=f"transfer-set size: training images the student sees, 0 = all ({default('train_size')})")
    p.add_argument("--seed", type=int, default=0, help="first seed")
    p.add_argument("--seeds", type=int, default=1, help=f"repeat over seeds S..S+K-1 (K at most {MAX_SEEDS}) "
                   "and report means")
    p.add_argument("--teacher", default="pretrained", help="'pretrained' or a path to a .pt checkpoint")
    p.add_argument("--omit-class", type=int, default=None, metavar="D",
                   help="leave digit D out of the transfer set entirely; report how well it is still recognised")
    p.add_argument("--controls", action="store_true",
                   help="also train a smoothed-label twin and a shuffled-teacher twin: knowledge or just softness?")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_distill)

    sweep = SweepConfig()
    p = sub.add_parser("sweep", help="gain over temperatures × student sizes, repeated over seeds")
    p.add_argument("--students", type=_name_list, default=sweep.students, help="comma-separated presets")
    p.add_argument("--temperatures", type=_float_list, default=sweep.temperatures,
                   help="comma-separated temperatures, each > 0")
    p.add_argument("--seeds", type=int, default=sweep.seeds, help=f"seeds per cell (1-{MAX_SEEDS})")
    p.add_argument("--seed", type=int, default=0, help="first seed")
    p.add_argument("--train-size", type=int, default=sweep.train_size, help="transfer-set size (0 = all)")
    p.add_argument("--epochs", type=int, default=sweep.epochs, help="passes over the transfer set")
    p.add_argument("--alpha", type=float, default=sweep.alpha, help="weight on the soft targets, in [0, 1]")
    p.add_argument("--teacher", default="pretrained", help="'pretrained' or a path to a .pt checkpoint")
    p.add_argument("--controls", action="store_true",
                   help="also train a smoothed-label and a shuffled-teacher twin at every T (rows add their means)")
    _cluster_flag(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help='print {"rows": [...]} as one JSON object')
    out.add_argument("--csv", metavar="PATH", help="also write the rows to a CSV file")
    p.set_defaults(run=cmd_sweep)

    p = sub.add_parser("hinton", help="the paper's MNIST table: 2x1200 teacher, 2x800 students, T = 20")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"epochs for each model; alone it runs the paper's own setup (default: the paper's "
                        f"setup for {FULL_BUDGET_EPOCHS} epochs on a GPU; on a CPU the laptop version, "
                        f"{LAPTOP_TABLE_EPOCHS} epochs with the pretrained CNN as teacher)")
    p.add_argument("--teacher", default=None,
                   help=f"'{PAPER_TEACHER}' (train the paper's 2x1200 teacher), 'pretrained' or a CNN checkpoint path")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, jitter and batch order")
    _cluster_flag(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_hinton)

    p = sub.add_parser("predict", help="what the teacher (and a stored student) make of your own digit image")
    p.add_argument("image", help="a PNG, JPEG or WebP picture of one digit (dark on light or light on dark)")
    p.add_argument("--teacher", default="pretrained", help="'pretrained' or a path to a .pt checkpoint")
    p.add_argument("--run", type=int, default=None, dest="run_id", metavar="RUN_ID",
                   help="also ask the student of this stored distillation run")
    p.add_argument("--temperature", "-T", type=float, default=4.0, help="temperature for the soft targets (default 4)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("extract", help="copy the teacher through nothing but its answers")
    p.add_argument("--queries", type=int, required=True, help="distinct images sent to the teacher's API")
    p.add_argument("--answers", choices=ANSWER_MODES, default="probs",
                   help="what the API returns: probs, top3, label, rounded (to 0.1), or sample (one digit drawn "
                        "from the teacher's probabilities per exchange, like a chat reply)")
    p.add_argument("--samples-per-image", type=int, default=1, metavar="S",
                   help=f"ask each image S times and average the answers (1-{MAX_SAMPLES_PER_IMAGE}); "
                        "exchanges = queries × S")
    p.add_argument("--api-temperature", type=float, default=1.0,
                   help="the temperature at which the API samples its replies (--answers sample)")
    p.add_argument("--source", choices=SOURCES, default="mnist",
                   help="mnist (unlabelled digits), fashion (Fashion-MNIST or generated shapes) or noise")
    p.add_argument("--defence", choices=DEFENCES, default="none",
                   help="noise: perturb returned probabilities afresh on every answer, keeping the top label; "
                        "fixed-noise: the same perturbation whenever the same image is asked")
    p.add_argument("--defence-strength", type=float, default=DEFAULT_NOISE,
                   help="standard deviation of the noise on log-probabilities, in (0, 20]")
    p.add_argument("--student", default=ExtractConfig.student, help=f"the copy's architecture: {', '.join(STUDENT_NAMES)}")
    p.add_argument("--seed", type=int, default=0, help="seed for queries, copy weights and batch order")
    p.add_argument("--teacher", default="pretrained", help="'pretrained' or a path to a .pt checkpoint")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_extract)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ConfigError, TeacherError) as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
