"""The missing digit: a student that never saw a digit still recognises it from soft targets."""
import dataclasses

import streamlit as st

from lessons import shared, watching
from lessons.findings import missing_digit_finding
from lessons.links import share_link, widget_default
from lessons.figures import learning_curves_figure
from models.base.configs import MISSING_DIGIT_DEFAULTS, STUDENT_NAMES, ConfigError
from models.experiments.missing_digit import shifted
from models.service.names import without_paths
from models.core.checkpoints import load_student
from models.core.nets import student_params
from models.core.training import accuracy, predict_logits

st.title("The missing digit")
st.markdown(
    """
Take every image of one digit out of the student's training set: no pictures of it, labelled or
not. A student trained on labels alone (the scratch twin) cannot possibly name that digit. But the
teacher's soft targets on the *other* digits still mention it: a 5 that looks a bit like a 3, an 8
with a 3 inside it. Hinton, Vinyals and Dean (2015) found that a distilled student learns the
missing digit from those hints alone. Try it.
"""
)
st.info("**The paper's result** (Hinton et al. 2015, section 3, digit 3 removed): the distilled "
        "2 × 800 student still got **877 of the 1,010** test 3s right (86.8 %); after raising the "
        "output *bias* (the constant added to a class's score) of class 3 by 3.5, **98.6 %**.")
shared.dataset_caption()
data = shared.dataset()
defaults = MISSING_DIGIT_DEFAULTS

# A link (models/service/links.py) may have filled any of these already; otherwise the paper's defaults.
for key, value in {"omit_digit": defaults.omit_class, "md_student": defaults.student,
                   "md_temperature": defaults.temperature, "md_alpha": defaults.alpha,
                   "md_epochs": defaults.epochs}.items():
    widget_default(key, value)
# The lesson trains on every other image (train_size 0); under a cap on images, on the cap's number.
epochs_cap = shared.start_inside_caps({"epochs": "md_epochs", "train_size": None})
with st.form("missing-digit"):
    left, right = st.columns(2)
    digit = left.selectbox("Digit to leave out", list(range(10)), key="omit_digit")
    student = left.selectbox("Student", STUDENT_NAMES,
                             format_func=lambda n: f"{n}  ({student_params(n):,} parameters)", key="md_student")
    temperature = right.number_input("Temperature T", 0.1, 100.0, step=1.0, key="md_temperature")
    alpha = right.slider("α: weight on the teacher's soft targets", 0.0, 1.0, step=0.05, key="md_alpha")
    epochs = right.number_input("Epochs", 1, epochs_cap or 500, key="md_epochs")
    st.caption(f"Defaults follow the paper (2 × 800 student, T = 20, all other training images): "
               f"{shared.cost_words([defaults])} of the room's worker time. The stored default result below is "
               "that run, measured once, so you need not wait for it. The bias shift is chosen on a validation "
               "split of the training images, never on the test set. Smaller, shorter runs are quicker but may "
               "recognise far fewer of the missing digit: run one and see.")
    go = st.form_submit_button("Train without that digit", type="primary", key="md_submit")
share_link("missing_digit")

if go:
    try:
        config = dataclasses.replace(defaults, omit_class=int(digit), student=student,
                                     temperature=float(temperature), alpha=float(alpha), epochs=int(epochs),
                                     teacher=shared.chosen_teacher())
        config = shared.room_caps().inside(config)
        shared.logits_or_stop(config.teacher)
        st.session_state.missing_run = shared.submit([config], name=f"missing {digit}")[0]
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


@st.cache_data(max_entries=8, show_spinner=False)
def _student_test_logits(run_id: int, student: str):
    return predict_logits(load_student(student, shared.store().weights(run_id)), shared.dataset().test_x)


def _live(run):
    curves = run.progress.curves
    st.progress(run.progress.fraction, text=f"epoch {run.progress.epoch:.1f} of {run.config.epochs}")
    if curves:
        shared.cached_chart(f"md-lc-{run.id}", len(curves), lambda: learning_curves_figure(curves, run.config.epochs))


def _done(run):
    report = run.result.missing_digit
    digit = report.omitted_class
    st.header(f"Test images of the digit {digit} ({report.test_images_of_class:,} of them)")
    st.success(missing_digit_finding(report, run.config.seed))
    cols = st.columns(4)
    cols[0].metric("Scratch twin", f"{report.scratch_omitted_class_accuracy:.1%}",
                   help="Trained on labels only: it has never been told this digit exists.")
    if report.scratch_bias_shift is not None:
        cols[1].metric(f"Scratch twin, bias raised by {report.scratch_bias_shift:g}",
                       f"{report.scratch_omitted_class_accuracy_adjusted:.1%}",
                       help="The twin gets its own shift, chosen the same way: the comparison is fair.")
    cols[2].metric("Distilled student", f"{report.omitted_class_accuracy:.1%}")
    cols[3].metric(f"Distilled, bias of {digit} raised by {report.bias_shift:g}",
                   f"{report.omitted_class_accuracy_adjusted:.1%}",
                   help=f"The shift was chosen to maximise accuracy on {report.validation_size:,} "
                        "training images held out of the transfer set, never on the test set.")
    st.caption("How the shifts were chosen: each model's shift maximises its overall accuracy on "
               f"{report.validation_size:,} training images held out of the transfer set. The paper chose its "
               "+3.5 by looking at the test set itself; choosing on held-out training images is stricter. "
               f"This run: {report.omitted_class_accuracy_adjusted:.1%} of the {digit}s with its own shift, against "
               "the paper's 98.6 %.")
    which = f"Run #{run.id}" if run.id > 0 else "The stored default run"
    st.caption(f"{which}: {run.config.student}, T = {run.config.temperature:g}, "
               f"α = {run.config.alpha:g}, {run.config.epochs} epochs; overall test accuracy "
               f"{run.result.distilled_accuracy:.2%} before the shift, "
               f"{report.overall_accuracy_adjusted:.2%} after.")

    if run.id < 0:  # a stored default ships without weights: the slider needs the student itself
        st.caption("Train it yourself to try the bias on your own student: a slider then moves its shift.")
        return
    st.markdown("**Try the bias yourself.** The student has learnt what the digit looks like but, never "
                "having seen one, it is shy of naming it. Raising that one output's bias lets it speak up; "
                "too much and it starts naming everything that digit. This slider explores on the **test set**, "
                "as the paper did; the shift above was chosen without it.")
    logits = _student_test_logits(run.id, run.config.student)
    bias = st.slider("Bias added to the missing digit's score (exploring on the test set)", 0.0, 15.0,
                     float(report.bias_shift), 0.25, key=f"bias-{run.id}")
    adjusted = shifted(logits, digit, bias)
    of_digit = data.test_y == digit
    a, b = st.columns(2)
    a.metric(f"Test {digit}s recognised", f"{accuracy(adjusted[of_digit], data.test_y[of_digit]):.1%}")
    b.metric("All test digits", f"{accuracy(adjusted, data.test_y):.2%}")


own = st.session_state.get("missing_run")
latest = next((r for r in shared.store().list(kind="distill", status="done")
               if r.config.omit_class is not None), None)
if own is not None:
    watching.watch_run(own, _live, _done)
elif latest is not None:
    st.caption("The latest missing-digit run on this server:")
    _done(latest)
else:
    watching.show_stored_default("missing_digit", lambda stored: _done(stored[0]), "Train without that digit")
