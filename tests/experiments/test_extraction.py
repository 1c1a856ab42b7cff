import pytest
import torch

from models.base.configs import ANSWER_MODES, ConfigError, DetectorConfig, ExtractConfig
from models.core.data import Dataset
from models.experiments.detector import run_detector
from models.experiments.extraction import PredictionAPI, answer_costs, answers_to_targets, run_extraction
from models.experiments.queries import accounts_needed, days_needed, query_set, strokes_and_shapes
from models.core.checkpoints import load_teacher


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
    (first, _), (second, _) = run_extraction(config, sample), run_extraction(config, shuffled)
    assert first.copy_accuracy == second.copy_accuracy and first.fidelity == second.fidelity


def test_extraction_result_is_graded_on_the_test_set(sample):
    result, weights = run_extraction(ExtractConfig(queries=1000, answers="label", source="mnist", student="mlp-30"),
                                     sample)
    assert result.queries == result.exchanges == 1000 and result.student_params == 24790
    assert result.copier_temperature == 1.0  # digits are learnt as they are, not re-softened
    assert set(weights) == {"net.1.weight", "net.1.bias", "net.3.weight", "net.3.bias", "net.5.weight", "net.5.bias"}
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


def test_detector_tells_copiers_from_honest_users_but_not_one_asking_real_digits(sample, monkeypatch):
    monkeypatch.setenv("DISTILL_FASHION", "none")
    report = run_detector(DetectorConfig(queries_per_account=300, honest_accounts=100, copier_accounts=50), sample)
    assert report.honest_false_alarm_rate <= 0.05
    assert report.copiers["noise"].detection_rate >= 0.95 and report.copiers["noise"].auc > 0.99
    assert report.copiers["fashion"].detection_rate >= 0.95
    blind = report.copiers["mnist"]  # in-distribution copying looks honest: a coin toss, not a catch
    assert blind.detection_rate <= 0.1 and 0.35 < blind.auc < 0.65


def test_mixing_real_digits_hides_a_copier_and_odd_honest_users_raise_false_alarms(sample, monkeypatch):
    monkeypatch.setenv("DISTILL_FASHION", "none")
    settings = dict(queries_per_account=100, honest_accounts=100, copier_accounts=50)
    pure = run_detector(DetectorConfig(**settings), sample).copiers["fashion"]
    mixed = run_detector(DetectorConfig(**settings, copier_real_share=0.9), sample).copiers["fashion"]
    assert mixed.auc < pure.auc and mixed.detection_rate < pure.detection_rate
    for curve in (pure.roc, mixed.roc):  # thresholds from strict to lax: both rates only grow
        assert curve[-1] == [1.0, 1.0] and all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(curve, curve[1:]))
    odd = run_detector(DetectorConfig(**settings, honest_odd_share=0.2), sample)
    assert odd.honest_mean_unsure_fraction > run_detector(DetectorConfig(**settings), sample).honest_mean_unsure_fraction


def test_detector_pools_are_disjoint():
    from models.experiments.detector import halves
    values = torch.arange(1001.0)
    honest, copier = halves(values, torch.Generator().manual_seed(0))
    assert len(honest) + len(copier) == 1001 and not set(honest.tolist()) & set(copier.tolist())


def test_roc_by_hand():
    from models.experiments.detector import roc_curve
    points, auc = roc_curve(torch.tensor([0.1, 0.2]), torch.tensor([0.2, 0.3]))
    assert points == [[0.0, 0.0], [0.0, 0.5], [0.5, 1.0], [1.0, 1.0], [1.0, 1.0]]
    assert auc == pytest.approx(0.875)  # pairs: 0.2>0.1, 0.2=0.2 (half), 0.3>0.1, 0.3>0.2


def test_answer_costs_for_honest_users_are_measured_on_what_they_receive(teacher, sample):
    costs = {(c["answers"], c["defence"]): c for c in answer_costs(teacher, sample)}
    assert set(costs) == {(a, "none") for a in ANSWER_MODES} | {("probs", "noise"), ("probs", "fixed-noise")}
    exact = [key for key in costs if key[0] not in ("rounded", "sample")]
    assert all(costs[key]["top_label_agreement"] == 1.0 for key in exact)
    assert costs[("rounded", "none")]["top_label_agreement"] >= 0.999  # rounding can tie the top two
    # One sampled reply is sometimes not the teacher's top digit: honest users pay for sampling.
    sample_cost, probs = costs[("sample", "none")], costs[("probs", "none")]
    assert sample_cost["top_label_agreement"] < 1.0 and sample_cost["accuracy"] < probs["accuracy"]
    assert probs["accuracy"] == pytest.approx(0.9926, abs=0.002)  # the pretrained teacher on the sample
    for noisy in ("noise", "fixed-noise"):  # the defences keep the answer but blur the confidence
        assert costs[("probs", noisy)]["accuracy"] == probs["accuracy"]
        assert costs[("probs", noisy)]["nll"] > 2 * probs["nll"] and costs[("probs", noisy)]["brier"] > probs["brier"]
    # Checked against closed forms, not ranges: a label is a one-hot answer, so its Brier score is
    # exactly twice its error rate and, every confidence being 1, its calibration error is its error rate.
    label = costs[("label", "none")]
    assert label["brier"] == pytest.approx(2 * (1 - label["accuracy"]), abs=1e-5)
    assert label["calibration_error"] == pytest.approx(1 - label["accuracy"], abs=1e-5)
    # Full probabilities, recomputed here with numpy from the teacher's own answers (10 equal bins, as
    # every page's calibration figure uses).
    import numpy as np
    with torch.no_grad():
        probs = torch.softmax(teacher(sample.test_x), 1).numpy()
    truth = np.eye(10)[sample.test_y.numpy()]
    assert probs_cost_brier(costs) == pytest.approx(((probs - truth) ** 2).sum(1).mean(), rel=1e-4)
    confidence, right = probs.max(1), probs.argmax(1) == sample.test_y.numpy()
    bins = np.clip(np.ceil(confidence * 10).astype(int) - 1, 0, 9)
    ece = sum(abs(confidence[bins == b].mean() - right[bins == b].mean()) * (bins == b).mean()
              for b in range(10) if (bins == b).any())
    assert costs[("probs", "none")]["calibration_error"] == pytest.approx(ece, abs=1e-4)


def probs_cost_brier(costs) -> float:
    return costs[("probs", "none")]["brier"]


def test_accounts_needed():
    assert accounts_needed(16_000_000, 670, 1) == 23881
    assert accounts_needed(1000, 100, 3) == 4
    assert days_needed(16_000_000, 100, 24_000) == 7  # 6.67 days, rounded up
    assert accounts_needed(10**30 + 1, 1, 1) == 10**30 + 1  # exact for big integers, unlike float division


def test_a_strong_noise_defence_slows_the_copier(sample):
    base = ExtractConfig(queries=1000, answers="probs", source="mnist", student="mlp-30")
    clean, _ = run_extraction(base, sample)
    defended, _ = run_extraction(ExtractConfig(**{**base.__dict__, "defence": "noise", "defence_strength": 8.0}),
                                 sample)
    assert defended.fidelity < clean.fidelity - 0.01
    assert defended.defence_strength == 8.0 and clean.defence_strength is None


def test_defence_strength_must_be_positive():
    with pytest.raises(ConfigError, match="defence strength"):
        ExtractConfig(defence="noise", defence_strength=0.0)


class FixedLogits(torch.nn.Module):
    """A stand-in teacher that answers every image with the same logits."""

    def __init__(self, logits: list[float]):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.tensor(logits), requires_grad=False)

    def forward(self, images):
        return self.logits.expand(len(images), -1)


def test_many_sampled_replies_estimate_the_teachers_probabilities():
    teacher = FixedLogits([3.0, 2.0, 1.0, 0.0, 0, 0, 0, 0, 0, -1.0])
    truth = teacher.logits.detach().softmax(0)
    api = PredictionAPI(teacher, "sample")
    images = torch.zeros(50, 1, 28, 28)
    one = api.ask(images, 1)
    many = api.ask(images, 4000)
    assert api.queries_served == 50 * 4001  # every reply is one exchange
    assert set(one.unique().tolist()) == {0.0, 1.0}  # a single reply is just a digit
    assert (many - truth).abs().max() < 0.04
    error = [((api.ask(images, s) - truth) ** 2).sum(1).mean().item() for s in (1, 16)]
    assert error[1] < error[0] / 8  # the estimate's error shrinks like 1 / S
    cooler = PredictionAPI(teacher, "sample", api_temperature=0.25).ask(images, 2000)
    assert cooler[:, 0].mean() > 0.95  # a low API temperature makes replies nearly the top digit


def test_asking_twice_averages_fresh_noise_away_but_not_fixed_noise(teacher, sample):
    images = sample.test_x[:300]
    truth = answers_to_targets(PredictionAPI(teacher, "probs").query(images), 4.0)

    def error(defence: str, times: int) -> float:
        """Squared error of the soft targets (T = 4) the copier trains on, against the teacher's own."""
        answers = PredictionAPI(teacher, "probs", defence=defence).ask(images, times)
        return (answers_to_targets(answers, 4.0) - truth).pow(2).sum(1).mean().item()

    assert error("noise", 4) < error("noise", 1) / 4  # the adaptive copier averages fresh noise away
    assert error("fixed-noise", 4) == pytest.approx(error("fixed-noise", 1), rel=1e-5)  # repeats tell it nothing


def test_fixed_noise_is_the_same_for_the_same_image_and_differs_between_images(teacher, sample):
    api = PredictionAPI(teacher, "probs", defence="fixed-noise")
    images = sample.test_x[:20]
    first, again = api.query(images), api.query(images.clone())
    assert torch.equal(first, again)
    other_server = PredictionAPI(teacher, "probs", defence="fixed-noise", seed=1).query(images)
    assert not torch.allclose(first, other_server)  # the noise depends on the server's secret
    clean = PredictionAPI(teacher, "probs").query(images)
    shifts = (first.log() - clean.log())
    assert not torch.allclose(shifts[0], shifts[1], atol=0.1)  # a different image, a different shift
    assert torch.equal(first.argmax(1), clean.argmax(1))


def test_teacher_mistakes_shared_by_hand():
    from models.core.forensics import teacher_mistakes_shared
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    teacher = torch.tensor([0, 7, 2, 8, 9, 5])  # wrong on images 1, 3 and 4 (7, 8 and 9)
    suspect = torch.tensor([1, 7, 2, 3, 9, 0])  # repeats 7 and 9, gets 3 right
    assert teacher_mistakes_shared(suspect, teacher, labels) == pytest.approx(2 / 3)
    assert teacher_mistakes_shared(labels, teacher, labels) == 0.0
    assert teacher_mistakes_shared(suspect, labels, labels) == 0.0  # a perfect teacher has none to share


def test_sampled_answers_through_the_cli_count_exchanges_and_images(capsys):
    from tests.conftest import cli
    import json
    status, out, err = cli(capsys, "extract", "--queries", "200", "--answers", "sample", "--samples-per-image", "4",
                           "--student", "mlp-10", "--json")
    result = json.loads(out)
    assert status == 0 and result["exchanges"] == 800 and result["images"] == 200
    assert result["samples_per_image"] == 4 and result["copier_temperature"] == 1.0
    # Shares of the teacher's own mistakes on these test digits: whole numbers of them, not any fraction.
    from models.core.checkpoints import teacher_logits
    from models.core.data import default_dataset
    data = default_dataset()
    mistakes = int((teacher_logits("pretrained", data).test.argmax(1) != data.test_y).sum())
    for key in ("teacher_mistakes_shared", "independent_mistakes_shared"):
        assert result[key] * mistakes == pytest.approx(round(result[key] * mistakes), abs=1e-4), key


def test_one_pixel_shifts_draw_fixed_noise_afresh_and_count_every_exchange(teacher, sample):
    """Noise fixed per image survives plain repeats, not a copier that shifts each repeat."""
    images = sample.train_x[:50]
    api = PredictionAPI(teacher, "probs", "fixed-noise")
    once = api.ask(images)
    assert torch.equal(api.ask(images, 4), once)  # the same image, the same answer: nothing to average
    shifted = api.ask_shifted(images, 4)
    assert api.queries_served == 50 * (1 + 4 + 4)
    assert not torch.allclose(shifted, once, atol=1e-3)
    assert (shifted.argmax(1) == once.argmax(1)).float().mean() > 0.9  # still about the same digits


def test_honest_users_differ_and_the_false_alarm_rate_carries_its_interval(sample):
    """Each honest account sends its own share of odd images (Beta around the slider), the
    threshold is set on 2,000 honest accounts, and the false-alarm rate says how sure it is."""
    from models.experiments.detector import THRESHOLD_ACCOUNTS, honest_odd_shares, wilson
    shares = honest_odd_shares(0.05, 20_000, torch.Generator().manual_seed(0))
    assert shares.mean().item() == pytest.approx(0.05, abs=0.002) and shares.std().item() > 0.05
    assert (shares > 0.15).float().mean() > 0.01  # some honest users send three times the typical share
    assert torch.equal(honest_odd_shares(0.0, 5, torch.Generator()), torch.zeros(5))
    report = run_detector(DetectorConfig(queries_per_account=100, honest_accounts=400, copier_accounts=20,
                                         honest_odd_share=0.05), sample)
    alarms = round(report.honest_false_alarm_rate * 400)
    assert report.threshold_accounts == THRESHOLD_ACCOUNTS
    assert report.honest_false_alarm_ci == pytest.approx(list(wilson(alarms, 400)))
    assert report.honest_false_alarm_ci[0] <= report.honest_false_alarm_rate <= report.honest_false_alarm_ci[1]
