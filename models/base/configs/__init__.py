"""Frozen, typed configs: one per kind of run (a module per family), and the checks they share.

A widget or a CLI flag builds one, the engine runs it, and the store keeps it beside the result.
Validation lives here so the UI and the CLI reject bad values with the same one-line reason. This
module imports no torch, so the CLI can refuse a bad flag before loading it.
"""
from __future__ import annotations

from models.base.configs.chat import *  # noqa: F401,F403
from models.base.configs.chat import CHAT_PROMPT_SOURCES, CHAT_STUDENTS, CHAT_TOP_K, MAX_CHAT_EXCHANGES, MAX_REPLY_CHARS  # noqa: F401
from models.base.configs.checks import *  # noqa: F401,F403
from models.base.configs.checks import _one_of  # noqa: F401
from models.base.configs.copying import *  # noqa: F401,F403
from models.base.configs.digits import *  # noqa: F401,F403
from models.base.configs.digits import _check_students_and_temperatures  # noqa: F401
from models.base.errors import ConfigError, StoreError, TeacherError  # noqa: F401  (re-exported)
