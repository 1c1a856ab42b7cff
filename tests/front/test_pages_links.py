"""Slide links under AppTest: a link fills a form and starts nothing; a bad one gets one sentence."""
import re

from streamlit.testing.v1 import AppTest

from tests.conftest import PATIENCE_S, ROOT
from tests.front.pages import shared_store_runs, texts


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
                                     "epochs": "20", "seeds": "3", "controls": "true"})
    assert at.selectbox(key="student").value == "mlp-30" and at.number_input(key="temperature").value == 4.0
    assert at.slider(key="alpha").value == 0.7 and at.number_input(key="train_size").value == 500
    assert at.number_input(key="epochs").value == 20
    assert at.number_input(key="seeds").value == 3 and at.checkbox(key="controls").value is True
    assert not _link_notes(at) and shared_store_runs() == 0  # nothing dropped, nothing started
    assert "?student=mlp-30&temperature=4&alpha=0.7&train_size=500&epochs=20&seeds=3&controls=true" in [
        c.value for c in at.code][0]  # "Copy a link to these settings" gives the same link back
    at.run()  # a rerun keeps the visitor's form, and the link is not applied twice
    assert at.selectbox(key="student").value == "mlp-30" and not at.query_params


def test_one_slide_link_opened_by_two_visitors_gives_them_two_seeds(app):
    """A presenter's link made on a page where their own seed was 130 leaves each visitor their own."""
    first = _open_link(app, "distill", {"seed": "130", "epochs": "20"})
    other_browser = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)
    other_browser.session_state["owner"] = "a second browser's cookie"  # what shared.session_owner keys on
    second = _open_link(other_browser.run(), "distill", {"seed": "130", "epochs": "20"})
    seeds = [at.number_input(key="seed").value for at in (first, second)]
    assert 130 not in seeds and seeds[0] != seeds[1]
    assert all(at.number_input(key="epochs").value == 20 for at in (first, second))
    assert "each visitor keeps their own seed" in _link_notes(first)[0]


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
