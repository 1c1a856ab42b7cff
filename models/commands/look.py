"""Commands that train nothing: the presets, a checkpoint's accuracy, your own digit."""
from __future__ import annotations

from models.commands.common import dataset, emit
from models.base.configs import STUDENT_NAMES
from models.base.errors import ConfigError

MAX_IMAGE_BYTES = 20_000_000  # predict reads the file whole: a photo, not a disk image


def cmd_students(args) -> int:
    from models.core.nets import student_params
    rows = {name: student_params(name) for name in STUDENT_NAMES}
    lines = [f"{name:10s} {params:>10,d} parameters" for name, params in rows.items()]
    emit({"students": rows}, args.json, lines)
    return 0


def cmd_evaluate(args) -> int:
    from models.core.checkpoints import read_sidecar
    from models.core.nets import count_params
    from models.core.training import evaluate
    from models.service.export import load_model
    model = load_model(args.teacher)  # a teacher checkpoint, or a student downloaded from the app
    card = read_sidecar(args.teacher)
    data = dataset()
    result = {"test_accuracy": evaluate(model, data), "params": count_params(model),
              "epochs": card.get("epochs"), "kind": card.get("kind", "teacher"), "dataset": data.summary()}
    emit(result, args.json, [f"{result['kind']} {args.teacher}: {result['test_accuracy']:.2%} test accuracy, "
                             f"{result['params']:,} parameters"])
    return 0


def cmd_predict(args) -> int:
    from pathlib import Path

    from models.base.configs import check_temperature
    check_temperature(args.temperature)
    path = Path(args.image)
    if not path.is_file():
        raise ConfigError(f"image {args.image} {'is a directory' if path.is_dir() else 'does not exist'}")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise ConfigError(f"image {args.image} is larger than {MAX_IMAGE_BYTES // 1_000_000} MB; send a smaller one")
    from models.core.digit import read_digit
    from models.core.training import predict_logits
    from models.service.export import load_model
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
    emit(out, args.json, lines)
    return 0


def _stored_student(run_id: int):
    """A finished distillation's student from the store, or ConfigError naming what is wrong."""
    from models.core.checkpoints import load_student
    from models.service.store import RunStore
    if not 1 <= run_id < 2**63:  # SQLite's integers: a larger id cannot name a run (and overflows)
        raise ConfigError(f"run {run_id} is not a distillation run in this lab's store")
    store = RunStore()
    run = store.get(run_id)
    if run is None or run.kind != "distill":
        raise ConfigError(f"run {run_id} is not a distillation run in this lab's store")
    if run.status != "done" or not store.has_weights(run_id):
        raise ConfigError(f"run {run_id} is {run.status} and has no stored student")
    return load_student(run.result.student, store.weights(run_id)), run
