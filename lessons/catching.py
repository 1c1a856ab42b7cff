"""How many accounts a copying campaign needs, and a simple detector that tries to catch it."""
import streamlit as st

from lessons import shared
from lessons.figures import roc_figure
from models.base.configs import ConfigError, DetectorConfig
from models.base.news import REPORTED_ACCOUNTS, REPORTED_EXCHANGES, REPORTED_PER_ACCOUNT
from models.experiments.detector import UNSURE_BELOW, run_detector
from models.service.names import without_paths
from models.base.results import DetectorResult
from models.experiments.queries import accounts_needed, days_needed

st.title("Accounts, rate limits and detection")
st.markdown(
    f"""
Providers limit how many questions one account may ask per day, so a large copying campaign needs
many accounts. The reported campaign against Claude used about **{REPORTED_ACCOUNTS:,} accounts** for more
than **{REPORTED_EXCHANGES // 1_000_000} million exchanges**: {REPORTED_EXCHANGES:,} ÷ {REPORTED_ACCOUNTS:,}
≈ **{REPORTED_PER_ACCOUNT} exchanges per account** (*reported*; source: Anthropic, 23 Feb 2026). Work out
what a campaign needs:
"""
)

c1, c2, c3 = st.columns(3)
budget = c1.number_input("Questions the copier wants", 1, 10**10, REPORTED_EXCHANGES, step=1_000_000,
                         key="calc_budget")
limit = c2.number_input("Questions allowed per account per day", 1, 10**7, 100, key="calc_limit")
days = c3.number_input("Days the campaign may run", 1, 3650, 7, key="calc_days")
needed = accounts_needed(int(budget), int(limit), int(days))
st.metric("Accounts needed", f"{needed:,}", help="questions ÷ (limit per account per day × days), rounded up")
st.caption(f"{int(budget):,} ÷ ({int(limit):,} × {int(days):,}) = {int(budget) / (int(limit) * int(days)):,.1f}. "
           f"With the reported {REPORTED_ACCOUNTS:,} accounts it would take "
           f"{days_needed(int(budget), int(limit), REPORTED_ACCOUNTS):,} day(s) at this limit.")

st.header("Can a simple detector tell copiers from honest users?")
st.markdown(
    f"""
We simulate accounts that each ask the same number of questions. Honest users mostly ask about real
handwritten digits, which the teacher answers with near certainty, and now and then send an odd
image (a photo, a doodle). Copiers explore with other images, and may mix real digits in to blend
in. The detector counts how often an account's questions leave the teacher *unsure* (top
probability below {UNSURE_BELOW:.0%}) and raises an alarm above a threshold set so that about 1 %
of a first group of honest accounts would be flagged; then it is judged on fresh accounts.

To keep the test fair, honest users and copiers draw from **separate** pools of images the teacher
never trained on: one half of the test digits for each, one half of the odd images for each.
"""
)
with st.form("detector"):
    c1, c2 = st.columns(2)
    per_account = c1.number_input("Questions per account", 10, 5000, DetectorConfig.queries_per_account,
                                  key="det_queries")
    seed = c2.number_input("Seed", 0, 10_000, 0, key="det_seed")
    real_share = c1.select_slider("Copier: share of real digits mixed into its questions",
                                  [0, 50, 80, 90, 95, 98, 99, 100], 0, format_func=lambda v: f"{v}%",
                                  key="det_real_share")
    odd_share = c2.slider("Honest users: share of odd images they send", 0, 30, 2, 1, format="%d%%",
                          key="det_odd_share")
    go = st.form_submit_button("Simulate and detect", type="primary", key="det_submit")


@st.cache_data(show_spinner="Simulating accounts…", max_entries=8)
def _detect(settings: tuple, teacher: str, fingerprint: str) -> DetectorResult:
    per_account, seed, real_share, odd_share = settings
    return run_detector(DetectorConfig(queries_per_account=per_account, seed=seed, teacher=teacher,
                                       copier_real_share=real_share, honest_odd_share=odd_share), shared.dataset())


if go or "detector_settings" in st.session_state:
    try:
        if go:
            st.session_state.detector_settings = (int(per_account), int(seed), real_share / 100, odd_share / 100)
        report = _detect(st.session_state.detector_settings, shared.chosen_teacher(), shared.dataset().fingerprint)
    except ConfigError as error:
        st.error(f"Not run: {without_paths(error)}")
        st.stop()
    config = report.config
    names = {"mnist": "Copier asking only real digits", "fashion": "Copier asking other images",
             "noise": "Copier asking noise"}
    low, high = report.honest_false_alarm_ci or (None, None)
    # A table, not a row of metrics: four metrics side by side cut their labels ("Copier asking o…").
    st.dataframe([{"accounts": "Honest users", "raising the alarm": f"{report.honest_false_alarm_rate:.1%}",
                   "what it means": "false alarms" + (f" (95 % interval {low:.1%} to {high:.1%})" if low is not None
                                                      else "")}]
                 + [{"accounts": names[source], "raising the alarm": f"{result.detection_rate:.0%}",
                     "what it means": f"caught (the teacher was unsure on {result.mean_unsure_fraction:.1%} of its "
                                      "questions)"} for source, result in report.copiers.items()],
                 hide_index=True, key="detector-table", width="stretch")
    shared.cached_chart("detector-roc", tuple(sorted(config.items())),
                        lambda: roc_figure({names[s]: (r.roc, r.auc) for s, r in report.copiers.items()}))
    st.caption(f"Alarm above {report.threshold_unsure_fraction:.1%} unsure answers per account; honest accounts "
               f"average {report.honest_mean_unsure_fraction:.1%}. Simulated: {report.threshold_accounts or '?'} "
               f"honest accounts to set the threshold, {config['honest_accounts']} fresh ones (false alarms "
               f"{report.honest_false_alarm_rate:.1%}, 95 % interval {low:.1%} to {high:.1%}) and "
               f"{config['copier_accounts']} copiers per kind to judge it; copiers of other images or noise mix in "
               f"{config['copier_real_share']:.0%} real digits. Honest users are not all alike: each sends its own "
               f"share of odd images, drawn around {config['honest_odd_share']:.0%}. The curve shows every "
               "threshold: up is more copiers caught, right is more honest users wrongly flagged; the diagonal is "
               "guessing. This detector watches how confident the answers are; others, such as PRADA (Juuti et "
               "al. 2019), watch how an account's questions are spread over the input space instead.")
    for result in report.copiers.values():
        if result.source_notice:
            st.caption(result.source_notice)
    blind = report.copiers["mnist"]
    looks = ("no different from an honest user's (0.5 is a coin toss)" if blind.auc >= 0.4 else
             "below honest users': it looks *more* honest than they do, since they send odd images now and then")
    st.markdown(f"**The copier this detector cannot see** asks only real digits: its area under the curve is "
                f"{blind.auc:.2f}, {looks}. A copier of other images that mixes in enough real digits (as rarely "
                "odd as honest users are) disappears the same way: try 98 % and 99 % above. That "
                "is why providers also correlate accounts, IP addresses and request metadata (the reported "
                "detection used classifiers, behavioural fingerprints, IP correlation and request metadata), "
                "and why the reported 'hydra clusters' mixed copying traffic with ordinary requests.")

st.header("What this toy does and does not show")
st.markdown(
    """
- **It shows** that answers alone are enough to copy a model, and that richer answers (full
  probabilities) make copying cheaper than bare labels.
- **Chat models answer in text**: a reply is many characters or words, each one *sampled*, and a
  copier trains on every one of them. Asking one digit again and again does not add up to its
  probabilities at T = 1 (the *sampled digits* lines on the copying page stay near a bare label),
  and on *Copy a chatbot* a copy through text alone learns about what the same amount of human text
  teaches; the log-probabilities some APIs return at every position are what make an exchange worth
  more there.
- **Step-by-step (chain-of-thought) answers carry more**: they show *how* the model reached its
  answer, a richer signal than any probability list here.
- **Scale differs by orders of magnitude**: our teacher has 1.4 million parameters and reads 28 × 28
  pixels; frontier models have billions of parameters and open-ended tasks.
"""
)
st.page_link("lessons/chat_copy.py", label="Measure it on a chat model: copy a chatbot", icon=":material/chat:")
