"""How many accounts a copying campaign needs, and a simple detector that tries to catch it."""
import streamlit as st

from lessons import shared
from models.config import REPORTED_ACCOUNTS, REPORTED_EXCHANGES, REPORTED_PER_ACCOUNT, ConfigError, DetectorConfig
from models.detector import UNSURE_BELOW, run_detector
from models.names import without_paths
from models.results import DetectorResult
from models.queries import accounts_needed, days_needed

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

st.subheader("Can a simple detector tell copiers from honest users?")
st.markdown(
    f"""
We simulate accounts that each ask {DetectorConfig.queries_per_account} questions. Honest users ask
about real handwritten digits, which the teacher answers with near certainty. The detector counts
how often an account's questions leave the teacher *unsure* (top probability below
{UNSURE_BELOW:.0%}) and raises an alarm above a threshold set so that about 1 % of a first group of
honest accounts would be flagged. Then it is judged on fresh honest accounts and on copiers.
"""
)
with st.form("detector"):
    per_account = st.number_input("Questions per account", 10, 5000, DetectorConfig.queries_per_account,
                                  key="det_queries")
    seed = st.number_input("Seed", 0, 10_000, 0, key="det_seed")
    go = st.form_submit_button("Simulate and detect", type="primary", key="det_submit")


@st.cache_data(show_spinner="Simulating accounts…", max_entries=8)
def _detect(per_account: int, seed: int, teacher: str, fingerprint: str) -> DetectorResult:
    return run_detector(DetectorConfig(queries_per_account=per_account, seed=seed, teacher=teacher), shared.dataset())


if go or "detector_settings" in st.session_state:
    try:
        if go:
            st.session_state.detector_settings = (int(per_account), int(seed))
        per_account_used, seed_used = st.session_state.detector_settings
        report = _detect(per_account_used, seed_used, shared.chosen_teacher(), shared.dataset().fingerprint)
    except ConfigError as error:
        st.error(f"Not run: {without_paths(error)}")
        st.stop()
    cols = st.columns(4)
    cols[0].metric("False alarms on honest users", f"{report.honest_false_alarm_rate:.1%}")
    names = {"mnist": "Copier asking real digits", "fashion": "Copier asking other images",
             "noise": "Copier asking noise"}
    for col, (source, result) in zip(cols[1:], report.copiers.items()):
        col.metric(names[source] + " — caught", f"{result.detection_rate:.0%}",
                   help=f"{result.source_name}: teacher unsure on {result.mean_unsure_fraction:.1%} of "
                        "questions on average")
    st.caption(f"Alarm above {report.threshold_unsure_fraction:.1%} unsure answers per account; honest "
               f"accounts average {report.honest_mean_unsure_fraction:.1%}. Simulated: "
               f"{report.config['honest_accounts']} honest accounts to set the threshold, "
               f"{report.config['honest_accounts']} fresh ones and {report.config['copier_accounts']} "
               "copiers per source to judge it.")
    for result in report.copiers.values():
        if result.source_notice:
            st.caption(result.source_notice)
    st.markdown("The copier who asks with real digits is invisible to this detector: its questions look "
                "exactly like an honest user's. That is why providers also correlate accounts, IP addresses "
                "and request metadata (the reported detection used classifiers, behavioural fingerprints, IP "
                "correlation and request metadata), and why the reported 'hydra clusters' mixed copying "
                "traffic with ordinary requests.")

st.subheader("What this toy does and does not show")
st.markdown(
    """
- **It shows** that answers alone are enough to copy a model, and that richer answers (full
  probabilities) make copying cheaper than bare labels.
- **Chat models answer in text**, one sampled answer at a time. That is closer to our *top label
  only* mode than to full probabilities, so each exchange leaks less, which is one reason real
  campaigns need millions of them.
- **Step-by-step (chain-of-thought) answers carry more**: they show *how* the model reached its
  answer, a richer signal than any probability list here.
- **Scale differs by orders of magnitude**: our teacher has 1.4 million parameters and reads 28 × 28
  pixels; frontier models have billions of parameters and open-ended tasks.
"""
)
