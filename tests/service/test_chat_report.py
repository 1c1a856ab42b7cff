"""Stored chat copies as budget-curve points: seeds of one setting pooled (a repeated seed counted
once), the paired gain's interval and verdict from models/core/stats.py, and the curve's sentence."""
from types import SimpleNamespace

import pytest

from models.base.configs import ChatCopyConfig
from models.core.stats import t_interval
from models.service.chat_report import curve_finding, curve_points


def _run(run_id, answers, exchanges, seed, copy_bits, twin_bits, status="done"):
    result = SimpleNamespace(answers=answers, exchanges=exchanges, prompts="plays", characters=100 * exchanges,
                             bits_per_char=copy_bits, scratch_bits_per_char=twin_bits, teacher_bits_per_char=2.05,
                             teacher_agreement=0.6, scratch_agreement=0.5, kl_to_teacher=0.7, canary_exposure=1.0)
    return SimpleNamespace(id=run_id, status=status, result=result,
                           config=ChatCopyConfig(answers=answers, exchanges=exchanges, seed=seed))


def test_seeds_pool_into_one_point_with_the_paired_interval():
    runs = [_run(9, "full", 100, 2, 2.70, 3.20), _run(8, "full", 100, 1, 2.65, 3.30),
            _run(7, "full", 100, 0, 2.75, 3.25), _run(6, "full", 100, 0, 9.99, 9.99),  # older repeat of seed 0
            _run(5, "text", 100, 0, 3.10, 3.25), _run(4, "text", 100, 1, 3.0, 3.0, status="failed")]
    full, text = curve_points(runs)
    assert (full["answers"], full["seeds"], full["run_ids"]) == ("full", 3, [7, 8, 9])
    gains = [3.25 - 2.75, 3.30 - 2.65, 3.20 - 2.70]
    assert full["gain"] == pytest.approx(sum(gains) / 3)
    assert (full["gain_ci_low"], full["gain_ci_high"]) == pytest.approx(t_interval(gains))
    assert full["verdict"] == "clear gain" and full["bits_per_char_low"] is not None
    assert (text["seeds"], text["verdict"], text["gain_ci_low"]) == (1, "need at least 3 seeds", None)
    sentence = curve_finding([full, text])
    assert sentence.startswith("At 100 exchanges the copy from full distributions (white box) needs 2.70 bits")
    assert "text alone needs 3.10 (need at least 3 seeds)" in sentence


def test_the_curve_compares_the_best_copy_with_text_alone_paired_by_seed():
    runs = [_run(10 + seed, "full", 100, seed, 2.70 + 0.01 * seed, 3.2) for seed in range(3)]
    runs += [_run(20 + seed, "text", 100, seed, bits, 3.2) for seed, bits in enumerate((3.10, 3.00, 3.20))]
    sentence = curve_finding(curve_points(runs))
    costs = [3.10 - 2.70, 3.00 - 2.71, 3.20 - 2.72]
    low, high = t_interval(costs)
    assert f"paired over 3 seeds, text alone costs {sum(costs) / 3:+.2f} bits" in sentence
    assert f"(95 % interval {low:+.2f} to {high:+.2f}): so what the API reveals" in sentence
    noisy = [_run(30 + seed, "text", 100, seed, bits, 3.2) for seed, bits in enumerate((2.60, 2.90, 2.75))]
    assert "a difference within seed-to-seed noise" in curve_finding(curve_points(runs[:3] + noisy))
