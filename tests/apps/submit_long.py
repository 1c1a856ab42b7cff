"""A test page: each visit queues four long distillations through the app's own job pool."""
import streamlit as st

from lessons import shared
from models.base.configs import DistillConfig

if __name__ == "__main__":  # not again in the spawned workers (see app.py)
    if "submitted" not in st.session_state:
        configs = [DistillConfig(student="mlp-10", train_size=500, epochs=500, seed=seed) for seed in range(4)]
        st.session_state.submitted = shared.pool().submit_many(configs, group="long")
    st.write("submitted", st.session_state.submitted)
