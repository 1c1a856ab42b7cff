"""Soft targets: the teacher's full answer for a real test digit, and what temperature does to it."""
import numpy as np
import streamlit as st

from lessons.charts import chart
from lessons import shared
from lessons.figures import soft_targets_spec
from lessons.pictures import picture_address
from lessons.links import share_link, widget_default
from models.core.softmax import soft_targets_array

st.title("2. Soft targets")
st.markdown(
    """
A trained network does not just name a digit: it gives a probability to all ten. The top one is
the *hard* answer; the whole list is the *soft target*. Dividing the network's raw scores by a
*temperature* T before turning them into probabilities flattens the list, so the small
probabilities become visible: which other digits the teacher thinks this one looks like. That is
the "dark knowledge" a student can learn from.
"""
)
shared.dataset_caption()

data = shared.dataset()
logits = shared.logits_or_stop(shared.chosen_teacher())

controls, picture = st.columns([2, 1])
with controls:
    widget_default("digit", 2)  # unless a link chose one (models/service/links.py)
    digit = st.selectbox("Show me a test image of the digit", list(range(10)), key="digit")
    of_digit = (data.test_y == digit).nonzero().flatten()
    # Sort by how unsure the teacher is, so the first examples are the interesting ones.
    confidence = logits.test[of_digit].softmax(1).max(1).values
    ranked = of_digit[confidence.argsort()]
    which = st.slider("Example (0 = the one the teacher is least sure about)", 0, len(ranked) - 1, 0, key="example")
index = int(ranked[which])
with picture:
    st.image(picture_address(data.test_image(index)), width=160, caption=f"Test image #{index}, labelled {int(data.test_y[index])}",
             alt=f"A handwritten {int(data.test_y[index])} from the MNIST test set, 28 by 28 pixels")


def soft_target_sentence(top: int, runner_up: int, top_at_1: float, runner_up_at_t: float, temperature: float,
                         label: int) -> str:
    """The finding under the chart, which says so when the teacher is wrong about this image."""
    said = (f"At T = 1 the teacher gives **{top_at_1:.1%}** to its top answer ({top}). At T = {temperature:g} its "
            f"second choice, **{runner_up}**, gets **{runner_up_at_t:.1%}**")
    if top != label:
        return (f"{said}. The teacher is **wrong** here: this image is labelled {label}"
                + (", which is its second choice" if runner_up == label else "") +
                ". A student trained on these soft targets learns the teacher's mistakes along with its resemblances.")
    return (f"{said}: that is what the teacher thinks this image resembles. A student trained on these soft targets "
            "learns those resemblances too, not just the label.")


@st.fragment
def temperature_view(row, label) -> None:
    """Only this part reruns when T moves: the image and the choosers above stay as they are."""
    widget_default("soft_temperature", 4.0)
    temperature = st.slider("Temperature T", 0.5, 20.0, step=0.5, key="soft_temperature",
                            help="T = 1 is the ordinary softmax; higher T flattens it.")
    probs_t = soft_targets_array(row, temperature).tolist()  # numpy: no torch call per move
    probs_1 = soft_targets_array(row, 1.0).tolist()
    top = int(np.argmax(probs_1))
    runner_up = sorted(range(10), key=lambda d: probs_t[d], reverse=True)[1]
    st.markdown(soft_target_sentence(top, runner_up, probs_1[top], probs_t[runner_up], temperature, int(label)))
    magnify = st.toggle("Magnify the small ones (log scale)", key="soft_log",
                        help="On a linear scale probabilities under 1 % are invisible; a log scale shows them all.")
    chart(soft_targets_spec(probs_t, probs_1, temperature, log_scale=magnify), "soft")


temperature_view(logits.test[index].numpy(), data.test_y[index])
share_link("soft_targets")
