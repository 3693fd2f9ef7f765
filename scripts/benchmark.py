"""Time each extraction stage on a PDF and compare with a bare pdfplumber full-text pass.

Usage: python scripts/benchmark.py [PDF] [--repeat N]

Prints seconds per stage, pages per second, and the ratio of the whole extraction (Prefect's
own start-up aside: the stages run as plain functions) to `page.extract_text()` on every page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pdfplumber

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.extract import run_extraction  # noqa: E402

DEFAULT_PDF = ROOT / "data" / "raw" / "nasiri2024_car_t_mm_review.pdf"


def bare_pass(pdf_path: Path) -> float:
    start = time.perf_counter()
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            page.extract_text()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdf", nargs="?", default=str(DEFAULT_PDF))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pdf_path = Path(args.pdf)
    with pdfplumber.open(pdf_path) as pdf:
        pages = len(pdf.pages)
    bare, runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            bare.append(bare_pass(pdf_path))
            start = time.perf_counter()
            summary = run_extraction(str(pdf_path), str(Path(tmp) / f"run{i}"))
            total = time.perf_counter() - start
            runs.append((total, summary.seconds))
    best_bare = min(bare)
    best_total, best_stages = min(runs, key=lambda r: r[0])
    print(f"PDF: {pdf_path.name} ({pages} pages), best of {args.repeat}")
    for stage, secs in best_stages.items():
        print(f"  {stage:<12} {secs:7.3f} s")
    print(f"  {'total':<12} {best_total:7.3f} s  ({pages / best_total:.1f} pages/s)")
    print(f"bare pdfplumber extract_text: {best_bare:.3f} s ({pages / best_bare:.1f} pages/s); "
          f"median {statistics.median(bare):.3f} s")
    print(f"ratio extraction / bare pass: {best_total / best_bare:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
