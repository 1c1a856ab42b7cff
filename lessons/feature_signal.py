"""What the student learns from: the teacher's answers (soft targets), its insides (features), or
both. The control sits in the Distil form; the explanation, a diagram of which teacher layer feeds
which student layer, and the measured finding sit under it."""
from __future__ import annotations

import streamlit as st

from lessons.findings import points
from models.base.configs import DEFAULT_BETA, MAX_BETA
from models.service.stored_defaults import stored_defaults, stored_runs

CHOICES = {
    "none": "its answers only (soft targets, as set by α)",
    "hint": "its answers and its insides: FitNets hint (squared error)",
    "cosine": "its answers and its insides: direction only (cosine)",
    "attention": "its answers and where it looks: attention transfer (cnn-tiny only)",
}
# Measured by `DISTILL_DATA=../shared/data python -m bench.features --seeds 3` on full MNIST
# (docs/science.md, "Feature distillation"), mlp-100 at the Distil defaults, 3 seeds.
FINDING = ("**Finding:** on these digits the teacher's insides teach less than its answers, and nothing on "
           "top of them. With 2,000 images an mlp-100 student gained +1.25 points over its labels-only twin from "
           "the hint alone (interval +0.79 to +1.72 over 3 seeds), +3.21 from soft targets, and +3.23 from both "
           "(+0.02 over soft targets alone: within noise).")
FINDING_DETAIL = ("Measured by `DISTILL_DATA=../shared/data python -m bench.features --seeds 3` on full MNIST, 7 Dec "
                  "2026 (docs/science.md): with 500 images the features alone were within noise of the twin; with "
                  "every 3 left out, soft targets taught the student to read 8.4 % of the 3s it never saw, features "
                  "0 %, since the teacher's insides say nothing about which answer a never-seen digit deserves; for "
                  "cnn-tiny, attention transfer alone was within noise of the twin (+0.06 points).")
DIAGRAM = """digraph {
  rankdir=LR; node [shape=box, fontsize=11];
  subgraph cluster_t { label="teacher CNN"; image_t [label="image"]; conv2 [label="conv2: 256 features"];
    fc1 [label="fc1: 5,120 features"]; out_t [label="10 answers"]; image_t -> conv2 -> fc1 -> out_t; }
  subgraph cluster_s { label="student MLP"; image_s [label="image"]; hidden [label="last hidden layer"];
    out_s [label="10 answers"]; image_s -> hidden -> out_s; }
  hidden -> regressor [label="learned"]; regressor [label="regressor (linear)"];
  regressor -> conv2 [label="match (hint or cosine)", style=dashed];
  out_s -> out_t [label="match (soft targets)", style=dashed];
}"""


def learns_from_ui() -> tuple[str, float]:
    """The form's feature control: which signal besides the answers, and its weight β."""
    feature = st.selectbox("What the student learns from the teacher", list(CHOICES), format_func=CHOICES.get,
                           key="feature",
                           help="A lab distilling its own model can also match the teacher's hidden layer; a "
                                "copier behind an API only ever sees answers. Set α to 0 for insides only.")
    beta = st.number_input(f"β: weight on the insides (0.1 to {MAX_BETA:g})", min_value=0.1, max_value=MAX_BETA,
                           step=0.5, key="beta",
                           help="Used with a feature term: how much matching the teacher's layer counts beside "
                                f"α's loss (default {DEFAULT_BETA:g}).")
    return feature, beta


def features_explained() -> None:
    with st.expander("Learning from the teacher's insides (feature distillation)"):
        st.markdown(
            "Besides the teacher's answers, a student can learn from its **features**: the activations of "
            "a hidden layer, what the teacher computes on the way to an answer. FitNets (Romero et al. 2015) "
            "adds a small learned *regressor* that maps the student's last hidden layer onto a teacher layer, "
            "and trains the student so the two match (squared error, the *hint*); the cosine variant asks only "
            "that they point the same way. β weighs this beside the loss of the answers.")
        st.graphviz_chart(DIAGRAM)
        st.caption("Diagram: the student's last hidden layer feeds a learned linear regressor whose output is "
                   "matched to the teacher's conv2 layer (256 features), while the student's ten answers are "
                   "matched to the teacher's ten answers. (Attention transfer, for cnn-tiny, matches the two "
                   "networks' 8 × 8 conv2 maps directly, without a regressor.)")
        stored = stored_runs("distill_features")
        if stored:
            result = stored[0].result
            st.markdown(f"**Stored result** (soft targets + hint on conv2, β = {stored[0].config.beta:g}, the "
                        f"Distil defaults otherwise): the student got {result.distilled_accuracy:.2%} of the test "
                        f"digits right, its labels-only twin {result.scratch_accuracy:.2%} "
                        f"({points(result.gain)}).")
            st.caption(f"The stored default result, {stored_defaults().describe()}. Choose a feature term in the "
                       "form above to train it yourself.")
        st.markdown(FINDING)
        st.caption(FINDING_DETAIL)
        st.markdown("**Why it matters for copying:** only the model's owner can read its hidden layers. A lab "
                    "distilling its own model can use answers *and* features; a copier behind an API gets "
                    "answers at most (and often only text).")


# One sentence for the copying pages: where each signal a student can learn from stands.
SIGNALS_PLACED = ("**Who can learn from what.** A lab distilling its own model can train the student on the "
                  "teacher's answers *and* its insides (features, see *Distil a student*); a copier behind an API "
                  "never sees features, only what the API returns: probabilities at best, often just labels or text.")
