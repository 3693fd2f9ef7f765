"""How many processes a stage may use, and children that never outlive their parent.

Set REVIEW_EXTRACT_PROCESSES to change the count (1 keeps every stage in the main process).

Three kinds of children, one rule (a run killed with SIGKILL, or by a scheduler's time limit,
leaves no process behind):
- forked workers (page readers, NER and report workers, run by :class:`ForkedWorkers`):
  PR_SET_PDEATHSIG, armed at fork;
- workers started by spawn (a process pool's workers): :func:`watch_parent` as their initializer;
- programs started with subprocess (Prefect's temporary API server): :func:`end_with_this_process`,
  a reaper process that ends them when this one is gone.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import wait as wait_for_any

from pipeline.errors import Deadline, WorkerDiedError


def worker_processes() -> int:
    """Processes for CPU-bound stages (page reading, the NER model, report crops); 1 inside a
    daemonic process or off the main thread.

    A daemonic process (a Dask worker, a multiprocessing pool worker) may not start children.
    Forking from a thread other than the main one copies the locks other threads hold at that
    moment (a batch running documents side by side in threads): a child can hang on one for good
    and its parent wait on it for ever. Documents in threads are parallel already, so their stages
    run in their own thread. Where fork is unavailable, the stages run in the main process too.
    """
    if (multiprocessing.current_process().daemon or "fork" not in multiprocessing.get_all_start_methods()
            or threading.current_thread() is not threading.main_thread()):
        return 1
    configured = os.environ.get("REVIEW_EXTRACT_PROCESSES", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(2, os.cpu_count() or 1)


def settle_process() -> None:
    """Process-wide settings for a run of the stages; call it before numpy is imported.

    - One BLAS thread: the stages already run in processes of their own (worker_processes), and
      BLAS threads on top of them spin on the same cores waiting for work (sched_yield): about
      0.6 s of CPU per review for nothing. A value already in the environment is kept.
    - A larger youngest generation for the garbage collector: a review makes millions of small
      objects that live on (glyphs, words, tokens), and at Python's default (a collection every
      700 new objects) the collector walks them over and over, about 0.7 s of CPU per review.
      Objects freed by their reference count, nearly all of them, never wait for a collection.
    - Memory freed by glibc's malloc is kept for the next allocation instead of going back to
      the system at once (and blocks up to 32 MiB come from the heap, not from a mapping of
      their own): each page handed back is faulted in and zeroed again when memory is next
      needed. A third fewer page faults, about 0.3 s of system CPU per review; the peak RSS of
      one review is the same, a batch keeps its high-water mark (the memory of the largest
      documents it has run at once) instead of shrinking between documents.
    - At exit, the objects still alive are frozen out of the collector's reach: the interpreter's
      last collections would walk every one of them (the pages, models and tables of a review:
      about half a second) to free memory the system takes back with the process anyway. Every
      output is written and closed before then; objects freed by their reference count still are.
    """
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    gc.set_threshold(50_000, 20, 100)
    if _mallopt is not None:
        _mallopt(_M_TRIM_THRESHOLD, 1 << 30)
        _mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest (a fixed threshold also stops it moving)
        _mallopt(_M_TOP_PAD, 64 << 20)
    atexit.register(gc.freeze)


_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # glibc's malloc.h
try:
    _mallopt = ctypes.CDLL(None).mallopt  # glibc (Linux); other C libraries keep their defaults
except (OSError, AttributeError):
    _mallopt = None


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


def _remember_parent_and_freeze() -> None:
    global _forking_pid
    _forking_pid = os.getpid()
    gc.freeze()


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


# A forked worker shares the parent's objects (spaCy models, pages) until it writes to them, and
# a garbage collection in the worker writes to every object it walks: each page of the parent's
# heap would be copied and walked once per worker (seconds of CPU over a run). The objects that
# exist at the fork are frozen out of the collector's reach in the child; the parent releases
# them again right after forking.
os.register_at_fork(before=_remember_parent_and_freeze, after_in_parent=gc.unfreeze,
                    after_in_child=_die_with_parent)


class ForkedWorkers:
    """*fn* over *tasks* in *processes* forked workers, the results in task order.

    Forked, the workers share *fn* and *tasks* with this process (nothing of them is pickled);
    they take the next task from a shared counter as they become free and send each result back
    on a pipe of their own, which a thread here reads at once (a worker never waits for this
    process to be free). A worker that dies before the work is done (killed, out of memory)
    makes :meth:`results` raise WorkerDiedError at once: its task would otherwise be waited for
    for ever. An error in *fn* is raised here, with the worker's traceback as a note. The
    workers are ended when the ``with`` block is left, however it is left. *what* names the work
    in errors ("reading pages").

    With *here*, this process is one of the *processes*: it forks one worker fewer and takes
    tasks itself while it waits in :meth:`results`. Work is then done on as many cores with one
    process less to copy at the fork and to share the cores with (run beside this process's own
    work, a third process slows the other two down).
    """

    def __init__(self, fn: Callable, tasks: Sequence, processes: int, what: str, here: bool = False) -> None:
        self.what = what
        self._fn, self._tasks, self._here = fn, tasks, here
        self._count = len(tasks)
        self._results: dict[int, tuple[bool, object]] = {}
        self._done_here = 0
        self._died: str | None = None
        self._closing = False
        self._changed = threading.Condition()
        context = multiprocessing.get_context("fork")
        self._next_task = next_task = context.Value("l", 0)
        self._workers: list[tuple[multiprocessing.Process, object]] = []
        try:
            for _ in range(processes - 1 if here else processes):
                receive, send = context.Pipe(duplex=False)
                worker = context.Process(target=_work, args=(fn, tasks, next_task, send), daemon=True,
                                         name=f"review-extract {what}")
                worker.start()
                send.close()
                self._workers.append((worker, receive))
        except BaseException:
            self.close()
            raise
        self._collector = threading.Thread(target=self._collect, daemon=True, name="worker-results")
        self._collector.start()

    def __enter__(self) -> ForkedWorkers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def results(self, deadline: Deadline | None = None) -> Iterator:
        """Each task's result in task order, as it arrives; within *deadline* if given."""
        for index in range(self._count):
            while self._here and index not in self._results and self._died is None and self._run_one_here():
                if deadline is not None:
                    deadline.check(self.what)
            with self._changed:
                while index not in self._results and self._died is None:
                    remaining = deadline.remaining if deadline is not None else None
                    if remaining is not None and remaining <= 0:
                        raise deadline.error(self.what)
                    self._changed.wait(remaining)
                if self._died is not None:
                    raise WorkerDiedError(f"a worker process {self.what} died ({self._died}); the run is "
                                          "abandoned")
                ok, value = self._results.pop(index)
            if not ok:
                raise value
            yield value

    def _run_one_here(self) -> bool:
        """Take the next free task and run it in this process; False when none is left."""
        with self._next_task.get_lock():
            index = self._next_task.value
            self._next_task.value = index + 1
        if index >= self._count:
            return False
        try:
            result = (True, self._fn(self._tasks[index]))
        except Exception as exc:  # noqa: BLE001 - raised by results() in task order, as a worker's
            result = (False, exc)
        with self._changed:
            self._results[index] = result
            self._done_here += 1
        return True

    def _collect(self) -> None:
        """Read results as they come; notice a worker that dies before the work is done."""
        open_pipes = {receive: worker for worker, receive in self._workers}
        running = {worker.sentinel: worker for worker, _ in self._workers}
        received = 0
        while (open_pipes or running) and not self._closing:
            for ready in wait_for_any([*open_pipes, *running]):
                if ready in open_pipes:
                    try:
                        index, ok, value = ready.recv()
                    except (EOFError, OSError):  # the worker is done (or gone: its sentinel says which)
                        del open_pipes[ready]
                        continue
                    received += 1
                    with self._changed:
                        self._results[index] = (ok, value)
                        self._changed.notify_all()
                elif ready in running:
                    worker = running.pop(ready)
                    worker.join()
                    if worker.exitcode != 0 and received + self._done_here < self._count and not self._closing:
                        code = worker.exitcode
                        reason = (f"killed by {signal.Signals(-code).name}" if code < 0 and -code in
                                  signal.valid_signals() else f"exit status {code}")
                        with self._changed:
                            self._died = f"pid {worker.pid}, {reason}"
                            self._changed.notify_all()
                        return

    def close(self) -> None:
        """End the workers (at once when the work is not done) and wait for them."""
        self._closing = True
        for worker, _ in self._workers:
            if worker.is_alive():
                worker.terminate()
        for worker, _ in self._workers:
            worker.join()
        collector = getattr(self, "_collector", None)
        if collector is not None:
            collector.join()  # it sees the workers gone, then the pipes are closed
        for _, receive in self._workers:
            receive.close()


def _work(fn: Callable, tasks: Sequence, next_task, results) -> None:
    """A worker's loop: the next free task, until none is left."""
    while True:
        with next_task.get_lock():
            index = next_task.value
            next_task.value = index + 1
        if index >= len(tasks):
            break
        try:
            message = (index, True, fn(tasks[index]))
        except BaseException as exc:  # noqa: BLE001 - raised again in the process that waits for it
            exc.add_note(f"in a worker process {os.getpid()}:\n{traceback.format_exc()}")
            message = (index, False, exc)
        try:
            results.send(message)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # an error that cannot travel
            results.send((index, False, RuntimeError(f"{message[2]!r} (cannot be sent back: {exc})")))
    results.close()


def watch_parent() -> None:
    """In a worker started by spawn (a process pool's initializer): exit once its parent is gone.

    A thread polls the parent's pid rather than arming PR_SET_PDEATHSIG: that signal follows the
    *thread* that started the worker, and a pool starts workers from whichever thread submits.
    """
    started_by = multiprocessing.parent_process()  # known even when the parent is already gone
    parent = started_by.pid if started_by is not None else os.getppid()
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent-watch").start()


_reaper: subprocess.Popen | None = None
_reaper_lock = threading.Lock()


def end_with_this_process(pid: int) -> None:
    """End process *pid* (a program this process started with subprocess) when this process
    ends, however it ends: registered with a reaper process (pipeline/reaper.py) that notices this
    one is gone when the pipe between them closes. No fork hook reaches a program started with
    subprocess (fork + exec), and the kernel's parent-death signal would follow the starting thread."""
    from pipeline.reaper import start_time

    global _reaper
    with _reaper_lock:
        if _reaper is None or _reaper.poll() is not None:
            # Its own session: a Ctrl-C or a kill of the terminal's process group leaves it to do its job.
            _reaper = subprocess.Popen([sys.executable, "-m", "pipeline.reaper"], stdin=subprocess.PIPE,
                                       stdout=subprocess.DEVNULL, start_new_session=True)
        _reaper.stdin.write(f"{pid} {start_time(pid)}\n".encode())
        _reaper.stdin.flush()
