"""Feature distillation (FitNets hint and cosine): the loss, the regressor, the student's gradient,
and the term reaching a real run."""
import dataclasses

import pytest
import torch

from models.base.configs import ConfigError, DistillConfig
from models.core.features import HintedStudent, teacher_features
from models.core.loss import distillation_loss, feature_distillation_loss, feature_loss
from models.core.checkpoints import load_teacher
from models.core.nets import build_student
from models.experiments.distill import distill

TINY = DistillConfig(student="mlp-10", train_size=200, epochs=2, feature="hint", beta=1.0)


@pytest.mark.parametrize("kind", ["hint", "cosine"])
def test_the_feature_loss_is_zero_when_the_features_match_and_grows_with_their_distance(kind):
    teacher = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))
    away = torch.randn(8, 16, generator=torch.Generator().manual_seed(1))
    assert feature_loss(teacher.clone(), teacher, kind).item() == pytest.approx(0, abs=1e-6)
    losses = [feature_loss(teacher + step * away, teacher, kind).item() for step in (0.1, 0.5, 1.0, 3.0)]
    assert losses == sorted(losses) and losses[0] > 0
    if kind == "cosine":  # only the direction counts: a scaled copy is a perfect match
        assert feature_loss(3 * teacher, teacher, kind).item() == pytest.approx(0, abs=1e-6)


def test_the_regressor_and_the_students_own_layers_get_gradient_from_the_feature_term():
    torch.manual_seed(0)
    model = HintedStudent(build_student("mlp-10"), 256)
    images = torch.randn(4, 1, 28, 28)
    projected, _ = model.projected_and_logits(images)
    feature_loss(projected, torch.randn(4, 256), "hint").backward()  # the feature term alone
    assert model.regressor.weight.grad.abs().sum() > 0
    assert model.student.net[1].weight.grad.abs().sum() > 0  # the student's first layer, through its hidden layer
    assert model.student.net[-1].weight.grad is None  # the read-out is not on the feature path


def test_the_combined_loss_is_hintons_plus_beta_times_the_feature_term():
    logits, teacher_logits, labels = torch.randn(4, 10), torch.randn(4, 10), torch.tensor([1, 2, 3, 4])
    projected, targets = torch.randn(4, 6), torch.randn(4, 6)
    hinton = distillation_loss(logits, teacher_logits, labels, 4.0, 0.9)
    for beta in (0.0, 2.5):
        got = feature_distillation_loss(logits, projected, teacher_logits, targets, labels, 4.0, 0.9, beta, "hint")
        assert got.item() == pytest.approx((hinton + beta * feature_loss(projected, targets, "hint")).item())


def test_the_teachers_layers_have_the_shapes_the_regressor_maps_onto(sample):
    teacher = load_teacher("pretrained")
    assert teacher_features(teacher, sample.train_x[:5], "conv2").shape == (5, 256)
    assert teacher_features(teacher, sample.train_x[:5], "fc1").shape == (5, 5120)


def test_the_feature_term_reaches_the_student_and_leaves_its_twin_alone(sample):
    """Catches the term being dropped on the way (β multiplied by nothing, the student not wrapped,
    the targets not passed): the student must then train differently from a logits-only run."""
    plain_result, plain = distill(dataclasses.replace(TINY, feature="none", beta=0.0), sample)
    hinted_result, hinted = distill(TINY, sample)
    student_keys = [k for k in plain if not k.startswith("twin.")]
    assert set(hinted) == set(plain)  # the regressor is not kept: a stored student loads as before
    assert any(not torch.equal(plain[k], hinted[k]) for k in student_keys)
    assert all(torch.equal(plain[k], hinted[k]) for k in plain if k.startswith("twin."))  # the same twin
    assert hinted_result.scratch_accuracy == plain_result.scratch_accuracy
    assert hinted_result.student_params == plain_result.student_params  # the regressor is not counted


@pytest.mark.parametrize("change, says", [
    (dict(beta=-1.0), "beta"), (dict(beta=float("inf")), "beta"), (dict(beta=0.0), "needs a weight beta"),
    (dict(feature="gram"), "unknown feature loss"), (dict(feature_layer="fc9"), "unknown teacher layer"),
    (dict(feature="none"), "none was chosen"),
])
def test_bad_feature_settings_get_one_sentence(change, says):
    with pytest.raises(ConfigError, match=says):
        dataclasses.replace(TINY, **change)


def test_attention_transfer_compares_maps_of_one_shape_and_reaches_the_cnn_student(sample):
    """Teacher and cnn-tiny both have 8 × 8 conv2 maps: one unit-length map per image each, no regressor."""
    from models.core.features import student_attention_and_logits
    teacher_maps = teacher_features(load_teacher("pretrained"), sample.train_x[:5], "conv2", attention=True)
    student = build_student("cnn-tiny")
    maps, logits = student_attention_and_logits(student, sample.train_x[:5])
    assert teacher_maps.shape == maps.shape == (5, 64)
    assert torch.allclose(teacher_maps.norm(dim=1), torch.ones(5), atol=1e-5)
    assert torch.allclose(logits, student(sample.train_x[:5]), atol=1e-6)  # the same forward pass as the student's
    assert feature_loss(teacher_maps, teacher_maps, "attention").item() == pytest.approx(0, abs=1e-6)
    attention = dataclasses.replace(TINY, student="cnn-tiny", feature="attention")
    _, plain = distill(dataclasses.replace(attention, feature="none", beta=0.0), sample)
    _, moved = distill(attention, sample)
    assert any(not torch.equal(plain[k], moved[k]) for k in plain if not k.startswith("twin."))
    assert all(torch.equal(plain[k], moved[k]) for k in plain if k.startswith("twin."))


def test_attention_transfer_needs_a_student_with_maps():
    with pytest.raises(ConfigError, match="needs the cnn-tiny student"):
        dataclasses.replace(TINY, feature="attention")
