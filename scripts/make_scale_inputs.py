"""Make the inputs of the scale runs from the bundled review (needs pypdf, in the dev extra).

Usage: python scripts/make_scale_inputs.py OUT_DIR [--pages 300] [--copies 50]

Writes OUT_DIR/long_<N>p.pdf (the review's pages repeated up to N pages) and OUT_DIR/copies/, N
copies of the review, each with a change: copy i lacks page i (mod the page count; the later
copies a second page too), so tables lose rows and paragraphs disappear, and every copy has
its own content (its own sha256, version and diff).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parents[1]
REVIEW = ROOT / "data" / "raw" / "nasiri2024_car_t_mm_review.pdf"


def long_pdf(out: Path, pages: int) -> Path:
    reader = PdfReader(REVIEW)
    writer = PdfWriter()
    for i in range(pages):
        writer.add_page(reader.pages[i % len(reader.pages)])
    path = out / f"long_{pages}p.pdf"
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def copies_with_changes(out: Path, copies: int) -> Path:
    reader = PdfReader(REVIEW)
    folder = out / "copies"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(copies):
        writer = PdfWriter()
        n = len(reader.pages)
        dropped = {i % n, (i * 7) % n} if i >= n else {i % n}
        for number, page in enumerate(reader.pages):
            if number not in dropped:
                writer.add_page(page)
        writer.add_metadata({"/Title": f"{reader.metadata.title} (copy {i + 1})"})
        path = folder / f"copy_{i + 1:02d}.pdf"
        with open(path, "wb") as handle:
            writer.write(handle)
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))  # publish order = copy order
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--copies", type=int, default=50)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(long_pdf(args.out, args.pages))
    print(copies_with_changes(args.out, args.copies))


if __name__ == "__main__":
    main()
