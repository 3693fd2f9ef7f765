"""How many processes a stage may use: both cores by default, one where children cannot run.

Set REVIEW_EXTRACT_PROCESSES to change it (1 keeps every stage in the main process).
"""

from __future__ import annotations

import multiprocessing
import os


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
