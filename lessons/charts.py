"""Every chart of the lab is drawn here, with its one-sentence text alternative beneath it: what it
shows, for a screen reader and for anyone who cannot read the chart (lessons/figures.py: describe)."""
from __future__ import annotations

import streamlit as st

from lessons.figures import chart_title, describe, plain_label
from models.service.names import markdown_escaped


def chart(figure, key: str, alternative: str | None = None) -> None:
    title = chart_title(figure)
    if title:
        st.markdown(f"**{markdown_escaped(plain_label(title))}**")
    # No floating toolbar: on a phone it covered every chart's title.
    st.plotly_chart(figure, key=key, config={"displayModeBar": False})
    st.caption(f"Chart: {alternative or describe(figure)}")

