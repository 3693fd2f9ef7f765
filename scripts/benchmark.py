"""Time the whole `review-extract` command as a user runs it, next to a bare pdfplumber pass.

Usage:
    python scripts/benchmark.py [PDF] [--repeat N] [--flow]     # extract (report included) vs bare pass
    python scripts/benchmark.py [PDF] --cached-batch [--repeat N]  # batch re-run of an unchanged PDF
    python scripts/benchmark.py --scaling COPIES_DIR             # batch throughput per worker setting

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


def timed(argv: list[str], env: dict) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MiB, stderr) of one subprocess run (must succeed)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(argv)}\n{err[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, err


def print_table(runs: list[Runs], pdf: Path, pages: int, repeat: int) -> None:
    load = os.getloadavg()
    print(f"PDF: {pdf.name} ({pages} pages); {repeat} alternating rounds; {os.cpu_count()} cores; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("| command | wall best s | wall median s | CPU best s | CPU median s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in runs:
        print(r.row())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdf", nargs="?", default=str(DEFAULT_PDF))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flow", action="store_true", help="run extract as a Prefect flow run (--flow)")
    parser.add_argument("--cached-batch", action="store_true", help="time a batch re-run of an unchanged PDF")
    parser.add_argument("--scaling", type=Path, metavar="COPIES_DIR",
                        help="batch throughput of 1, 2, 4 of these PDFs with threads, processes, Dask "
                             "(scripts/make_scale_inputs.py makes them)")
    parser.add_argument("--workers", type=int, default=2, help="batch --workers for --scaling")
    args = parser.parse_args()
    if args.scaling:
        scaling(args.scaling, args.workers)
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
        stages: list[dict] = []
        for i in range(args.repeat):
            for runs, argv in ((bare, [sys.executable, "-c", BARE_PASS, str(pdf)]),
                               (whole, [*cli, "extract", str(pdf), "--out", str(Path(tmp) / f"run{i}")]
                                + (["--flow"] if args.flow else []))):
                wall, cpu, rss, _ = timed(argv, env)
                runs.wall.append(wall)
                runs.cpu.append(cpu)
                runs.rss_mib.append(rss)
            stages.append(json.loads((Path(tmp) / f"run{i}" / "document.json").read_text())["seconds"])
    print_table([whole, bare], pdf, pages, args.repeat)
    wall_ratio = statistics.median(whole.wall) / statistics.median(bare.wall)
    cpu_ratio = statistics.median(whole.cpu) / statistics.median(bare.cpu)
    print(f"ratio of medians: wall {wall_ratio:.2f}x (target <= 1.5x), CPU {cpu_ratio:.2f}x (target <= 2x); "
          f"{pages / statistics.median(whole.wall):.1f} pages/s for the whole command")
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
