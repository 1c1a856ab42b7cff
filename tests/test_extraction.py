import pytest
import torch

from models.config import ANSWER_MODES, ConfigError, DetectorConfig, ExtractConfig
from models.data import Dataset
from models.detector import run_detector
from models.extraction import PredictionAPI, answer_costs, answers_to_targets, run_extraction
from models.queries import accounts_needed, days_needed, query_set, strokes_and_shapes
from models.teacher import load_teacher


@pytest.fixture(scope="module")
def teacher():
    return load_teacher("pretrained")


def test_api_counts_every_query(teacher, sample):
    api = PredictionAPI(teacher, "probs")
    api.query(sample.test_x[:10])
    api.query(sample.test_x[:25])
    assert api.queries_served == 35


def test_label_mode_never_leaks_probabilities(teacher, sample):
    api = PredictionAPI(teacher, "label")
    answers = api.query(sample.test_x[:200])
    assert answers.dtype == torch.int64 and answers.shape == (200,)
    assert set(answers.unique().tolist()) <= set(range(10))
    targets = answers_to_targets(answers, temperature=4.0)  # re-softening cannot invent information
    assert set(targets.unique().tolist()) == {0.0, 1.0}


def test_answer_modes_shapes_and_content(teacher, sample):
    images = sample.test_x[:100]
    full = PredictionAPI(teacher, "probs").query(images)
    assert torch.allclose(full.sum(1), torch.ones(100))
    top3 = PredictionAPI(teacher, "top3").query(images)
    assert ((top3 > 0).sum(1) <= 3).all() and torch.equal(top3.argmax(1), full.argmax(1))
    rounded = PredictionAPI(teacher, "rounded").query(images)
    assert torch.allclose(rounded * 10, (rounded * 10).round())


def test_noise_defence_changes_probabilities_but_never_the_top_label(teacher, sample):
    images = sample.test_x[:500]
    clean = PredictionAPI(teacher, "probs").query(images)
    noisy = PredictionAPI(teacher, "probs", defence="noise").query(images)
    assert torch.equal(clean.argmax(1), noisy.argmax(1))
    assert (clean - noisy).abs().max() > 0.01 and torch.allclose(noisy.sum(1), torch.ones(500))


def test_full_probabilities_let_the_copier_recover_tempered_soft_targets(teacher, sample):
    logits = teacher(sample.test_x[:20])
    probs = PredictionAPI(teacher, "probs").query(sample.test_x[:20])
    assert torch.allclose(answers_to_targets(probs, 4.0), (logits / 4.0).softmax(1), atol=1e-4)


def test_copier_never_reads_dataset_labels(sample):
    generator = torch.Generator().manual_seed(1)
    shuffled = Dataset(sample.name, sample.train_x, sample.train_y[torch.randperm(sample.train_size, generator=generator)],
                       sample.test_x, sample.test_y)
    config = ExtractConfig(queries=300, answers="probs", source="mnist", student="mlp-30")
    first, second = run_extraction(config, sample), run_extraction(config, shuffled)
    assert first.copy_accuracy == second.copy_accuracy and first.fidelity == second.fidelity


def test_extraction_result_is_graded_on_the_test_set(sample):
    result = run_extraction(ExtractConfig(queries=1000, answers="label", source="mnist", student="mlp-30"), sample)
    assert result.queries == 1000 and result.student_params == 24790
    assert 0.7 < result.copy_accuracy <= 1 and 0.7 < result.fidelity <= 1
    assert result.teacher_accuracy > 0.99


def test_query_sources_without_fashion_mnist(sample, monkeypatch):
    monkeypatch.setenv("DISTILL_FASHION", "none")
    queries = query_set("fashion", 50, 0, sample)
    assert queries.name == "generated strokes and shapes" and "not on this machine" in queries.notice
    assert queries.images.shape == (50, 1, 28, 28)
    noise = query_set("noise", 50, 0, sample)
    assert noise.images.shape == (50, 1, 28, 28) and noise.notice == ""
    with pytest.raises(ConfigError, match="between 1 and 8000"):
        query_set("mnist", 9000, 0, sample)


def test_strokes_look_like_ink_on_paper():
    images = strokes_and_shapes(20, torch.Generator().manual_seed(0))
    assert images.shape == (20, 28, 28) and images.min() >= 0 and images.max() <= 1
    ink = (images > 0.5).float().mean((1, 2))
    assert (ink > 0.01).all() and (ink < 0.5).all()


def test_detector_tells_copiers_from_honest_users(sample, monkeypatch):
    monkeypatch.setenv("DISTILL_FASHION", "none")
    report = run_detector(DetectorConfig(queries_per_account=300, honest_accounts=100, copier_accounts=50), sample)
    assert report.honest_false_alarm_rate <= 0.05
    assert report.copiers["noise"].detection_rate >= 0.95
    assert report.copiers["fashion"].detection_rate >= 0.95
    assert report.copiers["mnist"].detection_rate <= 0.1  # in-distribution copying looks honest


def test_answer_costs_for_honest_users(teacher, sample):
    costs = {(c["answers"], c["defence"]): c for c in answer_costs(teacher, sample)}
    assert set(costs) == {(a, "none") for a in ANSWER_MODES} | {("probs", "noise")}
    assert all(c["top_label_agreement"] == 1.0 for key, c in costs.items() if key[0] != "rounded")
    assert costs[("rounded", "none")]["top_label_agreement"] >= 0.999  # rounding can tie the top two
    assert costs[("probs", "none")]["distortion"] < 1e-6
    assert costs[("label", "none")]["distortion"] > costs[("top3", "none")]["distortion"]
    assert costs[("probs", "noise")]["distortion"] > 100 * costs[("probs", "none")]["distortion"]


def test_accounts_needed():
    assert accounts_needed(16_000_000, 670, 1) == 23881
    assert accounts_needed(1000, 100, 3) == 4
    assert days_needed(16_000_000, 100, 24_000) == 7  # 6.67 days, rounded up
    assert accounts_needed(10**30 + 1, 1, 1) == 10**30 + 1  # exact for big integers, unlike float division


def test_a_strong_noise_defence_slows_the_copier(sample):
    base = ExtractConfig(queries=1000, answers="probs", source="mnist", student="mlp-30")
    clean = run_extraction(base, sample)
    defended = run_extraction(ExtractConfig(**{**base.__dict__, "defence": "noise", "defence_strength": 8.0}), sample)
    assert defended.fidelity < clean.fidelity - 0.01
    assert defended.defence_strength == 8.0 and clean.defence_strength is None


def test_defence_strength_must_be_positive():
    with pytest.raises(ConfigError, match="defence strength"):
        ExtractConfig(defence="noise", defence_strength=0.0)
