"""What every page shares: the process-wide job pool, store, dataset and teacher choice.

Only read-only objects are cached process-wide (see ../shared/guide/streamlit.md); per-tab state
is the small `teacher` string in st.session_state.
"""
from __future__ import annotations

import gc
import sys
import uuid

import streamlit as st

from lessons.charts import chart
from lessons.figures import drawn_once
from lessons.room import store
from models.base.configs import MAX_SEEDS, StoreError
from models.core.data import Dataset, default_dataset
from models.service.lifecycle import room_pool
from models.service.budget import in_words
from models.service.room import room_limits
from models.service.guesses import QUESTIONS
from models.service.visitors import server_slot, visitor_id, visitor_seed
from models.service.scheduler import JobPool
from models.service.names import without_paths
from models.core.checkpoints import TeacherError, TeacherLogits, teacher_logits

XSRF_COOKIE = "_streamlit_xsrf"  # set by Streamlit on every browser (server.enableXsrfProtection)
MEMO_FIGURES = 6


def pool() -> JobPool:
    """The server's one job pool: this machine's workers, or a Dask cluster's ($DISTILL_CLUSTER).
    A process singleton (models/service/lifecycle.py), not a cached resource: a visitor's
    clear_cache message must not build a second pool beside the first. It stops at exit."""
    return room_pool(store())


@st.cache_resource(show_spinner="Loading MNIST…")
def dataset() -> Dataset:
    return default_dataset()


def prepare_room() -> None:
    """What a room's first pages need, made once as the server starts (serve.py calls this in a
    thread): the job pool with its workers spawned, the dataset, and the default teacher's answers.
    Otherwise these seconds of CPU land on the first visitors, while they move their sliders."""
    try:
        import lessons.figures  # noqa: F401  (plotly, pandas and pyarrow: else the first visitors' pages import them)
        pool()
        # The engine's own caches, which the pages' share: no page spinner outside a page.
        teacher_logits(room_limits(store()).teacher or "pretrained", default_dataset())
    except (StoreError, TeacherError):  # every page says why; each is made again when first needed
        return
    finally:
        serve_on_one_thread()
    print("The room is ready: workers started, the teacher's answers computed.", file=sys.stderr, flush=True)


def serve_on_one_thread() -> None:
    """Torch in the web server on one thread from now on: training happens in the workers. Each page
    run is a new script thread, and a multi-threaded torch op there started a fresh OpenMP team: on
    the Soft targets page, ranking one digit's test images by the teacher's confidence was 62 % of
    the page's server time (py-spy), for a sum over a thousand rows."""
    import torch
    torch.set_num_threads(1)
    # Everything loaded so far (torch, plotly, the dataset, the teacher's answers) lives as long as the
    # server: out of the collector's sight, a full collection no longer walks it in a visitor's wait.
    gc.freeze()


def session_owner() -> str:
    """This visitor's id, from their browser's cookie (models/service/visitors.py): every tab and
    reload of one browser shares one share of the room, and may cancel its runs."""
    if "owner" not in st.session_state:
        st.session_state.owner = visitor_id(st.context.cookies.get(XSRF_COOKIE))
    return st.session_state.owner


def default_seed() -> int:
    """This visitor's own starting seed on the Distil page (models/service/visitors.py: visitor_seed)."""
    return visitor_seed(session_owner(), lambda: store().highest_seed("distill"), MAX_SEEDS, server_slot())


def my_runs() -> set[int]:
    """Runs this session submitted (kept small: ids only)."""
    return st.session_state.setdefault("my_runs", set())


def submit(configs: list, name: str = "", group: str = "") -> list[int]:
    """Submit one or several runs as one submission of this session. Raises ConfigError with a
    plain reason when the room's caps, its budget or this session's share of the workers say no."""
    ids = pool().submit_many(configs, name, group, owner=session_owner())
    my_runs().update(ids)
    # Wall time, with the runs ahead and beside it: four visitors pressing at once each heard the
    # worker time of their own job alone, and waited three to seven times longer.
    st.toast(f"Queued: done in {in_words(pool().done_in_s(ids))} from now, with the runs ahead of yours "
             f"({in_words(cost_s(configs)).removeprefix('about ')} of training).", icon=":material/schedule:")
    return ids


def room_caps():
    """The facilitator's caps for this room (models/service/room.py: RoomLimits)."""
    return room_limits(store())


def start_inside_caps(widgets: dict[str, str | None]) -> int | None:
    """Before a form is drawn: each capped widget's value ({config field: widget key, or None where
    the form does not show the field and RoomLimits.inside brings the run inside}) brought inside the
    facilitator's caps, and the caps said above the form. A visitor's defaults, or a slide link, then
    never meet a refusal on the first press. The epochs cap (or None), for the widget's maximum."""
    limits = room_caps()
    caps = {"epochs": limits.epochs, "train_size": limits.train_size}
    for field, key in widgets.items():
        value, cap = st.session_state.get(key) if key else None, caps[field]
        if cap and isinstance(value, (int, float)) and (value == 0 or value > cap):
            st.session_state[key] = cap
    sentence = limits.caps_sentence(tuple(widgets))
    if sentence:
        st.info(sentence, icon=":material/lock:")
    return limits.epochs or None


def keep_guess(run_id: int, question: str, answer: str | None) -> None:
    """Store the visitor's guess with the run it was made for (nothing when they made none). A guess
    never blocks a run: a store that cannot take it loses only the guess. Only the question's own
    options are kept: a client may send any widget value, and the room board counts by option."""
    if answer in QUESTIONS[question].options:
        try:
            store().add_guess(run_id, question, answer, session_owner())
        except StoreError:
            pass


def guess_for(run_id: int, question: str) -> str | None:
    try:
        return store().guesses(question).get(run_id) if run_id > 0 else None
    except StoreError:
        return None


def cost_s(configs: list) -> float:
    """Estimated worker-seconds of a submission at this machine's pace (models/service/budget.py)."""
    return pool().cost_s(configs)


def cost_words(configs: list) -> str:
    """'about 3 minutes': a submission's estimated cost in words."""
    return in_words(cost_s(configs))


def cost_caption(configs: list, settings: str = "these settings") -> None:
    """What a submission will cost the room, said before it is sent, beside the room's budget."""
    budget_s = room_limits(store()).budget_s
    allowed = f"; one submission may use up to {in_words(budget_s).removeprefix('about ')}" if budget_s else ""
    st.caption(f"At {settings}: {in_words(cost_s(configs))} of the room's worker time, estimated from this "
               f"machine's measured pace{allowed}.")


def new_group(kind: str) -> str:
    """A fresh group id for runs submitted together (seeds of one setting, a sweep, a curve)."""
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def dataset_caption() -> None:
    data = dataset()
    (st.warning if data.notice else st.caption)(f"Data: {data.describe()}")


def chosen_teacher() -> str:
    """The teacher the facilitator pinned for the room; else 'pretrained' unless this tab picked one."""
    return room_limits(store()).teacher or st.session_state.setdefault("teacher", "pretrained")


def logits_or_stop(spec: str) -> TeacherLogits:
    """The teacher's logits (cached by the engine in memory and on disk), or a clear message and a
    stop when the checkpoint is unusable."""
    try:
        with st.spinner("Computing the teacher's answers…"):
            return teacher_logits(spec, dataset())
    except TeacherError as error:
        st.error(without_paths(error))
        st.page_link("lessons/teacher.py", label="Go to the Teacher page to train one", icon=":material/school:")
        st.stop()


def cached_chart(key: str, version, build) -> None:
    """Draw a plotly figure, building it again only when `version` changed: a waiting page polls
    every second or so, and rebuilding an unchanged figure each time is most of what waiting costs."""
    memo = st.session_state.setdefault("_figures", {})
    if key not in memo or memo[key][0] != version:
        memo.pop(key, None)
        while len(memo) >= MEMO_FIGURES:  # keep per-session state small
            memo.pop(next(iter(memo)))
        memo[key] = (version, drawn_once(build()))  # each poll's draw then skips plotly's deep copy
    chart(memo[key][1], key)
