"""Typeset the test review documents of tests/layouts/reviews/*.json.

Each definition is a small review article on another area (CAR T cells in lymphoma and
leukaemia, bispecific antibodies in myeloma, CAR T cells in solid tumours): title, narrative
paragraphs and trial tables whose column sets, labels, group headers and cell forms differ
from the reference review's. They are set with the layout machinery of generate.py (its
journal styles: rules, fonts, page sizes). Their hand-written gold datasets are in
tests/gold/reviews/.

Usage: python -m tests.layouts.reviews OUT_DIR [NAME ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from reportlab.lib.pagesizes import A4, letter

from tests.layouts.generate import Doc, PrintedTable, Style, draw_table, write_paragraphs

REVIEWS = Path(__file__).resolve().parent / "reviews"
PAGE_SIZES = {"A4": A4, "letter": letter}


def review_names() -> list[str]:
    return sorted(p.stem for p in REVIEWS.glob("*.json"))


def load_review(name: str) -> dict:
    return json.loads((REVIEWS / f"{name}.json").read_text("utf-8"))


def printed_tables(review: dict) -> list[PrintedTable]:
    out = []
    for t in review["tables"]:
        labels = [tuple(lbl) for lbl in t["labels"]]
        keys = [f"c{i}" for i in range(len(labels))]
        rows = [[[cell] if cell else [] for cell in row] for row in t["rows"]]
        assert all(len(r) == len(labels) for r in rows), (review["title"], t["number"])
        out.append(PrintedTable(t["number"], t["caption"], labels, keys, rows, set(), set(), t["footnote"]))
    return out


def review_style(review: dict) -> Style:
    options = dict(review["style"])
    options["pagesize"] = PAGE_SIZES[options.get("pagesize", "A4")]
    return Style(**options)


def build_review(name: str, path: Path) -> Path:
    review = load_review(name)
    style = review_style(review)
    doc = Doc(path, style)
    doc.c.setTitle(review["title"])
    doc.c.setFont(doc.body_bold, 14)
    doc.c.drawString(doc.margin, doc.y - 14, review["title"])
    doc.y -= 36
    paragraphs = review["paragraphs"]
    write_paragraphs(doc, paragraphs[:3], style.body_columns)
    for k, table in enumerate(printed_tables(review)):
        doc.new_page(landscape=False)
        draw_table(doc, table)
        write_paragraphs(doc, paragraphs[3 + k: 4 + k], style.body_columns)
    doc.save()
    return path


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for name in argv[1:] or review_names():
        print(build_review(name, out / f"{name}.pdf"))


if __name__ == "__main__":
    main(sys.argv[1:])
