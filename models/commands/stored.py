"""`stored-defaults`: run every page's default submission and keep the results the pages open on
(models/service/stored_defaults.py)."""
from __future__ import annotations

import json

from models.commands.common import dataset, emit, finished
from models.base.errors import ConfigError

RUNNER_UP_TARGET = 0.05  # the start page's digit: right, with a runner-up near 5 % at T = 1 (visible, not a toss-up)


def start_picture(data, logits) -> dict:
    """A test digit the teacher gets right while giving its runner-up about 5 %: the start page's
    picture, with the teacher's raw scores so the page can redo the softmax at any T without torch."""
    probs = logits.test.softmax(1)
    top2 = probs.topk(2, dim=1)
    right = top2.indices[:, 0] == data.test_y
    distance = (top2.values[:, 1] - RUNNER_UP_TARGET).abs()
    distance[~right] = float("inf")
    index = int(distance.argmin())
    pixels = data.test_image(index)
    return {"test_index": index, "label": int(data.test_y[index]), "teacher": "pretrained",
            "pixels": [[int(v) for v in row] for row in pixels.tolist()],
            "teacher_logits": [round(float(v), 5) for v in logits.test[index]]}


def cmd_stored_defaults(args) -> int:
    import tempfile
    from pathlib import Path

    from models.core.checkpoints import teacher_logits
    from models.service.runner import run_here
    from models.service.store import RunStore
    from models.service.stored_defaults import STORED_DEFAULTS, page_defaults, record

    pages = page_defaults()
    unknown = set(args.pages or ()) - set(pages)
    if unknown:
        raise ConfigError(f"unknown page {sorted(unknown)[0]!r}; choose from: {', '.join(pages)}")
    chosen = {page: configs for page, configs in pages.items() if not args.pages or page in args.pages}
    data = dataset()
    with tempfile.TemporaryDirectory(prefix="distillation-lab-") as folder:
        store = RunStore(Path(folder) / "lab.sqlite")

        def run_all(configs: list) -> list:
            runs = [run_here(store, config, "stored default") for config in configs]
            finished(runs)
            return runs
        contents = record(chosen, run_all, data.summary(), start_picture(data, teacher_logits("pretrained", data)))
    if args.pages and STORED_DEFAULTS.exists():  # refresh only the pages named, keep the others
        kept = json.loads(STORED_DEFAULTS.read_text())
        contents["runs"] = {**kept.get("runs", {}), **contents["runs"]}
    if args.write:
        STORED_DEFAULTS.write_text(json.dumps(contents, indent=1) + "\n")
    counts = {page: len(rows) for page, rows in contents["runs"].items()}
    emit({"pages": counts, "written": bool(args.write), "dataset": contents["dataset"]}, args.json,
         [f"{page}: {n} run(s)" for page, n in counts.items()]
         + [f"written to {STORED_DEFAULTS.name}" if args.write else "not written (add --write)"])
    return 0
