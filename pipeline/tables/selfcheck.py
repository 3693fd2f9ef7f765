"""A table's self-check: what the page geometry could not guarantee, said out loud.

The check reads the assembled table (and the chunks it came from) and returns messages for
the table's warnings (warnings.json, the CLI summary); the table itself is left as it is:

- no row taken from another table: no row lies outside its chunk's table region or inside
  another table's region;
- cells the text layer cannot give as printed: "(cid:12)" glyph codes, U+FFFD, private-use
  code points, and a range whose dash came out as a letter ("12e15" among "10–14" ranges).

Columns that disagree across chunks are reported where chunks are merged (assemble.py) and
by pipeline/sanity.py, which also reports text in a numeric column.
"""

from __future__ import annotations

import re

from pipeline.records import BBox, Table
from pipeline.tables.locate import TableChunk

RANGE_RE = re.compile(r"^\d+(?:\.\d+)?\s*[–—-]\s*\d+(?:\.\d+)?$")
LETTER_RANGE_RE = re.compile(r"^\d+(?:\.\d+)?[a-zA-Z]\d+(?:\.\d+)?$")
UNREADABLE_RE = re.compile(r"\(cid:\d+\)|\ufffd|[\ue000-\uf8ff]")
MISSING = {"", "-", "–", "—", "na", "n/a", "nr", "nd", "ne", "…", "..."}


def _name(table: Table) -> str:
    return f"Table {table.label}" if table.label else f"the table without a caption on page {table.pages[0]}"


def _inside(box: BBox, region: BBox, tol: float = 2.0) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] - tol <= cx <= region[2] + tol and region[1] - tol <= cy <= region[3] + tol


def check_table(table: Table, chunks: list[TableChunk], others: list[TableChunk]) -> list[str]:
    """Self-check messages for *table*, read from *chunks*; *others* are the other tables' chunks."""
    where = _name(table)
    out: list[str] = []
    regions = {(c.page, c.table_box) for c in chunks}
    foreign = [(c.page, c.table_box) for c in others]
    for row in table.rows:
        own = any(page == row.page and _inside(row.bbox, box, 4.0) for page, box in regions)
        other = any(page == row.page and _inside(row.bbox, box) for page, box in foreign)
        if not own or other:
            out.append(f"{where} row {row.row}: lies {'in another table' if other else 'outside the table'} "
                       f"on page {row.page}")
    for key in table.columns:
        cells = [(row.row, row.cells[key].text) for row in table.rows if key in row.cells]
        present = [(r, t) for r, t in cells if t.strip().lower() not in MISSING]
        ranges = sum(1 for _, t in present if RANGE_RE.match(t))
        for r, text in present:
            if UNREADABLE_RE.search(text):
                out.append(f"{where} row {r}, column {key}: {text!r} has glyphs the text layer "
                           f"does not name; compare with the page")
            elif ranges >= 2 and LETTER_RANGE_RE.match(text):
                out.append(f"{where} row {r}, column {key}: {text!r} reads like a range whose dash "
                           f"came out as a letter; compare with the page")
    return out
