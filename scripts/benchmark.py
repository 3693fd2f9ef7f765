"""Time the whole `review-extract` command as a user runs it, next to a bare pdfplumber pass.

Usage:
    python scripts/benchmark.py [PDF] [--repeat N] [--flow]     # extract (report included) vs bare pass
    python scripts/benchmark.py [PDF] --against OLD_CHECKOUT      # ... and another checkout's extract beside
    python scripts/benchmark.py [PDF] --cached-batch [--repeat N]  # batch re-run of an unchanged PDF
    python scripts/benchmark.py --scaling COPIES_DIR             # batch throughput per worker setting
    python scripts/benchmark.py --scale [DIR] [--workers 2]      # 300-page extract + batch of 50 copies

Each command runs as a subprocess; the two commands alternate, N rounds, so both see the same
machine load. Per command: wall seconds, CPU seconds (user + system of the process and every
child it waited for), peak RSS of its largest process; best and median of N; then the ratios
of the medians (the issue's targets: <= 1.5x wall, <= 2x CPU). Prints numbers only, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PDF = ROOT / "data" / "raw" / "nasiri2024_car_t_mm_review.pdf"
BARE_PASS = "import sys, pdfplumber\nwith pdfplumber.open(sys.argv[1]) as pdf:\n    for p in pdf.pages: p.extract_text()"


@dataclass
class Runs:
    name: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)

    def row(self) -> str:
        return (f"| {self.name} | {min(self.wall):.2f} | {statistics.median(self.wall):.2f} | {min(self.cpu):.2f} | "
                f"{statistics.median(self.cpu):.2f} | {max(self.rss_mib):.0f} |")


def timed(argv: list[str], env: dict, on_start=None, cwd: Path = ROOT) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MiB, stderr) of one subprocess run (must succeed) in *cwd*.

    *on_start* is called with the process id once it runs (a sampler of its processes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    if on_start is not None:
        on_start(proc.pid)
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(argv)}\n{err[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, err


def compile_bytecode(checkouts: list[Path]) -> None:
    """Write the bytecode of each checkout's packages before timing anything.

    pip writes the bytecode of every package it installs (pdfplumber, which the bare pass runs),
    and Python writes it for other code on first import: unless the environment says not to
    (PYTHONDONTWRITEBYTECODE, set on some build machines), when an editable checkout is compiled
    again by every run. That cost belongs to the machine, not to the program, so both sides are
    timed with their bytecode in place.
    """
    import compileall

    for checkout in checkouts:
        for package in ("pipeline", "flows"):
            if (checkout / package).is_dir():
                compileall.compile_dir(checkout / package, quiet=1)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("PYTHONDONTWRITEBYTECODE is set here: the checkouts' bytecode was written first, as pip does "
              "for an installed package")


def print_table(runs: list[Runs], pdf: Path, pages: int, repeat: int) -> None:
    load = os.getloadavg()
    print(f"PDF: {pdf.name} ({pages} pages); {repeat} alternating rounds; {os.cpu_count()} cores; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("| command | wall best s | wall median s | CPU best s | CPU median s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in runs:
        print(r.row())


class ProcessSampler:
    """Peak RSS of every process under a command (Linux /proc), sampled a few times a second.

    The kernel keeps each process's own peak (VmHWM), so a sample just before a process ends
    still sees its highest RSS. A forked worker's RSS includes the pages it shares with the
    process it was forked from (copy-on-write), as the kernel counts them.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peaks: dict[int, tuple[str, float]] = {}  # pid -> (role, peak RSS MiB)
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        self.thread = threading.Thread(target=self._run, args=(pid,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()

    def _run(self, root: int) -> None:
        while not self.stopped.is_set():
            for pid in [root, *self._descendants(root)]:
                peak = self._peak_mib(pid)
                if peak is not None:
                    role = self._role(pid, root)
                    self.peaks[pid] = (role, max(peak, self.peaks.get(pid, ("", 0.0))[1]))
            self.stopped.wait(self.interval)

    @staticmethod
    def _descendants(pid: int) -> list[int]:
        found, todo = [], [pid]
        while todo:
            for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
                try:
                    children = [int(c) for c in (task / "children").read_text().split()]
                except OSError:
                    continue
                found += children
                todo += children
        return found

    @staticmethod
    def _peak_mib(pid: int) -> float | None:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    @staticmethod
    def _cmdline(pid: int) -> str:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""

    def _role(self, pid: int, root: int) -> str:
        if pid == root:
            return "the command"
        cmd = self._cmdline(pid)
        for marker, role in (("uvicorn", "Prefect temporary server"), ("pipeline.reaper", "reaper"),
                             ("resource_tracker", "multiprocessing resource tracker"),
                             ("spawn_main", "spawned worker (document runner)")):
            if marker in cmd:
                return role
        return "forked worker (pages, NER, report crops)"

    def table(self) -> list[str]:
        roles: dict[str, list[float]] = {}
        for role, peak in self.peaks.values():
            roles.setdefault(role, []).append(peak)
        return [f"| {role} | {len(peaks)} | {max(peaks):.0f} |" for role, peaks in sorted(roles.items())]


def sampled(argv: list[str], env: dict) -> tuple[float, float, float, str, ProcessSampler]:
    """:func:`timed` with the peak RSS of each process of the command."""
    sampler = ProcessSampler()
    try:
        wall, cpu, rss, err = timed(argv, env, on_start=sampler.start)
    finally:
        sampler.stop()
    return wall, cpu, rss, err, sampler


def scale(inputs: Path | None, workers: int, pages: int, copies: int) -> None:
    """The scale runs: `extract` of a long PDF, `batch` of a folder of changed copies (cold output
    root, so every document is extracted, Prefect's temporary server included). Per run: wall, CPU,
    peak RSS of the largest process and per kind of process, pages per second."""
    import pdfplumber

    with tempfile.TemporaryDirectory() as tmp:
        if inputs is None:
            inputs = Path(tmp) / "inputs"
        long_pdf, folder = inputs / f"long_{pages}p.pdf", inputs / "copies"
        if not long_pdf.exists() or len(list(folder.glob("*.pdf"))) < copies:
            subprocess.run([sys.executable, str(ROOT / "scripts" / "make_scale_inputs.py"), str(inputs), "--pages",
                            str(pages), "--copies", str(copies)], check=True, stdout=subprocess.DEVNULL)
        pdfs = sorted(folder.glob("*.pdf"))[:copies]
        batch_in = Path(tmp) / "batch-in"
        batch_in.mkdir()
        for pdf in pdfs:
            shutil.copy2(pdf, batch_in / pdf.name)
        batch_pages = 0
        for pdf in pdfs:
            with pdfplumber.open(pdf) as handle:
                batch_pages += len(handle.pages)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(Path(tmp) / "prefect")}
        env.pop("PREFECT_API_URL", None)
        cli = [sys.executable, "-m", "pipeline.cli"]
        load = os.getloadavg()
        print(f"{os.cpu_count()} cores; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start; "
              f"REVIEW_EXTRACT_PROCESSES={os.environ.get('REVIEW_EXTRACT_PROCESSES', 'default')}")
        long_out = Path(tmp) / "long-out"
        runs = [(f"`extract` {long_pdf.name} ({pages} pages, report included)", pages, 1,
                 [*cli, "extract", str(long_pdf), "--out", str(long_out), "--timeout", "0"],
                 long_out / "document.json"),
                (f"`batch --workers {workers}` {len(pdfs)} copies ({batch_pages} pages)", batch_pages, len(pdfs),
                 [*cli, "batch", str(batch_in), "--out", str(Path(tmp) / "batch-out"), "--workers", str(workers)],
                 None)]
        # Each run's numbers as soon as it ends (a long run under load may be stopped before the next).
        for name, n_pages, n_documents, argv, document_json in runs:
            if not n_pages:  # --pages 0 or --copies 0: that run is not wanted
                continue
            wall, cpu, rss, _, sampler = sampled(argv, env)
            print(f"\n{name}: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB (largest process), "
                  f"{n_pages / wall:.2f} pages/s, {n_documents / (wall / 60):.2f} documents/min")
            if document_json is not None:
                stages = json.loads(document_json.read_text())["seconds"]
                print("stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
                      + f"; load stage {n_pages / stages['load']:.2f} pages/s")
            print("| process | count | peak RSS MiB (largest) |")
            print("|---|---:|---:|")
            print("\n".join(sampler.table()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdf", nargs="?", default=str(DEFAULT_PDF))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flow", action="store_true", help="run extract as a Prefect flow run (--flow)")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="also time extract with the code of another checkout (e.g. a `git worktree` of an "
                             "older commit), in the same alternation: old and new code under the same load")
    parser.add_argument("--cached-batch", action="store_true", help="time a batch re-run of an unchanged PDF")
    parser.add_argument("--scaling", type=Path, metavar="COPIES_DIR",
                        help="batch throughput of 1, 2, 4 of these PDFs with threads, processes, Dask "
                             "(scripts/make_scale_inputs.py makes them)")
    parser.add_argument("--workers", type=int, default=2, help="batch --workers for --scaling and --scale")
    parser.add_argument("--scale", nargs="?", const="", metavar="INPUTS_DIR",
                        help="extract of a long PDF and batch of changed copies (inputs made in INPUTS_DIR, "
                             "default a temporary folder, by scripts/make_scale_inputs.py)")
    parser.add_argument("--pages", type=int, default=300, help="pages of the long PDF for --scale (0: no extract run)")
    parser.add_argument("--copies", type=int, default=50, help="copies in the batch for --scale (0: no batch run)")
    args = parser.parse_args()
    compile_bytecode([ROOT] + ([args.against.resolve()] if args.against else []))
    if args.scaling:
        scaling(args.scaling, args.workers)
        return
    if args.scale is not None:
        scale(Path(args.scale) if args.scale else None, args.workers, args.pages, args.copies)
        return
    pdf = Path(args.pdf).resolve()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    import pdfplumber

    with pdfplumber.open(pdf) as handle:
        pages = len(handle.pages)
    cli = [sys.executable, "-m", "pipeline.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        if args.cached_batch:
            folder = Path(tmp) / "in"
            folder.mkdir()
            shutil.copy(pdf, folder / pdf.name)
            command = [*cli, "batch", str(folder), "--out", str(Path(tmp) / "out")]
            # the first run goes through Prefect: its own database, not one shared with other runs
            env = {**env, "PREFECT_HOME": str(Path(tmp) / "prefect")}
            first = timed(command, env)
            print(f"first batch run (extracts): wall {first[0]:.2f} s, CPU {first[1]:.2f} s")
            cached = Runs("`review-extract batch` re-run, PDF unchanged (cached)")
            for _ in range(args.repeat):
                wall, cpu, rss, err = timed(command, env)
                if "cached" not in err:
                    sys.exit(f"the re-run was not served from the cache:\n{err[-2000:]}")
                cached.wall.append(wall)
                cached.cpu.append(cpu)
                cached.rss_mib.append(rss)
            print_table([cached], pdf, pages, args.repeat)
            return
        bare = Runs("bare pdfplumber pass (`p.extract_text()` on every page)")
        whole = Runs(f"`review-extract extract{' --flow' if args.flow else ''}` (report included)")
        flow = ["--flow"] if args.flow else []
        # (runs, command, environment, working folder: `python -m` imports from there first)
        commands = [(bare, [sys.executable, "-c", BARE_PASS, str(pdf)], env, ROOT),
                    (whole, [*cli, "extract", str(pdf), "--out", str(Path(tmp) / "run")] + flow, env, ROOT)]
        other = None
        if args.against:
            checkout = args.against.resolve()
            other = Runs(f"{whole.name}, code of {checkout}")
            commands.append((other, [*cli, "extract", str(pdf), "--out", str(Path(tmp) / "other")] + flow,
                             {**env, "PYTHONPATH": str(checkout)}, checkout))
        stages: list[dict] = []
        for _ in range(args.repeat):
            for runs, argv, run_env, cwd in commands:
                wall, cpu, rss, _ = timed(argv, run_env, cwd=cwd)
                runs.wall.append(wall)
                runs.cpu.append(cpu)
                runs.rss_mib.append(rss)
            stages.append(json.loads((Path(tmp) / "run" / "document.json").read_text())["seconds"])
    print_table([whole, bare] + ([other] if other else []), pdf, pages, args.repeat)
    for runs in [whole] + ([other] if other else []):
        wall_ratio = statistics.median(runs.wall) / statistics.median(bare.wall)
        cpu_ratio = statistics.median(runs.cpu) / statistics.median(bare.cpu)
        print(f"{runs.name}: ratio of medians: wall {wall_ratio:.2f}x (target <= 1.5x), CPU {cpu_ratio:.2f}x "
              f"(target <= 2x); {pages / statistics.median(runs.wall):.1f} pages/s for the whole command")
    median_stages = {k: statistics.median(s.get(k, 0.0) for s in stages) for k in stages[0]}
    print("stage seconds (median, from document.json): "
          + ", ".join(f"{k} {v:.2f}" for k, v in median_stages.items()))


def scaling(copies: Path, workers: int) -> None:
    """Cold batches (empty output root) of 1, 2 and 4 distinct PDFs per runner: documents per
    minute per core, with the whole command's wall time (Prefect's temporary server included)."""
    pdfs = sorted(copies.glob("*.pdf"))[:4]
    cores = os.cpu_count() or 1
    print(f"{cores} cores, batch --workers {workers}; load average {os.getloadavg()[0]:.1f} at start")
    print("| runner | documents | wall s | CPU s | peak RSS MiB | documents / min / core |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(Path(tmp) / "prefect")}
        for runner, flag in (("threads", []), ("processes", ["--processes"]), ("Dask LocalCluster", ["--dask"])):
            for n in (1, 2, 4):
                folder = Path(tmp) / f"in-{n}"
                if not folder.exists():
                    folder.mkdir()
                    for pdf in pdfs[:n]:
                        shutil.copy2(pdf, folder / pdf.name)
                out = Path(tmp) / f"out-{runner}-{n}"
                wall, cpu, rss, _ = timed([sys.executable, "-m", "pipeline.cli", "batch", str(folder), "--out",
                                           str(out), "--workers", str(workers), *flag], env)
                print(f"| {runner} | {n} | {wall:.1f} | {cpu:.1f} | {rss:.0f} | {n / (wall / 60) / cores:.2f} |",
                      flush=True)


if __name__ == "__main__":
    main()
