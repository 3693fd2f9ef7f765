"""One table metric for every tool on the development corpus (tests/realworld/).

Gold: each printed table (per page) as a grid of cell strings. Prediction: whatever a
tool returns per page, turned into a grid. A gold table is compared with the predicted
table on the same page that shares most cells with it, under the best global
(row, column) offset between the two grids; cells are equal after :func:`normalise`.

What is counted, per document:
- gold cells: non-empty cells of the gold grids (spanning cells count once, at their
  start position, as the ICDAR 2013 grids place them);
- cells right: gold cells whose text equals the predicted cell at the aligned position;
- tables not found: gold tables no predicted table shares a cell with;
- false tables: predicted tables on a table-free document; predicted tables that do not
  overlap any gold table region (where regions are known, ICDAR); predicted tables on
  pages without any gold table (articles, whose regions are not recorded).

The ICDAR 2013 documents with alternative ground truths (``us-011a``/``us-011b``) are
scored against each, and the better one counts (the competition's own rule).

Imported by ``scripts/benchmark_tables.py`` (all tools, whole corpus) and
``tests/test_corpus_tables.py`` (our engine, regression floors).
"""

from __future__ import annotations

import csv
import json
import re
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
ICDAR_DIR = CORPUS / "icdar2013"
ARTICLES_DIR = CORPUS / "articles"
MANIFEST = CORPUS / "articles.json"

Grid = list[list[str]]
BBox = tuple[float, float, float, float]  # x0, top, x1, bottom (origin top-left, PDF points)

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_QUOTES = {**dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u00b4`"), "'"),
           **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033"), '"')}


def normalise(text: str | None) -> str:
    """Cell text as compared: NFKC, unicode dashes/quotes as ASCII, whitespace collapsed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).translate(_DASHES).translate(_QUOTES)
    return " ".join(text.split())


# ----------------------------------------------------------------------------- records


@dataclass
class GoldTable:
    name: str  # e.g. "table 2" or "table 2 page 6"
    page: int  # 1-based
    grid: Grid
    region: BBox | None = None  # known for ICDAR, not for the articles

    @property
    def cells(self) -> int:
        return sum(1 for row in self.grid for cell in row if normalise(cell))


@dataclass
class Document:
    name: str
    subset: str  # "icdar2013", "articles" or "negatives"
    pdf: Path
    alternatives: list[list[GoldTable]]  # one gold reading, or several (ICDAR a/b); [[]] = no table

    @property
    def regions_known(self) -> bool:
        return self.subset == "icdar2013"


@dataclass
class PredictedTable:
    page: int  # 1-based
    grid: Grid
    bbox: BBox | None = None


@dataclass
class DocumentScore:
    document: str
    subset: str
    gold_tables: int
    gold_cells: int
    cells_right: int = 0
    tables_not_found: int = 0
    false_tables: int = 0
    predicted_tables: int = 0
    seconds: float = 0.0
    error: str = ""
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.cells_right / self.gold_cells if self.gold_cells else 1.0

    def to_dict(self) -> dict:
        return {**asdict(self), "accuracy": round(self.accuracy, 4)}


@dataclass
class Totals:
    documents: int = 0
    gold_tables: int = 0
    gold_cells: int = 0
    cells_right: int = 0
    tables_not_found: int = 0
    false_tables: int = 0
    seconds: float = 0.0
    errors: int = 0

    @property
    def accuracy(self) -> float:
        return self.cells_right / self.gold_cells if self.gold_cells else 1.0

    def to_dict(self) -> dict:
        return {**asdict(self), "accuracy": round(self.accuracy, 4)}


def totals(scores: Iterable[DocumentScore]) -> Totals:
    out = Totals()
    for s in scores:
        out.documents += 1
        out.gold_tables += s.gold_tables
        out.gold_cells += s.gold_cells
        out.cells_right += s.cells_right
        out.tables_not_found += s.tables_not_found
        out.false_tables += s.false_tables
        out.seconds += s.seconds
        out.errors += bool(s.error)
    return out


# ----------------------------------------------------------------------------- metric


def best_offset(gold: Grid, predicted: Grid) -> tuple[int, tuple[int, int]]:
    """(cells right, (row, column) offset) for the offset under which most gold cells match.

    Every pair of equal non-empty cells votes for the offset that aligns them; the
    offset with most votes is the best global alignment (0 cells when nothing matches).
    """
    where: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r, row in enumerate(predicted):
        for c, cell in enumerate(row):
            text = normalise(cell)
            if text:
                where[text].append((r, c))
    votes: Counter[tuple[int, int]] = Counter()
    for r, row in enumerate(gold):
        for c, cell in enumerate(row):
            text = normalise(cell)
            for pr, pc in where.get(text, ()) if text else ():
                votes[(pr - r, pc - c)] += 1
    if not votes:
        return 0, (0, 0)
    # Most votes; among ties the smallest shift, so the choice does not depend on dict order.
    offset, count = max(votes.items(), key=lambda kv: (kv[1], -abs(kv[0][0]) - abs(kv[0][1]), kv[0]))
    return count, offset


def _overlaps(a: BBox, b: BBox) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0 and min(a[3], b[3]) - max(a[1], b[1]) > 0


def score_reading(doc: Document, gold: list[GoldTable], predicted: Sequence[PredictedTable]) -> DocumentScore:
    """Score *predicted* against one gold reading of *doc*."""
    score = DocumentScore(doc.name, doc.subset, gold_tables=len(gold), gold_cells=sum(g.cells for g in gold),
                          predicted_tables=len(predicted))
    pairs = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(predicted):
            if p.page == g.page:
                right, _ = best_offset(g.grid, p.grid)
                if right:
                    pairs.append((right, gi, pi))
    matched_gold: dict[int, int] = {}
    used: set[int] = set()
    for right, gi, pi in sorted(pairs, key=lambda t: (-t[0], t[1], t[2])):
        if gi not in matched_gold and pi not in used:
            matched_gold[gi] = right
            used.add(pi)
    score.cells_right = sum(matched_gold.values())
    for gi, g in enumerate(gold):
        if gi not in matched_gold:
            score.tables_not_found += 1
            score.misses.append(f"{g.name} (page {g.page}): not found")
        elif matched_gold[gi] < g.cells:
            score.misses.append(f"{g.name} (page {g.page}): {matched_gold[gi]}/{g.cells} cells")
    gold_pages = {g.page for g in gold}
    for p in predicted:
        if not gold:
            false = True
        elif doc.regions_known and p.bbox is not None:
            false = not any(g.page == p.page and g.region is not None and _overlaps(g.region, p.bbox)
                            for g in gold)
        else:
            false = p.page not in gold_pages
        score.false_tables += false
    return score


def score_document(doc: Document, predicted: Sequence[PredictedTable]) -> DocumentScore:
    """The best score over the document's gold readings."""
    scores = [score_reading(doc, gold, predicted) for gold in doc.alternatives]
    return max(scores, key=lambda s: (s.cells_right, -s.tables_not_found, -s.false_tables))


Extractor = Callable[[Path], list[PredictedTable]]


def run_tool(extract: Extractor, doc: Document) -> DocumentScore:
    """Run one tool on one document and score it; a crash scores nothing and is reported."""
    start = time.perf_counter()
    try:
        predicted = extract(doc.pdf)
        error = ""
    except Exception as exc:  # a peer crashing on a document is a result, not a benchmark failure
        predicted, error = [], f"{type(exc).__name__}: {exc}"[:300]
    seconds = time.perf_counter() - start
    score = score_document(doc, predicted)
    score.seconds = round(seconds, 3)
    score.error = error
    return score


# ----------------------------------------------------------------------------- gold


def page_heights(pdf: Path) -> dict[int, tuple[float, float]]:
    """(page height, y offset of the media box) per page, to turn PDF coordinates (origin
    bottom-left: ICDAR regions, camelot) into top-left page coordinates."""
    import pdfplumber

    with pdfplumber.open(pdf) as handle:
        return {i + 1: (float(p.mediabox[3]), float(p.mediabox[1])) for i, p in enumerate(handle.pages)}


def read_icdar_tables(structure_xml: Path, heights: dict[int, tuple[float, float]]) -> list[GoldTable]:
    """Gold tables of one ``-str.xml`` (cell grids) with the regions of its ``-reg.xml``.

    A cell sits at (start-row + row-increment, start-col + col-increment) of its table: a
    table printed as several side-by-side regions is one grid. Spanning cells are placed
    at their start position. Region boxes are turned to top-left page coordinates.
    """
    structure = ET.parse(structure_xml).getroot()
    regions_xml = structure_xml.with_name(structure_xml.name.replace("-str.xml", "-reg.xml"))
    boxes: dict[str, list[tuple[int, BBox]]] = defaultdict(list)
    for table in ET.parse(regions_xml).getroot().iter("table"):
        for region in table.iter("region"):
            page = int(region.get("page"))
            box = region.find("bounding-box")
            top_of_page, y0 = heights.get(page, (0.0, 0.0))
            x1, y1, x2, y2 = (float(box.get(k)) for k in ("x1", "y1", "x2", "y2"))
            boxes[table.get("id")].append((page, (x1, top_of_page - (y2 - y0), x2, top_of_page - (y1 - y0))))
    out = []
    for table in structure.iter("table"):
        by_page: dict[int, dict[tuple[int, int], str]] = defaultdict(dict)
        for region in table.iter("region"):
            page = int(region.get("page"))
            dr, dc = int(region.get("row-increment", 0)), int(region.get("col-increment", 0))
            for cell in region.iter("cell"):
                pos = (int(cell.get("start-row")) + dr, int(cell.get("start-col")) + dc)
                by_page[page][pos] = cell.findtext("content") or ""
        for page, cells in sorted(by_page.items()):
            n_rows = max(r for r, _ in cells) + 1
            n_cols = max(c for _, c in cells) + 1
            grid = [["" for _ in range(n_cols)] for _ in range(n_rows)]
            for (r, c), text in cells.items():
                grid[r][c] = text
            page_boxes = [b for p, b in boxes.get(table.get("id"), []) if p == page]
            region = (min(b[0] for b in page_boxes), min(b[1] for b in page_boxes),
                      max(b[2] for b in page_boxes), max(b[3] for b in page_boxes)) if page_boxes else None
            out.append(GoldTable(f"table {table.get('id')}", page, grid, region))
    return out


def icdar_documents() -> list[Document]:
    docs = []
    for pdf in sorted(ICDAR_DIR.glob("*.pdf")):
        stem = pdf.stem.rstrip("ab") if re.search(r"\d[ab]$", pdf.stem) else pdf.stem
        readings = sorted(ICDAR_DIR.glob(f"{stem}-str.xml")) or sorted(ICDAR_DIR.glob(f"{stem}[ab]-str.xml"))
        heights = page_heights(pdf)
        docs.append(Document(stem, "icdar2013", pdf, [read_icdar_tables(x, heights) for x in readings]))
    return docs


def _read_csv(path: Path) -> Grid:
    with open(path, newline="", encoding="utf-8") as handle:
        return [list(row) for row in csv.reader(handle)]


def article_tables(folder: Path, page_rows: dict[str, list[int]] | None = None) -> list[GoldTable]:
    """Gold tables of one transcribed article (``../shared/realworld`` format), one per page.

    A table printed over several pages is cut into its pages by ``page_rows`` (body rows
    printed on each page), from tables.json or the manifest; the header row goes with the
    first page, as the printed repeat of a header is not part of the gold.
    """
    meta = json.loads((folder / "tables.json").read_text("utf-8"))
    out = []
    for entry in meta:
        number = entry["table"]
        grid = _read_csv(folder / f"table{number}.csv")
        header, body = grid[:1], grid[1:]
        pages = entry["pages"]
        counts = entry.get("page_rows") or (page_rows or {}).get(str(number)) or [len(body)]
        if len(pages) != len(counts) or sum(counts) != len(body):
            raise ValueError(f"{folder.name} table {number}: page_rows {counts} do not split {len(body)} rows "
                             f"over pages {pages}")
        start = 0
        for i, (page, count) in enumerate(zip(pages, counts)):
            part = body[start:start + count]
            start += count
            name = f"table {number}" if len(pages) == 1 else f"table {number} page {page}"
            out.append(GoldTable(name, page, (header if i == 0 else []) + part))
    return out


def article_documents() -> list[Document]:
    """The transcribed articles and the table-free negatives listed in articles.json."""
    if not MANIFEST.exists():
        return []
    docs = []
    for entry in json.loads(MANIFEST.read_text("utf-8")):
        folder = (CORPUS / entry["folder"]).resolve()
        if entry.get("negative"):
            docs.append(Document(entry["name"], "negatives", folder / "article.pdf", [[]]))
        else:
            docs.append(Document(entry["name"], "articles", folder / "article.pdf",
                                 [article_tables(folder, entry.get("page_rows"))]))
    return docs


def corpus_documents(subsets: Iterable[str] | None = None) -> list[Document]:
    wanted = set(subsets) if subsets else {"icdar2013", "articles", "negatives"}
    docs = icdar_documents() if "icdar2013" in wanted else []
    return docs + [d for d in article_documents() if d.subset in wanted]


# ----------------------------------------------------------------------------- our engine


def header_rows(labels: Sequence[str], groups: Sequence[str], stacked: bool,
                level_with_groups: Sequence[bool] = ()) -> Grid:
    """The printed header as grid rows, written the way the subset's gold writes it.

    *groups* is the group header over each column ("" when none); *labels* are
    ``Table.labels``, which carry the group as a "group: label" prefix. ICDAR 2013's gold
    (*stacked*) gives a group a row of its own above the labels, its text at the first
    column it spans, and a label with no group that starts level with the groups
    (*level_with_groups*) in that first row (it spans both);
    the articles' gold joins a header printed over several lines into one label
    ("1-best baseline").
    """
    groups = list(groups) or [""] * len(labels)
    names = [label[len(group) + 2:] if group and label.startswith(group + ": ") else label
             for label, group in zip(labels, groups)]
    if not any(groups):
        return [names]
    if not stacked:
        return [[f"{g} {n}".strip() for g, n in zip(groups, names)]]
    # A label with no group over it that starts level with the group headers spans both header
    # rows: it is placed in the first, as ICDAR places a spanning cell at its start.
    high = list(level_with_groups) or [False] * len(labels)
    group_row = [(g if i == 0 or groups[i - 1] != g else "") if g else (n if h else "")
                 for i, (g, n, h) in enumerate(zip(groups, names, high))]
    return [group_row, ["" if h else n for n, h in zip(names, high)]]


def _gold_stacks_groups(pdf: Path) -> bool:
    """Does the gold of the subset *pdf* belongs to write a group header as a row of its own?"""
    return pdf.resolve().is_relative_to(ICDAR_DIR.resolve())


def review_extract_tables(pdf: Path) -> list[PredictedTable]:
    """review-extract's tables, one predicted grid per page: header rows + body rows."""
    from pipeline.pdf_loader import load_pdf
    from pipeline.tables import extract_tables, table_records

    doc = load_pdf(pdf)
    tables, _ = extract_tables(doc)
    out = []
    for table in tables:
        rows_by_page: dict[int, list] = defaultdict(list)
        for row, record in zip(table.rows, table_records(table)):
            rows_by_page[row.page].append((row, [str(record[key]) for key in table.columns]))
        for i, page in enumerate(sorted(rows_by_page)):
            rows = rows_by_page[page]
            header = header_rows(table.labels, table.groups, _gold_stacks_groups(pdf),
                                 table.labels_level_with_groups) if i == 0 else []
            grid = header + [cells for _, cells in rows]
            box = (min(r.bbox[0] for r, _ in rows), min(r.bbox[1] for r, _ in rows),
                   max(r.bbox[2] for r, _ in rows), max(r.bbox[3] for r, _ in rows))
            out.append(PredictedTable(page, grid, box))
    return out
