"""The missing digit, the sweeps and the paper's table under AppTest, each taking a short run through
the real worker pool."""

import pytest

from models.service.store import RunStore
from tests.front.pages import open_page, run_until, texts


def test_missing_digit_page_runs_and_bias_slider_moves_the_result(app):
    at = open_page(app, "missing_digit")
    assert "877 of the 1,010" in texts(at)
    said = texts(at)  # the stored default: named as such, its own number beside the paper's, no unsourced ones
    assert "The stored default run:" in said and "Run #-" not in said
    assert "against the paper's 98.6 %" in said and "expect slightly lower" not in said
    assert "about 11 %" not in said and "0.2 points" not in said
    at.selectbox(key="md_student").set_value("mlp-30")
    at.number_input(key="md_epochs").set_value(2)
    at.button(key="md_submit").click()
    at.run()
    run_until(at, lambda at: any(m.label == "Scratch twin" for m in at.metric))
    labels = [m.label for m in at.metric]
    assert labels[0] == "Scratch twin" and labels[1].startswith("Scratch twin, bias raised by")
    assert labels[2] == "Distilled student" and "chose its +3.5 by looking at the test set" in texts(at)
    slider = next(s for s in at.slider if s.key and s.key.startswith("bias-"))
    slider.set_value(0.0).run()
    at_zero = next(m.value for m in at.metric if m.label == "Test 3s recognised")
    slider.set_value(15.0).run()
    at_fifteen = next(m.value for m in at.metric if m.label == "Test 3s recognised")
    assert float(at_fifteen.rstrip("%")) > float(at_zero.rstrip("%"))


def test_sweep_page_runs_both_sweeps_as_jobs(app):
    at = open_page(app, "sweep")
    assert "30 units per layer" in texts(at)
    at.multiselect(key="sweep_students").set_value(["mlp-10"])
    at.multiselect(key="sweep_temperatures").set_value([1.0, 4.0])
    at.number_input(key="sweep_seeds").set_value(1)
    at.number_input(key="sweep_train_size").set_value(200)
    at.number_input(key="sweep_epochs").set_value(1)
    at.button(key="sweep_submit").click()
    at.run()
    run_until(at, lambda at: len(at.tabs[0].dataframe) == 1)
    table = at.tabs[0].dataframe[0].value
    assert list(table["T"]) == [1.0, 4.0] and list(table["student"]) == ["mlp-10", "mlp-10"]
    assert list(table["verdict"]) == ["need at least 3 seeds"] * 2
    cells = RunStore().list(kind="sweep_cell")
    assert list(table["scratch twin"]) == [cells[0].result.scratch] * 2  # one shared twin per cell
    assert "**mlp-10**: 1 seed(s) so far; a verdict needs 3." in [m.value for m in at.tabs[0].markdown]
    from models.experiments.sweep import sweep_rows
    expected = sweep_rows([cells[0].result])
    assert list(table["gain"]) == pytest.approx([100 * r["gain_mean"] for r in expected])  # in points

    at.selectbox(key="size_student").set_value("mlp-30")
    at.multiselect(key="size_sizes").set_value([250, 500])
    at.number_input(key="size_seeds").set_value(1)
    at.button(key="size_submit").click()
    at.run()
    run_until(at, lambda at: len(at.tabs[1].dataframe) == 1 and len(at.tabs[1].dataframe[0].value) == 2)
    table = at.tabs[1].dataframe[0].value
    assert list(table["transfer set"]) == [250, 500]


def test_paper_table_page_runs_a_short_budget(app):
    at = open_page(app, "paper_table")
    table = at.dataframe[0].value
    assert list(table["paper (errors)"]) == [67, 146, 74]
    at.slider(key="hinton_epochs").set_value(1)
    at.button(key="hinton_submit").click()
    at.run()
    assert "The stored default result" in texts(at)  # the table was filled before anything trained
    run_until(at, lambda at: "Latest run (#" in texts(at))  # this run's own numbers, not the stored ones
    assert "laptop version: the teacher is this lab's CNN (pretrained)" in texts(at)
    run = RunStore().list(kind="hinton")[0]
    assert run.config.teacher == "pretrained" and run.config.epochs == 1
    assert list(at.dataframe[0].value["this machine (errors)"]) == [
        run.result.teacher_errors, run.result.scratch_errors, run.result.distilled_errors]
    shape = run.result.teacher_errors < run.result.distilled_errors < run.result.scratch_errors
    assert ("Finding: this run has the paper's shape" in texts(at)) == shape
