"""The lab's web server for a shared room: Streamlit's own ASGI app (st.App) around app.py, plus
one rule Streamlit cannot express in a script, the visitor messages a room must not obey
(server_guards.py: `clear_cache`), a clean stop on SIGTERM, and a room prepared as the
server starts (workers spawned, the teacher's answers computed).

    streamlit run serve.py      (the same app as `streamlit run app.py`, with the additions above)

Streamlit answers any unknown address with its page, which loads its scripts by relative URLs; at
a two-segment address such as /compare/extra those resolve to /compare/static/..., get the page
back instead of scripts, and the visitor sees a blank white page. So any multi-segment address
that names none of Streamlit's own routes is redirected to the start page, which says why.
"""
import threading

import streamlit as st
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse

from lessons.shared import prepare_room
from server_guards import DropVisitorMessages
from models.service.lifecycle import stop_pools_on_signals

STREAMLIT_ROUTES = {"_stcore", "static", "media", "component"}
FIRST_SEGMENT_ROUTES = STREAMLIT_ROUTES | {"app"}  # app/static: static file serving
UNKNOWN_ADDRESS = "/?address=unknown"


class UnknownAddresses:
    """ASGI middleware: GET or HEAD of a deep unknown path -> the start page with a note."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            segments = [part for part in scope["path"].split("/") if part]
            # The page probes for its server below the page's own path (/distill/_stcore/health):
            # anything naming a Streamlit route is Streamlit's to answer.
            if len(segments) >= 2 and segments[0] not in FIRST_SEGMENT_ROUTES and not STREAMLIT_ROUTES & set(segments):
                await RedirectResponse(UNKNOWN_ADDRESS, status_code=302)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# In this mode nothing turns SIGTERM into a normal exit: stop the job pools first (queued and
# running runs end interrupted, workers exit), then die of the signal.
stop_pools_on_signals()
# Workers, dataset and the teacher's answers get ready before the room arrives, not while it works.
threading.Thread(target=prepare_room, name="prepare-room", daemon=True).start()
app = st.App("app.py", middleware=[Middleware(UnknownAddresses), Middleware(DropVisitorMessages)])
