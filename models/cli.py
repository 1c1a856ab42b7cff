"""`python -m models`: the lab without a browser, on the same engine as the app.

Bad values print one line naming the problem and the valid range, and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
import torchvision

from models.config import ConfigError, DistillConfig, TeacherConfig
from models.data import data_root, default_dataset
from models.distill import distill, summarise_seeds
from models.nets import STUDENT_PRESETS, count_params, student_params
from models.teacher import TeacherError, load_teacher, read_sidecar, save_teacher, teacher_logits
from models.training import evaluate, train_teacher

BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr instead of usage plus error."""

    def error(self, message: str):
        self.exit(BAD_INPUT, f"error: {message} (see --help)\n")


def _emit(payload: dict, as_json: bool, lines: list[str]) -> None:
    print(json.dumps(payload) if as_json else "\n".join(lines))


def _note_dataset(dataset) -> None:
    # Which data this is matters to the numbers; say so on stderr so --json stays one object.
    print(f"dataset: {dataset.describe()}", file=sys.stderr)


def cmd_students(args) -> int:
    rows = {name: student_params(name) for name in STUDENT_PRESETS}
    lines = [f"{name:10s} {params:>10,d} parameters" for name, params in rows.items()]
    _emit({"students": rows}, args.json, lines)
    return 0


def cmd_evaluate(args) -> int:
    model = load_teacher(args.teacher)
    dataset = default_dataset()
    _note_dataset(dataset)
    result = {"test_accuracy": evaluate(model, dataset), "params": count_params(model),
              "epochs": read_sidecar(args.teacher).get("epochs"), "dataset": dataset.summary()}
    _emit(result, args.json, [f"teacher {args.teacher}: {result['test_accuracy']:.2%} test accuracy, "
                              f"{result['params']:,} parameters"])
    return 0


def cmd_teacher(args) -> int:
    config = TeacherConfig(epochs=args.epochs, seed=args.seed)
    dataset = default_dataset()
    _note_dataset(dataset)
    model, metrics = train_teacher(config, dataset)
    result = {k: metrics[k] for k in ("test_accuracy", "params", "epochs", "seconds", "dataset", "device")}
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


def cmd_distill(args) -> int:
    if args.seeds < 1:
        raise ConfigError(f"seeds must be at least 1, got {args.seeds}")
    base = DistillConfig(student=args.student, temperature=args.temperature, alpha=args.alpha,
                         train_size=args.train_size, epochs=args.epochs, seed=args.seed,
                         teacher=args.teacher)
    dataset = default_dataset()
    base.check_train_size(dataset.train_size)
    _note_dataset(dataset)
    started = time.perf_counter()
    logits = teacher_logits(base.teacher, dataset)
    results = [distill(base.with_seed(args.seed + k), dataset, logits) for k in range(args.seeds)]
    first = results[0]
    summary = summarise_seeds(results)
    out = {
        "student": base.student, "student_params": first.student_params,
        "teacher_params": first.teacher_params, "teacher_accuracy": first.teacher_accuracy,
        "distilled_accuracy": summary.distilled_mean, "scratch_accuracy": summary.scratch_mean,
        "gain": summary.gain_mean, "seconds": round(time.perf_counter() - started, 2),
        "dataset": dataset.summary(), "temperature": base.temperature, "alpha": base.alpha,
        "train_size": base.train_size, "epochs": base.epochs, "seeds": summary.seeds,
    }
    if args.seeds > 1:
        out |= {"distilled_accuracy_std": summary.distilled_std, "scratch_accuracy_std": summary.scratch_std,
                "gain_std": summary.gain_std, "verdict": summary.verdict}
    lines = [f"{base.student} ({out['student_params']:,} params) vs teacher ({out['teacher_params']:,} params, "
             f"{out['teacher_accuracy']:.2%})",
             f"distilled {out['distilled_accuracy']:.2%}  scratch twin {out['scratch_accuracy']:.2%}  "
             f"gain {out['gain']:+.2%}" + (f"  ({summary.verdict})" if args.seeds > 1 else "")]
    _emit(out, args.json, lines)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m models", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    p = sub.add_parser("students", help="list the student presets and their parameter counts")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_students)

    p = sub.add_parser("evaluate", help="test accuracy and size of a teacher checkpoint")
    p.add_argument("--teacher", default="pretrained", help="'pretrained' or a path to a .pt checkpoint")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("teacher", help="train a teacher CNN on the training set")
    p.add_argument("--epochs", type=int, default=TeacherConfig.epochs, help="passes over the training set")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and batch order")
    p.add_argument("--save", help="write the checkpoint here, with a .json sidecar beside it")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_teacher)

    defaults = DistillConfig()
    p = sub.add_parser("distill", help="distil a student and train its scratch twin")
    p.add_argument("--student", default=defaults.student, help=f"one of: {', '.join(STUDENT_PRESETS)}")
    p.add_argument("--temperature", "-T", type=float, default=defaults.temperature,
                   help="softmax temperature T > 0 for the soft targets")
    p.add_argument("--alpha", type=float, default=defaults.alpha,
                   help="weight on the teacher's soft targets, in [0, 1]")
    p.add_argument("--epochs", type=int, default=defaults.epochs, help="passes over the transfer set")
    p.add_argument("--train-size", type=int, default=defaults.train_size,
                   help="transfer-set size: training images the student sees (0 = all)")
    p.add_argument("--seed", type=int, default=0, help="first seed")
    p.add_argument("--seeds", type=int, default=1, help="repeat over seeds S..S+K-1 and report means")
    p.add_argument("--teacher", default="pretrained", help="'pretrained' or a path to a .pt checkpoint")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_distill)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ConfigError, TeacherError) as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
