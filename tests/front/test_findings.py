"""Each page's one-sentence finding is computed from its result: it changes when the result does."""
import dataclasses

from lessons.findings import copy_curve_finding, distill_finding
from models.base.results import DistillResult
from models.service.report import differing_fields, transfer_words

RESULT = DistillResult(student="mlp-100", student_params=89_610, teacher_params=1_370_474, teacher_accuracy=0.9926,
                       distilled_accuracy=0.9446, scratch_accuracy=0.9131, gain=0.0315, seconds=3.0,
                       dataset={"name": "MNIST", "test_size": 10_000}, discordant=[412, 97], gain_mcnemar_p=1e-40)


def test_the_distil_finding_says_who_won_by_how_much_and_whether_the_test_digits_can_tell():
    said = distill_finding(RESULT, seed=0)
    assert "beat its scratch twin by +3.15 points" in said and "94.46% against 91.31%" in said
    assert "right on 412 test digits, its twin alone on 97" in said and "tell them apart" in said
    assert said.endswith("One seed (0).")
    worse = dataclasses.replace(RESULT, distilled_accuracy=0.91, gain=-0.0031, discordant=[40, 71], gain_mcnemar_p=0.004)
    assert "cost the student 0.31 points" in distill_finding(worse, 3)
    unclear = dataclasses.replace(RESULT, gain=0.0004, discordant=[30, 26], gain_mcnemar_p=0.69)
    assert "cannot tell from chance (McNemar p = 0.69)" in distill_finding(unclear, 0)


def test_the_copy_finding_names_the_best_and_worst_way_of_answering_at_the_largest_budget():
    points = [{"mode_label": mode, "exchanges": n, "fidelity": f}
              for mode, n, f in (("full probabilities", 100, 0.80), ("full probabilities", 1000, 0.955),
                                 ("full probabilities", 10000, 0.962), ("top label only", 10000, 0.93),
                                 ("top label only", 100, 0.6))]
    said = copy_curve_finding(points)
    assert "with 10,000 exchanges, the copy made from full probabilities agrees with the teacher on 96.2%" in said
    assert "the one from top label only on 93.0%" in said
    assert "1,000 exchanges already gave full probabilities 95.5%, within a point" in said


def test_a_group_table_shows_every_field_in_which_groups_differ():
    """Groups with and without controls looked identical in "Is the gain real?"."""
    groups = [{"setting": '{"controls": false, "seed_like": 1, "student": "mlp-100"}', "dataset": "MNIST",
               "teacher_digest": "a"},
              {"setting": '{"controls": true, "seed_like": 1, "student": "mlp-100"}', "dataset": "MNIST",
               "teacher_digest": "b"}]
    assert differing_fields(groups) == ["controls", "teacher_digest"]


def test_transfer_sets_read_as_words():
    assert transfer_words(2000, None) == "2,000"
    assert transfer_words(0, None) == "all" and transfer_words(0, 3) == "all (no 3s)"


def test_the_missing_digit_finding_quotes_the_run():
    from lessons.findings import missing_digit_finding
    from models.base.results import MissingDigitReport
    report = MissingDigitReport(omitted_class=3, omitted_class_accuracy=0.927, omitted_class_accuracy_adjusted=0.973,
                                scratch_omitted_class_accuracy=0.0, bias_shift=3.5, overall_accuracy_adjusted=0.98,
                                test_images_of_class=1010, validation_size=5000, scratch_bias_shift=2.0,
                                scratch_omitted_class_accuracy_adjusted=0.011)
    said = missing_digit_finding(report, 0)
    assert "names 92.7% of the 1,010 test 3s, its scratch twin 0.0%" in said
    assert "97.3% against the twin's 1.1%" in said and said.endswith("One seed (0).")


def test_the_compare_finding_counts_the_verdicts_and_names_the_largest_clear_gain():
    from lessons.findings import compare_finding
    group = {"student": "mlp-100", "temperature": 20.0, "seeds": 5}
    groups = [{**group, "verdict": "clear gain", "gain_mean": 0.031}, {**group, "verdict": "worse", "gain_mean": -0.01},
              {**group, "temperature": 4.0, "verdict": "clear gain", "gain_mean": 0.02},
              {**group, "verdict": "need at least 3 seeds", "gain_mean": 0.5}]
    said = compare_finding(groups)
    assert said.startswith("Finding: of the 3 setting(s) with enough seeds for a verdict, 2 show a clear gain")
    assert "(the largest: mlp-100 at T = 20, +3.10 points over 5 seeds)" in said
    assert said.endswith("1 are clearly worse and 0 are within noise.")
    assert compare_finding([{**group, "verdict": "need at least 3 seeds", "gain_mean": 0.1}]) is None


def test_a_p_value_reads_as_words_a_reader_can_use_never_zero_or_1e_321():
    from lessons.findings import p_text
    assert p_text(0.0) == p_text(1e-321) == "p < 1e-10"
    assert p_text(0.032) == "p = 0.032" and p_text(6.2e-5) == "p = 6.2e-05"
