"""The run store every page shares, opened without loading torch (the start page stays quick).

Opening can fail (a damaged, truncated or read-only lab.sqlite): the failure is not cached, so a
store that was moved aside or fixed works on the next click without a restart.
"""
from __future__ import annotations

import streamlit as st

from models.service.store import RunStore


@st.cache_resource(show_spinner=False)
def _open() -> RunStore:
    return RunStore()


def store() -> RunStore:
    """The shared store; raises StoreError with one plain sentence when it cannot be used."""
    return _open()
