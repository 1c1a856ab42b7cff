"""Forensics: was this model copied from mine? Copies inherit their teacher's mistakes."""
import streamlit as st

from lessons.findings import p_text
from lessons import shared, watching
from models.base.configs import ConfigError, ExtractConfig
from models.core.forensics import second_choice_shared, shared_mistake_counts
from models.experiments.extraction import variant_label
from models.service.names import clean_name, without_paths
from models.service.stored_defaults import FORENSIC_COPIES
from models.core.checkpoints import load_student
from models.core.checkpoints import teacher_digest
from models.core.training import predict_logits

st.title("Was this model copied from mine?")
st.markdown(
    """
A provider who suspects a rival model was trained on its answers cannot look inside it, but it
can ask it questions, and compare the answers with those of models it knows were trained
independently, **on the same test digits**. Two questions:

- **The mistakes test.** On the few dozen test digits our teacher gets wrong, how often does the
  suspect give the *same wrong digit*? Most of those digits would fool anyone, so independent
  models repeat many of them too: this test rarely has the power to tell.
- **The second-choice test.** On the thousands of digits where the suspect and the teacher agree on
  the answer, how often do they also agree on the *runner-up* (the teacher's "or else, a 9")? A
  model trained on the teacher's probabilities inherits its second thoughts; an independent one
  mostly does not (chance is 1 in 9).

Each suspect is compared with an independent model on the same digits, where they differ (an exact
*McNemar* test: only the digits one gets right and the other does not count), and three independent
models show how much honest models vary. The honest limit: answers that reveal less (labels only,
one sampled answer) leave less trace, and a copy made from them can look independent.
"""
)
shared.dataset_caption()
data = shared.dataset()
teacher = shared.chosen_teacher()
logits = shared.logits_or_stop(teacher)
teacher_top = logits.test.argmax(1)
digest = teacher_digest(teacher)
store = shared.store()
# Models of this teacher whose weights were stored (copies made before forensics kept none).
finished = [r for kind in ("extract", "distill") for r in store.list(kind=kind, status="done", limit=200)
            if r.result.teacher_digest == digest]
stored = store.with_weights([r.id for r in finished])
candidates = [r for r in finished if r.id in stored]


def _label(run) -> str:
    r = run.result
    if run.kind == "extract":
        answers = variant_label(r.answers, r.defence, r.samples_per_image, run.config.api_temperature)
        return f"#{run.id} copy ({r.student}, {r.exchanges or r.queries:,} exchanges, {answers})"
    return f"#{run.id} distilled student ({r.student}, T = {run.config.temperature:g}) {run.name}".strip()


@st.cache_data(show_spinner="Asking the suspect about every test digit…", max_entries=64)
def _score(run_id: int, student: str, teacher_digest: str, fingerprint: str) -> tuple[int, int, float]:
    suspect = predict_logits(load_student(student, store.weights(run_id)), data.test_x)
    repeated, total = shared_mistake_counts(suspect.argmax(1), teacher_top, data.test_y)
    return repeated, total, second_choice_shared(suspect, logits.test)


CONTROLS = FORENSIC_COPIES  # independent models: one shows a number, three show how much honest models differ
with st.form("forensic_copy"):
    images = st.select_slider("Images the copier asks about (full probabilities)", [1000, 3000, 10000], value=1000,
                              key="forensic_images")
    go = st.form_submit_button(f"Make {CONTROLS} copies, each with its independent control (seeds 0-{CONTROLS - 1})",
                               key="forensic_submit", type="primary")
if go:
    try:
        group = shared.new_group("forensics")
        shared.submit([ExtractConfig(queries=int(images), teacher=shared.chosen_teacher(), seed=seed)
                       for seed in range(CONTROLS)], group=group)
        st.session_state.forensic_group = group
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


def _pair_rows(runs) -> list[dict]:
    """One row per pair: a copy and its independent control (same seed), tested on the same digits.
    Every cell holds a value: p-values as words a reader can use, never 0 or 1e-321."""
    rows = []
    for run in runs:
        r = run.result
        low, high = (100 * x for x in r.second_choice_gap_ci)
        rows.append({"seed": run.config.seed,
                     "runner-up shared: copy": r.teacher_second_choice_shared,
                     "runner-up shared: independent": r.independent_second_choice_shared,
                     "copy − independent (95 % interval)": f"{low:+.1f} to {high:+.1f} points",
                     "runner-up test": p_text(r.second_choice_mcnemar_p),
                     "mistakes repeated: copy": r.teacher_mistakes_shared,
                     "mistakes repeated: independent": r.independent_mistakes_shared,
                     "mistakes test": p_text(r.mistakes_mcnemar_p)})
    return rows


def finding(runs) -> str:
    """The page's finding in one sentence, computed from the copies' paired tests."""
    copies = [r.result.teacher_second_choice_shared for r in runs]
    controls = [r.result.independent_second_choice_shared for r in runs]
    told = all(r.result.second_choice_mcnemar_p < 0.01 and r.result.second_choice_gap_ci[0] > 0 for r in runs)
    mistakes_told = sum(r.result.mistakes_mcnemar_p < 0.05 for r in runs)
    def span(values) -> str:  # "49%–52%", or one figure where they round alike (never "51%–51%")
        low, high = f"{min(values):.0%}", f"{max(values):.0%}"
        return low if low == high else f"{low}–{high}"
    second = (f"The copies share the teacher's runner-up on {span(copies)} of the digits where they agree with it, "
              f"the independent models on {span(controls)}")
    verdict = ("; every copy differs from its own control by a paired test (p < 0.01), so this test can tell a copy "
               "from an independent model here" if told else
               "; not every copy differs clearly from its own control, so this test cannot tell here")
    return (f"{second}{verdict}. The mistakes test tells {mistakes_told} of {len(runs)} pairs apart (p < 0.05).")


def _draw(done):
    paired = [r for r in done if r.result.second_choice_gap_ci is not None]
    if not paired:
        return
    rows = _pair_rows(paired)
    st.markdown(f"**{finding(paired)}**")  # the finding first, the table that backs it below
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(rows, hide_index=True, key="forensic_pairs", width="stretch", column_config={
        "runner-up shared: copy": percent, "runner-up shared: independent": percent,
        "mistakes repeated: copy": percent, "mistakes repeated: independent": percent,
        "copy − independent (95 % interval)": st.column_config.TextColumn(width="medium"),
        "runner-up test": st.column_config.TextColumn(help="Exact McNemar test on the digits where the two differ"),
        "mistakes test": st.column_config.TextColumn(help="Exact McNemar test on the teacher's mistakes")})


shown_group = st.session_state.get("forensic_group") or store.latest_group("extract", "forensics-")
if shown_group:
    watching.watch_group([r.id for r in store.group(shown_group)], _draw)
else:  # no forensic copies on this server yet: the shipped ones, so the comparison is never empty
    watching.show_stored_default("forensics", _draw, f"Make {CONTROLS} copies")

if not candidates:
    st.info("No stored copy or distilled student of this teacher yet: make copies above, or distil a student on "
            "*Distil a student*, then come back.")
    st.stop()
latest_student = next((r for r in candidates if r.kind == "distill"
                       and r.result.teacher_second_choice_shared is not None), None)
mistakes = int((teacher_top != data.test_y).sum())
if latest_student:
    r = latest_student.result
    st.markdown(f"The latest distilled student (run {latest_student.id}) shares the teacher's runner-up on "
                f"{r.teacher_second_choice_shared:.0%} of digits, its scratch twin, which never saw the teacher, on "
                f"{r.scratch_second_choice_shared:.0%} (paired McNemar {p_text(r.second_choice_mcnemar_p)}); on the "
                f"teacher's {mistakes} mistakes they repeat {r.teacher_mistakes_shared:.0%} and "
                f"{r.scratch_mistakes_shared:.0%} ({p_text(r.mistakes_mcnemar_p)}).")

st.header("Check any stored model")


def _independent_range() -> tuple[float, float] | None:
    """How often the independent models of the newest paired copies share the teacher's runner-up."""
    group = st.session_state.get("forensic_group") or store.latest_group("extract", "forensics-")
    runs = [r for r in store.group(group) if r.status == "done"] if group else []
    if not runs:
        from models.service.stored_defaults import stored_runs
        runs = stored_runs("forensics")
    shares = [r.result.independent_second_choice_shared for r in runs
              if r.result.independent_second_choice_shared is not None]
    return (min(shares), max(shares)) if shares else None


def suspect_sentence(run, runner_up: float, honest: tuple[float, float] | None) -> str:
    """What the chosen suspect's runner-up share means, against the independent models' range."""
    if honest is None:
        return "Make the paired copies above to see what independent models share, and compare."
    low, high = honest
    seen = "above every independent model" if runner_up > high else (
        "within the independent models' range" if runner_up >= low else "below every independent model")
    said = (f"This suspect shares the teacher's runner-up on {runner_up:.0%} of the digits where they agree, "
            f"{seen} ({low:.0%}–{high:.0%}).")
    if _reveals_probabilities(run):
        return said + (" It learned from the teacher's probabilities, which is what this test detects."
                       if runner_up > high else " It learned from the teacher's probabilities, yet leaves little trace.")
    return said + (" It was copied through answers that reveal less than probabilities (a sampled digit or a label): "
                   "such a copy learns little of the teacher's second thoughts, so it can look like an independent "
                   "model. A result like this does not clear it; only a copy that saw probabilities is caught reliably.")


def _reveals_probabilities(run) -> bool:
    """Trained on the teacher's probabilities: a distilled student, or a copy through full probabilities."""
    return run.kind == "distill" or (run.result.answers == "probs" and run.result.defence == "none")


# Start on a suspect the test is built for (one that saw the teacher's probabilities); a copy through
# sampled answers or labels is one choice away, and the sentence below says what its result means.
first = next((i for i, run in enumerate(candidates) if _reveals_probabilities(run)), 0)
chosen = st.selectbox("Suspect", candidates, index=first, format_func=lambda run: clean_name(_label(run)),
                      key="suspect")
repeated, total, runner_up = _score(chosen.id, chosen.result.student, digest, data.fingerprint)
st.metric("Teacher's mistakes it repeats, digit for digit", f"{repeated} of {total}",
          help="A small sample: on its own it rarely tells a copy from an independent model.")
st.metric("Runner-up shared where it agrees with the teacher", f"{runner_up:.0%}",
          help="Chance is about 11 %; compare with the independent models in the table above, tested on the "
               "same digits.")
st.markdown(suspect_sentence(chosen, runner_up, _independent_range()))
