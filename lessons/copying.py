"""Copying a model through its answers: how many exchanges a copy takes, by the kind of answer."""
import streamlit as st

from lessons import shared, watching
from lessons.figures import budget_figure
from lessons.findings import copy_curve_finding
from models.base.configs import SOURCES, STUDENT_NAMES, ConfigError, ExtractConfig
from models.base.news import REPORTED_ACCOUNTS, REPORTED_EXCHANGES
from models.experiments.extraction import CURVE_LINES, QUERY_BUDGETS, curve_config, variant_label
from models.service.guesses import COPY_EXCHANGES, exchanges_option
from models.service.names import without_paths
from models.service.stored_defaults import COPY_CURVE_BUDGETS, COPY_CURVE_LINES
from models.core.nets import student_params
from models.experiments.queries import check_budget, fashion_path
from lessons.feature_signal import SIGNALS_PLACED

st.title("Copy a model through its answers")
st.markdown(
    f"""
In 2026 Anthropic reported that about {REPORTED_ACCOUNTS:,} fraudulent accounts had produced more than
{REPORTED_EXCHANGES // 1_000_000} million exchanges with its model, collecting the answers to train other labs' models (*reported*;
source: Anthropic, "Detecting and preventing distillation attacks", 23 Feb 2026). This is distillation without access to the
teacher: only its **answers**. Here our teacher sits behind a pretend prediction API that counts
every answer it gives (an *exchange*). Your *copy* is a student that sees only the questions it
asked and the answers it got: no weights, no labels. Then we grade the copy on 10,000 test digits.
"""
)
st.markdown(SIGNALS_PLACED)
with st.expander("Where the copier's questions come from (and why it matters)"):
    st.markdown(
        """
One caution about the default questions: they are MNIST training images, the very images the
teacher learnt from, so the copier asks exactly where the teacher is most at home. Questions from
elsewhere copy far less (mlp-100 copies from full probabilities on full MNIST, one run, seed 0,
measured by `python -m models extract --source S --queries N`: generated strokes and shapes 66 %
at 1,000 questions and 87 % at 10,000; uniform noise 18 % and 21 %; the teacher's own training
digits 92 % and 96 %). Real copiers ask real prompts: the closer to what the model was trained on,
the better the copy.
"""
    )
shared.dataset_caption()
data = shared.dataset()
if fashion_path() is None:
    st.caption("Fashion-MNIST is not on this machine, so the 'other images' source uses generated strokes "
               "and shapes (install Debian's `dataset-fashion-mnist` for the real thing).")
SOURCE_LABELS = {"mnist": "unlabelled digits (MNIST training images)",
                 "fashion": "other images (Fashion-MNIST clothing, or generated shapes)", "noise": "pure noise"}
LINE_KEYS = {f"{answers}-{samples}": (answers, samples) for answers, samples in CURVE_LINES}

st.header("How many exchanges does a copy take?")
st.markdown(
    """
Each point is one copy trained on that many paid-for answers. Full probabilities tell the copier
how sure the teacher was and what else it considered; a label tells it only the winner.
"""
)
with st.expander("Sampled answers, and how a chat reply differs"):
    st.markdown(
        """
**Sampled answers.** A chat model's reply is drawn at random according to its probabilities at the
service's *temperature* (T): one *sample*. Our digit teacher is all but certain about most digits,
so at T = 1 even sixteen samples of one image are nearly always the same digit and carry about what
a bare label carries. Sample hotter (T = 4) and a single answer is often a wrong digit, but many add
up to the soft targets. Every ask is paid for, so the x-axis counts **exchanges**: the same bill buys
many questions asked once or fewer questions asked many times.

A chat reply is not one sample but hundreds, one per character or word, and a copier trains on all
of them; some are nearly certain, as these digits are, and others are open choices. How many of
each, and what that means for a copy, *Copy a chatbot* measures with a tiny chat model instead of
an analogy.
"""
    )
with st.form("budget"):
    c1, c2 = st.columns(2)
    source = c1.selectbox("Questions", SOURCES, format_func=SOURCE_LABELS.get, key="curve_source")
    student = c2.selectbox("Copy's architecture", STUDENT_NAMES, index=STUDENT_NAMES.index(ExtractConfig.student),
                           key="curve_student", format_func=lambda n: f"{n} ({student_params(n):,} params)")
    lines = st.multiselect("Ways of answering", list(LINE_KEYS),
                           default=list(COPY_CURVE_LINES), key="curve_modes",
                           format_func=lambda key: variant_label(LINE_KEYS[key][0], "none", LINE_KEYS[key][1]))
    budgets = st.multiselect("Exchanges (answers paid for)", QUERY_BUDGETS, default=list(COPY_CURVE_BUDGETS),
                             key="curve_budgets")
    api_temperature = st.select_slider("Temperature the service samples its replies at (sampled digits only)",
                                       [1.0, 2.0, 4.0], value=1.0, key="curve_api_temperature")
    guess = (st.segmented_control(COPY_EXCHANGES.text + " One click, optional.", COPY_EXCHANGES.options,
                                  key="guess_copy_exchanges") if "curve_runs" not in st.session_state else None)
    go = st.form_submit_button("Copy at every budget", type="primary", key="curve_submit")
if go:
    try:
        if not lines or not budgets:
            raise ConfigError("pick at least one way of answering and one budget")
        configs = [curve_config(*LINE_KEYS[key], int(n), source=source, student=student,
                                teacher=shared.chosen_teacher(), forensics=False,
                                api_temperature=float(api_temperature) if LINE_KEYS[key][0] == "sample" else 1.0)
                   for key in lines for n in sorted(budgets)]
        check_budget(source, max(c.queries for c in configs), data)
        st.session_state.curve_runs = shared.submit(configs, group=shared.new_group("curve"))
        shared.keep_guess(st.session_state.curve_runs[0], COPY_EXCHANGES.key, guess)
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


def _points(runs):
    return [{**r.result.to_json(), "exchanges": r.result.exchanges or r.result.queries,
             "mode_label": variant_label(r.result.answers, r.result.defence, r.result.samples_per_image,
                                         r.config.api_temperature)}
            for r in runs]


def _draw_curve(runs):
    points = _points(runs)
    if not points:
        return
    st.success(copy_curve_finding(points))
    guessed = shared.guess_for(runs[0].id, COPY_EXCHANGES.key)
    if guessed:
        curve = [(p["exchanges"], p["fidelity"]) for p, r in zip(points, runs) if r.config.answers == "probs"
                 and r.config.defence == "none"]
        answer = exchanges_option(curve)
        st.info(f"You guessed **{guessed}** exchanges" + (f"; this curve says **{answer}**" if answer else
                                                         "; this curve stops short of telling")
                + ". The facilitator's room board shows everyone's.")
    left, right = st.columns(2)
    version = tuple(r.id for r in runs)
    with left:
        shared.cached_chart("curve-fidelity", version, lambda: budget_figure(points, "fidelity"))
    with right:
        shared.cached_chart("curve-accuracy", version,
                            lambda: budget_figure(points, "copy_accuracy", points[0]["teacher_accuracy"]))
    for notice in {p["source_notice"] for p in points if p["source_notice"]}:
        st.caption(notice)
    columns = {"mode_label": "answers", "exchanges": "exchanges", "queries": "distinct images",
               "source_name": "questions", "copy_accuracy": "copy's accuracy", "fidelity": "agrees with teacher",
               "seconds": "seconds"}
    st.dataframe([{name: p[key] for key, name in columns.items()}
                  for p in sorted(points, key=lambda p: (p["mode_label"], p["exchanges"]))],
                 hide_index=True, column_config={k: st.column_config.NumberColumn(format="percent")
                                                 for k in ("copy's accuracy", "agrees with teacher")})


runs = st.session_state.get("curve_runs")
if runs is None:  # this tab started none: show the latest curve on the server
    latest = shared.store().latest_group("extract", "curve-")
    runs = [r.id for r in shared.store().group(latest)] if latest else []
if runs:
    watching.watch_group(runs, _draw_curve)
else:
    watching.show_stored_default("copy_curve", _draw_curve, "Copy at every budget")
st.page_link("lessons/chat_copy.py", label="The same story in text: copy a chatbot", icon=":material/chat:")
st.page_link("lessons/defences.py", label="Next: defences, and what they cost honest users", icon=":material/shield:")
