"""The chat page's figures: the budget curve and the canary. Data in, Figure out, no Streamlit."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from lessons.figures import SCRATCH, TEACHER, _layout

METRICS = {
    "bits_per_char": ("Bits per character on plays none of them read (lower is better)", "bits per character"),
    "teacher_agreement": ("How often the copy's next character is the teacher's", "agreement with the teacher"),
    "kl_to_teacher": ("How far the copy's probabilities are from the teacher's", "KL(teacher ‖ copy), bits per character"),
}
CHANCE_EXPOSURE = 1 / math.log(2)  # a canary ranked at random among the candidates: about 1.44 bits


def _errors(points: list[dict], name: str) -> dict | None:
    if not any(p.get(f"{name}_low") is not None for p in points):
        return None
    return dict(type="data", symmetric=False,
                array=[(p[f"{name}_high"] - p[name]) if p.get(f"{name}_high") is not None else 0 for p in points],
                arrayminus=[(p[name] - p[f"{name}_low"]) if p.get(f"{name}_low") is not None else 0 for p in points])


def chat_budget_figure(points: list[dict], metric: str) -> go.Figure:
    """`metric` against exchanges paid for, one line per answer mode, 95 % intervals over seeds where
    a point has two or more; for bits per character, the scratch twin and the teacher too."""
    fig = go.Figure()
    for name in dict.fromkeys(p["answers_name"] for p in points):
        mine = sorted((p for p in points if p["answers_name"] == name), key=lambda p: p["exchanges"])
        fig.add_scatter(x=[p["exchanges"] for p in mine], y=[p[metric] for p in mine], mode="lines+markers",
                        name=name, error_y=_errors(mine, metric), customdata=[p["seeds"] for p in mine],
                        hovertemplate="%{x:,} exchanges: %{y:.3f} (%{customdata} seeds)")
    if metric == "bits_per_char":
        twins: dict[int, dict] = {}
        for p in points:
            twins.setdefault(p["exchanges"], p)
        twin = sorted(twins.values(), key=lambda p: p["exchanges"])
        fig.add_scatter(x=[p["exchanges"] for p in twin], y=[p["scratch_bits_per_char"] for p in twin],
                        mode="lines+markers", name="scratch twin (human replies)", line=dict(dash="dot", color=SCRATCH))
        teacher = points[0]["teacher_bits_per_char"]
        fig.add_hline(y=teacher, line_dash="dash", line_color=TEACHER, annotation_text=f"teacher {teacher:.2f}",
                      annotation_position="bottom right")
    fig.update_xaxes(type="log", tickvals=sorted({p["exchanges"] for p in points}))
    title, axis = METRICS[metric]
    extra = {"yaxis_tickformat": ".0%", "yaxis_range": [0, 1]} if metric == "teacher_agreement" else {}
    return _layout(fig, title, "exchanges: replies paid for (log scale)", axis, **extra)


def canary_figure(bars: list[tuple[str, float]], most: float) -> go.Figure:
    """Each model's exposure of the canary, against chance and the most the test can show."""
    fig = go.Figure(go.Bar(x=[name for name, _ in bars], y=[bits for _, bits in bars],
                           marker_color=[TEACHER if name == "teacher" else SCRATCH if "twin" in name or "independent" in name
                                         else "#1f77b4" for name, _ in bars],
                           hovertemplate="%{x}: %{y:.1f} bits<extra></extra>", showlegend=False))
    fig.add_scatter(x=[bars[0][0], bars[-1][0]], y=[CHANCE_EXPOSURE] * 2, mode="lines",  # named in the legend,
                    name=f"chance (never saw it): {CHANCE_EXPOSURE:.1f} bits",  # never written over a bar
                    line=dict(dash="dot", color="#555555"), hoverinfo="skip")
    return _layout(fig, "Canary exposure: how strongly each model prefers the planted code", "model",
                   f"exposure, bits (at most {most:.0f})", yaxis_range=[0, most + 0.5])
