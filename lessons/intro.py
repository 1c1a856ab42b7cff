"""Why distillation matters now, and what the reader will do here."""
import streamlit as st

from models.news import REPORTED_ACCOUNTS, REPORTED_EXCHANGES, REPORTED_PER_ACCOUNT

st.title("Distillation Lab")
st.markdown(
    """
**Knowledge distillation** trains a small model (the *student*) to imitate a big one (the
*teacher*). Instead of learning only from the right answers, the student learns from the teacher's
full answer: how likely it thinks every possible answer is. Here you will do it yourself, on
handwritten digits, in a few seconds per run.
"""
)

st.subheader("Why it is in the news")
st.markdown(
    f"""
In February 2026 Anthropic reported that about **{REPORTED_ACCOUNTS:,} fraudulent accounts** had produced
more than **{REPORTED_EXCHANGES // 1_000_000} million exchanges** with its model Claude, collecting answers to
train other labs' models on them: distillation used to copy. That is roughly {REPORTED_EXCHANGES:,} ÷
{REPORTED_ACCOUNTS:,} ≈ **{REPORTED_PER_ACCOUNT} exchanges per account**. OpenAI made a similar complaint about accounts tied to DeepSeek in a memo to the US
House Select Committee on China (12 February 2026).

*Source: Anthropic, "Detecting and preventing distillation attacks" (23 Feb 2026), as reported by
several outlets; OpenAI memo, 12 Feb 2026. Both are reports; this app has not verified them.*
"""
)

st.subheader("What you will do")
st.markdown(
    """
1. **Get a teacher**: a small image-recognition network (a *CNN*, convolutional neural network)
   that reads handwritten digits. Take the ready-made one, or train your own and watch it learn.
2. **Look at soft targets**: the teacher's probabilities for every digit, not just its top guess.
   Raising the *temperature* T spreads them out and shows what the teacher thinks a digit
   *resembles*, the "dark knowledge" Hinton, Vinyals and Dean wrote about in 2015.
3. **Distil a student**: pick a student size, T, and α (how much the student listens to the
   teacher rather than the plain labels). Each run also trains a *scratch twin*: the same student,
   same start, same data, but labels only. The gap between them is what the teacher taught.
4. **Compare runs**: every finished run on this server, newest first, as a table and charts.
"""
)
st.page_link("lessons/teacher.py", label="Start with the teacher", icon=":material/school:")
st.caption("Data: MNIST handwritten digits by Yann LeCun, Corinna Cortes and Christopher J.C. Burges "
           "(CC BY-SA 3.0).")
