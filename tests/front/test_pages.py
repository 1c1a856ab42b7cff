"""Every page under streamlit's AppTest: renders without exceptions, shows its key widgets, and the
training pages take one tiny run from submit to finished through the real worker pool."""
import re
import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from models.core.stats import summarise
from models.service.store import RunStore
from tests.conftest import ROOT


@pytest.fixture
def app(monkeypatch):
    from models.service import visitors
    monkeypatch.setattr(visitors, "_SEEDS", {})  # each test's room starts empty: its first visitor gets seed 0
    st.cache_resource.clear()  # a fresh store and pool for this test's state folder
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    yield at
    from lessons import shared
    shared.pool().shutdown()
    st.cache_resource.clear()


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"lessons/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def run_until(at: AppTest, done, timeout_s: float = 180) -> None:
    """Rerun the page until done(at); fails the test after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if done(at):
            return
        time.sleep(0.5)
    raise AssertionError("the run did not finish in time: " + " | ".join(i.value for i in at.info))


def texts(at: AppTest) -> str:
    return " ".join(e.value for kind in (at.markdown, at.caption, at.info, at.success, at.warning, at.error)
                    for e in kind)


def test_intro_page(app):
    assert not app.exception
    assert app.title[0].value == "Distillation Lab"
    assert "24,000" in texts(app) and "16 million" in texts(app) and "670" in texts(app)


def test_intro_page_opens_on_a_live_picture_and_a_measured_result(app):
    """A test digit with the teacher's ten bars under a T slider, and beside it the stored
    default student against its twin, with its finding: no training, no waiting."""
    import json

    from lessons.findings import distill_finding
    from models.service.stored_defaults import stored_defaults
    stored = stored_defaults()
    run = stored.runs["distill"][0]
    assert [m.label for m in app.metric] == ["Distilled student", "Scratch twin"]
    assert app.metric[0].value == f"{run.result.distilled_accuracy:.2%}"
    assert app.metric[1].value == f"{run.result.scratch_accuracy:.2%}"
    assert [s.value for s in app.success] == [distill_finding(run.result, run.config.seed)]
    assert "The stored default result, measured on MNIST, 60,000 training images" in texts(app)
    bars = json.loads(app.get("plotly_chart")[0].proto.spec)["data"]
    assert [len(trace["y"]) for trace in bars] == [10, 10]
    before = texts(app)
    app.slider(key="intro_temperature").set_value(20.0).run()
    assert not app.exception and "At T = 20 its runner-up" in texts(app) and texts(app) != before
    links = [link.proto.label for link in app.get("page_link")]
    assert links[:1] == ["Run it yourself"]
    assert {"Soft targets", "Copy through answers", "Accounts and detection", "Was it copied?"} <= set(links)


def test_pages_open_on_their_stored_default_before_anyone_trains(app):
    from lessons.findings import distill_finding
    from models.service.stored_defaults import stored_runs
    at = open_page(app, "distill")
    assert any(i.value.startswith("**The stored default result**") for i in at.info)
    assert distill_finding(stored_runs("distill")[0].result, 0) in [s.value for s in at.success]
    for page, key in (("copying", "curve-fidelity"), ("forensics", "forensic_pairs")):
        at = open_page(app, page)
        assert any(i.value.startswith("**The stored default result**") for i in at.info), page
    assert any("share the teacher's runner-up" in m.value for m in at.markdown)  # the forensic finding
    for page in ("chat_copy", "missing_digit", "paper_table", "sweep", "defences"):
        at = open_page(app, page)
        assert any("stored default result" in i.value for i in at.info), page


def test_teacher_page_offers_pretrained_and_trains_one(app):
    at = open_page(app, "teacher")
    assert at.button(key="use-pretrained")
    assert float(at.metric[0].value.rstrip("%")) > 99  # measured now on the sample's test set
    assert "bundled sample" in texts(at)
    at.slider(key="teacher_epochs").set_value(1)
    at.button(key="teacher_submit").click()
    at.run()
    run_until(at, lambda at: any("Your teacher reached" in s.value for s in at.success))
    use_buttons = [b for b in at.button if b.key and b.key.startswith("use-") and b.key != "use-pretrained"]
    use_buttons[0].click()
    at.run()
    assert at.session_state.teacher.endswith(".pt") and at.session_state.teacher != "pretrained"


def test_the_test_digits_are_drawn_as_data_addresses_with_nothing_left_in_the_media_store(app):
    """The start page's and Soft targets' digits: a PNG in the page itself, holding exactly the test
    image's pixels; nothing for Streamlit's media manager to keep and walk on every script run."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    from lessons import shared
    at = open_page(app, "soft_targets")
    url = at.get("image")[0].proto.imgs[0].url
    assert url.startswith("data:image/png;base64,")
    index = int(re.search(r"Test image #(\d+)", at.get("image")[0].proto.imgs[0].caption).group(1))
    drawn = np.array(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert np.array_equal(drawn, shared.dataset().test_image(index))
    start = open_page(at, "intro")
    assert start.get("image")[0].proto.imgs[0].url.startswith("data:image/png;base64,")


def test_soft_targets_page_reacts_to_temperature(app):
    at = open_page(app, "soft_targets")
    assert at.selectbox(key="digit") and at.slider(key="example")
    at.slider(key="soft_temperature").set_value(1.0).run()
    cold = texts(at)
    at.slider(key="soft_temperature").set_value(20.0).run()
    assert not at.exception and "T = 20" in texts(at) and texts(at) != cold
    at.toggle(key="soft_log").set_value(True).run()
    import json
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert not at.exception and chart["layout"]["yaxis"]["type"] == "log"


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

    second_tab = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)  # another session, same server
    second_tab.run()
    second_tab = open_page(second_tab, "compare")
    assert list(second_tab.dataframe[0].value["name"]) == ["tiny from the UI"]  # everyone's; not theirs
    assert "Your runs" not in [h.value for h in second_tab.subheader]


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


def shared_store_runs() -> int:
    from models.service.store import RunStore
    return len(RunStore().list())


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


def test_teacher_knows_page(app):
    at = open_page(app, "teacher_knows")
    assert "Strongest resemblances" in texts(at)
    before = texts(at)
    at.slider(key="knows_temperature").set_value(10.0).run()
    assert not at.exception and texts(at) != before
    at.selectbox(key="knows_true").set_value(4).run()
    assert not at.exception and len(at.image) == 8
    assert "Distil a student on *Distil a student*, and this page measures" in texts(at)
    from models.base.configs import DistillConfig
    from models.service.runner import run_here
    run = run_here(RunStore(), DistillConfig(student="mlp-10", train_size=300, epochs=2))
    at.run()
    said = next(m.value for m in at.markdown if m.value.startswith("**How much a student inherits**"))
    assert f"names the teacher's runner-up on {run.result.scratch_second_choice_shared:.0%}" in said
    assert f"distilled student on {run.result.teacher_second_choice_shared:.0%}" in said


def test_missing_digit_page_runs_and_bias_slider_moves_the_result(app):
    at = open_page(app, "missing_digit")
    assert "877 of the 1,010" in texts(at)
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


def test_copying_page_builds_the_budget_curve_in_exchanges(app):
    at = open_page(app, "copying")
    assert "16 million" in texts(at) and "Copy a chatbot" in texts(at)
    at.selectbox(key="curve_student").set_value("mlp-10")
    at.multiselect(key="curve_modes").set_value(["probs-1", "sample-4"])
    at.multiselect(key="curve_budgets").set_value([100, 300])
    at.button(key="curve_submit").click()
    at.run()
    run_until(at, lambda at: len(at.dataframe) == 1 and len(at.dataframe[0].value) == 4)
    points = at.dataframe[0].value.sort_values(["answers", "exchanges"])
    assert list(points["exchanges"]) == [100, 300, 100, 300]
    assert list(points["distinct images"]) == [100, 300, 25, 75]  # 4 sampled replies per image
    assert set(points["answers"]) == {"full probabilities", "sampled digits, 4 per image"}


def test_chat_copy_page_copies_a_chatbot_and_shows_the_canary_and_the_curve(app):
    at = open_page(app, "chat_copy")
    assert "Shakespeare" in texts(at) and "scratch twin" in texts(at)
    at.select_slider(key="chat_exchanges").set_value(100)
    at.number_input(key="chat_reply_chars").set_value(40)
    at.button(key="chat_submit").click()
    at.run()
    from tests.conftest import wait_for
    stored = wait_for(RunStore(), at.session_state["chat_run"], 180).result  # not the stored default shown first
    run_until(at, lambda at: any("against its twin's" in s.value and f"{stored.bits_per_char:.2f}" in s.value
                                 for s in at.success))
    finding = next(s.value for s in at.success if f"{stored.bits_per_char:.2f} bits" in s.value)
    assert f"{stored.bits_per_char:.2f} bits per character against its twin's {stored.scratch_bits_per_char:.2f}" in finding
    assert stored.exchanges == 100 and stored.reply_chars == 40
    assert list(at.dataframe[0].value.columns) == ["prompt", "human", "teacher", "copy", "twin"]
    assert "A low one proves nothing" in texts(at)
    assert f"nearly sure (above 90 %) of {stored.teacher_sure_share:.0%} of the next characters" in texts(at)

    at.multiselect(key="chat_curve_modes").set_value(["full"])
    at.multiselect(key="chat_curve_budgets").set_value([100])
    at.button(key="chat_curve_submit").click()
    at.run()
    run_until(at, lambda at: len(at.dataframe) == 2 and len(at.dataframe[1].value) == 1)
    curve = at.dataframe[1].value
    assert list(curve["exchanges"]) == [100] and list(curve["verdict"]) == ["need at least 3 seeds"]
    assert list(curve["answers"]) == ["full distributions (white box)"]
    assert at.success[-1].value.startswith("At 100 exchanges the copy from full distributions")
    at = open_page(at, "compare")  # no distillation runs yet: the chat copies still show
    assert "Chat copies" in [h.value for h in at.subheader]
    assert set(at.dataframe[0].value["exchanges"]) == {100}


def test_defences_page_pits_both_noises_against_the_adaptive_copier(app):
    at = open_page(app, "defences")
    table = at.dataframe[0].value  # honest users' side, measured at load
    assert len(table) == 7 and {"accuracy (%)", "log-loss (nats)", "Brier score (0–2)",
                                "calibration error (%)"} <= set(table.columns)
    at.select_slider(key="defence_queries").set_value(100)
    at.select_slider(key="defence_repeats").set_value(2)
    at.button(key="defence_submit").click()
    at.run()
    adaptive = "copier asking 2×: agrees with teacher (%)"

    shifted, new_images = "asking 2× with one-pixel shifts (%)", "same exchanges, new images: 200 asked once (%)"

    def filled(at):
        tables = [d.value for d in at.dataframe if adaptive in d.value.columns]
        return (tables and tables[0]["copier asking once: agrees with teacher (%)"].notna().all()
                and tables[0][adaptive].notna().sum() == 3  # fresh noise, fixed noise and sampled replies
                and tables[0][new_images].notna().sum() == 3 and tables[0][shifted].notna().sum() == 2)

    run_until(at, filled)
    table = next(d.value for d in at.dataframe if adaptive in d.value.columns).set_index("answers")
    assert table.loc["full probabilities + noise fixed per image", adaptive] == pytest.approx(
        table.loc["full probabilities + noise fixed per image", "copier asking once: agrees with teacher (%)"],
        abs=3)  # repeats return the same answers: only training noise differs
    assert "What this run shows, at equal exchanges." in texts(at)  # the verdict compares equal exchanges
    runs = RunStore().list(kind="extract")
    assert len(runs) == 7 + 3 + 2 + 3 and {r.config.queries for r in runs} == {100, 200}
    assert sum(r.config.shift_repeats for r in runs) == 2


def test_forensics_page_scores_stored_copies_and_students(app):
    from lessons import shared
    from models.base.configs import DistillConfig
    from tests.conftest import wait_for
    at = open_page(app, "forensics")
    assert any("No stored copy or distilled student" in i.value for i in at.info)
    assert any("The stored default result" in i.value for i in at.info)  # the shipped copies, before any
    at.button(key="forensic_submit").click().run()  # three copies of 1,000 images, each with its own control
    copies = RunStore().list(kind="extract")
    assert len(copies) == 3 and all(wait_for(RunStore(), r.id).status == "done" for r in copies)
    run_until(at, lambda at: len(at.dataframe) and len(at.dataframe[0].value) == 6)
    copies = RunStore().list(kind="extract")
    assert sorted(r.config.seed for r in copies) == [0, 1, 2] and len({r.group for r in copies}) == 1
    table = at.dataframe[0].value
    assert list(table["model"]) == [f"{who}, seed {s}" for s in (0, 1, 2) for who in ("copy", "independent")]
    shares = [r.result.teacher_second_choice_shared for r in sorted(copies, key=lambda r: r.config.seed)]
    assert list(table["runner-up shared"][::2]) == pytest.approx(shares)
    said = next(m.value for m in at.markdown if m.value.startswith("**The copies share"))
    assert f"{min(shares):.0%}–{max(shares):.0%}" in said
    assert all(r.result.teacher_second_choice_shared > r.result.independent_second_choice_shared for r in copies)
    assert "so this test can tell a copy from an independent model here" in said  # full probabilities: a trace

    student = shared.pool().submit_many([DistillConfig(student="mlp-10", train_size=300, epochs=1)])[0]
    assert wait_for(RunStore(), student).status == "done"
    at.run()
    assert len(at.selectbox(key="suspect").options) == 4
    assert any(m.value.startswith(f"The latest distilled student (run {student}) shares") for m in at.markdown)
    shared_count = at.metric[0].value
    assert " of " in shared_count and int(shared_count.split(" of ")[1]) == 74  # the pretrained teacher's mistakes


def test_copying_page_rejects_a_budget_larger_than_the_data(app):
    at = open_page(app, "copying")
    at.multiselect(key="curve_budgets").set_value([10000])
    at.button(key="curve_submit").click()
    at.run()
    assert [e.value for e in at.error] == [
        "Not started: queries must be between 1 and 8000 for source mnist (the training images available), got 10000"]


def test_catching_page_calculator_and_detector(app):
    at = open_page(app, "catching")
    at.number_input(key="calc_budget").set_value(16_000_000)
    at.number_input(key="calc_limit").set_value(670)
    at.number_input(key="calc_days").set_value(1).run()
    assert at.metric[0].value == "23,881"
    at.number_input(key="det_queries").set_value(200)
    at.button(key="det_submit").click()
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Copier asking noise: caught"] == "100%"
    assert metrics["Copier asking only real digits: caught"] in {"0%", "1%", "2%", "3%"}
    assert len(at.get("plotly_chart")) == 1 and "The copier this detector cannot see" in texts(at)


def _digit_png(kind: str = "one") -> bytes:
    import io
    from PIL import Image, ImageDraw
    image = Image.new("RGB", (300, 300), "white")
    if kind == "one":
        ImageDraw.Draw(image).line([(150, 50), (150, 250)], fill="black", width=25)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_own_digit_page_reads_an_upload_and_asks_the_teacher_and_students(app):
    from lessons import shared
    from models.base.configs import DistillConfig
    from tests.conftest import wait_for
    run_id = shared.pool().submit_many([DistillConfig(student="mlp-10", train_size=300, epochs=1)])[0]
    assert wait_for(RunStore(), run_id).status == "done"
    at = open_page(app, "own_digit")
    assert "Draw a digit on the pad" in [i.value for i in at.info][0]
    at.button_group(key="digit_source").set_value("Upload").run()
    at.file_uploader(key="digit_upload").upload("one.png", _digit_png(), "image/png").run()
    assert not at.exception and "The teacher reads **1**" in texts(at)
    answers = at.dataframe[0].value
    assert list(answers["model"])[0] == "teacher" and len(answers) == 3  # teacher, student, its scratch twin
    calibration = at.dataframe[1].value
    assert list(calibration["model"]) == ["teacher", "distilled student", "scratch twin"]
    assert len(at.get("download_button")) == 2
    # The page's teacher row is the engine's own calibration of the teacher's test answers.
    from models.core.calibration import calibration as calibrate
    from models.core.checkpoints import teacher_logits
    from models.core.data import default_dataset
    data = default_dataset()
    assert calibration["calibration error"][0] == pytest.approx(
        calibrate(teacher_logits("pretrained", data).test, data.test_y).ece, abs=1e-6)

    import models.core.digit as digit_module
    reads = []
    real_read = digit_module.prepare
    digit_module.prepare = lambda image: reads.append(1) or real_read(image)
    try:
        at.slider(key="own_temperature").set_value(8.0).run()  # a rerun with the same picture: not prepared again
    finally:
        digit_module.prepare = real_read
    assert reads == [] and "The teacher reads **1**" in texts(at)

    at.file_uploader(key="digit_upload").clear().upload("blank.png", _digit_png("blank"), "image/png").run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["Could not read that as a digit: no digit found: the image is blank or "
                                             "has too little contrast; draw or photograph a dark digit on light paper "
                                             "(or a light one on dark)."]


def _link_notes(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("This link")]


def _open_link(at: AppTest, page: str, params: dict) -> AppTest:
    at.switch_page(f"lessons/{page}.py")
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_link_with_every_field_valid_fills_the_distill_form_and_starts_nothing(app):
    """A slide link such as /distill?student=mlp-30&temperature=4&train_size=500 fills the form; the visitor presses."""
    at = _open_link(app, "distill", {"student": "mlp-30", "temperature": "4", "alpha": "0.7", "train_size": "500",
                                     "epochs": "20", "seed": "7", "seeds": "3", "controls": "true"})
    assert at.selectbox(key="student").value == "mlp-30" and at.number_input(key="temperature").value == 4.0
    assert at.slider(key="alpha").value == 0.7 and at.number_input(key="train_size").value == 500
    assert at.number_input(key="epochs").value == 20 and at.number_input(key="seed").value == 7
    assert at.number_input(key="seeds").value == 3 and at.checkbox(key="controls").value is True
    assert not _link_notes(at) and shared_store_runs() == 0  # nothing dropped, nothing started
    assert "?student=mlp-30&temperature=4&alpha=0.7&train_size=500&epochs=20&seed=7&seeds=3&controls=true" in [
        c.value for c in at.code][0]  # "Copy a link to these settings" gives the same link back
    at.run()  # a rerun keeps the visitor's form, and the link is not applied twice
    assert at.selectbox(key="student").value == "mlp-30" and not at.query_params


def test_a_bad_link_gets_one_sentence_and_starts_nothing(app):
    at = _open_link(app, "distill", {"temperature": "500", "colour": "red", "student": "<script>alert(1)</script>",
                                     "epochs": "9" * 10_000, "train_size": "500"})
    assert len(_link_notes(at)) == 1
    raw = _link_notes(at)[0]
    said = re.sub(r"\\(.)", r"\1", raw)  # the markdown escapes undone: the sentence as a visitor reads it
    assert said.startswith("This link's settings are filled in except temperature (temperature T must lie in")
    assert "colour (not a setting of this page)" in said and "epochs (longer than any value it can take)" in said
    assert "<script>" in said and "<script>" not in raw  # shown as typed, never as markup
    assert len(said) < 600
    assert at.number_input(key="train_size").value == 500  # the valid one is still used
    assert at.number_input(key="temperature").value == 20.0 and at.selectbox(key="student").value == "mlp-100"
    assert shared_store_runs() == 0


def test_a_link_to_the_facilitator_page_carries_nothing(app, monkeypatch):
    monkeypatch.setenv("DISTILL_FACILITATOR_SECRET", "s3cret")
    at = _open_link(app, "facilitator", {"facilitator_secret": "s3cret", "cap_epochs": "1"})
    assert at.title[0].value == "Distillation Lab"  # sent to the start page, knowing why
    assert "The address you opened had parts this lab does not use" in texts(at)
    assert "facilitator" not in at.session_state  # the secret in the address unlocked nothing
