"""The paper's table: Hinton et al.'s MNIST result next to the latest rerun on this machine."""
import streamlit as st

from lessons import shared
from models.config import FULL_BUDGET_EPOCHS, ConfigError, HintonConfig
from models.hinton import PAPER_ERRORS

st.title("The paper's table")
st.markdown(
    f"""
Hinton, Vinyals and Dean (2015) trained a big *teacher* (two layers of 1,200 units, with dropout:
randomly silencing units while training, and with every image shifted by up to 2 pixels) and a
smaller *student* (two layers of 800 units) on MNIST. Counting mistakes on the 10,000 test digits:
the teacher made 67, the student trained on labels alone 146, and the same student trained on the
teacher's soft targets at T = 20 only 74. It kept most of the teacher's advantage without its size.
Their runs were long; {FULL_BUDGET_EPOCHS} epochs per model is the full budget here, and a laptop
CPU can only afford a short one, which shrinks the gap.
"""
)

latest = next(iter(shared.store().list(kind="hinton", status="done")), None)
rows = [("Teacher, 2 × 1200, dropout + jitter", "teacher"), ("Student, 2 × 800, labels only", "scratch"),
        ("Student, 2 × 800, distilled at T = 20", "distilled")]
table = [{"model": label, "paper (errors)": PAPER_ERRORS[key],
          "this machine (errors)": getattr(latest.result, f"{key}_errors") if latest else None} for label, key in rows]
st.dataframe(table, hide_index=True, key="paper-table")
if latest:
    r = latest.result
    st.caption(f"Latest run (#{latest.id}, `{latest.name or 'app'}`): {r.note}; {r.epochs} epochs each, "
               f"{r.seconds:.0f} s on {r.device}, {r.dataset['name']} "
               f"({r.dataset['train_size']:,} training images), errors out of {r.test_size:,}.")
else:
    st.info("No run stored yet. Run `python -m models hinton` (add `--epochs 100` on a GPU), or start a "
            "short one below.")

with st.form("hinton"):
    epochs = st.slider("Epochs per model (about 13 s each on two CPU cores with full MNIST)", 1, 10, 3,
                       key="hinton_epochs")
    go = st.form_submit_button("Run a short budget here", key="hinton_submit")
if go:
    try:
        st.session_state.hinton_run = shared.submit([HintonConfig(epochs=int(epochs))], name="app")[0]
    except ConfigError as error:
        st.error(f"Not started: {error}")


def _live(run):
    progress = run.progress
    if progress.of:
        st.progress(progress.fraction, text=f"{progress.stage}: epoch {progress.epoch:g} of {progress.of}")


def _done(run):
    st.success(f"Run #{run.id} finished: {run.result.teacher_errors} / {run.result.scratch_errors} / "
               f"{run.result.distilled_errors} errors (teacher / scratch / distilled); the table above now "
               "shows it.")


if "hinton_run" in st.session_state:
    shared.watch_run(st.session_state.hinton_run, _live, _done)
