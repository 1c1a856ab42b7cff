"""What the load benchmarks read of processes from /proc: parents, CPU seconds, trees, memory."""
from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")

def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: [state, ppid, ..., utime (11), stime, cutime, cstime]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def parent_and_cpu_s(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds used) of a live process, from /proc."""
    fields = stat_fields(pid)
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def cpu_with_reaped(pid: int) -> float:
    """CPU seconds of a process plus those of its children that have exited (renderers of closed tabs)."""
    return sum(int(value) for value in stat_fields(pid)[11:15]) / TICK


def browser_cpu() -> float:
    """CPU seconds used so far by this benchmark's Playwright driver and Chromium processes."""
    total = 0.0
    for pid in tree(os.getpid())[1:]:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"chrom" in command or b"playwright" in command:  # not the server, which is ours too
                total += cpu_with_reaped(pid)
        except (OSError, IndexError):
            pass
    return total


def tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(parent_and_cpu_s(int(entry.name))[0], []).append(int(entry.name))
            except (OSError, IndexError):
                pass
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("VmRSS"))
            total += int(line.split()[1])
        except (OSError, StopIteration):
            pass
    return round(total / 1024, 1)


def web_servers(root: int) -> list[int]:
    """The processes that serve pages: the front and its Streamlit servers (or the one server)."""
    found = [root]
    for pid in tree(root)[1:]:
        try:
            if b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


def cpu(root: int) -> tuple[float, float]:
    """CPU seconds of the processes serving pages, and of all the others below them (workers)."""
    serving, workers = 0.0, 0.0
    servers = set(web_servers(root))
    for pid in tree(root):
        try:
            if pid in servers:
                serving += parent_and_cpu_s(pid)[1]
            else:
                workers += parent_and_cpu_s(pid)[1]
        except (OSError, IndexError):
            pass
    return serving, workers
