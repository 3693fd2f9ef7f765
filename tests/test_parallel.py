"""Worker processes never outlive the command: a run killed with SIGKILL leaves no process and no output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> set[int]:
    """Child processes of *pid* (Linux /proc; the CI runs on Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    state = next(line.split()[1] for line in status.splitlines() if line.startswith("State:"))
    return state not in ("Z", "X")


@pytest.mark.parametrize("stage", ["load", "entities"])  # page readers, then the NER model's workers
def test_killed_extract_leaves_no_process_and_no_output(tmp_path, review_pdf, stage):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REVIEW_EXTRACT_PROCESSES": "2"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "extract", str(review_pdf), "--out", str(out),
                             "--no-report"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=env, cwd=tmp_path)
    try:
        for line in proc.stderr:  # wait for the stage to start
            if line.strip() == f"-> {stage}":
                break
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while not workers and time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            time.sleep(0.02)
        assert workers, f"no worker process seen during {stage}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        gone = time.monotonic() + 10
        while any(_running(pid) for pid in workers) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not [pid for pid in workers if _running(pid)], "worker processes outlived the killed command"
        assert not out.exists()
        assert not [p for p in tmp_path.iterdir() if p.name != "out"], "partial output left behind"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


PARENT_THAT_FORKS = """
import multiprocessing, sys, time
import pipeline.parallel  # noqa: F401  (children die with their parent)

def idle():
    time.sleep(120)

child = multiprocessing.get_context("fork").Process(target=idle)
child.start()
print(child.pid, flush=True)
time.sleep(120)
"""


def test_a_forked_worker_dies_with_its_parent(tmp_path):
    """A worker busy with a long task (here: sleeping) does not wait for it to end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT_THAT_FORKS], stdout=subprocess.PIPE, text=True,
                              env=env, cwd=tmp_path)
    try:
        child = int(parent.stdout.readline())
        assert _running(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        gone = time.monotonic() + 30
        while _running(child) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not _running(child), "the forked worker outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
