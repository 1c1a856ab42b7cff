"""Names typed by strangers stay plain text, the CLI refuses what would not give a sane run,
and odd addresses land on the start page."""
import csv
import io
import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lessons.figures import gain_figure, size_figure
from models.service.names import chart_text, clean_name, markdown_text, without_paths
from models.service.report import rows_to_csv, run_rows
from models.service.store import RunStore
from tests.conftest import PATIENCE_S, ROOT, assert_rejected, done_distill_run

LINK = '<a href="https://evil.example/">click</a>'
HUGE = '<span style="font-size:90px">BIG</span>'
FORMULA = '=HYPERLINK("https://evil.example/","prize")'
REVERSED = "alice\u202egnp.exe"  # a right-to-left override: would show as "aliceexe.png"




def test_names_lose_control_and_bidi_characters_when_stored():
    store = RunStore()
    run_id = store.create("distill", {}, name=REVERSED + "\x00\u200b\n second line" + "x" * 200)
    name = store.get(run_id).name
    assert name.startswith("alicegnp.exe second line") and len(name) == 80
    assert clean_name("\u2066a\u2069 \u200f b\u00a0c") == "a b c"


def test_chart_labels_and_hover_text_show_markup_as_typed():
    store = RunStore()
    rows = run_rows(store.get_many([done_distill_run(store, LINK), done_distill_run(store, HUGE)]))
    figures = json.dumps([gain_figure(rows, 0.99).to_plotly_json(), size_figure(rows, 10, 0.99).to_plotly_json()])
    assert "<a href" not in figures and "<span" not in figures
    assert "&lt;a href=\\\"https://evil.example/\\\"&gt;click&lt;/a&gt;" in figures
    assert [r["label"] for r in rows] == [f"#1 {LINK}", f"#2 {HUGE}"]  # unique by id, text as typed


def test_csv_cells_are_never_spreadsheet_formulas():
    store = RunStore()
    rows = run_rows(store.get_many([done_distill_run(store, FORMULA), done_distill_run(store, "-1+2"), done_distill_run(store, "ok")]))
    parsed = list(csv.DictReader(io.StringIO(rows_to_csv(rows))))
    assert [p["name"] for p in parsed] == ["'" + FORMULA, "'-1+2", "ok"]
    assert parsed[0]["distilled_accuracy"] == "0.8"  # numbers stay numbers


def test_markdown_and_messages_carry_no_markup_or_server_paths():
    assert markdown_text("**bold** [x](https://evil.example/)") == r"\*\*bold\*\* \[x\]\(https\://evil\.example/\)"
    assert without_paths("teacher checkpoint /srv/lab/data/teachers/teacher-run3.pt is missing") == \
        "teacher checkpoint teacher-run3.pt is missing"
    assert chart_text("a & b") == "a &amp; b"


@pytest.mark.parametrize("args, names", [
    (["distill", "-T", "1e300"], "temperature T must lie in [0.1, 100]"),
    (["distill", "-T", "1e20"], "temperature T must lie in [0.1, 100]"),
    (["distill", "-T", "1e-300"], "temperature T must lie in [0.1, 100]"),
    (["distill", "-T", "nan"], "temperature T must lie in [0.1, 100]"),
    (["sweep", "--temperatures", "4,1e20"], "temperature T must lie in [0.1, 100]"),
    (["distill", "--seeds", "11"], "seeds must be between 1 and 10"),
    (["sweep", "--seeds", "100"], "seeds must be between 1 and 10"),
    (["distill", "--seed", "2147483646", "--seeds", "3"], "run past the largest seed 2147483647"),
    (["sweep", "--seed", "2147483646", "--seeds", "3"], "run past the largest seed 2147483647"),
    (["sweep", "--csv", "/missing/dir/x.csv"], "folder /missing/dir does not exist"),
    (["distill", "--teacher", "/tmp"], "is a directory"),
    (["hinton", "--teacher", "/tmp"], "is a directory"),
    (["hinton", "--teacher", "/missing.pt"], "is missing"),
    (["hinton", "--epochs", "5000"], "epochs must be between 1 and 1000"),
    (["extract", "--queries", "10", "--defence-strength", "inf"], "defence strength must lie in (0, 20]"),
    (["extract", "--queries", "10", "--samples-per-image", "100"], "samples per image must be between 1 and 64"),
    (["extract", "--queries", "10", "--api-temperature", "0"], "temperature T must lie in [0.1, 100]"),
])
def test_cli_refuses_out_of_range_values_in_one_line_before_any_work(capsys, args, names):
    assert_rejected(capsys, args, names)


def test_cli_checks_output_paths_before_training(capsys, tmp_path):
    assert_rejected(capsys, ["teacher", "--save", str(tmp_path), "--train-size", "50"], "is a directory")
    assert_rejected(capsys, ["teacher", "--save", str(tmp_path / "no" / "t.pt"), "--train-size", "50"],
                    "does not exist")


def test_an_odd_query_string_lands_on_the_start_page_with_a_note():
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)
    at.query_params["x"] = "<b>"
    at.switch_page("lessons/compare.py")
    at.run()
    assert not at.exception
    assert any("parts this lab does not use" in i.value for i in at.info)
    assert at.title[0].value == "Distillation Lab" and not at.query_params
    st.cache_resource.clear()


@pytest.mark.parametrize("value, reason", [
    (12345, "not a PNG picture"), (["x"], "not a PNG picture"), (True, "not a PNG picture"),
    ("data:image/jpeg;base64,AAAA", "not a PNG picture"), ("data:image/png;base64,@@@!", "damaged picture"),
    ("data:image/png;base64," + "A" * 18_000_000, "larger than the 5 MB"),
])
def test_the_drawing_pad_trusts_nothing_its_browser_sends(value, reason):
    """What a tab's script can put in the pad's value, refused in one sentence before decoding."""
    from lessons.canvas import pad_png
    from models.core.digit import DigitError
    with pytest.raises(DigitError, match=reason):
        pad_png(value)


def test_the_drawing_pad_reads_a_real_stroke():
    import base64
    import io
    from PIL import Image
    from lessons.canvas import pad_png
    buffer = io.BytesIO()
    Image.new("RGB", (280, 280)).save(buffer, format="PNG")
    assert pad_png("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()) == buffer.getvalue()
    assert pad_png(None) is None and pad_png("") is None
