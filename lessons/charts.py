"""Every chart of the lab is drawn here: its title above it, as text that wraps on any width, and its
one-sentence text alternative beneath it (what it shows, for a screen reader and for anyone who
cannot read the chart), both read from the figure itself (lessons/figures.py builds the figures)."""
from __future__ import annotations

import re

import plotly.graph_objects as go
import streamlit as st

from lessons.figures import DrawnFigure
from models.service.names import markdown_escaped

CHART_KINDS = {"scatter": "lines", "bar": "bars", "heatmap": "a heat map", "histogram": "bars"}


def plain_label(text) -> str:
    """A plotly label as plain words: no markup (<br>, <sub>), single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(text or ""))).strip()


def chart_title(fig: go.Figure) -> str:
    """The figure's title (kept in its layout's meta by _layout; a figure built elsewhere may have
    its own)."""
    meta = fig.layout.meta
    return (meta.get("title") if isinstance(meta, dict) else None) or fig.layout.title.text or ""


def describe(fig: go.Figure) -> str:
    """The chart's text alternative in one sentence, read from the figure itself (its title, axes and
    named traces), so every chart has one and it always names what is drawn."""
    layout = fig.layout
    title = plain_label(chart_title(fig)) or "A chart"
    kinds = list(dict.fromkeys(CHART_KINDS.get(trace.type, "marks") for trace in fig.data)) or ["nothing yet"]
    names = list(dict.fromkeys(plain_label(trace.name) for trace in fig.data if plain_label(trace.name)))
    x, y = plain_label(layout.xaxis.title.text), plain_label(layout.yaxis.title.text)
    sentence = f"{title.rstrip('.')}: {' and '.join(kinds)}"
    if y:
        sentence += f" of {y}" + (f" against {x}" if x else "")
    if names:
        sentence += f", for {', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else f", for {names[0]}"
    return sentence + "."


def chart(figure, key: str, alternative: str | None = None) -> None:
    title = chart_title(figure)
    if title:
        st.markdown(f"**{markdown_escaped(plain_label(title))}**")
    # No floating toolbar: on a phone it covered every chart's title.
    st.plotly_chart(figure, key=key, config={"displayModeBar": False})
    st.caption(f"Chart: {alternative or _described(figure)}")


def _described(figure) -> str:
    """describe(figure), worked out once for a figure many draws share (figures.DrawnFigure: the
    soft-targets chart redrawn on every slider move, where describing it again cost 0.3 ms)."""
    said = getattr(figure, "_described", None)
    if said is None:
        said = describe(figure)
        if isinstance(figure, DrawnFigure):
            figure._described = said
    return said

