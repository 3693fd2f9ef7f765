"""Score review-extract and peer table extractors on the development corpus (tests/realworld/).

Usage:
    python scripts/benchmark_tables.py [--tools review-extract,camelot-stream,...]
                                       [--subsets icdar2013,articles,negatives]
                                       [--documents eu-001,us-012] [--json out.json] [--per-document]

One metric for every tool (tests/realworld/scoring.py): cells equal after whitespace collapse
(and the same unicode dash/quote normalisation), aligned by position with the best global
(row, column) offset; a gold table is compared with the predicted table on its page that
shares most cells with it. Prints overall and per-subset cell accuracy, tables not found,
false tables and seconds per tool, and with --per-document one line per document.

Peers are dev-only (``pip install -e '.[bench]'``); a peer that is not installed is reported
as "not installed". Seconds are wall-clock on this machine, for comparison between tools.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import signal
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.realworld.scoring import (  # noqa: E402
    Document,
    DocumentScore,
    PredictedTable,
    corpus_documents,
    page_heights,
    review_extract_tables,
    run_tool,
    totals,
)

SUBSETS = ("icdar2013", "articles", "negatives")


def _camelot(flavor: str) -> Callable[[Path], list[PredictedTable]]:
    def extract(pdf: Path) -> list[PredictedTable]:
        import camelot

        heights = page_heights(pdf)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = camelot.read_pdf(str(pdf), pages="all", flavor=flavor, suppress_stdout=True)
        out = []
        for table in found:
            page = int(table.page)
            top_of_page, y0 = heights[page]
            x1, y1, x2, y2 = table._bbox  # PDF coordinates, origin bottom-left
            out.append(PredictedTable(page, table.df.astype(str).values.tolist(),
                                      (x1, top_of_page - (y2 - y0), x2, top_of_page - (y1 - y0))))
        return out

    return extract


def _pdfplumber(settings: dict | None) -> Callable[[Path], list[PredictedTable]]:
    def extract(pdf: Path) -> list[PredictedTable]:
        import pdfplumber

        out = []
        with pdfplumber.open(pdf) as handle:
            for number, page in enumerate(handle.pages, start=1):
                for table in page.find_tables(table_settings=settings or {}):
                    grid = [[cell or "" for cell in row] for row in table.extract()]
                    out.append(PredictedTable(number, grid, tuple(table.bbox)))
        return out

    return extract


def _pymupdf(pdf: Path) -> list[PredictedTable]:
    out = []
    with contextlib.redirect_stdout(sys.stderr):  # it advertises an add-on on stdout
        import pymupdf

        with pymupdf.open(pdf) as handle:
            for number, page in enumerate(handle, start=1):
                for table in page.find_tables().tables:
                    grid = [[cell or "" for cell in row] for row in table.extract()]
                    out.append(PredictedTable(number, grid, tuple(table.bbox)))
    return out


# name -> (module that must be importable, extractor)
TOOLS: dict[str, tuple[str, Callable[[Path], list[PredictedTable]]]] = {
    "review-extract": ("pipeline", review_extract_tables),
    "camelot-lattice": ("camelot", _camelot("lattice")),
    "camelot-stream": ("camelot", _camelot("stream")),
    "camelot-network": ("camelot", _camelot("network")),
    "camelot-hybrid": ("camelot", _camelot("hybrid")),
    "pdfplumber-text": ("pdfplumber", _pdfplumber({"vertical_strategy": "text", "horizontal_strategy": "text"})),
    "pdfplumber-default": ("pdfplumber", _pdfplumber(None)),
    "pymupdf": ("pymupdf", _pymupdf),
}


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout("timed out")


def score_with_timeout(extract, doc: Document, seconds: int) -> DocumentScore:
    """run_tool with a wall-clock limit per document (a hung peer scores nothing there)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return run_tool(extract, doc)
    finally:
        signal.alarm(0)


def _pct(right: int, total: int) -> str:
    return f"{100 * right / total:.1f}%" if total else "-"


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated, from: " + ", ".join(TOOLS))
    parser.add_argument("--subsets", default=",".join(SUBSETS), help="comma-separated, from: " + ", ".join(SUBSETS))
    parser.add_argument("--documents", default="", help="comma-separated document names (default: all)")
    parser.add_argument("--per-document", action="store_true", help="also print one line per document")
    parser.add_argument("--misses", action="store_true", help="also print each tool's per-table misses")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per tool and document")
    parser.add_argument("--json", type=Path, help="write every score to this JSON file")
    args = parser.parse_args()

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tools: {', '.join(unknown)}")
    docs = corpus_documents([s.strip() for s in args.subsets.split(",") if s.strip()])
    if args.documents:
        names = {n.strip() for n in args.documents.split(",")}
        docs = [d for d in docs if d.name in names]
    if not docs:
        parser.error("no documents selected")

    results: dict[str, list[DocumentScore] | None] = {}
    for tool in tools:
        module, extract = TOOLS[tool]
        if importlib.util.find_spec(module) is None:
            results[tool] = None
            print(f"{tool}: not installed", file=sys.stderr)
            continue
        scores = []
        for doc in docs:
            scores.append(score_with_timeout(extract, doc, args.timeout))
            print(f"{tool} {doc.name}: {scores[-1].cells_right}/{scores[-1].gold_cells} "
                  f"{scores[-1].seconds:.1f}s", file=sys.stderr)
        results[tool] = scores

    subsets = [s for s in SUBSETS if any(d.subset == s for d in docs)]
    print(f"\nCorpus: {len(docs)} documents, "
          f"{sum(len(d.alternatives[0]) for d in docs)} gold tables (one per page), "
          f"{sum(g.cells for d in docs for g in d.alternatives[0])} gold cells\n")
    header = ["tool"] + [f"{s} cells right" for s in subsets if s != "negatives"] + \
             ["all cells right", "tables not found", "false tables", "false tables on negatives", "seconds", "errors"]
    rows = []
    for tool, scores in results.items():
        if scores is None:
            rows.append([tool] + ["not installed"] * (len(header) - 1))
            continue
        every = totals(scores)
        by_subset = {s: totals(x for x in scores if x.subset == s) for s in subsets}
        rows.append([tool]
                    + [f"{_pct(by_subset[s].cells_right, by_subset[s].gold_cells)} "
                       f"({by_subset[s].cells_right}/{by_subset[s].gold_cells})" for s in subsets if s != "negatives"]
                    + [_pct(every.cells_right, every.gold_cells),
                       f"{every.tables_not_found} of {every.gold_tables}",
                       str(every.false_tables),
                       str(by_subset["negatives"].false_tables) if "negatives" in by_subset else "-",
                       f"{every.seconds:.0f}", str(every.errors)])
    _print_table(header, rows)

    if args.per_document:
        ran = [t for t, s in results.items() if s is not None]
        print("\nPer document: cells right % (tables not found / false tables, seconds)\n")
        rows = []
        for i, doc in enumerate(docs):
            first = results[ran[0]][i] if ran else None
            row = [doc.name, doc.subset, str(first.gold_tables if first else ""), str(first.gold_cells if first else "")]
            for tool in ran:
                s = results[tool][i]
                cell = f"{_pct(s.cells_right, s.gold_cells)} ({s.tables_not_found}/{s.false_tables}, {s.seconds:.1f}s)"
                row.append(cell + (" ERROR" if s.error else ""))
            rows.append(row)
        _print_table(["document", "subset", "tables", "cells"] + ran, rows)

    if args.misses:
        for tool, scores in results.items():
            for s in scores or []:
                for miss in s.misses + ([f"error: {s.error}"] if s.error else []):
                    print(f"{tool} {s.document}: {miss}")

    if args.json:
        args.json.write_text(json.dumps({
            tool: None if scores is None else {
                "overall": totals(scores).to_dict(),
                "subsets": {s: totals(x for x in scores if x.subset == s).to_dict() for s in subsets},
                "documents": [s.to_dict() for s in scores],
            } for tool, scores in results.items()}, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
