"""Sweeps: which temperature suits which student size, and where distillation helps most."""
import streamlit as st

from lessons import shared, watching
from lessons.prose import CONTROLS_EXPLAINED
from lessons.figures import gain_by_size_figure, gain_by_temperature_figure
from models.base.configs import MAX_SEEDS, STUDENT_NAMES, ConfigError, SweepConfig
from models.service.names import without_paths
from models.core.stats import MIN_SEEDS_FOR_VERDICT, VERDICTS, chance_clear_gains
from models.experiments.sweep import (
    PAPER_FINDING,
    SIZE_SWEEP_STUDENTS,
    size_sweep_cells,
    sweep_rows,
    temperature_findings,
    what_the_sweep_shows,
)

st.title("Sweeps: temperature, size and data")
st.markdown(
    f"""
One run can be luck. Here each setting is trained several times with different *seeds* (random
starting points), and each point shows the average **gain** (distilled minus its scratch twin) with
a bar for its **95 % interval**: the range the average gain over seeds plausibly lies in, given how much
the seeds disagree. A gain is **clear** only when the whole interval is above zero, **worse** when
it is below, and **within noise** otherwise; with fewer than {MIN_SEEDS_FOR_VERDICT} seeds there is
no verdict. On MNIST the noise is often about as large as the effect.
"""
)
shared.dataset_caption()
data = shared.dataset()
# Display names, the verdict first so it is never scrolled out of sight.
COLUMNS = {"student": "student", "temperature": "T", "train_size": "transfer set", "gain_mean": "gain",
           "gain_ci_low": "interval from", "gain_ci_high": "interval to", "verdict": "verdict",
           "distilled_mean": "distilled", "smoothed_mean": "smoothed-label twin",
           "shuffled_mean": "shuffled-teacher twin", "scratch_mean": "scratch twin", "seeds": "seeds"}
GAPS = ("gain_mean", "gain_ci_low", "gain_ci_high")  # differences of accuracies: shown in points
ROW_FORMAT = {COLUMNS[k]: st.column_config.NumberColumn(format="%+.2f points") for k in GAPS} | {
    COLUMNS[k]: st.column_config.NumberColumn(format="percent")
    for k in ("distilled_mean", "scratch_mean", "smoothed_mean", "shuffled_mean")}


def _show_sweep(prefix: str, figure) -> None:
    """This tab's sweep, or else the latest one on the server, drawn as its cells land."""
    shown = st.session_state.get(f"sweep_{prefix}") or shared.store().latest_group("sweep_cell", f"{prefix}-")
    if not shown and prefix != "t":
        return

    def draw(runs):
        rows = sweep_rows(r.result for r in runs)
        if rows:
            shared.cached_chart(f"sweep-{prefix}-chart", (shown, len(runs)), lambda: figure(rows))
            columns = {k: v for k, v in COLUMNS.items() if k not in ("smoothed_mean", "shuffled_mean")
                       or rows[0]["smoothed_mean"] is not None}
            st.dataframe([{name: 100 * row[key] if key in GAPS and row[key] is not None else row[key]
                           for key, name in columns.items()} for row in rows], hide_index=True,
                         column_config=ROW_FORMAT, key=f"sweep-{prefix}-table")
            if prefix == "t":
                for sentence in what_the_sweep_shows(rows, temperature_findings(r.result for r in runs)):
                    st.markdown(sentence)
            if rows[0]["smoothed_mean"] is not None:
                with st.expander("Knowledge or just softness? What the two control twins rule out"):
                    st.markdown(CONTROLS_EXPLAINED)
            judged = sum(row["verdict"] != VERDICTS[3] for row in rows)
            if judged > 1:
                st.caption(f"{judged} settings are judged at once. If distillation did nothing at all, chance "
                           f"alone would still call about {chance_clear_gains(judged):.1f} of them a clear gain "
                           "(2.5 % each), so one 'clear gain' among many is weak evidence; a pattern across "
                           "neighbouring settings is stronger.")

    if shown:
        watching.watch_group([r.id for r in shared.store().group(shown)], draw)
    else:
        shown = "stored"
        watching.show_stored_default("sweep", draw, "Run the sweep")


def _submit(cells, prefix: str) -> str:
    shared.logits_or_stop(cells[0].teacher)
    group = shared.new_group(prefix)
    shared.submit(cells, group=group)
    return group


by_temperature, by_size = st.tabs(["Temperature × student size", "Transfer-set size"])

with by_temperature:
    st.info(PAPER_FINDING + " Run the sweep below to see whether this machine's students agree; the page says "
            "what your run shows, whatever it is.")
    defaults = SweepConfig()
    for key, value in {"sweep_seeds": defaults.seeds, "sweep_train_size": min(defaults.train_size, data.train_size),
                       "sweep_epochs": defaults.epochs}.items():
        st.session_state.setdefault(key, value)
    epochs_cap = shared.start_inside_caps({"epochs": "sweep_epochs", "train_size": "sweep_train_size"})
    with st.form("sweep-t"):
        students = st.multiselect("Students", STUDENT_NAMES,
                                  default=list(defaults.students), key="sweep_students")
        temperatures = st.multiselect("Temperatures", [1.0, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 30.0],
                                      default=list(defaults.temperatures), key="sweep_temperatures")
        c1, c2, c3 = st.columns(3)
        seeds = c1.number_input("Seeds per setting", 1, MAX_SEEDS, key="sweep_seeds")
        train_size = c2.number_input("Transfer-set size", 1, data.train_size, step=500, key="sweep_train_size")
        epochs = c3.number_input("Epochs", 1, epochs_cap or 200, key="sweep_epochs")
        sweep_controls = st.checkbox("Add the two controls at every T (smoothed-label and shuffled-teacher twins; "
                                     "about twice the time)", key="sweep_controls")
        go = st.form_submit_button("Run the sweep", type="primary", key="sweep_submit")
    try:
        config = SweepConfig(students=tuple(students), temperatures=tuple(sorted(temperatures)),
                             seeds=int(seeds), train_size=int(train_size), epochs=int(epochs),
                             teacher=shared.chosen_teacher(), controls=bool(sweep_controls))
        if go:
            st.session_state.sweep_t = _submit(config.cells(), "t")
        else:  # a form's widgets hold what was last sent, so that is what the estimate is for
            shared.cost_caption(config.cells(), "the settings last sent (or the defaults)")
    except ConfigError as error:
        if go:
            st.error(f"Not started: {without_paths(error)}")

    _show_sweep("t", gain_by_temperature_figure)

with by_size:
    st.markdown("Distillation matters most when labelled data is scarce: the teacher's soft targets say "
                "far more per image than a label does. Each size gets a similar training budget "
                "(fewer images, more passes).")
    st.caption("Where the extra knowledge comes from: the teacher learned from all "
               f"{data.train_size:,} labelled training images, and its soft targets on the student's few images "
               "pass on some of what it learned from the rest. A student with 500 images is really learning from "
               "a teacher that saw them all, which is exactly why copying a model through its answers works.")
    shared.start_inside_caps({"epochs": None, "train_size": None})
    with st.form("sweep-n"):
        c1, c2, c3 = st.columns(3)
        size_student = c1.selectbox("Student", SIZE_SWEEP_STUDENTS, index=1, key="size_student")
        size_temperature = c2.number_input("Temperature T", 0.1, 100.0, 8.0, key="size_temperature")
        size_seeds = c3.number_input("Seeds per size", 1, MAX_SEEDS, MIN_SEEDS_FOR_VERDICT, key="size_seeds")
        most = min(data.train_size, shared.room_caps().train_size or data.train_size)
        choices = [n for n in (250, 500, 1000, 2000, 5000, 10000, 20000, 60000) if n <= most]
        sizes = st.multiselect("Transfer-set sizes", choices, default=[n for n in choices if n >= 500][:6] + (
            [choices[-1]] if choices[-1] > 10000 else []), key="size_sizes")
        go_size = st.form_submit_button("Run the size sweep", type="primary", key="size_submit")
    if go_size:
        try:
            cells = size_sweep_cells(size_student, float(size_temperature), sorted(set(sizes)), int(size_seeds),
                                     teacher=shared.chosen_teacher())
            if not cells:
                raise ConfigError("pick at least one transfer-set size")
            st.session_state.sweep_n = _submit([shared.room_caps().inside(cell) for cell in cells], "n")
        except ConfigError as error:
            st.error(f"Not started: {without_paths(error)}")

    _show_sweep("n", gain_by_size_figure)
