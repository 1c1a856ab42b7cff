"""What the teacher knows: which digits it finds alike, and the test digits it is least sure of."""
import streamlit as st

from lessons.charts import chart
from lessons.findings import p_text
from lessons import shared
from lessons.figures import similarity_figure
from models.core.knowledge import most_alike, most_confused_pairs, similarity_matrix

st.title("What the teacher knows")
st.markdown(
    """
Average the teacher's soft targets over every test image of each digit and you get a map of what it
has learnt about handwriting: which digits it thinks resemble which. The labels never say it (they
only ever say "this is a 4"), though a model trained on labels alone picks up some of it from the
images themselves; a distilled student is handed it directly.
"""
)
shared.dataset_caption()
data = shared.dataset()
logits = shared.logits_or_stop(shared.chosen_teacher())

temperature = st.slider("Temperature T", 1.0, 20.0, 4.0, 0.5, key="knows_temperature",
                        help="Higher T brings the small probabilities up so the resemblances show.")
matrix = similarity_matrix(logits.test, data.test_y, temperature)
chart(similarity_figure(matrix.tolist(), temperature), "similarity")
pairs = most_confused_pairs(matrix, 3)
st.markdown("Strongest resemblances at this temperature, measured on the test set: " + "; ".join(
    f"a **{a}** looks like a **{b}** ({p:.1%} on average)" for a, b, p in pairs) + ".")

st.header("Which digits look like which? Pick any two")
c1, c2 = st.columns(2)
true_digit = c1.selectbox("Images labelled", list(range(10)), index=pairs[0][0], key="knows_true")
others = [d for d in range(10) if d != true_digit]
row = matrix[true_digit].clone()
row[true_digit] = -1  # the digit itself does not count as a resemblance
strongest = int(row.argmax())
looks_like = c2.selectbox("that the teacher thinks look like", others, index=others.index(strongest), key="knows_like")
examples = most_alike(logits.test, data.test_y, true_digit, looks_like, temperature=1.0, count=8)
columns = st.columns(4)
for slot, example in enumerate(examples):
    with columns[slot % 4]:
        st.image(data.test_image(example["index"]), width=96,
                 alt=f"Test image #{example['index']}: a handwritten {true_digit} the teacher finds like a {looks_like}")
        probs = example["probabilities"]
        top = sorted(range(10), key=lambda d: probs[d], reverse=True)[:3]
        verdict = "✗ teacher says " + str(example["prediction"]) if example["prediction"] != true_digit else "✓"
        st.caption(f"#{example['index']} {verdict}  \n" + ", ".join(f"{d}: {probs[d]:.1%}" for d in top))
st.caption("Probabilities at T = 1 (the teacher's ordinary answer), the most alike first.")

# How much of this a student inherits, measured on the latest stored distillation of this teacher.
from models.core.checkpoints import teacher_digest  # noqa: E402

latest = next((r for r in shared.store().list(kind="distill", status="done", limit=50)
               if r.result.teacher_second_choice_shared is not None
               and r.result.teacher_digest == teacher_digest(shared.chosen_teacher())), None)
if latest:
    r = latest.result
    st.markdown(f"**How much a student inherits** (run {latest.id}, {r.student}, T = {latest.config.temperature:g}): "
                f"on the test digits where each agrees with the teacher's answer, the scratch twin, which never saw "
                f"the teacher, already names the teacher's runner-up on {r.scratch_second_choice_shared:.0%} of them "
                f"(chance is about 11 %, one in nine), and the distilled student on "
                f"{r.teacher_second_choice_shared:.0%} (paired McNemar {p_text(r.second_choice_mcnemar_p)}).")
else:
    st.caption("Distil a student on *Distil a student*, and this page measures how much of these resemblances it "
               "inherits compared with its scratch twin.")
