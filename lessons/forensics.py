"""Forensics: was this model copied from mine? Copies inherit their teacher's mistakes."""
import streamlit as st

from lessons import shared
from lessons.figures import forensics_figure
from models.config import ConfigError, ExtractConfig
from models.core.forensics import share_interval, shared_mistake_counts
from models.service.names import markdown_text, without_paths
from models.core.checkpoints import load_student
from models.core.checkpoints import teacher_digest
from models.core.training import predict_logits

st.title("Was this model copied from mine?")
st.markdown(
    """
A provider who suspects a rival model was trained on its answers cannot look inside it, but it
can ask it questions. The giveaway is in the **mistakes**. Take the test digits our teacher gets
wrong, and check how often a suspect model gives the *same wrong digit*. A model trained on the
teacher's answers learnt those mistakes too. A model trained independently, on true labels, makes
its own mistakes: it agrees with the teacher's wrong digit only where a digit is ambiguous to
everyone (a 4 that really looks like a 9).

Below: the share of the teacher's mistakes each model repeats, with a 95 % interval. Read the
intervals before the bars: our teacher makes only a few dozen mistakes, and most are digits that
would fool any model, so an independent model repeats many of them too. Only a copy whose interval
sits clearly above the independent model's is evidence of copying. On MNIST that takes a very
faithful copy, and often the intervals overlap: then this test cannot tell, however suspicious the
bars look. Real forensics uses far more questions where models disagree.
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
        return f"#{run.id} copy ({r.student}, {r.exchanges or r.queries:,} exchanges, {r.answers})"
    return f"#{run.id} distilled student ({r.student}, T = {run.config.temperature:g}) {run.name}".strip()


@st.cache_data(show_spinner="Asking the suspect about every test digit…", max_entries=64)
def _score(run_id: int, student: str, teacher_digest: str, fingerprint: str) -> tuple[int, int]:
    model = load_student(student, store.weights(run_id))
    return shared_mistake_counts(predict_logits(model, data.test_x).argmax(1), teacher_top, data.test_y)


with st.form("forensic_copy"):
    images = st.select_slider("Images the copier asks about (full probabilities)", [1000, 3000, 10000], value=1000,
                              key="forensic_images")
    go = st.form_submit_button("Make a copy and its independent control", key="forensic_submit", type="primary")
if go:
    try:
        st.session_state.forensic_run = shared.submit([ExtractConfig(queries=int(images),
                                                                     teacher=shared.chosen_teacher())])[0]
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")
if "forensic_run" in st.session_state:
    shared.watch_run(st.session_state.forensic_run, lambda run: None, lambda run: None)

if not candidates:
    st.info("No stored copy or distilled student of this teacher yet: make a copy above, or distil a student on "
            "*Distil a student*, then come back.")
    st.stop()
latest_copy = next((r for r in candidates if r.kind == "extract" and r.result.independent_mistakes_shared is not None),
                   None)
latest_student = next((r for r in candidates if r.kind == "distill" and r.result.teacher_mistakes_shared is not None),
                      None)
mistakes = int((teacher_top != data.test_y).sum())
bars = []
if latest_copy:
    r = latest_copy.result
    bars += [("copy (answers only)", r.teacher_mistakes_shared), ("independent, same size and budget",
                                                                 r.independent_mistakes_shared)]
if latest_student:
    r = latest_student.result
    bars += [("distilled student", r.teacher_mistakes_shared), ("its scratch twin", r.scratch_mistakes_shared)]
if bars:
    intervals = [share_interval(round(share * mistakes), mistakes) for _, share in bars]
    shared.cached_chart("forensics", tuple(bars), lambda: forensics_figure(bars, intervals, mistakes))
    st.caption(f"From the latest copy (run {latest_copy.id if latest_copy else '–'}) and the latest distilled student "
               f"(run {latest_student.id if latest_student else '–'}) of this teacher; the teacher makes {mistakes} "
               "mistakes on the test digits.")

st.subheader("Check any stored model")
chosen = st.selectbox("Suspect", candidates, format_func=lambda run: markdown_text(_label(run)), key="suspect")
repeated, total = _score(chosen.id, chosen.result.student, digest, data.fingerprint)
low, high = share_interval(repeated, total)
st.metric("Teacher's mistakes it repeats, digit for digit", f"{repeated} of {total}",
          help="95 % Wilson interval for the share: " f"{low:.0%} to {high:.0%}")
st.markdown(f"That is {repeated / max(total, 1):.0%} (95 % interval {low:.0%} to {high:.0%}). Compare it with an "
            "independent model of the same size in the chart above: a share well above the independent model's, "
            "with intervals that do not overlap, is evidence of copying; overlapping intervals are not.")
