"""Distil a student and Compare under AppTest: a tiny run from submit to finished through the real
worker pool, seeds and verdicts, costs and refusals, and the shared charts."""

import pytest
from streamlit.testing.v1 import AppTest

from models.core.stats import summarise
from models.service.store import RunStore
from tests.conftest import PATIENCE_S, ROOT
from tests.front.pages import open_page, run_until, shared_store_runs, texts


def test_distill_page_runs_a_tiny_student_and_compare_page_shows_it(app):
    at = open_page(app, "distill")
    for key in ("student", "temperature", "alpha", "train_size", "epochs", "seed"):
        assert at.get_by_key(key) is not None
    at.selectbox(key="student").set_value("mlp-10")
    at.number_input(key="train_size").set_value(300)
    at.number_input(key="epochs").set_value(2)
    at.text_input(key="run_name").input("tiny from the UI")
    at.button(key="distill_submit").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert at.toast[0].value.startswith("Queued: done in ")  # wall time with the queue, not worker time alone
    at = open_page(at, "compare")  # leaving the page mid-run must not stop or lose the job
    at = open_page(at, "distill")
    run_until(at, lambda at: len(at.metric) == 4)
    assert at.metric[0].label == "Distilled student" and at.metric[0].value.endswith("%")
    assert "The test set's part of this gain: the student alone is right on " in texts(at)

    at = open_page(at, "compare")
    mine, table = at.dataframe[0].value, at.dataframe[1].value  # "Your runs", then everyone's
    assert list(mine["name"]) == list(table["name"]) == ["tiny from the UI"]  # finished: the numbers table
    assert "status" not in table.columns and len(at.dataframe[2].value) == 1  # then the groups, no unfinished table
    assert 0 < table["distilled"][0] <= 1 and table["parameters"][0] == 8070
    assert table["gain"][0] == pytest.approx(100 * (table["distilled"][0] - table["scratch twin"][0]), abs=1e-4)
    assert at.download_button  # CSV export
    assert "No setting has 3 different seeds yet" in texts(at)

    second_tab = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)  # another session, same server
    second_tab.run()
    second_tab = open_page(second_tab, "compare")
    assert list(second_tab.dataframe[0].value["name"]) == ["tiny from the UI"]  # everyone's; not theirs
    assert "Your runs" not in [h.value for h in second_tab.header]


def test_the_student_can_also_learn_from_the_teachers_insides_and_compare_says_so(app):
    at = open_page(app, "distill")
    assert "Learning from the teacher's insides (feature distillation)" in [e.label for e in at.expander]
    assert any("regressor whose output is matched to the teacher's conv2 layer" in c.value for c in at.caption)
    at.selectbox(key="student").set_value("mlp-10")
    at.number_input(key="train_size").set_value(200)
    at.number_input(key="epochs").set_value(1)
    at.selectbox(key="feature").set_value("hint")
    at.number_input(key="beta").set_value(2.0)
    at.button(key="distill_submit").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    run_until(at, lambda at: len(at.metric) == 4)
    at = open_page(at, "compare")
    assert list(at.dataframe[1].value["learned from"]) == ["soft targets + features (hint on conv2, β = 2)"]
    run = RunStore().list(kind="distill")[0]
    assert (run.config.feature, run.config.beta) == ("hint", 2.0)


def test_distill_page_rejects_a_train_size_larger_than_the_data(app):
    at = open_page(app, "distill")
    at.number_input(key="train_size").set_value(50_000)
    at.button(key="distill_submit").click()
    at.run()
    assert [e.value for e in at.error] == [
        "Not started: train size must be between 1 and 8000 (the training images available), got 50000"]


def test_distill_page_says_what_a_submission_costs_and_refuses_days_of_work(app):
    """The estimate is said before sending, and the form's maximum is refused in one sentence."""
    at = open_page(app, "distill")
    cost = [c.value for c in at.caption if "of the room's worker time" in c.value]
    assert len(cost) == 1 and cost[0].startswith("At the settings last sent (or the defaults): about ")
    assert cost[0].endswith("one submission may use up to 15 minutes.")
    at.selectbox(key="student").set_value("mlp-800")
    at.number_input(key="epochs").set_value(500)
    at.number_input(key="seeds").set_value(10)
    at.checkbox(key="controls").check()
    at.button(key="distill_submit").click()
    at.run()
    assert len(at.error) == 1 and at.error[0].value.startswith("Not started: this would take about ")
    assert "hours of the room's worker time, more than the 15 minutes one submission may use here" in at.error[0].value
    assert shared_store_runs() == 0


def test_an_earlier_submission_keeps_its_cancel_button_after_a_newer_one(app):
    """The page watches the newest submission; the older one is still listed, cancellable."""
    at = open_page(app, "distill")
    at.selectbox(key="student").set_value("mlp-10")
    at.number_input(key="epochs").set_value(500)
    at.button(key="distill_submit").click()
    at.run()
    first = next(iter(at.session_state["distill_runs"]))
    at.number_input(key="seed").set_value(1)
    at.button(key="distill_submit").click()
    at.run()
    assert first not in at.session_state["distill_runs"]
    assert [e.label for e in at.expander if e.label.startswith("Your")] == ["Your other runs still queued or running (1)"]
    at.button(key=f"cancel-other-{first}").click()
    at.run()
    from models.service.store import RunStore
    store = RunStore()
    assert store.get(first).status == "cancelled" or store.cancel_requested(first)
    for run_id in at.session_state["distill_runs"]:
        from lessons import shared
        shared.pool().cancel(run_id)


def test_compare_page_with_no_runs(app):
    at = open_page(app, "compare")
    assert "No runs yet." in texts(at)


def test_compare_says_in_words_what_a_run_without_a_result_is(app):
    """Cancelled runs showed "None" cells and missing-digit runs "transfer set 0"."""
    import dataclasses

    from models.base.configs import MISSING_DIGIT_DEFAULTS, DistillConfig
    from models.service.stored_defaults import stored_runs
    store = RunStore()
    cancelled = store.create("distill", dataclasses.asdict(DistillConfig(seed=4)), "given up", "")
    store.end(cancelled, "cancelled")
    missing = store.create("distill", dataclasses.asdict(MISSING_DIGIT_DEFAULTS), "no threes", "")
    store.claim(missing)
    store.finish(missing, stored_runs("missing_digit")[0].result, None)
    at = open_page(app, "compare")
    finished, waiting = at.dataframe[0].value, at.dataframe[1].value
    assert list(finished["name"]) == ["no threes"] and list(finished["transfer set"]) == ["all (no 3s)"]
    assert list(waiting["name"]) == ["given up"] and list(waiting["state"]) == ["cancelled"]
    assert "None" not in str(finished.to_dict()) + str(waiting.to_dict())


def test_compare_charts_are_shared_but_follow_every_finished_run(app):
    """The charts are built once per change of the store for every visitor; a run that finishes, or
    one archived, must still show on the next visit (a stale chart would hide a visitor's run)."""
    import json

    from tests.conftest import done_distill_run
    store = RunStore()
    done_distill_run(store, "first")
    points = lambda at: sum(len(t["x"]) for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
                            if t["name"] == "distilled")  # noqa: E731
    at = open_page(app, "compare")
    assert points(at) == 1
    running = store.create("distill", {"student": "mlp-10"}, "training")
    store.claim(running)
    done_distill_run(store, "second")
    at = open_page(at, "compare")
    assert points(at) == 2 and "training now" in str(at.dataframe[1].value.to_dict())
    store.archive("distill")  # the finished ones; the training run stays
    assert not open_page(at, "compare").get("plotly_chart")


def test_distill_page_repeats_over_seeds_and_gives_a_verdict(app):
    at = open_page(app, "distill")
    at.selectbox(key="student").set_value("mlp-10")
    at.number_input(key="train_size").set_value(300)
    at.number_input(key="epochs").set_value(2)
    at.number_input(key="seeds").set_value(2)
    at.checkbox(key="controls").check()
    at.button(key="distill_submit").click()
    at.run()
    run_until(at, lambda at: "Over seeds 0, 1" in texts(at))  # partial results show first
    runs = RunStore().list(kind="distill")
    assert len({r.group for r in runs}) == 1 and runs[0].group.startswith("seeds-")  # one group of two seeds
    expected = summarise([r.config.seed for r in runs], [r.result.distilled_accuracy for r in runs],
                         [r.result.scratch_accuracy for r in runs])
    assert next(m.value for m in at.metric if m.label == "Verdict") == expected.verdict
    assert next(m.value for m in at.metric if m.label == "Gain (mean)") == f"{expected.gain_mean * 100:+.2f} points"
    assert (f"95 % interval {expected.gain_ci_low * 100:+.2f} points to {expected.gain_ci_high * 100:+.2f} points"
            in texts(at))  # differences of accuracies in points, never "%"
    # two seeds give the controls no verdict, whatever their point estimates say
    assert "No verdict from fewer than 3 seeds: repeat over more to tell knowledge from softness." in texts(at)
    assert "beats both controls" not in texts(at) and "(paired per seed, 95 % intervals)" in texts(at)
