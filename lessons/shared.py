"""What every page shares: the process-wide job pool, store, dataset and teacher choice.

Only read-only objects are cached process-wide (see ../shared/guide/streamlit.md); per-tab state
is the small `teacher` string in st.session_state.
"""
from __future__ import annotations

import uuid

import streamlit as st

from models.data import Dataset, default_dataset
from models.jobs import JobPool
from models.store import RunStore
from models.teacher import TeacherError, TeacherLogits, teacher_logits

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


def new_group(kind: str) -> str:
    """A fresh group id for runs submitted together (seeds of one setting, a sweep, a curve)."""
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def dataset_caption() -> None:
    data = dataset()
    (st.warning if data.notice else st.caption)(f"Data: {data.describe()}")


def chosen_teacher() -> str:
    """'pretrained' unless this tab picked a teacher it trained."""
    return st.session_state.setdefault("teacher", "pretrained")


def logits_or_stop(spec: str) -> TeacherLogits:
    """The teacher's logits (cached by the engine in memory and on disk), or a clear message and a
    stop when the checkpoint is unusable."""
    try:
        with st.spinner("Computing the teacher's answers…"):
            return teacher_logits(spec, dataset())
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


def watch_group(run_ids: list[int], draw, every_s: float = 1.5) -> None:
    """Poll a batch of jobs: progress, a Cancel-all button, and `draw(finished_runs)` as they land."""
    if not run_ids:
        return
    all_done_at_start = all(r.finished for r in store().get_many(run_ids))

    @st.fragment(run_every=None if all_done_at_start else every_s)
    def _poll():
        runs = store().get_many(run_ids)
        finished = [r for r in runs if r.finished]
        if len(finished) < len(runs):
            st.progress(len(finished) / len(runs), text=f"{len(finished)} of {len(runs)} jobs finished; "
                        "results appear as they land. They keep going if you leave this page.")
            if st.button("Cancel the rest", key=f"cancel-group-{run_ids[0]}"):
                for run in runs:
                    if not run.finished:
                        pool().cancel(run.id)
        elif not all_done_at_start:
            st.rerun(scope="app")
        troubles = [r for r in finished if r.status != "done"]
        if troubles:
            st.warning(f"{len(troubles)} job(s) did not finish: "
                       + "; ".join(f"#{r.id} {r.status} {r.error}".strip() for r in troubles[:3]))
        draw([r for r in finished if r.status == "done"])

    _poll()
