"""Distil a student: pick its size, T and α, and watch it learn beside a scratch twin."""
import streamlit as st

from lessons.charts import chart
from lessons import shared, watching
from lessons.findings import distill_finding, points, p_text
from lessons.links import share_link, widget_default
from lessons.prose import CONTROLS_EXPLAINED
from lessons.feature_signal import features_explained, learns_from_ui
from lessons.figures import learning_curves_figure
from models.base.configs import DEFAULT_BETA, ConfigError, DistillConfig
from models.base.configs import MAX_SEEDS, MAX_TEMPERATURE, MIN_TEMPERATURE, STUDENT_NAMES
from models.service.guesses import DISTILL_GAIN, gain_option
from models.service.names import without_paths
from models.core.nets import student_params
from models.core.stats import CONTROLS_VERDICTS, MIN_SEEDS_FOR_VERDICT, controls_summary, summarise

st.title("3. Distil a student")
st.markdown(
    """
Pick a *student* (a smaller network) and train it to match the teacher's soft targets. Every run
also trains a **scratch twin**: the same network, starting from the same weights and seeing the
same images in the same order, but learning from the plain labels only. Both curves are drawn as
they train; the gap between them is what the teacher's knowledge added.
"""
)
shared.dataset_caption()
data = shared.dataset()
teacher = shared.chosen_teacher()
st.caption(f"Teacher: **{teacher}** (change it on the Teacher page)")

defaults = DistillConfig()
# A link (models/service/links.py) may have filled any of these already; otherwise the defaults.
for key, value in {"student": defaults.student, "temperature": defaults.temperature, "alpha": defaults.alpha,
                   "train_size": min(defaults.train_size, data.train_size), "epochs": defaults.epochs,
                   "seed": shared.default_seed(), "seeds": 1, "controls": False, "feature": defaults.feature,
                   "beta": DEFAULT_BETA}.items():
    widget_default(key, value)
epochs_cap = shared.start_inside_caps({"epochs": "epochs", "train_size": "train_size"})
with st.form("distill"):
    left, right = st.columns(2)
    with left:
        student = st.selectbox(
            "Student", STUDENT_NAMES,
            format_func=lambda name: f"{name}  ({student_params(name):,} parameters)",
            help="mlp-W: two hidden layers of W units, as in Hinton et al. cnn-tiny: a very small CNN.",
            key="student")
        temperature = st.number_input("Temperature T (0.1 to 100)",
                                      min_value=MIN_TEMPERATURE, max_value=MAX_TEMPERATURE, step=0.5,
                                      help="How much the teacher's probabilities are flattened.", key="temperature")
        alpha = st.slider("α: weight on the teacher's soft targets", 0.0, 1.0, step=0.05,
                          help="1 = learn only from the teacher, 0 = only from the labels (same as the twin).",
                          key="alpha")
    with right:
        train_size = st.number_input(
            f"Transfer-set size (training images the student sees, at most {data.train_size:,})",
            min_value=1, step=500, key="train_size")
        epochs = st.number_input("Epochs (passes over the transfer set)", min_value=1, max_value=epochs_cap or 500,
                                 key="epochs")
        seed = st.number_input("Seed (your own: each visitor starts at a different one)", min_value=0, step=1,
                               key="seed",
                               help="Changes the starting weights, the images picked and their order. Each visitor "
                                    "starts at their own seed, so a room's runs of one setting add up to a verdict.")
        seeds = st.number_input(f"Repeat over seeds (1-{MAX_SEEDS})", min_value=1, max_value=MAX_SEEDS, key="seeds",
                                help="Runs seeds S, S+1, … and says whether the gain beats the seed-to-seed noise.")
        name = st.text_input("Name for the leaderboard (optional)", max_chars=80, key="run_name")
        controls = st.checkbox("Add two controls: knowledge or just softness?", key="controls",
                               help="Also trains a smoothed-label twin and a shuffled-teacher twin (about twice "
                                    "the time).")
    feature, beta = learns_from_ui()
    # Guess first, then see (models/service/guesses.py): once, before this visitor's first run; optional.
    guess = (st.segmented_control(DISTILL_GAIN.text + " One click, optional.", DISTILL_GAIN.options,
                                  key="guess_distill_gain") if not shared.my_runs() else None)
    submitted = st.form_submit_button("Distil", type="primary", key="distill_submit")
share_link("distill")
features_explained()



def _configs() -> list[DistillConfig]:
    """The form's settings, one config per seed (raises ConfigError with the reason)."""
    config = DistillConfig(student=student, temperature=float(temperature), alpha=float(alpha),
                           train_size=int(train_size), epochs=int(epochs), seed=int(seed), teacher=teacher,
                           controls=bool(controls), feature=feature, beta=float(beta) if feature != "none" else 0.0)
    config.check_train_size(data.train_size)
    return [config.with_seed(config.seed + k) for k in range(int(seeds))]


if submitted:
    try:
        configs = _configs()
        shared.logits_or_stop(teacher)  # warm the cache and catch a broken checkpoint here
        group = shared.new_group("seeds") if seeds > 1 else ""
        st.session_state.distill_runs = shared.submit(configs, name, group)
        shared.keep_guess(st.session_state.distill_runs[0], DISTILL_GAIN.key, guess)
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")
else:
    try:  # a form's widgets hold what was last sent, so that is what the estimate is for
        shared.cost_caption(_configs(), "the settings last sent (or the defaults)")
    except ConfigError:
        pass


def _live(run):
    curves, epochs = run.progress.curves, run.config.epochs
    st.progress(run.progress.fraction, text=f"epoch {run.progress.epoch:.1f} of {epochs}")
    if curves:
        shared.cached_chart(f"lc-{run.id}", len(curves), lambda: learning_curves_figure(curves, epochs))


def _done(run):
    r = run.result
    if run.id > 0:  # a stored default says so above itself
        st.caption(f"Run #{run.id}, seed {run.config.seed}: {run.config.student} trained in {r.seconds:.0f} s.")
    chart(watching.run_figure(run, lambda: learning_curves_figure(r.curves, run.config.epochs)),
                 f"lc-done-{run.id}")
    cols = st.columns(4)
    cols[0].metric("Distilled student", f"{r.distilled_accuracy:.2%}")
    cols[1].metric("Scratch twin", f"{r.scratch_accuracy:.2%}")
    cols[2].metric("Gain", points(r.gain), help="Distilled minus scratch twin, in percentage points")
    cols[3].metric("Teacher", f"{r.teacher_accuracy:.2%}",
                   help=f"{r.teacher_params:,} parameters vs the student's {r.student_params:,}")
    st.success(distill_finding(r, run.config.seed))
    guessed = shared.guess_for(run.id, DISTILL_GAIN.key)
    if guessed:
        measured = gain_option(r.gain)
        st.info(f"You guessed **{guessed}**; this run measured {points(r.gain)} (**{measured}**)"
                + (": right." if guessed == measured else ".") + " The facilitator's room board shows everyone's.")
    _controls([r])
    if r.discordant:
        only_student, only_twin = r.discordant
        st.caption(
            f"The test set's part of this gain: the student alone is right on {only_student} test digits, its twin "
            f"alone on {only_twin} (exact McNemar {p_text(r.gain_mcnemar_p)}); from the test digits alone the gain "
            f"is {r.gain * 100:+.2f} ± {r.gain_test_se * 100:.2f} points (one standard error). That error stays however "
            "many seeds you add: seed intervals say how much the gain moves with the seed, for this one test set and "
            "this one teacher.")
    st.caption(
        "One run is one seed. At this page's defaults the gain is larger than the seed-to-seed noise (seeds "
        "3–5: +3.07 points, 95 % interval +2.10 to +4.04, measured by `python -m models distill --seed 3 "
        "--seeds 3` on full MNIST), but at short or small settings it may not be, and "
        "the soft targets can even cost points. Repeat with two more seeds and the Compare page tells you "
        "whether your gain is clear or within noise.")
    st.page_link("lessons/compare.py", label="Compare all runs", icon=":material/leaderboard:")


def controls_sentence(summary) -> str:
    """The controls' verdict in words, with the paired intervals it rests on."""
    def gap(mean: float, interval) -> str:
        return f"{mean * 100:+.2f} points" + (f" [{interval[0] * 100:+.2f}, {interval[1] * 100:+.2f}]" if interval else "")
    gaps = (f"Distilled minus smoothed-label twin: {gap(summary.beyond_smoothed_mean, summary.beyond_smoothed_ci)}; "
            f"minus shuffled-teacher twin: {gap(summary.beyond_shuffled_mean, summary.beyond_shuffled_ci)}"
            " (paired per seed, 95 % intervals).")
    said = {
        CONTROLS_VERDICTS[0]: "The distilled student beats both controls over these seeds, by the whole of each "
                              "interval: its gain is more than softness alone.",
        CONTROLS_VERDICTS[1]: "The gain is clear, but it does not beat both controls by the whole of each interval: "
                              "part or all of it may be softness.",
        CONTROLS_VERDICTS[2]: "The gain itself is not clear over these seeds, so there is nothing for the controls "
                              "to explain.",
        CONTROLS_VERDICTS[3]: f"No verdict from fewer than {MIN_SEEDS_FOR_VERDICT} seeds: repeat over more to tell "
                              "knowledge from softness.",
    }[summary.verdict]
    return f"{said} {gaps}"


def _controls(results) -> None:
    """The two controls' accuracies beside the student's, when the run trained them."""
    if results[0].smoothed_accuracy is None:
        return
    mean = lambda key: sum(getattr(r, key) for r in results) / len(results)  # noqa: E731
    cols = st.columns(3)
    cols[0].metric("Distilled student", f"{mean('distilled_accuracy'):.2%}")
    cols[1].metric("Smoothed-label twin", f"{mean('smoothed_accuracy'):.2%}",
                   help=f"Labels smoothed by ε = {results[0].smoothing:.3f}: as soft as the teacher at this T")
    cols[2].metric("Shuffled-teacher twin", f"{mean('shuffled_accuracy'):.2%}")
    st.caption(controls_sentence(controls_summary(*([getattr(r, key) for r in results] for key in (
        "distilled_accuracy", "scratch_accuracy", "smoothed_accuracy", "shuffled_accuracy")))))
    with st.expander("What the two controls rule out"):
        st.markdown(CONTROLS_EXPLAINED)


def _seeds_done(runs):
    if not runs:
        return
    summary = summarise([r.config.seed for r in runs], [r.result.distilled_accuracy for r in runs],
                        [r.result.scratch_accuracy for r in runs])
    cols = st.columns(4)
    cols[0].metric("Distilled (mean)", f"{summary.distilled_mean:.2%}", help=f"± {summary.distilled_std:.2%}")
    cols[1].metric("Scratch twin (mean)", f"{summary.scratch_mean:.2%}", help=f"± {summary.scratch_std:.2%}")
    interval = (f"95 % interval {points(summary.gain_ci_low)} to {points(summary.gain_ci_high)}"
                if summary.gain_ci_low is not None else "no interval from one seed")
    cols[2].metric("Gain (mean)", points(summary.gain_mean), help=interval)
    cols[3].metric("Verdict", summary.verdict)
    st.caption(f"Over seeds {', '.join(map(str, summary.seeds))}: gain {points(summary.gain_mean)}, {interval}. "
               "The gain is clear only when the whole interval is above zero (see Compare, 'Is the gain real?').")
    _controls([r.result for r in runs])
    shared.cached_chart(f"lc-seeds-{runs[0].id}", 1,
                        lambda: learning_curves_figure(runs[0].result.curves, runs[0].config.epochs))


runs = st.session_state.get("distill_runs", [])
if len(runs) == 1:
    watching.watch_run(runs[0], _live, _done)
elif runs:
    watching.watch_group(runs, _seeds_done)
else:
    watching.show_stored_default("distill", lambda stored: _done(stored[0]), "Distil")
