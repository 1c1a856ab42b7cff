"""Imports that pages would otherwise make lazily, done once, before any page runs.

Streamlit runs each visitor's script in its own thread. plotly imports pandas on first use and
checks `sys.modules` first, so a second thread can get a half-imported pandas ("partially
initialized module 'pandas' has no attribute 'Series'") when several visitors draw their first
chart at once after a server start. lessons/figures.py, through which every chart is drawn, imports
this module; Python's import lock makes every other thread wait until it has finished, so by the
time any page draws, these are complete. A server started by serve.py imports it before the first
visitor (shared.prepare_room), so the first room's pages do not pay for it either.
"""
import numpy
import pandas
import plotly.graph_objects as go
import plotly.io
import pyarrow
import torch  # noqa: F401  (the engine's first import is slow: do it once, here)

# One figure with every trace kind the pages draw, serialised the way st.plotly_chart does, loads
# plotly's lazily imported validators and its pandas/numpy JSON encoders now.
_figure = go.Figure([go.Scatter(x=[1], y=[1], error_y=dict(array=[0.1])), go.Bar(x=["a"], y=[1]),
                     go.Heatmap(z=[[1.0]])])
_figure.add_hline(y=0)
plotly.io.to_json(_figure, validate=False)
pyarrow.Table.from_pandas(pandas.DataFrame({"n": numpy.arange(2), "s": ["a", "b"]}))
