"""How many processes a stage may use, and children that never outlive their parent.

Set REVIEW_EXTRACT_PROCESSES to change the count (1 keeps every stage in the main process).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time


def worker_processes() -> int:
    """Processes for CPU-bound stages (page reading, the NER model); 1 inside a daemonic process.

    A daemonic process (a Dask worker, a multiprocessing pool worker) may not start children.
    Where fork is unavailable, the stages run in the main process too.
    """
    if multiprocessing.current_process().daemon or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    configured = os.environ.get("REVIEW_EXTRACT_PROCESSES", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(2, os.cpu_count() or 1)


# ---------------------------------------------------------------------------------------------
# Every process forked from here (page readers, NER and report workers) dies with its parent: a
# run killed with SIGKILL (or by a scheduler's time limit) must leave no worker behind. Linux
# delivers a signal to the child when the forking thread ends (prctl PR_SET_PDEATHSIG); other
# systems get a thread that polls the parent's pid.

_PR_SET_PDEATHSIG = 1
_forking_pid = os.getpid()
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def _remember_parent() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _die_with_parent() -> None:
    # A worker ends quietly on terminate(): it would otherwise inherit the parent's SIGTERM
    # handler (Prefect's raises TerminationSignal inside a flow run: a traceback per worker).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = _forking_pid
    if _prctl is None or _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent-watch").start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


os.register_at_fork(before=_remember_parent, after_in_child=_die_with_parent)
