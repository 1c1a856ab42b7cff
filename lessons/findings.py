"""One-sentence findings, each computed from the result it sits under: a page says what its run
showed in words a reader can quote, and the sentence changes when the run does."""
from __future__ import annotations

CHANCE_P = 0.05  # below this McNemar p-value the test digits alone tell the two models apart


SMALLEST_SHOWN_P = 1e-10  # below this a p-value's digits mean nothing to a reader (and 0 is never true)


def p_text(p: float) -> str:
    """A p-value as a reader should see it: "p = 0.032", "p = 6.2e-05", "p < 1e-10" (never "p = 0"
    or "p = 1e-321")."""
    return f"p < {SMALLEST_SHOWN_P:.0e}" if p < SMALLEST_SHOWN_P else f"p = {p:.2g}"


def points(difference: float) -> str:
    """A difference of two accuracies, in percentage points (a journalist would misquote "+3.6 %")."""
    return f"{difference * 100:+.2f} points"


def distill_finding(result, seed: int) -> str:
    """What one distillation showed: the student against its twin, with the test digits' own say."""
    gain = result.gain
    if result.gain_mcnemar_p is not None and result.discordant:
        only_student, only_twin = result.discordant
        evidence = (f"the student alone was right on {only_student:,} test digits, its twin alone on {only_twin:,}, "
                    + (f"so the test digits alone tell them apart (McNemar {p_text(result.gain_mcnemar_p)})"
                       if result.gain_mcnemar_p < CHANCE_P else
                       f"which the test digits alone cannot tell from chance (McNemar {p_text(result.gain_mcnemar_p)})"))
    else:
        evidence = "with no test digits on which they differ to weigh"
    if gain > 0:
        said = f"the student beat its scratch twin by {points(gain)}"
    elif gain < 0:
        said = f"the teacher's soft targets cost the student {points(-gain)[1:]} against its scratch twin"
    else:
        said = "the student and its scratch twin tied"
    return (f"Finding: {said} ({result.distilled_accuracy:.2%} against {result.scratch_accuracy:.2%} of "
            f"{result.dataset.get('test_size') or 10_000:,} test digits); {evidence}. One seed ({seed}).")


def copy_curve_finding(points: list[dict]) -> str:
    """The budget curve in one sentence: at its largest budget, the best and worst ways of answering,
    and how few exchanges the best needed to come within a point of its own top agreement."""
    top = max(p["exchanges"] for p in points)
    at_top = sorted((p for p in points if p["exchanges"] == top), key=lambda p: -p["fidelity"])
    best, worst = at_top[0], at_top[-1]
    said = (f"Finding: with {top:,} exchanges, the copy made from {best['mode_label']} agrees with the teacher on "
            f"{best['fidelity']:.1%} of test digits")
    if worst is not best:
        said += f", the one from {worst['mode_label']} on {worst['fidelity']:.1%}"
    line = sorted((p for p in points if p["mode_label"] == best["mode_label"]), key=lambda p: p["exchanges"])
    enough = next(p for p in line if p["fidelity"] >= best["fidelity"] - 0.01)
    if enough["exchanges"] < top:
        said += (f"; {enough['exchanges']:,} exchanges already gave {best['mode_label']} {enough['fidelity']:.1%}, "
                 "within a point")
    return said + ". One copy per point, one seed."


def missing_digit_finding(report, seed: int) -> str:
    """What a missing-digit run showed: how many of the digit it never saw the student still names."""
    digit = report.omitted_class
    said = (f"Finding: never shown a single {digit}, the distilled student names {report.omitted_class_accuracy:.1%} of "
            f"the {report.test_images_of_class:,} test {digit}s, its scratch twin {report.scratch_omitted_class_accuracy:.1%}")
    if report.omitted_class_accuracy_adjusted is not None:
        said += (f"; with the bias shift chosen on validation images, {report.omitted_class_accuracy_adjusted:.1%}"
                 + (f" against the twin's {report.scratch_omitted_class_accuracy_adjusted:.1%}"
                    if report.scratch_omitted_class_accuracy_adjusted is not None else ""))
    return said + f". Everything it knows about a {digit} came from the teacher's soft targets. One seed ({seed})."


def compare_finding(groups: list[dict]) -> str | None:
    """The leaderboard's verdicts in one sentence (None until some setting has enough seeds)."""
    judged = [g for g in groups if g["verdict"] in ("clear gain", "within noise", "worse")]
    if not judged:
        return None
    clear = [g for g in judged if g["verdict"] == "clear gain"]
    worse = [g for g in judged if g["verdict"] == "worse"]
    said = f"Finding: of the {len(judged)} setting(s) with enough seeds for a verdict, {len(clear)} show a clear gain"
    if clear:
        best = max(clear, key=lambda g: g["gain_mean"])
        said += (f" (the largest: {best['student']} at T = {best['temperature']:g}, {points(best['gain_mean'])} over "
                 f"{best['seeds']} seeds)")
    return said + f", {len(worse)} are clearly worse and {len(judged) - len(clear) - len(worse)} are within noise."
