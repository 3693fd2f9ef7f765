"""Worker processes never outlive the command: a run killed with SIGKILL leaves no process and no output."""

from __future__ import annotations

import os
import re
import shutil
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


def _extract_at_stage(tmp_path, review_pdf, stage: str) -> tuple[subprocess.Popen, set[int]]:
    """An `extract` run (no report, 2 worker processes) once *stage* has started, and its workers."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REVIEW_EXTRACT_PROCESSES": "2"}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "extract", str(review_pdf), "--out",
                             str(tmp_path / "out"), "--no-report"], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env, cwd=tmp_path)
    for line in proc.stderr:  # wait for the stage to start
        if line.strip() == f"-> {stage}":
            break
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while not workers and time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.01)
    return proc, workers


@pytest.mark.parametrize("stage", ["load", "entities"])  # page readers, then the NER model's workers
def test_killed_extract_leaves_no_process_and_no_output(tmp_path, review_pdf, stage):
    out = tmp_path / "out"
    proc, workers = _extract_at_stage(tmp_path, review_pdf, stage)
    try:
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


PARENT_THAT_STARTS_A_PROGRAM = """
import subprocess, sys, time
from pipeline.parallel import end_with_this_process

program = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
end_with_this_process(program.pid)
print(program.pid, flush=True)
time.sleep(120)
"""


def test_a_program_started_with_subprocess_ends_with_its_killed_parent(tmp_path):
    """No fork hook reaches a program started with subprocess: the reaper ends it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT_THAT_STARTS_A_PROGRAM], stdout=subprocess.PIPE,
                              text=True, env=env, cwd=tmp_path)
    try:
        program = int(parent.stdout.readline())
        reapers = [pid for pid in _children(parent.pid) if "pipeline.reaper" in _cmdline(pid)]
        assert _running(program) and len(reapers) == 1
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        gone = time.monotonic() + 30
        while (_running(program) or _running(reapers[0])) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not _running(program), "the program outlived its killed parent"
        assert not _running(reapers[0]), "the reaper stayed after its work was done"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()

def _descendants(pid: int) -> set[int]:
    """Every process below *pid* (children, their children, ...)."""
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except OSError:
        return ""


def _kill_when(argv: list[str], cwd: Path, ready) -> tuple[list[str], list[str]]:
    """Run the CLI without a configured Prefect server (so on its temporary server) and SIGKILL it
    once *ready* (a predicate on a stderr line) holds. Returns the command lines of the processes
    it started that still run 30 s later, and of the Prefect servers it started."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REVIEW_EXTRACT_PROCESSES": "2",
           "PREFECT_HOME": str(cwd / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", *argv], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, env=env, cwd=cwd)
    seen: dict[int, tuple[str, str]] = {}  # pid -> (start time, command line): a reused pid is another process

    def look() -> None:
        for pid in _descendants(proc.pid):
            started, cmd = seen.get(pid, (_start_time(pid), ""))
            seen[pid] = (started, _cmdline(pid) or cmd)  # a child that has since run exec has a new one

    try:
        for line in proc.stderr:
            look()
            if ready(line):
                break
        else:
            pytest.fail("the command ended before it could be killed")
        until = time.monotonic() + 1
        while time.monotonic() < until:
            look()
            time.sleep(0.05)
        assert proc.poll() is None, "the command ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        gone = time.monotonic() + 30
        alive = dict(seen)
        while alive and time.monotonic() < gone:
            alive = {pid: v for pid, v in alive.items() if _running(pid) and _start_time(pid) == v[0]}
            time.sleep(0.1)
        return ([f"{pid}: {cmd[:120]}" for pid, (_, cmd) in alive.items()],
                [cmd for _, cmd in seen.values() if "uvicorn" in cmd])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_killed_flow_run_leaves_no_process_and_no_output(tmp_path, review_pdf):
    """extract --flow: the temporary Prefect server ends with the command, as the workers do."""
    left, servers = _kill_when(["extract", str(review_pdf), "--out", str(tmp_path / "out"), "--flow", "--no-report"],
                               tmp_path, lambda line: line.strip() == "-> load")
    assert len(servers) == 1, f"expected one temporary Prefect server, saw {servers}"
    assert not left, f"processes outlived the killed command: {left}"
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["prefect-home"], "partial output left behind"


def _pages_read(line: str) -> bool:
    match = re.match(r"batch: \d+/\d+ documents, (\d+)/", line)
    return bool(match) and int(match[1]) > 0


@pytest.mark.parametrize("runner", [[], ["--processes"]], ids=["threads", "processes"])
def test_killed_batch_leaves_no_process_and_publishes_nothing(tmp_path, review_pdf, runner):
    """A batch with a cache miss (a flow run on the temporary server) killed while its pages are read:
    the server, the document workers and their page readers all end; one server serves every worker."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(review_pdf, folder / review_pdf.name)
    out = tmp_path / "out"
    left, servers = _kill_when(["batch", str(folder), "--out", str(out), "--workers", "2", "--progress-interval",
                                "0.2", *runner], tmp_path, _pages_read)
    assert len(servers) == 1, f"expected one temporary Prefect server, saw {servers}"
    assert not left, f"processes outlived the killed command: {left}"
    published = [p.name for p in out.iterdir() if p.name != ".staging"]
    assert not published, f"a killed batch published {published}"


def test_no_worker_processes_are_forked_off_the_main_thread(monkeypatch):
    # A batch runs documents in threads; a fork from one of them copies the locks the other
    # threads hold, and a reader stuck on one left its batch waiting for ever.
    import threading

    from pipeline.parallel import worker_processes

    monkeypatch.setenv("REVIEW_EXTRACT_PROCESSES", "2")
    assert worker_processes() == 2
    seen = []
    thread = threading.Thread(target=lambda: seen.append(worker_processes()))
    thread.start()
    thread.join()
    assert seen == [1]


@pytest.mark.parametrize("stage", ["load", "entities"])  # page readers, then the NER model's workers
def test_a_worker_killed_alone_fails_the_run_at_once(tmp_path, review_pdf, stage):
    """A worker killed on its own (the command alive) takes its task with it: the command ends with
    a clear error instead of waiting for that task, writes nothing and leaves no process behind."""
    out = tmp_path / "out"
    proc, workers = _extract_at_stage(tmp_path, review_pdf, stage)
    try:
        assert workers, f"no worker process seen during {stage}"
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        # Waiting for the lost task would last until --timeout (600 s) or for ever: 120 s is a hang.
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 10, stdout + stderr
        assert f"pid {victim}, killed by SIGKILL" in stderr and "a worker process" in stderr, stderr
        assert "Traceback" not in stdout + stderr
        left = [pid for pid in _descendants(proc.pid) | workers if _running(pid)]
        assert not left, f"processes outlived the failed command: {left}"
        assert not out.exists()
        assert not list(tmp_path.iterdir()), "partial output left behind"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _square_or_die(n: int) -> int:
    if n == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    if n == 5:
        raise ValueError("five")
    return n * n


def test_forked_workers_give_results_in_order_and_raise_a_task_error_here():
    from pipeline.parallel import ForkedWorkers

    before = _children(os.getpid())  # other tests' helpers (a reaper, a server) may still run
    with ForkedWorkers(_square_or_die, [0, 1, 2, 4, 6, 7], 2, "squaring") as workers:
        assert list(workers.results()) == [0, 1, 4, 16, 36, 49]
    with ForkedWorkers(_square_or_die, [1, 5, 2], 2, "squaring") as workers:
        with pytest.raises(ValueError, match="five") as raised:
            list(workers.results())
        assert any("in a worker process" in note for note in raised.value.__notes__)
    assert not _children(os.getpid()) - before


def test_forked_workers_report_a_worker_that_dies_and_end_the_others():
    from pipeline.errors import WorkerDiedError
    from pipeline.parallel import ForkedWorkers

    before = _children(os.getpid())
    with ForkedWorkers(_square_or_die, [1, 3, *range(10, 20)], 2, "squaring") as workers:
        with pytest.raises(WorkerDiedError, match=r"a worker process squaring died \(pid \d+, killed by SIGKILL\)"):
            list(workers.results())
    assert not _children(os.getpid()) - before


def test_forked_workers_stop_at_the_deadline():
    from pipeline.errors import Deadline, ExtractionTimeoutError
    from pipeline.parallel import ForkedWorkers

    before = _children(os.getpid())
    with ForkedWorkers(time.sleep, [60, 60], 2, "sleeping") as workers:
        with pytest.raises(ExtractionTimeoutError, match="sleeping"):
            list(workers.results(Deadline(0.5, "test")))
    assert not _children(os.getpid()) - before


def _square_where(n: int) -> tuple[int, int]:
    time.sleep(0.05)  # long enough for both processes to take tasks
    return n * n, os.getpid()


def test_forked_workers_here_share_the_tasks_with_this_process():
    from pipeline.parallel import ForkedWorkers

    before = _children(os.getpid())
    with ForkedWorkers(_square_where, list(range(12)), 2, "squaring", here=True) as workers:
        forked = _children(os.getpid()) - before
        results = list(workers.results())
    assert [r for r, _ in results] == [n * n for n in range(12)]
    done_by = {pid for _, pid in results}
    assert len(forked) == 1 and done_by == forked | {os.getpid()}, (forked, done_by)
    with ForkedWorkers(_square_or_die, [5, 1, 2], 2, "squaring", here=True) as workers:
        with pytest.raises(ValueError, match="five"):  # raised in task order, wherever it ran
            list(workers.results())
    assert not _children(os.getpid()) - before
