"""`distill`: a student and its scratch twin over seeds, with the gain's interval and verdict."""
from __future__ import annotations

import dataclasses
import statistics
import time

from models.commands.common import dataset, emit, run_each, run_store
from models.base.configs import DEFAULT_BETA, MISSING_DIGIT_DEFAULTS, DistillConfig, check_seeds


def distill_config(args) -> DistillConfig:
    # An omit-class run starts from the paper-like missing-digit defaults; flags given override either.
    base = MISSING_DIGIT_DEFAULTS if args.omit_class is not None else DistillConfig()
    given = {key: value for key, value in dict(student=args.student, temperature=args.temperature, alpha=args.alpha,
                                               train_size=args.train_size, epochs=args.epochs).items()
             if value is not None}
    beta = args.beta if args.beta is not None else (DEFAULT_BETA if args.feature != "none" else 0.0)
    return dataclasses.replace(base, **given, seed=args.seed, teacher=args.teacher, omit_class=args.omit_class,
                               controls=args.controls, feature=args.feature, beta=beta, feature_layer=args.feature_layer)


def cmd_distill(args) -> int:
    base = distill_config(args)
    check_seeds(args.seed, args.seeds)
    import uuid

    from models.core.checkpoints import teacher_logits
    from models.core.data import default_dataset
    from models.core.stats import summarise
    from models.base.results import MISSING_DIGIT_FIGURES
    base.check_train_size(default_dataset().train_size)
    teacher_logits(base.teacher, default_dataset())  # a bad checkpoint is bad input: refuse before any run
    configs = [base.with_seed(args.seed + k) for k in range(args.seeds)]
    with run_store(args) as store:
        data = dataset()
        started = time.perf_counter()
        results = run_each(store, configs, "python -m models distill",
                           group=f"distill-{uuid.uuid4().hex[:8]}" if args.seeds > 1 else "")
    first = results[0]
    summary = summarise([c.seed for c in configs], [r.distilled_accuracy for r in results],
                        [r.scratch_accuracy for r in results])
    out = {
        "student": base.student, "student_params": first.student_params,
        "teacher_params": first.teacher_params, "teacher_accuracy": first.teacher_accuracy,
        "distilled_accuracy": summary.distilled_mean, "scratch_accuracy": summary.scratch_mean,
        "gain": summary.gain_mean, "seconds": round(time.perf_counter() - started, 2),
        "dataset": data.summary(), "temperature": base.temperature, "alpha": base.alpha,
        "train_size": base.train_size, "epochs": base.epochs, "seeds": summary.seeds,
        "feature": base.feature, "beta": base.beta, "feature_layer": base.feature_layer,
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
        from models.core.stats import controls_summary
        for key in ("smoothed_accuracy", "shuffled_accuracy"):
            out[key] = statistics.fmean(getattr(r, key) for r in results)
        controls = controls_summary(*([getattr(r, key) for r in results] for key in (
            "distilled_accuracy", "scratch_accuracy", "smoothed_accuracy", "shuffled_accuracy")))
        out |= {"controls_verdict": controls.verdict,
                "beyond_smoothed": controls.beyond_smoothed_mean, "beyond_smoothed_ci": controls.beyond_smoothed_ci,
                "beyond_shuffled": controls.beyond_shuffled_mean, "beyond_shuffled_ci": controls.beyond_shuffled_ci,
                "softness": controls.softness_mean, "softness_ci": controls.softness_ci}
        lines_extra.append(f"controls: smoothed-label twin {out['smoothed_accuracy']:.2%}, "
                           f"shuffled-teacher twin {out['shuffled_accuracy']:.2%} ({controls.verdict})")
    out |= {"distilled_accuracy_std": summary.distilled_std, "scratch_accuracy_std": summary.scratch_std,
            "gain_std": summary.gain_std, "gain_ci_low": summary.gain_ci_low, "gain_ci_high": summary.gain_ci_high,
            "verdict": summary.verdict, "teacher_digest": first.teacher_digest,
            "teacher_mistakes_shared": statistics.fmean(r.teacher_mistakes_shared for r in results),
            "scratch_mistakes_shared": statistics.fmean(r.scratch_mistakes_shared for r in results),
            # Means over seeds; the paired tests are per seed (student against its own twin, same digits).
            "teacher_second_choice_shared": statistics.fmean(r.teacher_second_choice_shared for r in results),
            "scratch_second_choice_shared": statistics.fmean(r.scratch_second_choice_shared for r in results),
            "mistakes_mcnemar_p": first.mistakes_mcnemar_p,
            "second_choice_mcnemar_p": first.second_choice_mcnemar_p,
            "mcnemar_p_by_seed": [{"seed": c.seed, "mistakes": r.mistakes_mcnemar_p,
                                   "second_choice": r.second_choice_mcnemar_p} for c, r in zip(configs, results)]}
    interval = (f", 95 % interval {summary.gain_ci_low * 100:+.2f} to {summary.gain_ci_high * 100:+.2f} points"
                if summary.gain_ci_low is not None else "")
    lines = [f"{base.student} ({out['student_params']:,} params) vs teacher ({out['teacher_params']:,} params, "
             f"{out['teacher_accuracy']:.2%})",
             f"distilled {out['distilled_accuracy']:.2%}  scratch twin {out['scratch_accuracy']:.2%}  "
             f"gain {out['gain'] * 100:+.2f} points{interval}  ({summary.verdict})", *lines_extra]
    emit(out, args.json, lines)
    return 0
