"""The three ways a run can be refused or fail for a reason the user can act on.

Each carries one plain sentence. The CLI prints it and exits with status 2; a page shows it; a
worker records it as the run's error. No torch here, so a refusal never waits for it to load.
"""
from __future__ import annotations


class ConfigError(ValueError):
    """A bad value, with a one-line reason that names the valid range."""


class StoreError(ConfigError):
    """The run store on disk is unusable (damaged, read-only, missing folder): one plain sentence,
    handled like bad input (exit status 2 in the CLI, a message on the page)."""

    def __init__(self, message: str, read_only: bool = False):
        super().__init__(message)
        self.read_only = read_only


class TeacherError(RuntimeError):
    """The teacher checkpoint is missing or unusable; the message says which and what to do."""
