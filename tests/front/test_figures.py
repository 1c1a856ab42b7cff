"""Each figure has the traces and axes its page promises (plain functions, no Streamlit)."""
import pytest

from lessons import charts, figures


def _names(fig):
    return [trace.name for trace in fig.data]


def test_learning_curves_draw_both_models_per_epoch():
    fig = figures.learning_curves_figure([{"epoch": 1, "distilled": 0.8, "scratch": 0.7},
                                          {"epoch": 2, "distilled": 0.9, "scratch": 0.75}], epochs=5)
    assert _names(fig) == ["distilled student", "scratch twin (labels only)"]
    assert list(fig.data[0].y) == [0.8, 0.9] and list(fig.data[1].x) == [1, 2]
    assert tuple(fig.layout.xaxis.range) == (0.5, 5.5) and fig.layout.yaxis.tickformat == ".0%"


def test_teacher_curve_has_loss_and_accuracy_on_two_axes():
    fig = figures.teacher_curve_figure([[0.5, 0.4], [1.0, 0.2]], [{"epoch": 1, "teacher": 0.985}], epochs=2)
    assert _names(fig) == ["training loss", "test accuracy"]
    assert fig.data[1].yaxis == "y2" and list(fig.data[1].text) == ["98.50%"]


def test_soft_targets_compare_t1_with_the_chosen_t():
    fig = figures.soft_targets_figure([0.1] * 10, [1.0] + [0.0] * 9, 4.0)
    assert _names(fig) == ["T = 1 (ordinary softmax)", "T = 4"] and list(fig.data[0].x) == [str(d) for d in range(10)]
    # all ten digits labelled, on any width; the log view keeps the small probabilities visible
    assert fig.layout.xaxis.type == "category" and list(fig.layout.xaxis.tickvals) == [str(d) for d in range(10)]
    magnified = figures.soft_targets_figure([0.1] * 10, [1.0] + [0.0] * 9, 4.0, log_scale=True)
    assert magnified.layout.yaxis.type == "log" and magnified.layout.yaxis.range[0] == -6


ROWS = [{"id": 1, "label": "a", "student": "mlp-10", "student_params": 8070, "temperature": 4.0, "distilled_accuracy": 0.9,
         "scratch_accuracy": 0.85, "gain": 0.05},
        {"id": 2, "label": "b", "student": "mlp-10", "student_params": 8070, "temperature": 4.0, "distilled_accuracy": 0.8,
         "scratch_accuracy": 0.82, "gain": -0.02}]


def test_size_figure_is_log_x_with_the_teacher_as_a_star():
    fig = figures.size_figure(ROWS, 1_370_474, 0.99)
    assert _names(fig) == ["distilled", "scratch twin", "teacher"] and fig.layout.xaxis.type == "log"
    assert fig.data[2].marker.symbol == "star" and list(fig.data[2].x) == [1_370_474]


def test_temperature_figure_draws_one_line_per_setting_and_never_mixes_settings():
    """Runs that differ in anything but T and the seed are separate lines; a repeated seed counts once."""
    from models.service.report import seed_groups
    base = {"status": "done", "alpha": 0.9, "epochs": 10, "teacher": "pretrained", "omit_class": None,
            "dataset": "MNIST", "dataset_fingerprint": "f", "teacher_digest": "d", "scratch_accuracy": 0.8}
    rows = [{**base, "student": "mlp-10", "temperature": t, "train_size": n, "seed": seed, "distilled_accuracy": acc,
             "setting": f"{n}-{t}"}
            for t, n, seed, acc in [(4.0, 500, 0, 0.80), (4.0, 500, 1, 0.82), (4.0, 500, 1, 0.99),  # newest first: 0.82 stands
                                    (8.0, 500, 0, 0.84), (4.0, 5000, 0, 0.95)]]
    fig = figures.temperature_figure(seed_groups(rows))
    assert sorted(_names(fig)) == ["mlp-10, 5,000 images, 10 epochs, α 0.9", "mlp-10, 500 images, 10 epochs, α 0.9"]
    small = next(t for t in fig.data if t.name.startswith("mlp-10, 500 "))
    assert list(small.x) == [4.0, 8.0] and list(small.y) == [pytest.approx(0.81), pytest.approx(0.84)]
    assert list(small.text) == ["2 seed(s)", "1 seed(s)"]


def test_gain_figure_draws_one_segment_per_run_and_the_teacher_line():
    fig = figures.gain_figure(ROWS, 0.99)
    segments = [t for t in fig.data if t.mode == "lines"]
    assert len(segments) == 2 and list(segments[0].y) == [0.85, 0.9]
    assert list(fig.data[-1].text) == ["+5.0 pts", "-2.0 pts"]
    assert fig.layout.shapes[0].y0 == 0.99  # the teacher's dashed reference


def test_sweep_figures_have_error_bars_and_a_zero_line():
    rows = [{"student": "mlp-10", "temperature": t, "train_size": n, "gain_mean": g, "gain_ci_low": low,
             "gain_ci_high": high} for t, n, g, low, high in ((1.0, 500, 0.01, -0.01, 0.03), (4.0, 1000, 0.02, None, None))]
    by_t = figures.gain_by_temperature_figure(rows)
    assert list(by_t.data[0].x) == [1.0, 4.0]
    assert list(by_t.data[0].y) == [pytest.approx(1.0), pytest.approx(2.0)]  # in points, as every page says gains
    assert list(by_t.data[0].error_y.array) == [pytest.approx(2.0), 0]  # the interval, none from one seed
    assert list(by_t.data[0].error_y.arrayminus) == [pytest.approx(2.0), 0]
    assert "%" not in by_t.layout.yaxis.tickformat and "points" in by_t.layout.yaxis.title.text
    assert by_t.layout.xaxis.type == "log" and by_t.layout.shapes[0].y0 == 0
    by_n = figures.gain_by_size_figure(rows)
    assert list(by_n.data[0].x) == [500, 1000] and by_n.layout.xaxis.type == "log"


def test_similarity_heatmap_hides_the_diagonal():
    matrix = [[0.9 if i == j else 0.1 / 9 for j in range(10)] for i in range(10)]
    fig = figures.similarity_figure(matrix, 4.0)
    z = fig.data[0].z
    assert all(z[i][i] is None for i in range(10)) and z[0][1] == matrix[0][1]


def test_budget_figure_puts_exchanges_on_log_x_one_line_per_way_of_answering():
    points = [{"mode_label": m, "exchanges": e, "queries": q, "fidelity": f, "copy_accuracy": f}
              for m, e, q, f in (("labels", 100, 100, 0.7), ("labels", 1000, 1000, 0.9),
                                 ("sampled, 4 per image", 1000, 250, 0.8), ("sampled, 4 per image", 100, 25, 0.6))]
    fig = figures.budget_figure(points, "fidelity")
    assert _names(fig) == ["labels", "sampled, 4 per image"] and list(fig.data[0].x) == [100, 1000]
    assert list(fig.data[1].x) == [100, 1000] and list(fig.data[1].customdata) == [25, 250]  # images in the hover
    assert fig.layout.xaxis.type == "log" and not fig.layout.shapes
    with_teacher = figures.budget_figure(points, "copy_accuracy", 0.99)
    assert list(with_teacher.data[-1].y) == [0.99, 0.99] and with_teacher.data[-1].name == "teacher 99.00%"
    assert not with_teacher.layout.annotations  # the teacher is named in the legend, never over the curves
    assert len({(t.line.dash, t.marker.symbol) for t in fig.data}) == len(fig.data)  # lines that coincide both show


def test_a_narrow_percent_axis_is_ticked_finely_enough_never_to_repeat_a_tick():
    rows = [{"label": "#1", "student_params": 10, "distilled_accuracy": 0.951, "scratch_accuracy": 0.945}]
    fig = figures.size_figure(rows, teacher_params=1000, teacher_accuracy=0.96)
    assert fig.layout.yaxis.tickformat == ".1%"  # 94.5 %, 95.0 %, … not 95 %, 95 %, 94 %


def test_the_defences_verdict_follows_its_own_cells():
    """'Repeating is the worst way' only when new images beat repeats by more than a point."""
    from lessons.prose import equal_exchange_finding
    measured = {"noise": {"once": 0.895, "repeat": 0.911, "shifted": 0.915, "new": 0.9475},
                "fixed-noise": {"once": 0.9025, "repeat": 0.9025, "shifted": 0.917, "new": 0.946}}
    spend, shift = equal_exchange_finding(measured, 4, 1000)
    assert spend.endswith("per exchange, repeating is the worst way to spend them here.")
    assert "nothing to average" in shift and "draws fresh noise and brings it to 91.7%" in shift
    close = {k: {**v, "new": v["repeat"] + 0.004, "shifted": v["repeat"]} for k, v in measured.items()}
    spend, shift = equal_exchange_finding(close, 4, 1000)
    assert spend.endswith("which one run cannot separate.") and "within about a point" in shift


def _accuracy_axes(fig) -> list:
    """Every axis of the figure whose ticks are percentages, with its range."""
    layout = fig.to_dict()["layout"]
    axes = [axis for name, axis in layout.items() if name.startswith("yaxis")]
    return [type("Axis", (), {"range": axis.get("range")}) for axis in axes
            if "%" in axis.get("tickformat", "") and axis.get("type") != "log"]


def _one_temperature_room(n: int) -> list[dict]:
    """A workshop's state: every run at T = 20, one setting."""
    return [{"id": i, "label": f"#{i} run", "student": "mlp-100", "student_params": 89_610, "temperature": 20.0,
             "distilled_accuracy": 0.94 + i / 1000, "scratch_accuracy": 0.91, "gain": 0.03 + i / 1000}
            for i in range(1, n + 1)]


def test_every_accuracy_axis_fits_its_data_inside_0_to_100_percent():
    """One T for every run made plotly pad the axis to 0-150 %; now each fits within [0, 1]."""
    from models.service.report import seed_groups
    rows = _one_temperature_room(7)
    group_rows = [{**r, "status": "done", "alpha": 0.9, "train_size": 2000, "epochs": 50, "teacher": "pretrained",
                   "omit_class": None, "dataset": "MNIST", "dataset_fingerprint": "f", "teacher_digest": "d",
                   "setting": "s", "seed": r["id"]} for r in rows]
    points = [{"mode_label": "labels", "exchanges": 100, "queries": 100, "fidelity": 0.999, "copy_accuracy": 0.999}]
    built = [figures.learning_curves_figure([{"epoch": 1, "distilled": 1.0, "scratch": 0.99}], 1),
             figures.teacher_curve_figure([[0.5, 0.4]], [{"epoch": 1, "teacher": 0.995}], 1),
             figures.size_figure(rows, 1_370_474, 0.9926), figures.temperature_figure(seed_groups(group_rows)),
             figures.gain_figure(rows, 0.9926), figures.budget_figure(points, "fidelity"),
             figures.budget_figure(points, "copy_accuracy", 0.9926)]
    for fig in built:
        axes = _accuracy_axes(fig)
        assert axes, charts.chart_title(fig)
        for axis in axes:
            low, high = axis.range
            assert 0 <= low < high <= 1, (fig.layout.title.text, axis.range)
    drawn = [y for trace in built[4].data for y in trace.y]
    low, high = _accuracy_axes(built[4])[0].range
    assert low <= min(drawn + [0.9926]) and max(drawn + [0.9926]) <= high  # nothing falls off the fitted axis


def test_every_categorical_digit_axis_shows_all_ten_labels():
    digits = [str(d) for d in range(10)]
    soft = figures.soft_targets_figure([0.1] * 10, [1.0] + [0.0] * 9, 20.0)
    heat = figures.similarity_figure([[0.1] * 10 for _ in range(10)], 4.0)
    assert soft.layout.xaxis.type == "category" and list(soft.layout.xaxis.tickvals) == digits
    assert heat.layout.xaxis.type == "category" and heat.layout.yaxis.type == "category"
    assert [str(x) for x in heat.data[0].x] == digits and [str(y) for y in heat.data[0].y] == digits


def test_the_gain_chart_keeps_its_labels_apart_in_a_full_room():
    """From 7 runs on the "+3.1 pts" labels and long run names collided; ticks are short ids
    and the labels move to the hover beyond GAIN_LABELS_UP_TO runs."""
    few = figures.gain_figure(_one_temperature_room(3), 0.99)
    many = figures.gain_figure(_one_temperature_room(figures.GAIN_LABELS_UP_TO + 1), 0.99)
    assert few.data[-1].mode == "markers+text" and many.data[-1].mode == "markers"
    assert list(many.data[-1].x)[:2] == ["#1", "#2"] and many.layout.xaxis.tickangle == -45
    assert "#1 run" in many.data[-1].customdata[0]  # the name is still there, in the hover


def test_log_axes_tick_only_what_was_run():
    rows = [{"student": "mlp-10", "temperature": t, "train_size": n, "gain_mean": 0.01, "gain_ci_low": None,
             "gain_ci_high": None} for t, n in ((1.0, 500), (2.5, 2000), (20.0, 60000))]
    assert list(figures.gain_by_temperature_figure(rows).layout.xaxis.ticktext) == ["1", "2.5", "20"]
    assert list(figures.gain_by_size_figure(rows).layout.xaxis.ticktext) == ["500", "2,000", "60,000"]


def test_a_drawn_figure_hands_every_draw_one_copy_of_the_same_figure():
    """What st.plotly_chart reads (its own call, return_figure_from_figure_or_data) is the plain
    figure's dict, made once: the second draw gets the very same object, not a fresh deep copy."""
    import plotly.io
    import plotly.tools
    plain = figures.soft_targets_figure([0.05] * 10, [0.1] * 10, 4.0)
    drawn = figures.drawn_once(figures.soft_targets_figure([0.05] * 10, [0.1] * 10, 4.0))  # made a DrawnFigure in place
    assert isinstance(drawn, figures.DrawnFigure) and not isinstance(plain, figures.DrawnFigure)
    first = plotly.tools.return_figure_from_figure_or_data(drawn, validate_figure=True)
    assert first == plain.to_dict()
    assert plotly.tools.return_figure_from_figure_or_data(drawn, validate_figure=True) is first
    import json
    assert json.loads(plotly.io.to_json(first, validate=False)) == json.loads(plotly.io.to_json(plain, validate=False))
    assert figures.drawn_once(drawn) is drawn and figures.drawn_once(None) is None
    # The soft-targets chart a room's sliders share is one.
    assert isinstance(figures.soft_targets_spec([0.05] * 10, [0.1] * 10, 4.0), figures.DrawnFigure)


def test_every_figure_reads_as_one_sentence_naming_what_it_draws():
    fig = figures.learning_curves_figure([{"epoch": 1, "distilled": 0.8, "scratch": 0.7}], epochs=5)
    sentence = charts.describe(fig)
    assert sentence.count(".") == 1 and sentence.endswith(".")
    assert charts.chart_title(fig).split("<")[0].strip().rstrip(".") in sentence
    for name in _names(fig):
        assert name in sentence  # each line is named, so nothing drawn is missing from the words
    assert f"against {fig.layout.xaxis.title.text}" in sentence and "lines of" in sentence
    bars = figures.soft_targets_figure([0.1] * 10, [1.0] + [0.0] * 9, 4.0)
    assert "bars" in charts.describe(bars) and "<" not in charts.describe(bars)


def test_titles_and_legends_never_sit_on_the_data_or_the_axis_titles():
    from lessons.chat_figures import canary_figure
    fig = figures.learning_curves_figure([{"epoch": 1, "distilled": 0.8, "scratch": 0.7}], epochs=5)
    assert not fig.layout.title.text and charts.chart_title(fig)  # written above the chart, where it wraps
    assert fig.layout.legend.yanchor == "bottom" and fig.layout.legend.y > 1  # above the plot, not by the x title
    canary = canary_figure([("teacher", 12.0), ("copy", 1.0), ("scratch twin", 1.2)], 12)
    assert not canary.layout.annotations and not canary.layout.shapes  # "chance" is in the legend, not on a bar
    assert [t.name for t in canary.data if t.showlegend is not False] == ["chance (never saw it): 1.4 bits"]
