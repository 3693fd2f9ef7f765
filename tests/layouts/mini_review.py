"""A one-page "review" with one trial table, for tests that need several reviews (landscape).

The table uses labels of the column vocabulary; rows and the printed publication date are the
caller's, so a test can make reviews that share trials with the bundled one, disagree with it,
and publish revisions.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas as rl_canvas

from tests.layouts.generate import PARAGRAPHS, font_names, wrap
from tests.layouts.small import ruled_table

LABELS = ["Trial ID", "Product", "Phase", "Status", "No. of patients", "ORR (%)", "Country"]
XS = [50, 120, 215, 265, 345, 415, 470]


def mini_review_pdf(path: Path, title: str, rows: list[list[str]], published: str) -> Path:
    """*rows*: one list of 7 cells per trial, in LABELS order. *published*: "12 March 2024"."""
    regular, bold = font_names("sans")
    c = rl_canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(title)
    w, h = A4
    c.setFont(bold, 15)
    c.drawString(50, h - 70, title)
    y = h - 100
    c.setFont(regular, 10)
    for line in wrap(PARAGRAPHS[2], regular, 10, w - 100):
        c.drawString(50, y, line)
        y -= 12.5
    y -= 20
    ruled_table(c, (regular, bold), y, "Clinical trials of cell therapies discussed in this review",
                XS, LABELS, rows)
    c.setFont(regular, 7)
    c.drawString(50, 60, f"Received: 2 January 2024 Accepted: 1 February 2024 Published online: {published}")
    c.showPage()
    c.save()
    return path
