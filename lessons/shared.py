"""What every page shares: the process-wide job pool, store, dataset and teacher choice.

Only read-only objects are cached process-wide (see ../shared/guide/streamlit.md); per-tab state
is the small `teacher` string in st.session_state.
"""
from __future__ import annotations

import streamlit as st

from models.data import Dataset, default_dataset
from models.jobs import JobPool
from models.store import RunStore
from models.teacher import TeacherError, TeacherLogits, checkpoint_path, load_teacher, teacher_logits

TERMINAL_NOTES = {
    "cancelled": "Cancelled.",
    "failed": "Failed: {error}",
    "interrupted": "Interrupted: {error}. Start it again to get a result.",
}


@st.cache_resource(show_spinner=False)
def store() -> RunStore:
    return RunStore()


@st.cache_resource(show_spinner=False)
def pool() -> JobPool:
    return JobPool(store())


@st.cache_resource(show_spinner="Loading MNIST…")
def dataset() -> Dataset:
    return default_dataset()


def dataset_caption() -> None:
    data = dataset()
    (st.warning if data.notice else st.caption)(f"Data: {data.describe()}")


def chosen_teacher() -> str:
    """'pretrained' unless this tab picked a teacher it trained."""
    return st.session_state.setdefault("teacher", "pretrained")


@st.cache_resource(show_spinner="Computing the teacher's answers…", max_entries=4)
def _cached_logits(spec: str, fingerprint: str) -> TeacherLogits:
    return teacher_logits(spec, dataset())


def logits_or_stop(spec: str) -> TeacherLogits:
    """The teacher's logits, or a clear message and a stop when the checkpoint is unusable."""
    try:
        load_teacher(spec)
        return _cached_logits(spec, str(checkpoint_path(spec)) + dataset().fingerprint)
    except TeacherError as error:
        st.error(f"{error}")
        st.page_link("lessons/teacher.py", label="Go to the Teacher page to train one", icon=":material/school:")
        st.stop()


def show_terminal(run) -> None:
    if run.status in TERMINAL_NOTES:
        st.warning(TERMINAL_NOTES[run.status].format(error=run.error or "no reason recorded"))


def watch_run(run_id: int, draw_live, draw_done, every_s: float = 1.0) -> None:
    """Poll one run from the store: live view with a Cancel button, then the finished view.

    The polling fragment reruns only itself, so sliders elsewhere on the page stay responsive;
    moving them, switching pages or closing the tab never touches the job.
    """
    first = store().get(run_id)
    if first is None:
        return

    @st.fragment(run_every=None if first.finished else every_s)
    def _poll():
        run = store().get(run_id)
        if run.finished:
            if not first.finished:
                st.rerun(scope="app")  # stop polling: redraw the page once, without the timer
            show_terminal(run)
            if run.status == "done":
                draw_done(run)
            return
        label = "Waiting for a free worker…" if run.status == "queued" else "Training…"
        st.info(f"Run {run_id}: {label} It keeps going if you change page or close this tab.")
        draw_live(run)
        if st.button("Cancel this run", key=f"cancel-{run_id}"):
            pool().cancel(run_id)
            st.toast(f"Asked run {run_id} to stop.")

    _poll()
