"""Ends registered processes once the process that registered them is gone, however it ended.

Run as ``python -m pipeline.reaper`` by :func:`pipeline.parallel.end_with_this_process`. It reads
one ``PID START`` line per process to watch on its standard input: a pipe whose writing end only
the registering process holds (its forked workers too, and they die with it). When that process
ends, even by SIGKILL, the kernel closes the pipe; the reaper then sends SIGTERM to every watched
process still running (the same process: same PID and start time), SIGKILL to any still there
after a grace period, and exits. A watched process that ended earlier is left alone.

Deliberately small: no project imports, so it starts in a few milliseconds.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

GRACE_SECONDS = 5.0  # a server shuts down cleanly (closes its database) well within this


def start_time(pid: int) -> str:
    """When *pid* started (clock ticks since boot, from /proc), "" where unknown: with the pid,
    it names one process, never a later one that got the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22 of proc(5); the name before ")" may hold spaces


def _running(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # not ours: the pid was reused
    if not started or not Path("/proc").is_dir():
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return start_time(pid) == started and state not in ("Z", "X")


def _signal(processes: list[tuple[int, str]], sig: int) -> None:
    for pid, _ in processes:
        try:
            os.kill(pid, sig)
        except OSError:
            pass  # ended meanwhile


def end_processes(watched: list[tuple[int, str]], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to each watched process still running, SIGKILL after *grace* seconds."""
    alive = [(pid, started) for pid, started in watched if _running(pid, started)]
    _signal(alive, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [(pid, started) for pid, started in alive if _running(pid, started)]
    _signal(alive, signal.SIGKILL)


def main() -> None:
    watched: list[tuple[int, str]] = []
    for line in sys.stdin:
        pid, _, started = line.strip().partition(" ")
        if pid.isdigit():
            watched.append((int(pid), started))
    end_processes(watched)


if __name__ == "__main__":
    main()
