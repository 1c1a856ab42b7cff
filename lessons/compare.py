"""Compare every distillation run on this server: a workshop leaderboard with the teacher for scale."""
import json

import streamlit as st

from lessons.charts import chart
from lessons import shared
from lessons.findings import compare_finding
from lessons.prose import CONTROLS_EXPLAINED
from lessons.figures import drawn_once, gain_figure, size_figure, temperature_figure
from models.service.chat_report import curve_points
from models.service.report import differing_fields, rows_to_csv, run_rows, seed_groups, transfer_words
from models.core.stats import MIN_SEEDS_FOR_VERDICT, chance_clear_gains

st.title("4. Compare runs")
st.markdown(
    """
Every distillation run started on this server, by anyone, newest first. Each dot is a student; the
cross under it is its scratch twin; the star is the teacher. Look for two things: how close a
student many times smaller than the teacher gets to it, and whether the teacher's soft targets
(the *gain*, distilled minus scratch) help more for some sizes and temperatures than others.
"""
)

@st.cache_data(max_entries=4, show_spinner=False)
def _every_run(mark: tuple) -> list[dict]:
    """Every distillation's row, read once per change of the store (not once per visitor's reload)."""
    return run_rows(shared.store().list(kind="distill"))


@st.cache_resource(max_entries=4, show_spinner=False)
def _charts(mark: tuple) -> tuple:
    """The three charts and the seed groups of the finished runs on the leaderboard, built once per
    change of the store for every visitor (at 300 runs a Compare visit cost the server 55 ms, about
    half of it these charts). One figure serves every session: st.plotly_chart only reads it."""
    done = [r for r in _every_run(mark) if not r["archived"] and r["status"] == "done"]
    if not done:
        return None, None, None, []
    teacher_params, teacher_accuracy = done[0]["teacher_params"], done[0]["teacher_accuracy"]
    groups = seed_groups(done)
    return (drawn_once(size_figure(done, teacher_params, teacher_accuracy)), drawn_once(temperature_figure(groups)),
            drawn_once(gain_figure(done[:30], teacher_accuracy)), groups)


mark = shared.store().change_mark("distill")
every_run = _every_run(mark)  # the CSV keeps archived runs too
rows = [r for r in every_run if not r["archived"]]

def _csv_button() -> None:
    st.download_button("Download as CSV (archived runs included)", rows_to_csv(every_run),
                       file_name="distillation-runs.csv", mime="text/csv")


@st.cache_data(max_entries=4, show_spinner=False)
def _chat_points(mark: tuple) -> list[dict]:
    return curve_points(shared.store().list(kind="chat_copy", status="done", archived=False))


def _chat_copies() -> None:
    """The chat copies (Copy a chatbot), one row per setting over its seeds."""
    points = _chat_points(shared.store().change_mark("chat_copy"))
    if not points:
        return
    st.header("Chat copies")
    st.caption("Copies of the chat teacher from the *Copy a chatbot* page: bits per character on held-out plays "
               "(lower is better) for the copy and its scratch twin; the gain is the bits saved by copying, "
               "paired per seed, with a verdict from 3 seeds on.")
    st.dataframe([{"answers": p["answers_name"], "exchanges": p["exchanges"], "prompts": p["prompts"],
                   "seeds": p["seeds"], "copy, bits/char": round(p["bits_per_char"], 3),
                   "twin, bits/char": round(p["scratch_bits_per_char"], 3), "bits saved": round(p["gain"], 3),
                   "verdict": p["verdict"], "runs": ", ".join(f"#{i}" for i in p["run_ids"])} for p in points],
                 hide_index=True, key="chat-copies-table")


if not rows:
    st.info("No runs yet." if not every_run else "No runs on the leaderboard yet: the facilitator archived "
            "the earlier ones (they are still in the CSV).")
    st.page_link("lessons/distill.py", label="Distil your first student", icon=":material/science:")
    if every_run:
        _csv_button()
    _chat_copies()
    st.stop()

done = [r for r in rows if r["status"] == "done"]
HEADERS = {"id": "run", "name": "name", "student": "student", "student_params": "parameters",
           "signal": "learned from",
           "distilled_accuracy": "distilled", "scratch_accuracy": "scratch twin", "gain": "gain",
           "temperature": "T", "alpha": "α", "train_size": "transfer set", "epochs": "epochs", "seed": "seed",
           "dataset": "dataset", "created": "started (UTC)"}
percent = st.column_config.NumberColumn(format="percent")
# A difference of two accuracies is in percentage points: "+3.6 %" would be misquoted as a relative gain.
points = st.column_config.NumberColumn(format="%+.2f points")
ACCURACY_COLUMNS = {"distilled": percent, "scratch twin": percent, "gain": points}


def in_points(value):
    return None if value is None else 100 * value


STATUS_WORDS = {"queued": "waiting for a worker", "running": "training now", "cancelled": "cancelled",
                "failed": "failed", "interrupted": "interrupted"}


def _cell(row: dict, key: str):
    if key == "gain":
        return in_points(row[key])
    if key == "train_size":
        return transfer_words(row["train_size"], row["omit_class"])
    return row[key]


def _run_table(runs: list[dict]) -> list[dict]:
    """Finished runs with their numbers; the others go to _unfinished_table, in words."""
    return [{HEADERS[k]: _cell(r, k) for k in HEADERS} for r in runs if r["status"] == "done"]


def _unfinished_table(runs: list[dict], key: str) -> None:
    waiting = [r for r in runs if r["status"] != "done"]
    if waiting:
        st.caption("Runs without a result yet, or that will have none:")
        st.dataframe([{"run": r["id"], "name": r["name"], "student": r["student"], "T": r["temperature"],
                       "transfer set": transfer_words(r["train_size"], r["omit_class"]), "seed": r["seed"],
                       "state": STATUS_WORDS.get(r["status"], r["status"]), "started (UTC)": r["created"]}
                      for r in waiting], hide_index=True, key=key)


GROUP_FIELD_NAMES = {"controls": "with controls", "teacher": "teacher", "omit_class": "digit left out",
                     "feature": "feature term", "beta": "β (feature weight)", "feature_layer": "teacher layer",
                     "teacher_digest": "teacher checkpoint", "dataset": "dataset"}


def _group_cell(group: dict, key: str, gaps: tuple):
    if key in gaps:
        return in_points(group[key])
    if key == "train_size":
        return transfer_words(group["train_size"], group["omit_class"])
    if key in ("dataset", "teacher_digest", "seeds", "verdict", "repeats") or key in group:
        value = group.get(key)
    else:
        value = json.loads(group["setting"]).get(key)
    if key == "teacher_digest":
        return (value or "")[:12]
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "none" if value is None else value


mine = [r for r in rows if r["id"] in shared.my_runs()]
if mine:  # in a room of thirty, your own runs should not need scrolling for
    st.header("Your runs")
    st.dataframe(_run_table(mine), hide_index=True, key="my-runs-table", column_config=ACCURACY_COLUMNS)
    _unfinished_table(mine, "my-unfinished-table")
    st.header("Everyone's runs")
st.dataframe(_run_table(rows), hide_index=True, key="runs-table", column_config=ACCURACY_COLUMNS)
_unfinished_table(rows, "unfinished-table")
_csv_button()

unfinished = [r for r in rows if r["status"] in ("queued", "running")]
if unfinished:
    st.caption(f"{len(unfinished)} run(s) still training; reload to see them land.")

if done:
    by_size, by_temperature, gains, groups = _charts(mark)
    chart(by_size, "by-size")
    left, right = st.columns(2)
    with left:
        chart(by_temperature, "by-temperature")
    with right:
        chart(gains, "gains")
    st.caption("Teacher shown: the newest finished run's teacher.")

    st.header("Is the gain real?")
    st.markdown(
        f"""
Runs are grouped when they share **every setting but the seed, the same data and the same teacher
checkpoint**; each seed counts once (in a workshop many people keep seed 0, and three copies of one
run are one piece of evidence, not three; so each visitor's Distil page starts at their own seed, 0, 10,
20, … in order of arrival, and a room that keeps the defaults earns a class verdict together). For each group we take the gain of every seed (distilled
minus its own twin) and its **95 % interval**: the range the average gain over seeds plausibly lies in,
given how much the seeds disagree (mean ± t · standard deviation / √seeds). A gain is **clear** when
the whole interval is above zero, **worse** when it is below, and **within noise** when it straddles
zero. With fewer than {MIN_SEEDS_FOR_VERDICT} seeds there is no verdict: two seeds cannot say how
noisy a setting is.

**What an interval covers.** It is over seeds, for this one test set and this one teacher: how much
the gain moves when the starting weights and images change. Each run's gain also carries the test
set's own sampling error (the Distil page shows it for a run: the digits only one of the pair gets
right), which more seeds do not shrink.
"""
    )
    shown = {"student": "student", "temperature": "T", "alpha": "α", "train_size": "transfer set",
             "epochs": "epochs", "dataset": "dataset", "seeds": "seeds", "gain_mean": "gain",
             "gain_ci_low": "interval from", "gain_ci_high": "interval to", "verdict": "verdict",
             "repeats": "repeated seeds (not counted)"}
    # Every field in which two groups differ gets a column, so no two rows look alike.
    extra = {field: GROUP_FIELD_NAMES.get(field, field.replace("_", " ")) for field in differing_fields(groups)
             if field not in shown}
    shown = {**dict(list(shown.items())[:6]), **extra, **dict(list(shown.items())[6:])}
    gaps = ("gain_mean", "gain_ci_low", "gain_ci_high")
    st.dataframe([{name: _group_cell(g, key, gaps) for key, name in shown.items()} for g in groups],
                 hide_index=True, key="groups-table",
                 column_config={k: points for k in ("gain", "interval from", "interval to")})
    said = compare_finding(groups)
    if said:
        st.success(said)
    judged = sum(g["verdict"] in ("clear gain", "within noise", "worse") for g in groups)
    if judged > 1:
        st.caption(f"{judged} settings are judged here. If distillation did nothing at all, chance alone would "
                   f"still call about {chance_clear_gains(judged):.1f} of them a clear gain (2.5 % each).")
    if not judged:
        st.info(f"No setting has {MIN_SEEDS_FOR_VERDICT} different seeds yet, so no gain can be called real: "
                "run the same settings with other seeds (the Distil page's 'Repeat over seeds').")
    with_controls = [r for r in done if r["smoothed_accuracy"] is not None]
    if with_controls:
        st.header("Knowledge or just softness?")
        st.markdown(CONTROLS_EXPLAINED)
        st.dataframe([{"run": r["id"], "student": r["student"], "T": r["temperature"],
                       "distilled": r["distilled_accuracy"], "smoothed-label twin": r["smoothed_accuracy"],
                       "shuffled-teacher twin": r["shuffled_accuracy"], "scratch twin": r["scratch_accuracy"]}
                      for r in with_controls], hide_index=True, key="controls-table",
                     column_config={k: percent for k in ("distilled", "smoothed-label twin", "shuffled-teacher twin",
                                                         "scratch twin")})
_chat_copies()
