"""Plotly figures as plain functions: data in, Figure out, no Streamlit (testable on their own)."""
from __future__ import annotations

import functools
import math

import plotly.graph_objects as go

import lessons.preload  # noqa: F401  (before any chart is drawn: no import races between visitors)
from models.service.names import chart_text

DISTILLED, SCRATCH, TEACHER = "#1f77b4", "#ff7f0e", "#2ca02c"


class DrawnFigure(go.Figure):
    """A finished figure that many draws share. st.plotly_chart reads a figure through to_dict, which
    deep-copies every property on every draw (0.4 ms for the soft-targets chart, a seventh of a
    slider move's server time); this one copies once and hands every draw the same dict, which
    Streamlit only serialises. Nothing may change the figure once it has been drawn."""

    _drawn: dict | None = None

    def to_dict(self) -> dict:
        if self._drawn is None:
            self._drawn = super().to_dict()
        return self._drawn


def drawn_once(fig: go.Figure | None) -> DrawnFigure | None:
    """fig itself, now a DrawnFigure (None stays None), for a figure kept and drawn again and again.
    The class is swapped in place: DrawnFigure(fig) would copy and check every property again, which
    costs more than the draws of a polling page's chart that changes each epoch would save."""
    if fig is not None and not isinstance(fig, DrawnFigure):
        fig.__class__ = DrawnFigure  # the same object and fields: DrawnFigure adds only a class attribute
    return fig


NARROW_PERCENT_RANGE = 0.06  # a y range narrower than 6 points, ticked in whole percent, repeats ticks (95 %, 95 %)
LINE_STYLES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")  # lines that coincide stay visible
MARKERS = ("circle", "square", "diamond", "triangle-up", "x", "star")


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 360, **extra) -> go.Figure:
    span = fig.layout.yaxis.range
    if extra.get("yaxis_tickformat") == ".0%" and span and span[1] - span[0] < NARROW_PERCENT_RANGE:
        extra["yaxis_tickformat"] = ".1%"
    # The title is kept beside the figure, not drawn in it: lessons/charts.py writes it above the chart
    # as text that wraps on any width (inside the plot it was cut in a half-width column, and on a
    # phone Plotly's toolbar covered it). The legend sits above the plot, where it pushes the plot
    # down as it needs rows; below it, it overlapped the x-axis title.
    fig.update_layout(meta={"title": title}, xaxis_title=x, yaxis_title=y, height=height,
                      margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0), **extra)
    return fig


def accuracy_range(values) -> list[float]:
    """An accuracy axis that fits its data and never leaves [0, 100 %]: plotly's own autorange pads
    a single value (every run at one T) out to 0-150 %."""
    values = [v for v in values if v is not None]
    if not values:
        return [0.0, 1.0]
    low, high = min(values), max(values)
    pad = max(0.01, (high - low) * 0.1)
    return [max(0.0, low - pad), min(1.0, high + pad)]


def learning_curves_figure(curves: list[dict], epochs: int) -> go.Figure:
    """Validation accuracy per epoch for the distilled student and its scratch twin (distill.watched_split:
    held-out training images; the test set is read once, at the end)."""
    fig = go.Figure()
    x = [p["epoch"] for p in curves]
    fig.add_scatter(x=x, y=[p["distilled"] for p in curves], name="distilled student", line_color=DISTILLED)
    fig.add_scatter(x=x, y=[p["scratch"] for p in curves], name="scratch twin (labels only)", line_color=SCRATCH)
    fig.update_xaxes(range=[0.5, max(epochs, 1) + 0.5])
    fig.update_yaxes(range=accuracy_range([p.get(k) for p in curves for k in ("distilled", "scratch")]))
    return _layout(fig, "Accuracy while training, on validation images it never trains on", "epoch",
                   "validation accuracy", yaxis_tickformat=".0%")


def teacher_curve_figure(loss_curve: list, curve: list[dict], epochs: int) -> go.Figure:
    """Training loss as it falls (left axis) and test accuracy after each epoch (right axis).

    loss_curve: [fractional epoch, loss] pairs; curve: [{"epoch": e, "teacher": accuracy}]."""
    fig = go.Figure()
    fig.add_scatter(x=[e for e, _ in loss_curve], y=[loss for _, loss in loss_curve], mode="lines",
                    name="training loss", line_color=SCRATCH)
    fig.add_scatter(x=[p["epoch"] for p in curve], y=[p["teacher"] for p in curve], yaxis="y2",
                    mode="lines+markers+text", text=[f"{p['teacher']:.2%}" for p in curve],
                    textposition="bottom center", name="test accuracy", line_color=TEACHER)
    fig.update_xaxes(range=[0, epochs + 0.2])
    return _layout(fig, "The teacher learning", "epoch", "training loss",
                   yaxis2=dict(title="test accuracy", overlaying="y", side="right", tickformat=".1%",
                               showgrid=False, range=accuracy_range([p["teacher"] for p in curve])))


LOG_FLOOR = 1e-6  # the log view's bottom: smaller probabilities are drawn at this height


def soft_targets_figure(probs_at_t: list[float], probs_at_1: list[float], temperature: float,
                        log_scale: bool = False) -> go.Figure:
    """The teacher's ten probabilities at T = 1 and at T. Every digit is labelled (a categorical axis:
    plotly would otherwise thin numeric ticks to 0, 2, 4, …); the log view shows the small ones."""
    digits = [str(d) for d in range(10)]
    fig = go.Figure()
    fig.add_bar(x=digits, y=probs_at_1, name="T = 1 (ordinary softmax)", marker_color="#bbbbbb")
    fig.add_bar(x=digits, y=probs_at_t, name=f"T = {temperature:g}", marker_color=DISTILLED)
    fig.update_xaxes(type="category", tickmode="array", tickvals=digits, ticktext=digits)
    if log_scale:
        fig.update_yaxes(type="log", range=[math.log10(LOG_FLOOR), 0], tickformat=".0e")
        return _layout(fig, "What the teacher says about this image (log scale: the small ones magnified)",
                       "digit", "probability (log scale)", barmode="group")
    return _layout(fig, "What the teacher says about this image", "digit", "probability",
                   barmode="group", yaxis_range=[0, 1])


@functools.lru_cache(maxsize=256)  # the default digit at every T and both views, and some more
def _soft_targets_built(probs_at_t: tuple, probs_at_1: tuple, temperature: float, log_scale: bool) -> go.Figure:
    return drawn_once(soft_targets_figure(list(probs_at_t), list(probs_at_1), temperature, log_scale))


def soft_targets_spec(probs_at_t, probs_at_1, temperature: float, log_scale: bool = False) -> go.Figure:
    """soft_targets_figure, built once per server for each digit and T: a room moving the same slider
    over the same default digit asks for the same few dozen charts, and building one (plotly checks
    every property) cost more than the rest of a slider move. st.plotly_chart only reads the figure
    (to_dict, once: DrawnFigure), so one object serves every session; nothing may change it in place."""
    key = (tuple(round(float(p), 6) for p in probs_at_t), tuple(round(float(p), 6) for p in probs_at_1))
    return _soft_targets_built(*key, float(temperature), bool(log_scale))


def size_figure(rows: list[dict], teacher_params: int, teacher_accuracy: float) -> go.Figure:
    """Accuracy against parameter count (log x): students, twins and the teacher."""
    fig = go.Figure()
    fig.add_scatter(x=[r["student_params"] for r in rows], y=[r["distilled_accuracy"] for r in rows],
                    mode="markers", name="distilled", marker=dict(color=DISTILLED, size=10),
                    text=[chart_text(r["label"]) for r in rows])
    fig.add_scatter(x=[r["student_params"] for r in rows], y=[r["scratch_accuracy"] for r in rows],
                    mode="markers", name="scratch twin", marker=dict(color=SCRATCH, size=8, symbol="x"),
                    text=[chart_text(r["label"]) for r in rows])
    fig.add_scatter(x=[teacher_params], y=[teacher_accuracy], mode="markers", name="teacher",
                    marker=dict(color=TEACHER, size=14, symbol="star"))
    fig.update_xaxes(type="log", dtick=1)
    fig.update_yaxes(range=accuracy_range([teacher_accuracy] + [r[k] for r in rows
                                                                 for k in ("distilled_accuracy", "scratch_accuracy")]))
    return _layout(fig, "Accuracy against size", "parameters (log scale)", "test accuracy",
                   yaxis_tickformat=".0%")


def temperature_figure(groups: list[dict]) -> go.Figure:
    """Distilled accuracy against T, one line per setting (report.seed_groups: the same student, α,
    transfer set, epochs, data and teacher), each point the mean over that setting's distinct seeds.
    Runs that differ in anything but T and the seed are never averaged together."""
    lines: dict[tuple, list[dict]] = {}
    for group in groups:
        key = tuple(group[k] for k in ("student", "alpha", "train_size", "epochs", "teacher", "omit_class",
                                        "dataset_fingerprint", "teacher_digest"))
        lines.setdefault(key, []).append(group)
    fig = go.Figure()
    for key, members in sorted(lines.items(), key=lambda item: str(item[0])):
        members.sort(key=lambda g: g["temperature"])
        g = members[0]
        name = f"{g['student']}, {g['train_size'] or 'all':,} images, {g['epochs']} epochs, α {g['alpha']:g}" \
            if g["train_size"] else f"{g['student']}, all images, {g['epochs']} epochs, α {g['alpha']:g}"
        if len({k[6:] for k in lines}) > 1:
            name += f" ({g['dataset']})"
        fig.add_scatter(x=[m["temperature"] for m in members], y=[m["distilled_mean"] for m in members],
                        mode="markers+lines", name=chart_text(name),
                        text=[f"{m['seeds']} seed(s)" for m in members])
    fig.update_yaxes(range=accuracy_range([g["distilled_mean"] for g in groups]))
    if len({g["temperature"] for g in groups}) == 1:  # one T: a narrow axis around it, not 0-40
        only = groups[0]["temperature"] if groups else 1.0
        fig.update_xaxes(range=[only * 0.5, only * 1.5])
    return _layout(fig, "Distilled accuracy against temperature, one line per setting", "temperature T",
                   "test accuracy (mean over seeds)", yaxis_tickformat=".0%")


GAIN_LABELS_UP_TO = 8  # beyond this many runs the "+3.1 pts" labels collide: the gain moves to the hover


def gain_figure(rows: list[dict], teacher_accuracy: float) -> go.Figure:
    """Each run as a segment from its scratch twin (x) to its distilled student (dot); the segment's
    length is the gain. The teacher's accuracy is the dashed reference line both aim at. Runs are
    ticked by their short "#id" (names live in the hover), so labels never overlap."""
    fig = go.Figure()
    ids = [f"#{r['id']}" for r in rows]
    names = [chart_text(r["label"]) for r in rows]
    for tick, row in zip(ids, rows):
        fig.add_scatter(x=[tick] * 2, y=[row["scratch_accuracy"], row["distilled_accuracy"]],
                        mode="lines", line=dict(color=DISTILLED if row["gain"] >= 0 else SCRATCH, width=3),
                        showlegend=False, hoverinfo="skip")
    fig.add_scatter(x=ids, y=[r["scratch_accuracy"] for r in rows], mode="markers", name="scratch twin",
                    marker=dict(color=SCRATCH, size=10, symbol="x"), text=names)
    gains = [f"{100 * r['gain']:+.1f} pts" for r in rows]
    fig.add_scatter(x=ids, y=[r["distilled_accuracy"] for r in rows],
                    mode="markers+text" if len(rows) <= GAIN_LABELS_UP_TO else "markers",
                    name="distilled", marker=dict(color=DISTILLED, size=11),
                    text=gains, textposition="top center",
                    customdata=names, hovertemplate="%{customdata}: %{y:.2%} (%{text})<extra></extra>")
    fig.add_hline(y=teacher_accuracy, line_dash="dash", line_color=TEACHER,
                  annotation_text=f"teacher {teacher_accuracy:.2%}", annotation_position="bottom right")
    fig.update_xaxes(type="category", tickangle=-45 if len(rows) > GAIN_LABELS_UP_TO else 0)
    fig.update_yaxes(range=accuracy_range([teacher_accuracy] + [r[k] for r in rows
                                                                 for k in ("distilled_accuracy", "scratch_accuracy")]))
    return _layout(fig, "Gain of each run: scratch twin → distilled student", "run", "test accuracy",
                   yaxis_tickformat=".0%")


def _interval_bars(rows: list[dict]) -> dict:
    """Error bars spanning each row's 95 % interval of the mean gain, in points (none below two seeds)."""
    return dict(type="data", visible=True,
                array=[100 * (r["gain_ci_high"] - r["gain_mean"]) if r["gain_ci_high"] is not None else 0 for r in rows],
                arrayminus=[100 * (r["gain_mean"] - r["gain_ci_low"]) if r["gain_ci_low"] is not None else 0
                            for r in rows])


GAIN_AXIS = "gain in points (distilled − scratch)"  # points, as every page says gains, never "+4.0 %"


def gain_by_temperature_figure(rows: list[dict]) -> go.Figure:
    """Mean gain against T, one line per student, error bars = the 95 % interval of the mean gain."""
    fig = go.Figure()
    for student in dict.fromkeys(r["student"] for r in rows):
        mine = sorted((r for r in rows if r["student"] == student), key=lambda r: r["temperature"])
        fig.add_scatter(x=[r["temperature"] for r in mine], y=[100 * r["gain_mean"] for r in mine],
                        error_y=_interval_bars(mine), mode="lines+markers", name=student)
    fig.add_hline(y=0, line_color="#999999")
    ticks = sorted({r["temperature"] for r in rows})
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])  # the Ts swept, nothing else
    return _layout(fig, "Gain from the teacher against temperature", "temperature T (log scale)", GAIN_AXIS,
                   yaxis_tickformat="+.1f")


def gain_by_size_figure(rows: list[dict]) -> go.Figure:
    rows = sorted(rows, key=lambda r: r["train_size"])
    fig = go.Figure()
    fig.add_scatter(x=[r["train_size"] for r in rows], y=[100 * r["gain_mean"] for r in rows],
                    error_y=_interval_bars(rows),
                    mode="lines+markers", name="gain", line_color=DISTILLED)
    fig.add_hline(y=0, line_color="#999999")
    ticks = sorted({r["train_size"] for r in rows})
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[f"{n:,}" for n in ticks])
    return _layout(fig, "Gain from the teacher against transfer-set size", "transfer examples (log scale)",
                   GAIN_AXIS, yaxis_tickformat="+.1f")


def similarity_figure(matrix: list[list[float]], temperature: float) -> go.Figure:
    """Row = true digit, column = digit the teacher gives probability to; diagonal hidden so the
    resemblances show."""
    digits = [str(d) for d in range(10)]
    z = [[None if i == j else v for j, v in enumerate(row)] for i, row in enumerate(matrix)]
    fig = go.Figure(go.Heatmap(z=z, x=digits, y=digits, colorscale="Blues", hoverongaps=False,
                               hovertemplate="a %{y} looks like a %{x}: %{z:.2%}<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, f"Average soft target per true digit at T = {temperature:g} (diagonal hidden)",
                   "digit the teacher also sees", "true digit", height=450)


def budget_figure(points: list[dict], metric: str, teacher_accuracy: float | None = None) -> go.Figure:
    """`metric` ("fidelity" or "copy_accuracy") against the exchanges paid for (answers served, so
    asking one image 16 times costs 16), one line per way of answering."""
    fig = go.Figure()
    for label in dict.fromkeys(p["mode_label"] for p in points):
        mine = sorted((p for p in points if p["mode_label"] == label), key=lambda p: p["exchanges"])
        style = len(fig.data) % len(LINE_STYLES)  # two ways of answering that coincide still both show
        fig.add_scatter(x=[p["exchanges"] for p in mine], y=[p[metric] for p in mine], mode="lines+markers",
                        name=label, customdata=[p["queries"] for p in mine],
                        line=dict(dash=LINE_STYLES[style], width=4 - 2 * (style > 0)),
                        marker=dict(symbol=MARKERS[style], size=9),
                        hovertemplate="%{x:,} exchanges about %{customdata:,} images: %{y:.1%}")
    if teacher_accuracy is not None:  # in the legend, not written across the curves
        ends = [min(p["exchanges"] for p in points), max(p["exchanges"] for p in points)]
        fig.add_scatter(x=ends, y=[teacher_accuracy] * 2, mode="lines", name=f"teacher {teacher_accuracy:.2%}",
                        line=dict(dash="dash", color=TEACHER), hoverinfo="skip")
    fig.update_xaxes(type="log", dtick=1)  # powers of ten only: the 2s and 5s between them cluttered
    fig.update_yaxes(range=accuracy_range([p[metric] for p in points] + [teacher_accuracy]))
    titles = {"fidelity": ("How often the copy agrees with the teacher", "fidelity"),
              "copy_accuracy": ("How accurate the copy is", "test accuracy")}
    title, axis = titles[metric]
    return _layout(fig, title, "exchanges: answers paid for (log scale)", axis, yaxis_tickformat=".0%")


def roc_figure(curves: dict[str, tuple[list, float]]) -> go.Figure:
    """Caught copiers against false alarms on honest accounts, one line per kind of copier."""
    fig = go.Figure()
    for style, (name, (points, auc)) in enumerate(curves.items()):
        style %= len(LINE_STYLES)  # copiers a detector catches alike draw the same line: each keeps its own style
        fig.add_scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines",
                        name=f"{name} (area {auc:.2f})", line_shape="hv",
                        line=dict(dash=LINE_STYLES[style], width=5 - 1.2 * style))
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="guessing", line=dict(dash="dot", color="#999999"))
    return _layout(fig, "Detector ROC: every possible alarm threshold", "false alarms on honest accounts",
                   "copier accounts caught", xaxis_tickformat=".0%", yaxis_tickformat=".0%", height=420)


def reliability_figure(calibrations: dict) -> go.Figure:
    """Accuracy against stated confidence, per confidence bin, one line per model; the diagonal is
    perfect calibration (points below it: overconfident)."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                    line=dict(dash="dot", color="#999999"))
    colours = {"teacher": TEACHER, "distilled student": DISTILLED, "scratch twin": SCRATCH}
    for name, result in calibrations.items():
        fig.add_scatter(x=[b["confidence"] for b in result.bins], y=[b["accuracy"] for b in result.bins],
                        mode="lines+markers", name=f"{name} (error {result.ece:.1%})",
                        line_color=colours.get(name), customdata=[b["count"] for b in result.bins],
                        hovertemplate="said %{x:.0%} sure, right %{y:.1%} of the time (%{customdata:,} digits)"
                                      "<extra></extra>")
    return _layout(fig, "Reliability: when it says p % sure, is it right p % of the time?", "stated confidence",
                   "accuracy at that confidence", xaxis_tickformat=".0%", yaxis_tickformat=".0%", height=420)


def guesses_figure(question: dict) -> go.Figure:
    """The room's guesses beside what its runs measured, per option (models/service/guesses.py)."""
    fig = go.Figure()
    fig.add_bar(x=question["options"], y=question["guessed"], name="the room guessed", marker_color="#bbbbbb")
    fig.add_bar(x=question["options"], y=question["measured"], name="the room's runs measured",
                marker_color=DISTILLED)
    fig.update_xaxes(type="category")
    return _layout(fig, question["text"], "", "how many", barmode="group", height=320)
