"""Distillation Lab's engine: pure PyTorch, no Streamlit. Run headless with `python -m models`."""
