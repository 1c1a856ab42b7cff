"""The stored defaults: shipped results that match today's page defaults, read back as finished runs."""
import dataclasses
import json

import pytest

from models.base.results import DistillResult
from models.service import stored_defaults as sd
from models.service.kinds import kind_of


def test_the_shipped_file_holds_every_pages_default_as_it_is_today():
    """A changed default without a rerun of the recorded command would show a stale result: fail here."""
    stored = sd.read_stored_defaults(sd.STORED_DEFAULTS)
    assert stored is not None, f"run `{sd.COMMAND}` on full MNIST"
    assert stored.command == sd.COMMAND
    for page, configs in sd.page_defaults().items():
        runs = stored.runs[page]
        assert [dataclasses.asdict(r.config) for r in runs] == [dataclasses.asdict(c) for c in configs], page
        assert all(r.status == "done" and r.id < 0 and r.kind == kind_of(r.config) for r in runs)
        assert all(r.result is not None for r in runs)
    ids = [r.id for runs in stored.runs.values() for r in runs]
    assert len(ids) == len(set(ids))  # one page's drawing keys never collide with another's
    assert stored.dataset["train_size"] == 60_000, "made on full MNIST, as the pages say"


def test_the_start_pages_picture_is_a_digit_the_teacher_gets_right():
    picture = sd.read_stored_defaults(sd.STORED_DEFAULTS).picture
    assert len(picture["pixels"]) == 28 and all(len(row) == 28 for row in picture["pixels"])
    logits = picture["teacher_logits"]
    assert len(logits) == 10 and max(range(10), key=logits.__getitem__) == picture["label"]


def _write(tmp_path, distilled: float):
    result = DistillResult(student="mlp-100", student_params=89_610, teacher_params=1, teacher_accuracy=0.99,
                           distilled_accuracy=distilled, scratch_accuracy=0.9, gain=distilled - 0.9, seconds=1.0,
                           dataset={"name": "MNIST", "train_size": 60_000, "test_size": 10_000})
    config = sd.page_defaults()["distill"][0]
    path = tmp_path / "stored.json"
    path.write_text(json.dumps(sd.record({"distill": [config]}, lambda configs: [
        type("R", (), {"config": c, "result": result})() for c in configs], result.dataset, None)))
    return path


def test_a_file_written_by_record_reads_back_as_the_same_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DISTILL_STORED_DEFAULTS", str(_write(tmp_path, 0.95)))
    run = sd.stored_runs("distill")[0]
    assert run.result.distilled_accuracy == 0.95 and run.config == sd.page_defaults()["distill"][0]
    assert sd.stored_runs("chat_copy") == []
    assert "60,000 training images" in sd.stored_defaults().describe()


@pytest.mark.parametrize("content", [None, "not json", "{}", '{"command": "x"}'])
def test_a_missing_or_damaged_file_means_no_stored_result(tmp_path, monkeypatch, content):
    path = tmp_path / "stored.json"
    if content is not None:
        path.write_text(content)
    monkeypatch.setenv("DISTILL_STORED_DEFAULTS", str(path))
    assert sd.stored_defaults() is None and sd.stored_runs("distill") == []
