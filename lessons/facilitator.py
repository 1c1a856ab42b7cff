"""For the presenter of a workshop: caps for the room, a pinned teacher, cancel any run, and a fresh
leaderboard. Behind a secret set on the server; with no secret set there are no controls."""
import hmac
import os

import streamlit as st

from lessons.charts import chart
from lessons import shared
from models.service.lockout import FACILITATOR_BROWSERS, FACILITATOR_LOCKOUT
from models.service.visitors import visitor_id
from models.service.room import RoomLimits, room_limits, set_room_limits
from lessons.figures import guesses_figure
from models.service.guesses import room_board
from models.service.links import network_hosts, room_address_choices, room_qr
from models.service.names import markdown_text

st.title("Facilitator")
BOARD_REFRESH_S = 5.0
TYPE_ANOTHER = "another address…"


def _secret() -> str:
    """$DISTILL_FACILITATOR_SECRET, or `facilitator_secret` in .streamlit/secrets.toml."""
    try:
        from_file = st.secrets.get("facilitator_secret", "")
    except (FileNotFoundError, KeyError):  # no secrets file: that is fine
        from_file = ""
    return os.environ.get("DISTILL_FACILITATOR_SECRET") or from_file


secret = _secret()
if not secret:
    st.info("No facilitator secret is set on this server, so there are no controls here. To run a workshop, "
            "start the server with `DISTILL_FACILITATOR_SECRET=…` (or `facilitator_secret` in "
            "`.streamlit/secrets.toml`).")
    st.stop()

# A browser that gave the secret on this server is remembered (by its cookie), so a reload does not ask again.
if FACILITATOR_BROWSERS.knows(shared.session_owner()):
    st.session_state.facilitator = True
if not st.session_state.get("facilitator"):
    with st.form("facilitator-login"):
        given = st.text_input("Facilitator secret", type="password", key="facilitator_secret")
        if st.form_submit_button("Unlock", key="facilitator_unlock"):
            visitor = shared.session_owner()
            wait = FACILITATOR_LOCKOUT.wait_s(visitor)
            if wait > 0:  # not even compared: guessing is slowed down, then locked out
                st.error(f"Too many wrong secrets: try again in {wait:.0f} s. Wrong guesses are slowed down "
                         "and, after a few, locked out for everyone for five minutes.")
            elif hmac.compare_digest(given.encode(), secret.encode()):
                FACILITATOR_LOCKOUT.succeeded(visitor)
                FACILITATOR_BROWSERS.remember(visitor, anonymous=visitor_id(None))
                st.session_state.facilitator = True
                st.rerun()
            else:
                FACILITATOR_LOCKOUT.failed(visitor)
                st.error("That is not the facilitator secret.")
    st.stop()

store = shared.store()
if st.button("Lock this page", key="facilitator_lock", help="Asks for the secret again, in this browser too."):
    FACILITATOR_BROWSERS.forget(shared.session_owner())
    st.session_state.facilitator = False
    st.rerun()
st.header("The room's link, on screen")
# Without a browser's address (a script driving the page), this server's own port on localhost.
choices = room_address_choices(st.context.url or f"http://localhost:{st.get_option('server.port')}/", network_hosts())
address = st.selectbox("Address visitors open", choices + [TYPE_ANOTHER], key="room_address_choice",
                       help="This laptop's network addresses when your browser uses localhost, which nobody else "
                            "in the room can open. Pick the one of the room's network (Wi-Fi), or type another.")
if address == TYPE_ANOTHER:
    address = st.text_input("Address visitors open, such as http://192.168.1.20:8501", key="room_address",
                            max_chars=200)
code, problem = room_qr(address)
if problem:
    st.warning(problem)
else:
    left, right = st.columns([1, 2])
    left.image(code, caption=f"QR code: scan to open the lab at {address}", width=240,
               alt=f"QR code that opens {address}")
    right.markdown(f"## {markdown_text(address)}")
    right.caption("Put this on the projector. A link to a page with its settings filled in (the Distil page's "
                  "\"Copy a link to these settings\") works the same way.")

st.header("Room board (for the projector)")
st.caption(f"Refreshes itself every {BOARD_REFRESH_S:g} s: the room's guesses beside what its runs measured, the "
           "leaderboard and the queue.")


@st.fragment(run_every=BOARD_REFRESH_S)
def room_board_view() -> None:
    board = room_board(store)
    queue = board["queue"]
    st.markdown(f"**Queue:** {queue['running']} training, {queue['waiting']} waiting.")
    left, right = st.columns(2)
    for column, question in zip((left, right), board["questions"].values()):
        with column:
            chart(guesses_figure(question), f"board-{question['options'][0]}")
    st.dataframe([{"run": r["id"], "name": r["name"], "student": r["student"], "T": r["temperature"],
                   "distilled": r["distilled_accuracy"], "gain (points)": 100 * r["gain"]}
                  for r in board["leaderboard"]], hide_index=True, key="board-leaders",
                 column_config={"distilled": st.column_config.NumberColumn(format="percent"),
                                "gain (points)": st.column_config.NumberColumn(format="%+.2f")})


room_board_view()

limits = room_limits(store)
st.header("Caps for the room")
st.markdown("Every run anyone starts must stay within these (0 = no cap). Runs already queued are not touched.")
with st.form("room-limits"):
    c1, c2 = st.columns(2)
    epochs = c1.number_input("Most epochs per run", 0, 1000, limits.epochs, key="cap_epochs")
    train_size = c2.number_input("Most training images (transfer set, or a copier's questions)", 0, 60_000,
                                 limits.train_size, step=500, key="cap_train_size")
    teachers = ["(each visitor's choice)", "pretrained"] + [r.result.checkpoint for r in store.list(kind="teacher",
                                                                                                   status="done")]
    current = teachers.index(limits.teacher) if limits.teacher in teachers else 0
    teacher = st.selectbox("Teacher for everyone", teachers, index=current, key="pinned_teacher",
                           format_func=lambda t: t if t.startswith("(") or t == "pretrained" else f"trained: {os.path.basename(t)}")
    budget_min = st.number_input("Most worker-minutes one submission may cost (0 = no budget)", 0, 24 * 60,
                                 round(limits.budget_s / 60), key="budget_minutes",
                                 help="Each submission's cost is estimated from its settings and this machine's "
                                      "measured speed, and shown before a visitor sends it.")
    if st.form_submit_button("Apply to the room", type="primary", key="apply_limits"):
        set_room_limits(store, RoomLimits(int(epochs), int(train_size), "" if teacher.startswith("(") else teacher,
                                          int(budget_min) * 60))
        st.success("Applied. New runs are checked against these caps.")

st.header("Runs in progress")
active = store.list(active=True)
if not active:
    st.caption("Nothing is queued or running.")
else:
    queued = sum(run.status == "queued" for run in active)
    st.markdown(f"{len(active)} runs: {len(active) - queued} running, {queued} queued. A visitor is one browser: "
                "all its tabs and reloads together.")
    if queued and st.button(f"Clear the queue ({queued} waiting runs; running ones go on)", key="clear_queue"):
        st.toast(f"Cleared {shared.pool().clear_queue()} queued runs.")
        st.rerun()
by_visitor: dict[str, list] = {}
for run in active:
    by_visitor.setdefault(run.owner, []).append(run)
for number, (owner, runs) in enumerate(by_visitor.items(), 1):
    cols = st.columns([4, 1])
    who = f"visitor {owner[:6]}" if owner else "the command line"
    cols[0].write(f"**{who}**: {len(runs)} runs, newest #{runs[0].id} {runs[0].kind} · "
                  f"{markdown_text(runs[0].name) or 'unnamed'}")
    if cols[1].button("Cancel all", key=f"facilitator-cancel-visitor-{owner or 'cli'}",
                      help="Cancel every run this visitor has queued or running"):
        st.toast(f"Cancelled {shared.pool().cancel_visitor(owner)} runs of {who}.")
        st.rerun()
SHOWN_RUNS = 20  # one Cancel per run for the newest; a visitor's flood is cancelled as a whole above
for run in active[:SHOWN_RUNS]:
    cols = st.columns([4, 1])
    cols[0].write(f"#{run.id} {run.kind} · {run.status} · {markdown_text(run.name) or 'unnamed'}")
    if cols[1].button("Cancel", key=f"facilitator-cancel-{run.id}"):
        shared.pool().cancel(run.id)  # no owner: the facilitator may cancel any run
        st.toast(f"Cancelled run {run.id}.")
if len(active) > SHOWN_RUNS:
    st.caption(f"…and {len(active) - SHOWN_RUNS} older runs, cancelled with their visitor above.")

st.header("A fresh leaderboard")
st.markdown("Archiving takes every finished run of every kind (distillations, copies, chat copies, sweeps) off "
            "the leaderboard and the Compare page. Nothing is deleted: archived runs stay in the database and in "
            "Compare's CSV export.")
if st.button("Archive the leaderboard", key="archive"):
    st.success(f"Archived {store.archive()} runs.")
