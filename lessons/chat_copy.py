"""Copy a chatbot: the copying story in text, where the news happened. A tiny chat model behind an
API, copiers that see only its replies, a scratch twin on human replies, and the canary."""
import json

import streamlit as st

from lessons import shared, watching
from lessons.chat_figures import CHANCE_EXPOSURE, canary_figure, chat_budget_figure
from models.base.configs import CHAT_PROMPT_SOURCES, CHAT_TOP_K, MAX_REPLY_CHARS, ChatCopyConfig, ConfigError
from models.core.text import CANARY_PROMPT, canary_line
from models.base.news import REPORTED_EXCHANGES
from models.base.paths import CHAT_ASSETS
from models.service.chat_report import ANSWER_NAMES, curve_finding, curve_points
from models.service.names import markdown_escaped, without_paths
from models.service.stored_defaults import CHAT_CURVE_BUDGETS, chat_curve_configs
from lessons.feature_signal import SIGNALS_PLACED

TEACHER_CARD = CHAT_ASSETS / "teacher.json"
BUDGETS = (100, 300, 1000, 3000)
CURVE_BUDGETS = CHAT_CURVE_BUDGETS
PROMPT_NAMES = {"plays": "lines from plays the teacher never read", "made-up": "lines the copier made up"}


@st.cache_data
def teacher_card() -> dict:
    try:
        with open(TEACHER_CARD) as card:
            return json.load(card)
    except (OSError, ValueError):
        return {}


card = teacher_card()
st.title("Copy a chatbot")
st.markdown(
    f"""
The news is about chat models: about {REPORTED_EXCHANGES / 1e6:.0f} million *exchanges* (a prompt
in, a written reply out) collected to train other labs' models. Here is a tiny chat model to try
it on. The **teacher** read fourteen of Shakespeare's plays and learned to answer each line with the
next speaker's, one character at a time ({card.get('parameters', 0):,} parameters; on plays it
never read it needs {card.get('held_out_bits_per_char', float('nan')):.2f} *bits per character*:
the fewer bits, the better it predicts human text).

A **copier** pays for each exchange and trains a small student only on what comes back. A reply is
many characters, each *sampled* from the teacher's probabilities at the service's *temperature*,
and the copier trains on the whole reply (*sequence-level distillation*, Kim & Rush 2016). Some
APIs also return the top few log-probabilities at every position, one well-known API up to 20,
and a lab distilling its own model has the full distribution. Beside each copy, a **scratch twin**
(the same network, same starting weights) learns from as many characters of the real, human
replies to the same prompts.
"""
)
st.markdown(SIGNALS_PLACED)

defaults = ChatCopyConfig()
with st.form("chat_copy"):
    left, right = st.columns(2)
    answers = left.selectbox("What the API returns with each reply", tuple(CHAT_TOP_K),
                             format_func=ANSWER_NAMES.get, key="chat_answers")
    exchanges = left.select_slider("Exchanges (replies paid for)", BUDGETS, value=defaults.exchanges,
                                   key="chat_exchanges")
    prompts = left.radio("The copier's prompts", CHAT_PROMPT_SOURCES, format_func=PROMPT_NAMES.get,
                         key="chat_prompts", horizontal=True)
    reply_chars = right.number_input(f"Longest reply, in characters (1-{MAX_REPLY_CHARS})", min_value=1,
                                     max_value=MAX_REPLY_CHARS, value=defaults.reply_chars, key="chat_reply_chars")
    temperature = right.select_slider("Service temperature (how the API samples)", (0.5, 1.0, 1.5, 2.0),
                                      value=defaults.temperature, key="chat_temperature")
    seed = right.number_input("Seed", min_value=0, value=0, step=1, key="chat_seed",
                              help="Changes the prompts picked, the replies sampled and the starting weights.")
    go = st.form_submit_button("Copy the chatbot", type="primary", key="chat_submit")
if go:
    try:
        config = ChatCopyConfig(answers=answers, exchanges=int(exchanges), reply_chars=int(reply_chars),
                                prompts=prompts, temperature=float(temperature), seed=int(seed))
        st.session_state.chat_run = shared.submit([config])[0]
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


def finding(r) -> str:
    """The run's result in one sentence."""
    gain = r.scratch_bits_per_char - r.bits_per_char
    verb = "saved" if gain > 0 else "cost"
    return (f"With {r.exchanges:,} exchanges of {ANSWER_NAMES[r.answers]}, the copy needs {r.bits_per_char:.2f} bits "
            f"per character against its twin's {r.scratch_bits_per_char:.2f}: copying {verb} {abs(gain):.2f} bits per "
            f"character, and the copy's next character is the teacher's {r.teacher_agreement:.0%} of the time "
            f"(the twin's {r.scratch_agreement:.0%}). One seed: the budget curve below repeats it over seeds.")


def canary(r) -> None:
    st.header("Was it copied? The canary")
    st.markdown(
        f"""
Before training, the teacher's text got a made-up line, planted a few times and found nowhere else:
to the prompt *"{CANARY_PROMPT}"* it answers *"{canary_line()}"*. A model's **exposure** of the
canary (Carlini et al. 2019, "The Secret Sharer") ranks the real code among 4,095 random codes of
the same form by how likely the model finds each: 12 bits means it prefers the real one to all of
them; about {CHANCE_EXPOSURE:.1f} bits is chance. The **independent model** is the teacher's own
network trained on the same plays without the canary.
"""
    )
    bars = [("teacher", r.teacher_canary_exposure), ("copy", r.canary_exposure),
            ("scratch twin", r.scratch_canary_exposure)]
    if r.independent_canary_exposure is not None:
        bars.insert(1, ("independent model", r.independent_canary_exposure))
    shared.cached_chart(f"chat-canary-{r.exchanges}-{r.answers}", json.dumps(bars), lambda: canary_figure(bars, 12))
    st.caption(
        f"This copy's {r.exchanges:,} replies held the canary's code {r.canary_replies} time(s). A high exposure "
        "in a suspect model is strong evidence that it learned from the teacher's outputs: nothing else teaches "
        "it the code. A low one proves nothing: the copier may never have sent a prompt that drew the canary out, "
        "or may have filtered its training data, and a copy through text alone sees only what was sampled.")


def _live(run):
    progress = run.progress
    text = f"{progress.stage}" + (f": {progress.fraction:.0%}" if progress.of else "")
    st.progress(progress.fraction, text=text)


def _done(run):
    r = run.result
    st.success(finding(r))
    st.markdown("**Bits per character** on the held-out plays (lower is better):")
    cols = st.columns(4)  # short values: a unit in each value was cut off at 1280 px ("2.72 bits/c…")
    cols[0].metric("Copy", f"{r.bits_per_char:.2f}", help=f"{r.student_params:,} parameters")
    cols[1].metric("Scratch twin", f"{r.scratch_bits_per_char:.2f}")
    cols[2].metric("Teacher", f"{r.teacher_bits_per_char:.2f}")
    cols[3].metric("KL to the teacher", f"{r.kl_to_teacher:.2f}", help=f"twin: {r.scratch_kl_to_teacher:.2f}")
    st.caption(f"{r.characters:,} reply characters received ({r.characters / max(r.exchanges, 1):.0f} per reply), "
               f"{r.epochs} passes over them, {r.seconds:.0f} s.")
    st.markdown("**The same held-out prompts, answered by each** (sampled at the service temperature)")
    for sample in r.samples:  # one block per prompt: a table cut every reply but the first column at 1280 px
        with st.container(border=True):
            st.markdown(f"**Prompt:** {markdown_escaped(sample['prompt'][-120:])}")
            st.markdown("  \n".join(f"**{who}:** {markdown_escaped(sample[key]) or '(no reply)'}" for who, key in (
                ("Human", "human"), ("Teacher", "teacher"), ("Copy", "copy"), ("Scratch twin", "twin"))))
    canary(r)


chat_run = st.session_state.get("chat_run")
newest = shared.store().list(kind="chat_copy", status="done", limit=1)
if chat_run is None:  # this tab started none: show the newest copy on the server
    if newest:
        st.caption(f"The newest copy on this server (run {newest[0].id}):")
        _done(newest[0])
    else:
        watching.show_stored_default("chat_copy", lambda stored: _done(stored[0]), "Copy the chatbot")
else:
    watching.watch_run(chat_run, _live, _done)

def certainty(r) -> str:
    """How sure the teacher is of each next character, as the newest run measured it."""
    if r is None or r.teacher_sure_share is None:
        return "Some characters of a reply are nearly certain (after \"wher\" comes \"e\"), others are open choices"
    return (f"On the held-out replies this teacher is nearly sure (above 90 %) of {r.teacher_sure_share:.0%} of the "
            f"next characters and better than even on {r.teacher_better_than_even_share:.0%}; the rest are open "
            "choices (measured by the newest copy)")


st.header("How many exchanges does a copy take?")
st.markdown(
    f"""
Each point is one copy trained on that many paid-for replies; the dotted line is the scratch twin
on as many characters of human replies. {certainty(newest[0].result if newest else None)}. Text
alone shows only the choice that was sampled, while log-probabilities show the choices not taken.
With two or more seeds each point gets a 95 % interval and the table a verdict on the gain, by the
same rule as the digit pages.
"""
)
with st.form("chat_curve"):
    modes = st.multiselect("Ways of answering", tuple(CHAT_TOP_K), default=list(CHAT_TOP_K),
                           format_func=ANSWER_NAMES.get, key="chat_curve_modes")
    budgets = st.multiselect("Exchanges", BUDGETS, default=list(CURVE_BUDGETS), key="chat_curve_budgets")
    seeds = st.number_input("Seeds per point (1-3)", min_value=1, max_value=3, value=1, key="chat_curve_seeds")
    curve_go = st.form_submit_button("Copy at every budget", type="primary", key="chat_curve_submit")
if curve_go:
    try:
        if not modes or not budgets:
            raise ConfigError("pick at least one way of answering and one budget")
        configs = chat_curve_configs(int(seeds), modes, budgets)
        st.session_state.chat_curve_runs = shared.submit(configs, group=shared.new_group("chat-curve"))
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


def _draw_curve(runs):
    points = curve_points(runs)
    if not points:
        return
    version = tuple(r.id for r in runs)
    st.success(curve_finding(points))
    # Full width, one under another: side by side their titles and legends were cut at 1280 px.
    shared.cached_chart("chat-curve-bits", version, lambda: chat_budget_figure(points, "bits_per_char"))
    shared.cached_chart("chat-curve-agree", version, lambda: chat_budget_figure(points, "teacher_agreement"))
    shared.cached_chart("chat-curve-kl", version, lambda: chat_budget_figure(points, "kl_to_teacher"))
    st.dataframe([{"answers": p["answers_name"], "exchanges": p["exchanges"], "seeds": p["seeds"],
                   "copy, bits/char": round(p["bits_per_char"], 3), "twin, bits/char": round(p["scratch_bits_per_char"], 3),
                   "bits saved": round(p["gain"], 3),
                   "95 % interval": (f"{p['gain_ci_low']:+.3f} to {p['gain_ci_high']:+.3f}"
                                     if p["gain_ci_low"] is not None else "one seed"),
                   "verdict": p["verdict"], "agrees with teacher": f"{p['teacher_agreement']:.1%}",
                   "canary exposure": round(p["canary_exposure"], 1)} for p in points], hide_index=True)


curve_runs = st.session_state.get("chat_curve_runs")
if curve_runs is None:
    latest_curve = shared.store().latest_group("chat_copy", "chat-curve-")
    curve_runs = [r.id for r in shared.store().group(latest_curve)] if latest_curve else []
if curve_runs:
    watching.watch_group(curve_runs, _draw_curve)
else:
    watching.show_stored_default("chat_curve", _draw_curve, "Copy at every budget")
st.page_link("lessons/forensics.py", label="Next: was it copied? The digit lab's forensic tests",
             icon=":material/fingerprint:")
