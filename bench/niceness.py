"""Keeping the benchmark's own browsers from taking the servers' cores: Chromium at a niceness,
kept there, and its scheduler autogroup niced too (bench/load.py --browser-nice)."""
from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from bench.processes import tree

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_PATH = [CHROMIUM]  # main() swaps in a niced wrapper (--browser-nice)


def chromium_at_nice(nice: int) -> str:
    """The Chromium to launch: itself, or a wrapper that starts it (and so every renderer) at this
    niceness. Here the benchmark's browsers share the server's two cores; in a real room each runs on
    its visitor's own laptop. A niced browser still loads and draws every page, but yields the cores."""
    if not nice:
        return CHROMIUM
    wrapper = Path(tempfile.mkdtemp(prefix="load-chromium-")) / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {int(nice)} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def keep_browsers_niced(nice: int, stop: threading.Event, every_s: float = 0.2) -> None:
    """Until stop: every thread of this benchmark's Chromium processes back at `nice`, and so their
    scheduler group (`niced_autogroup`). Chromium sets its own priorities as it starts processes and
    threads (here its browser process ran at -8 and its renderers at 0 under `nice -n 10`), so the
    wrapper's niceness alone did not hold."""
    while not stop.wait(every_s):
        for pid in tree(os.getpid())[1:]:
            try:
                if b"chrom" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                niced_autogroup(pid, nice)
                for task in Path(f"/proc/{pid}/task").iterdir():
                    if os.getpriority(os.PRIO_PROCESS, int(task.name)) != nice:
                        os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
            except (OSError, ValueError):  # a process or thread that has just ended
                pass


def niced_autogroup(pid: int, nice: int) -> bool:
    """Give the process's scheduler autogroup this niceness, when it is not this benchmark's own group;
    True when it was changed. With Linux's autogroups on (/proc/sys/kernel/sched_autogroup_enabled),
    each session is one group, groups share the cores equally, and a thread's niceness weighs only
    against threads of its own group. Playwright starts Chromium in a session of its own, so its
    threads at niceness 10 still took a whole group's share against the servers' group: up to one of
    the two cores while they loaded and drew pages. A group's niceness is what weighs across groups."""
    theirs, ours = autogroup(pid), autogroup("self")
    # ours is None where this benchmark runs in the kernel's root group (started by a process that
    # never opened a session, as CI's runner does): every named group is then another's
    if theirs is None or theirs[1] == nice or (ours is not None and theirs[0] == ours[0]):
        return False
    Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    return True


def autogroup(pid: int | str) -> tuple[str, int] | None:
    """The process's scheduler autogroup as (name, niceness); None where it has none of its own: a
    kernel without autogroups, a process that has ended, or one in the root group, for which the
    kernel leaves /proc/PID/autogroup empty (init and what it starts without a new session)."""
    try:
        return parsed_autogroup(Path(f"/proc/{pid}/autogroup").read_text())
    except OSError:
        return None


def parsed_autogroup(text: str) -> tuple[str, int] | None:
    """'/autogroup-28 nice 10' -> ('/autogroup-28', 10); anything else (an empty file) -> None."""
    fields = text.split()
    if len(fields) != 3 or fields[1] != "nice" or not fields[2].lstrip("-").isdigit():
        return None
    return fields[0], int(fields[2])
