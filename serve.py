"""The lab's web server for a shared room: Streamlit's own ASGI app (st.App) around app.py, plus
what Streamlit cannot express in a script (server_guards.py: deep unknown addresses go to the start
page, the visitor messages a room must not obey are dropped, and replies leave without waiting on
Nagle's algorithm; upload_bounds.py: uploads held in memory are bounded), a clean stop on SIGTERM, and a
room prepared as the server starts (workers spawned, the teacher's answers computed).

    streamlit run serve.py      (the same app as `streamlit run app.py`, with the additions above)
    python front.py             (a room: one of these servers per core behind one address)
"""
import threading

import streamlit as st
from starlette.middleware import Middleware

from lessons.shared import prepare_room
from server_guards import DropVisitorMessages, UnknownAddresses, accept_without_nagle
from upload_bounds import bound_uploads
from models.service.lifecycle import stop_pools_on_signals

# uvicorn imports this module before it starts accepting: every visitor's connection gets TCP_NODELAY.
accept_without_nagle()
# Uploads held in memory: a few per session, a bounded total for the server (upload_bounds.py).
bound_uploads()
# In this mode nothing turns SIGTERM into a normal exit: stop the job pools first (queued and
# running runs end interrupted, workers exit), then die of the signal.
stop_pools_on_signals()
# Workers, dataset and the teacher's answers get ready before the room arrives, not while it works.
threading.Thread(target=prepare_room, name="prepare-room", daemon=True).start()
app = st.App("app.py", middleware=[Middleware(UnknownAddresses), Middleware(DropVisitorMessages)])
