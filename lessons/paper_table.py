"""The paper's table: Hinton et al.'s MNIST result next to the latest rerun on this machine."""
from pathlib import Path

import streamlit as st

from lessons import shared, watching
from models.base.configs import FULL_BUDGET_EPOCHS, LAPTOP_TABLE_EPOCHS, PAPER_TEACHER, ConfigError, HintonConfig
from models.experiments.hinton import PAPER_ERRORS
from models.service.names import markdown_text, without_paths
from models.service.stored_defaults import stored_defaults

st.title("The paper's table")
_teacher_logits = shared.logits_or_stop(shared.chosen_teacher())
data = shared.dataset()
teacher_errors = int((_teacher_logits.test.argmax(1) != data.test_y).sum())
st.markdown(
    f"""
Hinton, Vinyals and Dean (2015) trained a big *teacher* (two layers of 1,200 units, with dropout:
randomly silencing units while training, and with every image shifted by up to 2 pixels) and a
smaller *student* (two layers of 800 units) on MNIST. Counting mistakes on the 10,000 test digits:
the teacher made 67, the student trained on labels alone 146, and the same student trained on the
teacher's soft targets at T = 20 only 74. It kept most of the teacher's advantage without its size.

Their runs were long ({FULL_BUDGET_EPOCHS} epochs per model is the full budget here). On a laptop CPU
the paper's own teacher, trained for a few epochs, is barely better than the student, so there is
little to pass on and the shape does not show. The **laptop version** below keeps the paper's
students and T = 20 (the paper gives no α for MNIST; α = 0.9 is this lab's choice), but lets this
lab's already-trained CNN teach (the teacher in use here: {1 - teacher_errors / len(data.test_y):.2%} accurate,
{teacher_errors} errors on these {len(data.test_y):,} test digits), and trains each student for
{LAPTOP_TABLE_EPOCHS} epochs (chosen on validation images, never the test set): under two minutes on two cores. Every difference from the paper is listed
under the table once a run has finished.
"""
)

latest = next(iter(shared.store().list(kind="hinton", status="done")), None)
stored = stored_defaults() if latest is None else None
if stored and stored.runs.get("paper_table"):  # nothing run on this server yet: the shipped default run
    latest = stored.runs["paper_table"][0]
    st.info(f"**The stored default result** for the laptop version, {stored.describe()}. Press *Run it here* "
            "to train it yourself.", icon=":material/inventory_2:")
rows = [("Teacher", "teacher"), ("Student, 2 × 800, labels only", "scratch"),
        ("Student, 2 × 800, distilled at T = 20", "distilled")]
table = [{"model": label, "paper (errors)": PAPER_ERRORS[key],
          "this machine (errors)": getattr(latest.result, f"{key}_errors") if latest else None} for label, key in rows]
st.dataframe(table, hide_index=True, key="paper-table")
if latest:
    r = latest.result
    teacher = latest.config.teacher
    shape = r.teacher_errors < r.distilled_errors < r.scratch_errors
    which = "Stored default run" if latest.id < 0 else f"Latest run (#{latest.id}, {markdown_text(latest.name) or 'app'})"
    st.caption(f"{which}: {r.epochs} epochs per model, "
               f"{r.seconds:.0f} s on {r.device}, {r.dataset['name']} ({r.dataset['train_size']:,} training "
               f"images), errors out of {r.test_size:,}. Teacher: "
               f"{'the paper’s 2 × 1200 net, trained here' if teacher == PAPER_TEACHER else f'the CNN {markdown_text(Path(teacher).name)}'}.")
    st.markdown(f"**What differs from the paper:** {r.note}.")
    (st.success if shape else st.warning)(
        f"Finding: this run has the paper's shape. Distillation removed {r.scratch_errors - r.distilled_errors} of "
        f"the {r.scratch_errors} errors the student makes on labels alone, leaving {r.distilled_errors} against the "
        f"teacher's {r.teacher_errors} (the paper: 146, 74 and 67)." if shape else
        "This run does not have the paper's shape (teacher fewest errors, distilled fewer than scratch). "
        "Short runs of the paper's own teacher usually do not: it has not learned enough to teach.")
else:
    st.info("No run stored yet. Start the laptop version below, or run `python -m models hinton` "
            "(on a GPU it runs the paper's own setup for 100 epochs).")

st.session_state.setdefault("hinton_epochs", LAPTOP_TABLE_EPOCHS)
epochs_cap = shared.start_inside_caps({"epochs": "hinton_epochs", "train_size": None})
with st.form("hinton"):
    setup = st.radio("Setup", ["laptop", "paper"], key="hinton_setup", horizontal=True, format_func={
        "laptop": f"Laptop version: pretrained CNN teaches, {LAPTOP_TABLE_EPOCHS} epochs per student",
        "paper": "The paper's own teacher, trained here (short budget on a CPU)"}.get)
    epochs = st.slider("Epochs per model (fewer: quicker, smaller gap). The paper's own teacher takes about 13 s "
                       "an epoch on two CPU cores, on top of the students", 1, min(epochs_cap or 30, 30),
                       key="hinton_epochs")
    go = st.form_submit_button("Run it here", key="hinton_submit")
if go:
    try:
        config = shared.room_caps().inside(
            HintonConfig(epochs=int(epochs), teacher=shared.chosen_teacher() if setup == "laptop" else PAPER_TEACHER))
        st.session_state.hinton_run = shared.submit([config], name="app")[0]
    except ConfigError as error:
        st.error(f"Not started: {without_paths(error)}")


def _live(run):
    progress = run.progress
    if progress.of:
        st.progress(progress.fraction, text=f"{progress.stage}: epoch {progress.epoch:.1f} of {progress.of}")


def _done(run):
    which = f"Run #{run.id}" if run.id > 0 else "The stored default run"
    st.success(f"{which} finished: {run.result.teacher_errors} / {run.result.scratch_errors} / "
               f"{run.result.distilled_errors} errors (teacher / scratch / distilled); the table above now "
               "shows it.")


if "hinton_run" in st.session_state:
    watching.watch_run(st.session_state.hinton_run, _live, _done)
