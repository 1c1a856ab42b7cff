"""The run store every page shares, opened without loading torch (the start page stays quick).

Opening can fail (a damaged, truncated or read-only lab.sqlite): the failure is not cached, so a
store that was moved aside or fixed works on the next click without a restart.
"""
from __future__ import annotations

import streamlit as st

from models.service.store import RunStore


ORPHAN_CHECK_S = 1.0  # every poll of every visitor reads the store: look for dead servers' runs once a second


@st.cache_resource(show_spinner=False)
def _open() -> RunStore:
    return RunStore(orphan_check_every_s=ORPHAN_CHECK_S)


def store() -> RunStore:
    """The shared store; raises StoreError with one plain sentence when it cannot be used."""
    return _open()
