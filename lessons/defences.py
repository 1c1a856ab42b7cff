"""Defences against copying, what they cost honest users, and whether an adaptive copier gets round them."""
import streamlit as st

from lessons import shared, watching
from lessons.prose import equal_exchange_finding
from models.base.configs import DEFAULT_NOISE, ConfigError
from models.experiments.extraction import answer_costs
from models.experiments.queries import check_budget
from models.service.names import without_paths
from models.service.stored_defaults import DEFENCE_IMAGES, DEFENCE_REPEATS, defence_configs
from models.core.checkpoints import load_teacher

st.title("Defences, and what they cost")
st.markdown(
    """
A provider can answer with less: the top three probabilities, a rounded number, only the label, a
sampled reply, or probabilities with **noise** added that never changes the top answer. The noise
comes in two forms:

- **fresh noise**: a new random shake on every answer. A copier that asks the same image several
  times and averages (an *adaptive* copier) cancels it out;
- **noise fixed per image**: the shake is computed from the image itself and a secret only the
  server knows, so asking again returns exactly the same answer and averaging gains nothing.

Every defence has a price for honest users, measured here on what they actually receive for the
10,000 test digits (one answer each): how often they get the right digit (*accuracy*), how
surprised the answer is by the truth on average (*negative log-likelihood*, in nats: 0 is a sure
right answer, higher is worse), the squared distance from the truth (*Brier score*, 0 to 2), and
how far stated confidence is from reality (*calibration error*: when it says 90 %, is it right
90 % of the time? measured over 10 equal confidence bins, as on *Try your own digit*).
"""
)
shared.dataset_caption()


@st.cache_data(show_spinner="Measuring each way of answering…", max_entries=4)
def _costs(teacher: str, fingerprint: str, strength: float):
    return answer_costs(load_teacher(teacher), shared.dataset(), strength)


# Outside the form: the honest users' table follows the slider at once (the copier's side trains on submit).
strength = st.select_slider("Noise strength", [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0], value=DEFAULT_NOISE,
                            key="defence_strength",
                            help="How much the defence shakes the small probabilities (noise on their logarithm).")
with st.form("defence"):
    c1, c2 = st.columns(2)
    images = c1.select_slider("Copier's images", [100, 300, 1000, 3000], value=DEFENCE_IMAGES, key="defence_queries")
    repeats = c2.select_slider("Adaptive copier: asks per image", [2, 4, 8, 16], value=DEFENCE_REPEATS,
                               key="defence_repeats")
    go = st.form_submit_button("Measure the copier's side too, at this noise strength", key="defence_submit",
                               type="primary")
teacher = shared.chosen_teacher()
costs = _costs(teacher, shared.dataset().fingerprint, float(strength))
if go:
    try:
        check_budget("mnist", int(images) * int(repeats), shared.dataset())
        st.session_state.defence_runs = shared.submit(defence_configs(int(images), float(strength), int(repeats),
                                                                      teacher), group=shared.new_group("defences"))
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


def _fidelity(runs, answers, defence, asks, shifted=False, images=None):
    """The copy's agreement with the teacher for one cell: how it answered, how often the copier
    asked each image (shifted or not), and on how many images (default: the fewest in the table)."""
    images = images or min(r.config.queries for r in runs)
    found = [r.result for r in runs if (r.config.answers, r.config.defence, r.config.samples_per_image,
                                        r.config.shift_repeats, r.config.queries) ==
             (answers, defence, asks, shifted, images)]
    return found[0].fidelity if found else None


def _defence_table(runs):
    adaptive_asks = max((r.result.samples_per_image for r in runs), default=1)
    images_used = min(r.config.queries for r in runs) if runs else None
    honest, copier = [], []
    for cost in costs:
        honest.append({"answers": cost["label"], "same top answer (%)": 100 * cost["top_label_agreement"],
                       "accuracy (%)": 100 * cost["accuracy"], "log-loss (nats)": cost["nll"],
                       "Brier score (0–2)": cost["brier"], "calibration error (%)": 100 * cost["calibration_error"]})
        if runs:
            row = {"answers": cost["label"]}
            row["copier asking once: agrees with teacher (%)"] = _percent(
                _fidelity(runs, cost["answers"], cost["defence"], 1))
            row[f"copier asking {adaptive_asks}×: agrees with teacher (%)"] = _percent(
                _fidelity(runs, cost["answers"], cost["defence"], adaptive_asks))
            row[f"asking {adaptive_asks}× with one-pixel shifts (%)"] = _percent(
                _fidelity(runs, cost["answers"], cost["defence"], adaptive_asks, shifted=True))
            row[f"same exchanges, new images: {adaptive_asks * images_used:,} asked once (%)"] = _percent(
                _fidelity(runs, cost["answers"], cost["defence"], 1, images=adaptive_asks * images_used))
            copier.append(row)

    def table(rows, key):
        number = {name: st.column_config.NumberColumn(format="%.2f") for name in rows[0] if name != "answers"}
        st.dataframe(rows, hide_index=True, key=key, column_config=number)
    st.markdown(f"**What honest users get** (noise strength {strength:g})")
    table(honest, "defence-table")
    st.caption("Honest users: one answer per test digit; log-loss floors received probabilities at 0.0001, since a "
               "bare digit states 100 % and a wrong 100 % would cost infinity.")
    if not runs:
        return
    st.markdown(f"**What the copier gets** (noise strength {runs[0].config.defence_strength:g})")
    table(copier, "copier-table")
    st.caption(f"Copier: one copy per cell, trained on {images_used:,} images; the adaptive copier asks each image "
               "several times (more exchanges, the same images). Differences of a point or so are within "
               "seed-to-seed noise.")
    _verdict(runs, adaptive_asks)


def _percent(value):
    return None if value is None else 100 * value


def _verdict(runs, asks):
    images = min(r.config.queries for r in runs)
    cells = {defence: {"once": _fidelity(runs, "probs", defence, 1), "repeat": _fidelity(runs, "probs", defence, asks),
                       "shifted": _fidelity(runs, "probs", defence, asks, shifted=True),
                       "new": _fidelity(runs, "probs", defence, 1, images=asks * images)}
             for defence in ("noise", "fixed-noise")}
    clean = _fidelity(runs, "probs", "none", 1)
    if clean is None or None in [v for cell in cells.values() for v in cell.values()]:
        return
    spend, shift = equal_exchange_finding(cells, asks, images)
    st.markdown(
        f"**What this run shows, at equal exchanges.** Without a defence the copy agrees with the teacher on "
        f"{clean:.1%} of test digits. {spend} {shift} One copy per cell, one seed: differences of a point or so "
        "are within seed-to-seed noise. Neither noise changes any honest user's top answer; both cost them "
        "calibrated confidence (the log-loss and calibration columns).")


if st.session_state.get("defence_runs"):
    watching.watch_group(st.session_state.defence_runs, _defence_table)
elif not watching.show_stored_default("defences", _defence_table, "Measure the copier's side too"):
    _defence_table([])
st.markdown("Tramèr et al. (2016) found that dropping confidences slows extraction but does not stop it; "
            "Orekondy et al. (2020) studied perturbing the probabilities (\"prediction poisoning\"). A fixed "
            "perturbation still leaks the top answer, and a copier that asks *slightly different* images (a "
            "pixel shifted) gets fresh noise again: fixed noise raises the price of copying, it does not end it.")
