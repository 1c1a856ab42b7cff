"""The start page, the teacher, soft targets, what the teacher knows and your own digit, each under
AppTest: renders without exceptions, shows its key widgets, reacts to them."""
import re

import pytest

from models.service.store import RunStore
from tests.front.pages import open_page, run_until, texts


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
    trained = at.session_state.teacher
    assert trained.endswith(".pt") and "your runs now use it" in at.success[0].value  # no second click needed
    assert any(i.value.startswith("Teacher in use for your runs") and "pretrained" not in i.value for i in at.info)
    at.button(key="use-pretrained").click().run()
    assert at.session_state.teacher == "pretrained"
    use_buttons = [b for b in at.button if b.key and b.key.startswith("use-") and b.key != "use-pretrained"]
    use_buttons[0].click()
    at.run()
    assert at.session_state.teacher == trained
    assert [link.proto.label for link in at.get("page_link")][:1] == [
        "Next: 2. Soft targets, what this teacher's answers carry"]  # a way forward


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


def test_every_chart_on_every_page_says_in_a_sentence_what_it_shows(app):
    from tests.front.pages import charts_without_a_text_alternative, lesson_pages
    charts = 0
    for page in lesson_pages():
        at = open_page(app, page)
        drawn = at.get("plotly_chart")
        charts += len(drawn)
        assert all('"displayModeBar": false' in c.proto.config for c in drawn), page  # no toolbar over a phone's title
        assert charts_without_a_text_alternative(at) == [], page
    assert charts >= 10  # the stored defaults' charts and the live ones were all looked at


def test_the_start_page_leads_with_the_news_then_the_result_in_plain_words(app):
    from models.service.stored_defaults import stored_defaults
    r = stored_defaults().runs["distill"][0].result
    first = app.markdown[0].value
    assert "24,000 fake accounts" in first and "16 million conversations" in first
    plain = next(m.value for m in app.markdown if m.value.startswith("**What that looks like here:**"))
    assert f"{r.gain * 100:.1f} points more digits right" in plain and "McNemar" not in plain
    assert f"{r.distilled_accuracy:.1%} against {r.scratch_accuracy:.1%}" in plain
    numbers = app.expander[0]
    assert numbers.label == "The numbers behind it" and "McNemar" in numbers.success[0].value
    assert not any("McNemar" in m.value for m in app.markdown)  # the statistics wait one click away
    news_route = [link.proto.label for link in app.get("page_link")]
    assert news_route.index("Copy a chatbot") < news_route.index("Get a teacher")  # in the 10-minute route
