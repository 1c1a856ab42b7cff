"""Where a long computation may be stopped, and says where it is: every training step and every
generated character calls `between_steps()`; `fit` passes its position (epochs done, as a fraction,
and epochs in all), so a run whose epoch takes minutes still reports every few seconds.

Progress records land at epoch ends, and one epoch can take minutes, so a cancel that waited for
them waited minutes too. The runner installs a check here for the length of one run (a context
variable, so the CLI's own process and every worker thread keep their own); the loops themselves
know nothing of stores, links or owners. With no check installed this costs one lookup.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

Position = tuple[float, int]  # (epochs done, fractional; epochs in all)
_CHECK: ContextVar[Callable[[Position | None], None] | None] = ContextVar("between_steps_check", default=None)


def between_steps(position: Position | None = None) -> None:
    """Run the installed check, which raises to stop the computation (and may record the position)."""
    check = _CHECK.get()
    if check is not None:
        check(position)


@contextmanager
def checked_between_steps(check: Callable[[Position | None], None]) -> Iterator[None]:
    token = _CHECK.set(check)
    try:
        yield
    finally:
        _CHECK.reset(token)
