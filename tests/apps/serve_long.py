"""The test page behind Streamlit's ASGI app, as serve.py runs the lab: SIGTERM must still stop the workers."""
import streamlit as st

from models.service.lifecycle import stop_pools_on_signals

stop_pools_on_signals()  # as serve.py does
app = st.App("submit_long.py")
