"""The start page: a live picture of soft targets and a measured student-against-twin result at once,
then a route for each kind of visitor. Everything on it is instant: it reads the stored defaults
(models/service/stored_defaults.py), not the teacher or the store."""
import numpy as np
import streamlit as st

from lessons.charts import chart
from lessons.figures import soft_targets_spec
from lessons.pictures import picture_address
from lessons.findings import distill_finding
from models.core.softmax import soft_targets_array
from models.base.news import REPORTED_ACCOUNTS, REPORTED_EXCHANGES, REPORTED_PER_ACCOUNT
from models.service.stored_defaults import stored_defaults

st.title("Distillation Lab")
# The news first, in two sentences: a journalist reads this before any number of the lab's own.
st.markdown(
    f"In February 2026 Anthropic reported that about **{REPORTED_ACCOUNTS:,} fake accounts** had held "
    f"**{REPORTED_EXCHANGES // 1_000_000} million conversations** with its model Claude to train other labs' models "
    "on its answers. That is *distillation* used to copy a model, and here you can do it yourself, on a small "
    "scale, and see what it takes.")
st.markdown(
    "**Knowledge distillation** trains a small model (the *student*) on a big one's full answers (the "
    "*teacher*): not just \"this is a 7\" but how likely every digit is. It is also how a model can be "
    "copied through nothing but its answers.")

stored = stored_defaults()


def plain_result(r) -> str:
    """The stored distillation in words a newcomer reads first; the statistics wait one click away."""
    test_digits = r.dataset.get("test_size") or 10_000
    if r.gain > 0:
        said = f"got **{r.gain * 100:.1f} points more digits right**"
    elif r.gain < 0:
        said = f"got **{-r.gain * 100:.1f} points fewer digits right**"
    else:
        said = "got **exactly as many digits right**"
    return (f"**What that looks like here:** a small network taught by the big one {said} than the same network "
            f"taught by labels alone ({r.distilled_accuracy:.1%} against {r.scratch_accuracy:.1%} of "
            f"{test_digits:,} test digits it never saw).")


@st.fragment
def live_picture(picture: dict) -> None:
    """Only this part reruns when T moves."""
    logits = np.array(picture["teacher_logits"])
    temperature = st.slider("Temperature T: raise it to see what else the teacher thinks this could be",
                            1.0, 20.0, 4.0, 0.5, key="intro_temperature")
    at_t, at_1 = soft_targets_array(logits, temperature), soft_targets_array(logits, 1.0)
    top, runner_up = np.argsort(-at_t)[:2]
    chart(soft_targets_spec(at_t.tolist(), at_1.tolist(), temperature), "intro_soft")
    st.caption(f"The teacher calls this test image a **{top}** ({at_1[top]:.1%} at T = 1). At T = {temperature:g} "
               f"its runner-up, **{runner_up}**, gets {at_t[runner_up]:.1%}: that is what it thinks the image "
               "resembles, the \"dark knowledge\" a student learns from the soft targets.")


if stored is not None and stored.picture and stored.runs.get("distill"):
    image_side, result_side = st.columns([3, 2])
    picture = stored.picture
    with image_side:
        st.image(picture_address(picture["pixels"]), width=112,
                 caption=f"Test image #{picture['test_index']}, labelled {picture['label']}",
                 alt=f"A handwritten {picture['label']} from the MNIST test set, 28 by 28 pixels")
        live_picture(picture)
    with result_side:
        run = stored.runs["distill"][0]
        r, config = run.result, run.config
        st.markdown(plain_result(r))
        with st.expander("The numbers behind it"):
            st.markdown(f"**A student taught by that teacher, against its twin taught by labels alone** "
                        f"({config.student}, {r.student_params:,} parameters against the teacher's "
                        f"{r.teacher_params:,}; {config.train_size:,} training images, T = {config.temperature:g})")
            a, b = st.columns(2)
            a.metric("Distilled student", f"{r.distilled_accuracy:.2%}", f"{r.gain * 100:+.2f} points")
            b.metric("Scratch twin", f"{r.scratch_accuracy:.2%}")
            st.success(distill_finding(r, config.seed))
        st.caption(f"The stored default result, {stored.describe()}. Press *Distil* on the Distil page to train "
                   "it yourself, live.")
        st.page_link("lessons/distill.py", label="Run it yourself", icon=":material/science:")
else:
    st.info("The stored default results are missing from this copy of the lab (rebuild them with "
            "`python -m models stored-defaults --write`); every page still trains live.")

st.header("Where to go next")
ROUTES = (  # (who it is for, what they get, the pages in order: file, label, icon)
    ("**10 minutes: the news.** What does \"copying a model by distillation\" mean?",
     (("soft_targets", "Soft targets", "thermostat"), ("copying", "Copy through answers", "content_copy"),
      ("chat_copy", "Copy a chatbot", "chat"), ("catching", "Accounts and detection", "policy"),
      ("forensics", "Was it copied?", "fingerprint"))),
    ("**30 minutes: the technique.** Train a student yourself and test what it learned.",
     (("teacher", "Get a teacher", "school"), ("distill", "Distil a student", "science"),
      ("compare", "Compare runs", "leaderboard"), ("missing_digit", "The missing digit", "visibility_off"))),
    ("**A workshop.** One laptop serves the room; the facilitator sets its limits.",
     (("facilitator", "Facilitator", "admin_panel_settings"), ("sweep", "Sweeps: T, size, data", "tune"),
      ("paper_table", "The paper's table", "table"))),
)
for column, (audience, pages) in zip(st.columns(len(ROUTES)), ROUTES):
    with column:
        st.markdown(audience)
        for page, label, icon in pages:
            st.page_link(f"lessons/{page}.py", label=label, icon=f":material/{icon}:")

st.header("Why it is in the news")
st.markdown(
    f"""
In February 2026 Anthropic reported that about **{REPORTED_ACCOUNTS:,} fraudulent accounts** had produced
more than **{REPORTED_EXCHANGES // 1_000_000} million exchanges** with its model Claude, collecting answers to
train other labs' models on them: distillation used to copy. That is roughly {REPORTED_EXCHANGES:,} ÷
{REPORTED_ACCOUNTS:,} ≈ **{REPORTED_PER_ACCOUNT} exchanges per account**. OpenAI made a similar complaint about
accounts tied to DeepSeek in a memo to the US House Select Committee on China (12 February 2026).

*Source: Anthropic, "Detecting and preventing distillation attacks" (23 Feb 2026), as reported by
several outlets; OpenAI memo, 12 Feb 2026. Both are reports; this app has not verified them.*
"""
)
st.caption("Data: MNIST handwritten digits by Yann LeCun, Corinna Cortes and Christopher J.C. Burges "
           "(CC BY-SA 3.0).")
