"""The page tests' fixture: a fresh app, store and pool per test."""
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import PATIENCE_S, ROOT


@pytest.fixture
def app(monkeypatch):
    from models.service import visitors
    monkeypatch.setattr(visitors, "_SEEDS", {})  # each test's room starts empty: its first visitor gets seed 0
    st.cache_resource.clear()  # a fresh store and pool for this test's state folder
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PATIENCE_S)
    at.run()
    yield at
    from lessons import shared
    shared.pool().shutdown()
    st.cache_resource.clear()
