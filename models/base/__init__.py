"""The engine's bottom layer: configs, results, errors, the news's figures and where files live.

Torch-free and importing nothing above it (tests/service/test_wall.py holds it to that), so the
CLI and the pages can refuse bad input and read stored results without loading PyTorch.
"""
