"""Try your own digit: draw, upload or photograph one; see what the teacher and stored students make of it."""
import hashlib
import json

import numpy as np
import streamlit as st
from PIL import Image

from lessons.charts import chart
from lessons import shared
from lessons.canvas import drawing_pad
from lessons.figures import reliability_figure, soft_targets_figure
from models.core.calibration import calibration
from models.core.digit import DigitError, read_digit
from models.service.export import student_card, student_file
from models.core.loss import soft_targets
from models.service.names import clean_name
from models.core.checkpoints import has_twin, load_student
from models.core.checkpoints import load_teacher
from models.core.training import predict_logits

st.title("Try your own digit")
st.markdown(
    """
Draw a digit with the mouse or a finger, upload a photo or a scan, or take one with the camera.
The lab turns it into what the models saw in training, the way MNIST was made: grey, ink bright
on dark (dark ink on light paper is flipped), cropped to the ink, the longer side scaled to 20
pixels, and centred by its centre of mass in a 28 × 28 square. Then the teacher, and any student
you pick, say what they see and how sure they are. An ambiguous scrawl is where soft targets
show most: watch which other digits the teacher thinks it resembles.
"""
)
store = shared.store()


def _your_digit() -> tuple[bytes | None, DigitError | None]:
    """The visitor's picture as bytes (or None), and why the pad's value is refused (or None)."""
    source = st.segmented_control("Your digit", ["Draw", "Upload", "Camera"], default="Draw", key="digit_source")
    if source == "Upload":
        upload = st.file_uploader("A photo or scan of one digit", type=["png", "jpg", "jpeg", "webp"],
                                  key="digit_upload")
        return (upload.getvalue() if upload else None), None
    if source == "Camera":
        shot = st.camera_input("A photo of one digit on paper", key="digit_camera")
        return (shot.getvalue() if shot else None), None
    pad = st.session_state.setdefault("pad_round", 0)
    try:
        drawn, problem = drawing_pad(key=f"pad-{pad}"), None
    except DigitError as error:  # the Clear button below still draws: a fresh pad ends it
        drawn, problem = None, error
    if st.button("Clear", key="clear_pad", icon=":material/ink_eraser:"):
        st.session_state.pad_round = pad + 1  # a new key is a new, empty pad
        st.rerun()
    return drawn, problem


@st.cache_resource(show_spinner=False, max_entries=32)
def _stored_models(run_id: int, student: str):
    """(distilled student, scratch twin or None) of a stored run: small, read-only, shared by visitors."""
    weights = store.weights(run_id)
    twin = load_student(student, weights, twin=True) if has_twin(weights) else None
    return load_student(student, weights), twin


def _run_label(run_id: int) -> str:
    run = students[run_id]
    name = f" {clean_name(run.name)}" if run.name else ""
    never = f", never saw a {run.config.omit_class}" if run.config.omit_class is not None else ""
    return f"#{run.id} {run.result.student}, T = {run.config.temperature:g}{never}{name}"


finished = store.list(kind="distill", status="done", limit=100)
stored = store.with_weights([r.id for r in finished])
students = {r.id: r for r in finished if r.id in stored}
mine = [i for i in students if i in shared.my_runs()]
# The visitor's own run first; else the newest student that saw every digit (a missing-digit student
# answers a drawn 3 with "8" and would need explaining before anything else).
default = (mine or [i for i, r in students.items() if r.config.omit_class is None] or list(students))[:1]

left, right = st.columns([1, 1])
with left:
    data, problem = _your_digit()
def _read_once(data: bytes):
    """The digit in these bytes, or why not, prepared once per session: a slider move or a poll
    reruns this page, and preparing a large photo again each time cost seconds of the room's CPU."""
    key = hashlib.sha256(data).hexdigest()
    memo = st.session_state.get("_digit_memo")
    if memo is None or memo[0] != key:
        try:
            memo = (key, read_digit(data))
        except DigitError as error:
            memo = (key, error)
        st.session_state["_digit_memo"] = memo  # one entry: the picture on screen now
    return memo[1]


digit = None
if data is not None:
    prepared = _read_once(data)
    if isinstance(prepared, DigitError):
        problem = prepared
    else:
        digit = prepared
if problem is not None:
    right.warning(f"Could not read that as a digit: {problem}.")
with right:
    if digit is None and data is None and problem is None:
        st.info("Draw a digit on the pad (or upload or photograph one) to see what the models make of it.")
    elif digit is not None:
        big = Image.fromarray(digit.pixels).resize((168, 168), Image.Resampling.NEAREST)
        st.image(big, caption="What the models see: 28 × 28 pixels"
                 + (" (your dark-on-light picture, flipped)" if digit.inverted else ""),
                 alt="Your digit as the models see it: 28 by 28 grey pixels, light strokes on black")

if digit is not None:
    teacher_logits = predict_logits(load_teacher(shared.chosen_teacher()), digit.tensor())[0]
    temperature = st.slider("Temperature T", 0.5, 20.0, 4.0, 0.5, key="own_temperature",
                            help="T = 1 is the ordinary softmax; higher T shows what else the teacher sees in it.")
    probs_1, probs_t = soft_targets(teacher_logits, 1.0).tolist(), soft_targets(teacher_logits, temperature).tolist()
    top = int(np.argmax(probs_1))
    runner_up = sorted(range(10), key=lambda d: probs_t[d], reverse=True)[1]
    st.markdown(f"The teacher reads **{top}**, {probs_1[top]:.1%} sure. At T = {temperature:g} its second "
                f"choice is **{runner_up}** ({probs_t[runner_up]:.1%}): what it thinks your digit resembles.")
    chart(soft_targets_figure(probs_t, probs_1, temperature), "own-soft")
    if not students:
        st.info("No distilled students on this server yet: distil one on *3. Distil a student* and it answers "
                "your digit here too, beside its scratch twin.")
    picked = st.multiselect("Students to ask (stored distillation runs)", students, default=default,
                            format_func=_run_label, key="own_students") if students else []
    rows = [{"model": "teacher", "answer": top, "confidence": probs_1[top]}]
    for run_id in picked:
        student, twin = _stored_models(run_id, students[run_id].result.student)
        for label, model in ((f"{_run_label(run_id)}: distilled", student),
                             (f"{_run_label(run_id)}: scratch twin", twin)):
            if model is not None:
                probs = predict_logits(model, digit.tensor())[0].softmax(0)
                rows.append({"model": label, "answer": int(probs.argmax()), "confidence": float(probs.max())})
    st.dataframe(rows, hide_index=True, key="own-answers",
                 column_config={"confidence": st.column_config.NumberColumn(format="percent")})
    for run_id in picked:
        missing = students[run_id].config.omit_class
        if missing is not None:
            st.caption(f"#{run_id} never saw a {missing} while training (*The missing digit*): it knows the digit only "
                       "from the teacher's soft targets, and without its bias shift it is shy of naming it, so a "
                       f"drawn {missing} often gets another answer.")

calibration_box = st.expander("How sure is it? Calibration of a stored student")
calibration_box.markdown(
    """
A model is *calibrated* when its confidence means what it says: of all the answers it gives at
about 90 % confidence, about 90 % are right. The reliability diagram sorts the 10,000 test digits
into 10 equal confidence bins and plots each bin's accuracy against its confidence; a calibrated
model sits on the diagonal, an overconfident one below it. Two summaries: the *expected
calibration error* (the gap over the same 10 bins, weighted by their digits; 0 is perfect) and the *log-loss* (how surprised the model is
by the true answers on average, in nats; lower is better).
"""
)
if not students:
    calibration_box.info("Distil a student first (page 3); its calibration and its twin's appear here.")
    st.stop()
chosen = students[calibration_box.selectbox("Distillation run", list(students), index=list(students).index(default[0]),
                                format_func=_run_label, key="calibration_run")]


@st.cache_data(show_spinner="Measuring calibration on the test digits…", max_entries=16)
def _calibrations(run_id: int, student: str, teacher: str, fingerprint: str) -> dict:
    data = shared.dataset()
    model, twin = _stored_models(run_id, student)
    found = {"teacher": calibration(shared.logits_or_stop(teacher).test, data.test_y),
             "distilled student": calibration(predict_logits(model, data.test_x), data.test_y)}
    if twin is not None:
        found["scratch twin"] = calibration(predict_logits(twin, data.test_x), data.test_y)
    return found


found = _calibrations(chosen.id, chosen.result.student, shared.chosen_teacher(), shared.dataset().fingerprint)
with calibration_box:
    shared.cached_chart("reliability", (chosen.id, shared.chosen_teacher()), lambda: reliability_figure(found))
calibration_box.dataframe([{"model": name, "accuracy": c.accuracy, "calibration error": c.ece, "log-loss (nats)": c.nll}
              for name, c in found.items()], hide_index=True, key="calibration-table",
             column_config={"accuracy": st.column_config.NumberColumn(format="percent"),
                            "calibration error": st.column_config.NumberColumn(format="percent"),
                            "log-loss (nats)": st.column_config.NumberColumn(format="%.3f")})
if "scratch twin" not in found:
    calibration_box.caption("This run was stored before scratch twins were kept, so only the student is shown.")

st.header("Take a model home")


@st.cache_data(show_spinner=False, max_entries=16)
def _take_home(run_id: int) -> tuple[bytes, str]:
    """The .pt and its card, built once per run (every slider move reruns this page)."""
    weights = store.weights(run_id)
    return student_file(weights), json.dumps(student_card(students[run_id], weights), indent=2)


tensors, card = _take_home(chosen.id)
stem = f"distilled-run{chosen.id}-{chosen.result.student}"
c1, c2 = st.columns(2)
c1.download_button("Student weights (.pt, tensors only)", tensors, file_name=f"{stem}.pt",
                   mime="application/octet-stream", key="download_pt")
c2.download_button("Its card (.json)", card, file_name=f"{stem}.json", mime="application/json", key="download_card")
st.caption(f"Keep both files side by side, then: `python -m models evaluate --teacher {stem}.pt` measures it, "
           f"and `python -m models predict DIGIT.png --teacher {stem}.pt` asks it about your digit.")
