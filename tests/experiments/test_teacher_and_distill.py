import pytest
import torch

from models.base.configs import STUDENT_NAMES, ConfigError, DistillConfig, TeacherConfig, TeacherError
from models.experiments.distill import distill, transfer_indices
from models.experiments.missing_digit import validation_indices
from models.core.nets import TeacherCNN, count_params, student_params
from models.core.checkpoints import load_teacher, read_sidecar, save_teacher, teacher_logits
from models.core.training import accuracy, evaluate
from models.experiments.teacher import train_teacher


def test_presets_span_two_orders_of_magnitude_and_the_teacher_is_largest():
    sizes = {name: student_params(name) for name in STUDENT_NAMES}
    assert {"mlp-10", "mlp-30", "mlp-100", "mlp-300", "mlp-800"} <= set(sizes)
    assert max(sizes.values()) / min(sizes.values()) >= 100
    assert sizes["mlp-800"] == 784 * 800 + 800 + 800 * 800 + 800 + 800 * 10 + 10
    assert count_params(TeacherCNN()) > max(sizes.values())


def test_pretrained_teacher_loads_and_is_accurate(sample):
    model = load_teacher("pretrained")
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    logits = teacher_logits("pretrained", sample)
    assert logits.train.shape == (8000, 10) and logits.test.shape == (10000, 10)
    assert accuracy(logits.test, sample.test_y) > 0.99
    sidecar = read_sidecar("pretrained")
    assert sidecar["test_accuracy"] > 0.99 and sidecar["dataset"]["train_size"] == 60000
    assert {"command", "seed", "seconds", "versions"} <= set(sidecar)


def test_teacher_logits_are_cached_on_disk(sample, isolated_lab):
    first = teacher_logits("pretrained", sample)
    cached = list((isolated_lab / "cache").glob("logits-*.pt"))
    assert len(cached) == 1
    from models.core import checkpoints as teacher
    teacher._memory.clear()
    again = teacher_logits("pretrained", sample)
    assert torch.equal(first.train, again.train)


@pytest.mark.parametrize("content", [b"not a checkpoint", None])
def test_missing_or_corrupt_checkpoint_is_a_clear_error(tmp_path, content):
    path = tmp_path / "teacher.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TeacherError, match="train"):
        load_teacher(str(path))


def test_checkpoint_with_wrong_tensors_is_rejected(tmp_path):
    state = TeacherCNN().state_dict()
    state["fc2.weight"] = torch.full_like(state["fc2.weight"], float("nan"))
    path = tmp_path / "nan.pt"
    torch.save(state, path)
    with pytest.raises(TeacherError, match="NaN"):
        load_teacher(str(path))


def test_train_teacher_for_one_epoch_on_the_sample(sample, tmp_path):
    seen = []
    model, result = train_teacher(TeacherConfig(epochs=1), sample, seen.append)
    assert result.test_accuracy > 0.8  # 8,000 images, one epoch
    assert result.test_accuracy == pytest.approx(evaluate(model, sample))
    assert result.params == count_params(model) and result.curves == [{"epoch": 1, "teacher": result.test_accuracy}]
    # 8,000 images in batches of 256 = 32 steps: one live loss point (step 20), then the epoch's end.
    assert [(p.epoch_end, len(p.losses)) for p in seen] == [(False, 1), (True, 1)]
    assert seen[0].epoch == pytest.approx(20 / 32, abs=1e-3) and seen[-1].curves == result.curves
    save_teacher(model.state_dict(), tmp_path / "t.pt", {"epochs": 1})
    assert torch.equal(load_teacher(str(tmp_path / "t.pt")).fc2.weight, model.fc2.weight)


def test_distill_reports_measured_accuracies_and_curves(sample):
    config = DistillConfig(student="mlp-30", train_size=1000, epochs=12, seed=1)
    seen = []
    result, weights = distill(config, sample, on_progress=seen.append)
    assert [p["epoch"] for p in result.curves] == list(range(1, 13)) and [p.epoch for p in seen] == list(range(1, 13))
    assert seen[-1].curves == result.curves and all(p.of == 12 and p.epoch_end for p in seen)
    assert 0.7 < result.distilled_accuracy <= 1 and 0.7 < result.scratch_accuracy <= 1
    assert result.gain == pytest.approx(result.distilled_accuracy - result.scratch_accuracy)
    assert result.student_params == student_params("mlp-30")
    assert result.dataset["train_size"] == 8000
    # Same config, same numbers: the run is reproducible.
    assert distill(config, sample)[0].distilled_accuracy == result.distilled_accuracy
    from models.core.checkpoints import load_student
    assert evaluate(load_student("mlp-30", weights), sample) == result.distilled_accuracy


def test_alpha_zero_student_equals_its_twin(sample):
    """With no weight on the teacher the student *is* the twin: same start, same batches, same loss."""
    result, _ = distill(DistillConfig(student="mlp-10", alpha=0.0, train_size=500, epochs=2), sample)
    assert result.distilled_accuracy == result.scratch_accuracy


def test_transfer_set_is_a_seeded_subset_and_can_omit_a_class(sample):
    a = transfer_indices(0, 300, sample.train_y)
    b = transfer_indices(1, 300, sample.train_y)
    assert len(a) == 300 and len(set(a.tolist())) == 300 and not torch.equal(a, b)
    no_threes = transfer_indices(0, 0, sample.train_y, omit_class=3)
    validation = validation_indices(sample.train_size)
    assert len(validation) == 800
    assert (sample.train_y[no_threes] != 3).all()
    assert not torch.isin(no_threes, validation).any()  # the bias-shift split never trains the student
    expected = ((sample.train_y != 3) & ~torch.isin(torch.arange(8000), validation)).sum()
    assert len(no_threes) == expected


@pytest.mark.parametrize("values, message", [
    (dict(temperature=0), "temperature"), (dict(temperature=float("nan")), "temperature"),
    (dict(alpha=1.5), r"alpha must lie in \[0, 1\]"), (dict(alpha=-0.1), "alpha"),
    (dict(student="mlp-7"), "unknown student"), (dict(epochs=0), "epochs"),
])
def test_bad_distill_values_name_the_problem(values, message):
    with pytest.raises(ConfigError, match=message):
        DistillConfig(**values)


def test_train_size_larger_than_the_data_is_rejected(sample):
    with pytest.raises(ConfigError, match="between 1 and 8000"):
        distill(DistillConfig(train_size=9000), sample)


def test_pooling_before_relu_is_the_same_teacher_so_older_checkpoints_answer_alike():
    """The layout changed (pool, then ReLU; no dropout module): the bundled checkpoint, trained with
    ReLU-then-pool and dropout 0.3, must give exactly the answers it gave before."""
    import torch.nn.functional as F
    model = load_teacher("pretrained")
    images = torch.randn(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))

    def old_layout(x):
        x = F.max_pool2d(F.relu(model.conv1(x)), 2)
        x = F.max_pool2d(F.relu(model.conv2(x)), 2)
        return model.fc2(F.relu(model.fc1(x.flatten(1))))

    with torch.no_grad():
        assert torch.equal(model(images), old_layout(images))
    assert dict(TeacherCNN(dropout=0.3).state_dict().items()).keys() == TeacherCNN().state_dict().keys()


def test_teacher_dropout_and_learning_rate_are_recorded_and_checked():
    assert TeacherConfig().dropout == 0.0 and isinstance(TeacherCNN(dropout=0.3).dropout, torch.nn.Dropout)
    assert isinstance(TeacherCNN().dropout, torch.nn.Identity)  # no random mask drawn when it is off
    for bad in [dict(dropout=1.0), dict(dropout=-0.1), dict(max_lr=0.0), dict(max_lr=float("nan"))]:
        with pytest.raises(ConfigError):
            TeacherConfig(**bad)
    assert "--dropout 0.3" in read_sidecar("pretrained")["command"]  # the recipe that made the bundled teacher


def test_the_teachers_answers_reach_the_student_and_only_the_student(sample):
    """A refactor that drops the soft-target term (alpha passed as 0) must fail here. With
    alpha = 1 the student learns only from the teacher, so scrambling which image gets which answer
    must change it; the twin never sees the teacher, so it must stay bit-identical."""
    from models.core.checkpoints import TeacherLogits
    config = DistillConfig(student="mlp-10", train_size=500, epochs=3, alpha=1.0, temperature=4.0)
    real = teacher_logits("pretrained", sample)
    rows = torch.randperm(len(real.train), generator=torch.Generator().manual_seed(0))
    scrambled = TeacherLogits(real.train[rows], real.test)
    honest, honest_weights = distill(config, sample, real)
    confused, confused_weights = distill(config, sample, scrambled)
    assert honest.distilled_accuracy - confused.distilled_accuracy > 0.1  # answers for other images teach little
    twin = [key for key in honest_weights if key.startswith("twin.")]
    assert twin and all(torch.equal(honest_weights[k], confused_weights[k]) for k in twin)
    assert honest.scratch_accuracy == confused.scratch_accuracy


def test_a_runs_gain_comes_with_its_test_set_part(sample):
    """The digits only one of the pair gets right are the whole gain, and give its test-set error."""
    result, _ = distill(DistillConfig(student="mlp-10", train_size=500, epochs=3), sample)
    only_student, only_twin = result.discordant
    assert (only_student - only_twin) / 10_000 == pytest.approx(result.gain, abs=1e-6)
    n = 10_000
    p_student, p_twin = only_student / n, only_twin / n
    assert result.gain_test_se == pytest.approx(((p_student + p_twin - (p_student - p_twin) ** 2) / n) ** 0.5)
    assert 0 < result.gain_mcnemar_p <= 1


def test_learning_curves_are_drawn_on_validation_and_the_test_set_is_read_once(sample):
    """No choice can be made on the test set while watching the curves: they are on the
    validation images the run never trained on; the test accuracy is measured once, at the end."""
    from models.core.checkpoints import load_student
    from models.experiments.distill import watched_split
    config = DistillConfig(student="mlp-10", train_size=500, epochs=2)
    result, weights = distill(config, sample)
    index = transfer_indices(config.seed, config.train_size, sample.train_y)
    watch_x, watch_y = watched_split(sample, index)
    assert len(watch_y) == len(validation_indices(sample.train_size)) - int(
        torch.isin(index, validation_indices(sample.train_size)).sum())
    student = load_student("mlp-10", weights)
    assert result.curves[-1]["distilled"] == pytest.approx(accuracy(student(watch_x), watch_y))
    assert result.distilled_accuracy == pytest.approx(accuracy(student(sample.test_x), sample.test_y))
