"""Get a teacher: take the pretrained CNN at once, or train one and watch it learn."""
import streamlit as st

from lessons.charts import chart
from lessons import shared, watching
from lessons.figures import teacher_curve_figure
from models.base.configs import ConfigError, TeacherConfig
from models.service.names import markdown_text, without_paths
from models.core.nets import count_params
from models.core.checkpoints import TeacherError, load_teacher, read_sidecar
from models.core.training import accuracy

st.title("1. Get a teacher")
st.markdown(
    """
The *teacher* is the big, accurate model whose knowledge we want to pass on. Ours is a
convolutional neural network (*CNN*: a network that scans the image with small learned filters)
with about 1.4 million *parameters* (the numbers it learns). You can use the one we trained, or
train your own and watch its accuracy on 10,000 unseen test digits climb.
"""
)
shared.dataset_caption()

left, right = st.columns(2)
with left:
    st.header("Use the pretrained teacher")
    try:
        teacher = load_teacher("pretrained")
        logits = shared.logits_or_stop("pretrained")
        sidecar = read_sidecar("pretrained")
        st.metric("Test accuracy, measured now on this dataset",
                  f"{accuracy(logits.test, shared.dataset().test_y):.2%}")
        st.caption(f"{count_params(teacher):,} parameters · trained by `{sidecar.get('command', '?')}` "
                   f"in {sidecar.get('seconds', '?')} s on {sidecar.get('dataset', {}).get('name', '?')}")
        if st.button("Use the pretrained teacher", type="primary", key="use-pretrained"):
            st.session_state.teacher = "pretrained"
    except TeacherError as error:
        st.error(without_paths(error))

with right:
    st.header("Or train your own")
    st.session_state.setdefault("teacher_epochs", TeacherConfig.epochs)
    epochs_cap = shared.start_inside_caps({"epochs": "teacher_epochs", "train_size": None})
    with st.form("train-teacher"):
        epochs = st.slider("Epochs (passes over the training set)", 1, min(epochs_cap or 5, 5), key="teacher_epochs")
        seed = st.number_input("Seed (changes the starting weights and the order of examples)",
                               min_value=0, value=0, step=1, key="teacher_seed")
        submitted = st.form_submit_button("Train a teacher", key="teacher_submit")
    if submitted:
        try:
            config = shared.room_caps().inside(TeacherConfig(epochs=epochs, seed=int(seed)))
            st.session_state.teacher_run = shared.submit([config])[0]
        except ConfigError as error:
            st.error(without_paths(error))


def _live(run):
    progress = run.progress
    losses = progress.losses
    st.progress(progress.epoch / run.config.epochs if progress.epoch else 0.0,
                text=f"epoch {progress.epoch:.1f} of {run.config.epochs}"
                + (f" · training loss {losses[-1][1]:.3f}" if losses else ""))
    if losses:
        shared.cached_chart(f"tc-{run.id}", len(losses),
                            lambda: teacher_curve_figure(losses, progress.curves, run.config.epochs))


def _done(run):
    result = run.result
    if st.session_state.get("teacher_adopted") != run.id:  # the visitor trained it to use it: once, at its end
        st.session_state.teacher_adopted = run.id
        st.session_state.teacher = result.checkpoint
    st.success(f"Your teacher reached {result.test_accuracy:.2%} test accuracy in {result.seconds:.0f} s"
               + (", and your runs now use it." if shared.chosen_teacher() == result.checkpoint else "."))
    chart(teacher_curve_figure(result.losses, result.curves, run.config.epochs), f"tc-done-{run.id}")
    if shared.chosen_teacher() != result.checkpoint and st.button("Use this teacher", key=f"use-{run.id}",
                                                                  type="primary"):
        st.session_state.teacher = result.checkpoint
        st.rerun(scope="app")  # the button sits in the polling fragment: redraw "Teacher in use" below too


if "teacher_run" in st.session_state:
    watching.watch_run(st.session_state.teacher_run, _live, _done)

trained = [r for r in shared.store().list(kind="teacher", status="done")]
if trained:
    st.header("Teachers trained on this server")
    for run in trained[:10]:
        cols = st.columns([3, 1])
        cols[0].write(f"Run {run.id}: {run.result.test_accuracy:.2%} after {run.result.epochs} epochs")
        if cols[1].button("Use", key=f"use-list-{run.id}"):
            st.session_state.teacher = run.result.checkpoint

current = shared.chosen_teacher()
st.info(f"Teacher in use for your runs: **{markdown_text(without_paths(current))}**")
st.page_link("lessons/soft_targets.py", label="Next: 2. Soft targets, what this teacher's answers carry",
             icon=":material/thermostat:")
st.page_link("lessons/distill.py", label="Or go straight to 3. Distil a student", icon=":material/science:")
