"""The copying pages under AppTest: copy through answers, copy a chatbot, defences, was it copied?
and accounts and detection."""

import pytest

from models.service.store import RunStore
from tests.front.pages import open_page, run_until, texts


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
    banner = next(i.value for i in at.info if i.value.startswith("**The stored default result**"))
    assert "Shakespeare plays" in banner and "MNIST" not in banner  # the plays, on the plays' page
    at.select_slider(key="chat_exchanges").set_value(100)
    at.number_input(key="chat_reply_chars").set_value(40)
    at.button(key="chat_submit").click()
    at.run()
    from tests.conftest import wait_for
    stored = wait_for(RunStore(), at.session_state["chat_run"]).result  # not the stored default shown first
    run_until(at, lambda at: any("against its twin's" in s.value and f"{stored.bits_per_char:.2f}" in s.value
                                 for s in at.success))
    finding = next(s.value for s in at.success if f"{stored.bits_per_char:.2f} bits" in s.value)
    assert f"{stored.bits_per_char:.2f} bits per character against its twin's {stored.scratch_bits_per_char:.2f}" in finding
    assert stored.exchanges == 100 and stored.reply_chars == 40
    replies = [m.value for m in at.markdown if m.value.startswith("**Human:**")]
    assert len(replies) == len(stored.samples) and all(  # every reply readable, none cut into a table column
        all(f"**{who}:**" in block for who in ("Human", "Teacher", "Copy", "Scratch twin")) for block in replies)
    assert [m.value for m in at.metric][:3] == [f"{stored.bits_per_char:.2f}", f"{stored.scratch_bits_per_char:.2f}",
                                                f"{stored.teacher_bits_per_char:.2f}"]  # no unit to be cut off
    assert "A low one proves nothing" in texts(at)
    assert f"nearly sure (above 90 %) of {stored.teacher_sure_share:.0%} of the next characters" in texts(at)

    at.multiselect(key="chat_curve_modes").set_value(["full"])
    at.multiselect(key="chat_curve_budgets").set_value([100])
    at.button(key="chat_curve_submit").click()
    at.run()
    run_until(at, lambda at: len(at.dataframe) == 1 and len(at.dataframe[0].value) == 1)
    curve = at.dataframe[0].value
    assert list(curve["exchanges"]) == [100] and list(curve["verdict"]) == ["need at least 3 seeds"]
    assert list(curve["answers"]) == ["full distributions (white box)"]
    assert at.success[-1].value.startswith("At 100 exchanges the copy from full distributions")
    at = open_page(at, "compare")  # no distillation runs yet: the chat copies still show
    assert "Chat copies" in [h.value for h in at.header]
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
    run_until(at, lambda at: len(at.dataframe) and len(at.dataframe[0].value) == 3)
    copies = RunStore().list(kind="extract")
    assert sorted(r.config.seed for r in copies) == [0, 1, 2] and len({r.group for r in copies}) == 1
    table = at.dataframe[0].value  # one row per pair, every cell filled: no "None", no "p = 0"
    assert list(table["seed"]) == [0, 1, 2] and not table.isna().any().any()
    shares = [r.result.teacher_second_choice_shared for r in sorted(copies, key=lambda r: r.config.seed)]
    assert list(table["runner-up shared: copy"]) == pytest.approx(shares)
    assert all(text.startswith("p ") and "e-3" not in text for text in table["runner-up test"])
    said = next(m.value for m in at.markdown if m.value.startswith("**The copies share"))
    low, high = f"{min(shares):.0%}", f"{max(shares):.0%}"
    assert (low if low == high else f"{low}–{high}") in said and f"{low}–{low}" not in said
    assert all(r.result.teacher_second_choice_shared > r.result.independent_second_choice_shared for r in copies)
    assert "so this test can tell a copy from an independent model here" in said  # full probabilities: a trace

    student = shared.pool().submit_many([DistillConfig(student="mlp-10", train_size=300, epochs=1)])[0]
    assert wait_for(RunStore(), student).status == "done"
    at.run()
    assert len(at.selectbox(key="suspect").options) == 4
    assert any(m.value.startswith(f"The latest distilled student (run {student}) shares") for m in at.markdown)
    assert at.selectbox(key="suspect").value.kind == "distill" or at.selectbox(key="suspect").value.result.answers == "probs"
    assert any(m.value.startswith("This suspect shares the teacher's runner-up on") for m in at.markdown)
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
    table = next(d.value for d in at.dataframe if "raising the alarm" in d.value.columns)
    caught = dict(zip(table["accounts"], table["raising the alarm"]))  # full labels: nothing cut
    assert caught["Copier asking noise"] == "100%"
    assert caught["Copier asking only real digits"] in {"0%", "1%", "2%", "3%"}
    assert table["what it means"][0].startswith("false alarms")
    assert len(at.get("plotly_chart")) == 1 and "The copier this detector cannot see" in texts(at)
