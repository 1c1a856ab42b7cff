"""Copying a model through its answers: query budget, answer modes, and what defences cost."""
import streamlit as st

from lessons import shared
from lessons.figures import budget_figure
from models.config import (
    ANSWER_LABELS,
    ANSWER_MODES,
    DEFAULT_NOISE,
    REPORTED_ACCOUNTS,
    REPORTED_EXCHANGES,
    SOURCES,
    STUDENT_NAMES,
    ConfigError,
    ExtractConfig,
)
from models.extraction import ANSWER_VARIANTS, QUERY_BUDGETS, answer_costs, variant_label
from models.names import without_paths
from models.nets import student_params
from models.queries import check_budget, fashion_path
from models.teacher import load_teacher

st.title("Copy a model through its answers")
st.markdown(
    f"""
In 2026 Anthropic reported that about {REPORTED_ACCOUNTS:,} fraudulent accounts had produced more than
{REPORTED_EXCHANGES // 1_000_000} million exchanges with its model, collecting the answers to train other labs' models (*reported*;
source: Anthropic, "Detecting and preventing distillation attacks", 23 Feb 2026). This is distillation without access to the
teacher: only its **answers**. Here our teacher sits behind a pretend prediction API that counts
every question. Your *copy* is a student that sees only the questions it asked and the answers it
got: no weights, no labels. Then we grade the copy on 10,000 test digits.
"""
)
shared.dataset_caption()
data = shared.dataset()
if fashion_path() is None:
    st.caption("Fashion-MNIST is not on this machine, so the 'other images' source uses generated strokes "
               "and shapes (install Debian's `dataset-fashion-mnist` for the real thing).")
SOURCE_LABELS = {"mnist": "unlabelled digits (MNIST training images)",
                 "fashion": "other images (Fashion-MNIST clothing, or generated shapes)", "noise": "pure noise"}

st.subheader("How many questions does a copy take?")
st.markdown("Each point is one copy trained on that many answers. Full probabilities tell the copier "
            "how sure the teacher was and what else it considered; a label tells it only the winner.")
with st.form("budget"):
    c1, c2 = st.columns(2)
    source = c1.selectbox("Questions", SOURCES, format_func=SOURCE_LABELS.get, key="curve_source")
    modes = st.multiselect("Answer modes", ANSWER_MODES, default=list(ANSWER_MODES), format_func=ANSWER_LABELS.get,
                           key="curve_modes")
    student = c2.selectbox("Copy's architecture", STUDENT_NAMES, index=STUDENT_NAMES.index(ExtractConfig.student),
                           key="curve_student",
                           format_func=lambda n: f"{n} ({student_params(n):,} params)")
    budgets = st.multiselect("Query budgets", QUERY_BUDGETS, default=[100, 1000, 10000], key="curve_budgets")
    go = st.form_submit_button("Copy at every budget", type="primary", key="curve_submit")
if go:
    try:
        if not modes or not budgets:
            raise ConfigError("pick at least one answer mode and one budget")
        configs = [ExtractConfig(queries=int(n), answers=mode, source=source, student=student,
                                 teacher=shared.chosen_teacher()) for mode in modes for n in sorted(budgets)]
        check_budget(source, max(budgets), data)
        curve = shared.new_group("curve")
        st.session_state.curve_runs = shared.submit(configs, group=curve)
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


def _points(runs):
    return [{**r.result.to_json(), "mode_label": variant_label(r.result.answers, r.result.defence)} for r in runs]


def _draw_curve(runs):
    points = _points(runs)
    if not points:
        return
    left, right = st.columns(2)
    version = tuple(r.id for r in runs)
    with left:
        shared.cached_chart("curve-fidelity", version, lambda: budget_figure(points, "fidelity"))
    with right:
        shared.cached_chart("curve-accuracy", version,
                            lambda: budget_figure(points, "copy_accuracy", points[0]["teacher_accuracy"]))
    notices = {p["source_notice"] for p in points if p["source_notice"]}
    for notice in notices:
        st.caption(notice)
    st.dataframe([{k: p[k] for k in ("mode_label", "queries", "source_name", "copy_accuracy", "fidelity",
                                     "seconds")} for p in sorted(points, key=lambda p: (p["mode_label"], p["queries"]))],
                 hide_index=True, column_config={k: st.column_config.NumberColumn(format="percent")
                                                 for k in ("copy_accuracy", "fidelity")})


runs = st.session_state.get("curve_runs")
if runs is None:  # this tab started none: show the latest curve on the server
    latest = shared.store().latest_group("extract", "curve-")
    runs = [r.id for r in shared.store().group(latest)] if latest else []
shared.watch_group(runs, _draw_curve)

st.subheader("Defences, and what they cost honest users")
st.markdown(
    """
A provider can answer with less: the top three probabilities, a rounded number, only the label, or
probabilities with noise added that never change the top answer. Every honest user still gets the
same top answer, but they lose something: how well the stated confidence matches reality
(*calibration error*, 0 is perfect) and detail (*distortion*: how far the returned probabilities
are from the true ones), measured now on the 10,000 test digits. The copier's side: how often a
copy trained on that many answers agrees with the teacher (*fidelity*).
"""
)


@st.cache_data(show_spinner="Measuring each answer mode…", max_entries=4)
def _costs(teacher: str, fingerprint: str, strength: float):
    return answer_costs(load_teacher(teacher), shared.dataset(), strength)


with st.form("defence"):
    c1, c2, c3 = st.columns(3)
    defence_budget = c1.select_slider("Copier's questions", [100, 300, 1000, 3000], value=1000, key="defence_queries")
    strength = c2.select_slider("Noise defence strength", [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0], value=DEFAULT_NOISE,
                                key="defence_strength",
                                help="How much the defence shakes the small probabilities (noise on their logarithm).")
    go_defence = c3.form_submit_button("Measure the copier's side too", key="defence_submit")
costs = _costs(shared.chosen_teacher(), data.fingerprint, float(strength))
if go_defence:
    try:
        st.session_state.defence_runs = shared.submit(
            [ExtractConfig(queries=int(defence_budget), answers=answers, defence=defence,
                           defence_strength=float(strength), teacher=shared.chosen_teacher())
             for answers, defence in ANSWER_VARIANTS], group=shared.new_group("defences"))
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


def _defence_table(runs):
    copier = {(r.result.answers, r.result.defence): r.result for r in runs}
    budget = runs[0].result.queries if runs else None
    rows = []
    for cost in costs:
        row = {"answers": cost["label"], "honest users: same top answer": cost["top_label_agreement"],
               "honest users: calibration error": cost["calibration_error"],
               "honest users: distortion": cost["distortion"]}
        if budget:
            found = copier.get((cost["answers"], cost["defence"]))
            row[f"copier: fidelity after {budget:,} questions"] = found.fidelity if found else None
        rows.append(row)
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(rows, hide_index=True, key="defence-table", column_config={
        "honest users: same top answer": percent,
        "honest users: calibration error": st.column_config.NumberColumn(format="%.4f"),
        "honest users: distortion": st.column_config.NumberColumn(format="%.4f"),
        **({f"copier: fidelity after {budget:,} questions": percent} if budget else {})})


if st.session_state.get("defence_runs"):
    shared.watch_group(st.session_state.defence_runs, _defence_table)
else:
    _defence_table([])
st.markdown("Tramèr et al. (2016) found that dropping confidences slows extraction but does not stop it; "
            "Orekondy et al. (2020) studied perturbing the probabilities (\"prediction poisoning\"). The "
            "noise defence here never changes the top answer but scrambles the small probabilities, which are "
            "exactly the dark knowledge a copier re-softens and learns from. Raise its strength and watch both "
            "sides: the copier slows down, and honest users' confidence numbers get less trustworthy.")
st.page_link("lessons/catching.py", label="Next: how many accounts, and can we catch them?", icon=":material/policy:")
