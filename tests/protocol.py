"""The light Streamlit client the tests use: bench/protocol.py's, which the room benchmark drives too
(one WebSocket session speaking the installed `streamlit.proto` messages, as a browser tab would,
and as a hostile one could)."""
from bench.protocol import Page, Session, back_message, visit  # noqa: F401  (re-exported for the tests)
