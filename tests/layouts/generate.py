"""Typeset the gold tables (tests/gold/table*.csv) in the layouts journals use.

Each style is one PDF: a title, narrative paragraphs in one or two columns, and the four
gold tables with their captions, headers (group headers included), stacked multi-item
cells, spanning cells printed once per group, "NCT… [ref]" cells and footnotes, split over
pages. Styles vary the rules (booktabs, full grid, a rule under every row, none), zebra
shading, caption above or below, continuation pages with or without a "(continued)"
caption and with or without a repeated header, A4 or US Letter, landscape pages turned by
/Rotate 90/270 or drawn with a rotated text matrix, fonts, sizes and column widths.

Usage: python -m tests.layouts.generate OUT_DIR [STYLE ...]
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from reportlab.lib.pagesizes import A4, letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas

GOLD = Path(__file__).resolve().parents[1] / "gold"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {  # family -> (regular file, bold file)
    "sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
    "condensed": ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"),
    "mono": ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
}
MULTI_ITEM = {"mechanism", "regimen"}
SPANNING = {2: {"strategy"}}  # printed once per group of equal values (a multirow cell)

PARAGRAPHS = [
    "Chimeric antigen receptor T cell therapy has changed the treatment of relapsed and refractory "
    "multiple myeloma over the last decade. Early trials reported deep responses in heavily pretreated "
    "patients, and two products are now approved for routine use in several countries.",
    "Manufacturing remains a bottleneck for many centres. The time from apheresis to infusion can exceed "
    "several weeks, and patients with rapidly progressing disease often need bridging therapy while they "
    "wait for their cells to be produced and released.",
    "Antigen escape limits the durability of responses. Tumour cells that lose or shed the target antigen "
    "are no longer recognised, which motivates dual targeting, tandem receptors and combinations with "
    "other immunotherapies that act on different pathways.",
    "Toxicity management has improved with experience. Cytokine release syndrome and neurotoxicity are "
    "now graded with consensus criteria, and early intervention with receptor antagonists or steroids "
    "reduces the share of severe events without lowering the response rate.",
    "The tables below summarise registered clinical trials, their phase, status, enrolment and the "
    "outcomes reported so far. Each trial is listed with its registry identifier and, where available, "
    "the citation of the publication that reported its results.",
    "Long term follow up will show whether responses persist and which patients benefit most. Sequencing "
    "with bispecific antibodies, the role of consolidation and the cost of treatment are open questions "
    "that ongoing trials are designed to answer in the coming years.",
]


@dataclass(frozen=True)
class Style:
    name: str
    pagesize: tuple[float, float] = A4
    landscape: str | None = None  # None | "rotate90" | "rotate270" | "matrix"
    body_columns: int = 2
    font: str = "sans"
    size: float = 7.0
    rules: str = "booktabs"  # booktabs | grid | hrules | none
    zebra: bool = False
    header_fill: bool = False
    header_bold: bool = False
    row_gap: float = 4.0  # extra space between rows (pt)
    caption: str = "above"  # above | below
    cont_caption: bool = True
    repeat_header: bool = True
    width_scale: float = 1.0  # share of the text width the tables use
    rows_per_page: int | None = None  # force a page break every N rows (continuations)
    vpad: float = 3.0  # cell padding above and below the text (pt)
    spaceless: bool = False  # no space characters in the text layer: words placed one by one


STYLES = {s.name: s for s in [
    # The reference's own look: three rules, extra row spacing, A4, two-column text.
    Style("booktabs_a4_2col", size=6.5),
    # Full grid, no row spacing, US Letter, single-column text, serif; continuation pages
    # repeat the caption but not the header.
    Style("grid_letter_1col", pagesize=letter, body_columns=1, font="serif", size=6.8, rules="grid",
          row_gap=1.0, repeat_header=False),
    # A rule under every row, captions below the table, condensed font, narrower table.
    Style("hrules_caption_below", rules="hrules", row_gap=1.5, caption="below", font="condensed",
          size=7.2, width_scale=0.9),
    # No rules at all: zebra-striped rows and a shaded header; continuation pages have no
    # caption (the table just goes on at the top of the next page) but repeat the header.
    Style("zebra_no_rules", pagesize=letter, rules="none", zebra=True, header_fill=True, row_gap=1.5,
          cont_caption=False, size=6.5),
    # No rules, no shading: the table is set apart by white space alone; bold header.
    Style("whitespace_only", rules="none", header_bold=True, row_gap=5.0, body_columns=1, size=7.2),
    # Continuation pages without caption and without a repeated header.
    Style("bare_continuation", cont_caption=False, repeat_header=False, rows_per_page=14, size=6.5),
    # Landscape tables on pages turned by /Rotate 90 (and 270), wide columns.
    Style("landscape_rotate90", landscape="rotate90", size=7.5, font="serif", row_gap=3.0),
    Style("landscape_rotate270", landscape="rotate270", size=7.0, rules="hrules", row_gap=1.5,
          pagesize=letter),
    # Landscape table drawn with a rotated text matrix on an upright page (no /Rotate).
    Style("landscape_matrix", landscape="matrix", size=7.0, font="condensed", repeat_header=False),
    # Rows set at the line pitch (no extra spacing): only the rules, or the stripes, tell
    # a new row from a wrapped line.
    Style("tight_hrules", rules="hrules", row_gap=0.0, vpad=0.6, size=6.8, font="serif", body_columns=1),
    Style("tight_zebra", rules="none", zebra=True, header_bold=True, row_gap=0.0, vpad=0.6, size=6.5,
          pagesize=letter),
    # A text layer without space characters (as some publishers' PDFs have): every word is
    # placed on its own, the spaces exist only as gaps.
    Style("spaceless_serif", font="serif", size=6.5, spaceless=True, rules="hrules", row_gap=1.5),
    # A wide monospaced font: cells wrap very differently.
    Style("mono_narrow", font="mono", size=6.0, rules="hrules", row_gap=2.0, width_scale=1.0),
]}


# ----------------------------------------------------------------------------- data

@dataclass
class PrintedTable:
    number: int
    caption: str
    labels: list[tuple[str, str]]  # (group, label) per printed column
    keys: list[str]  # gold key per printed column
    rows: list[list[list[str]]]  # printed cell paragraphs: one list of items per cell
    spanning: set[int]
    multi: set[int]
    footnote: str


def load_tables() -> list[PrintedTable]:
    meta = {t["table"]: t for t in json.loads((GOLD / "tables.json").read_text("utf-8"))}
    out = []
    for number in sorted(meta):
        with open(GOLD / f"table{number}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        keys = [k for k in rows[0] if k not in ("table", "row", "block", "ref")]
        labels = []
        for label in meta[number]["columns"]:
            group, _, name = label.rpartition(": ")
            labels.append((group, name))
        assert len(labels) == len(keys), number
        spanning = {keys.index(k) for k in SPANNING.get(number, set())}
        printed = []
        last: dict[int, str] = {}
        for row in rows:
            cells = []
            for i, key in enumerate(keys):
                value = row[key]
                if key == "nct" and row.get("ref"):
                    value = f"{value} [{row['ref']}]"
                if i in spanning:
                    if last.get(i) == value:
                        value = ""
                    else:
                        last[i] = value
                items = value.split("\n") if key in MULTI_ITEM else [value]
                cells.append([it for it in items if it])
            printed.append(cells)
        out.append(PrintedTable(number, meta[number]["caption"], labels, keys, printed, spanning,
                                {keys.index(k) for k in keys if k in MULTI_ITEM}, meta[number]["footnote"]))
    return out


# ----------------------------------------------------------------------------- fonts / text

_REGISTERED: set[str] = set()


def fonts_available() -> bool:
    return all((FONT_DIR / f).exists() for pair in FONTS.values() for f in pair)


def font_names(family: str) -> tuple[str, str]:
    regular, bold = FONTS[family]
    names = (Path(regular).stem, Path(bold).stem)
    for name, file in zip(names, (regular, bold)):
        if name not in _REGISTERED:
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file)))
            _REGISTERED.add(name)
    return names


def width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


def wrap(text: str, font: str, size: float, max_width: float) -> list[str]:
    """Greedy line breaking at spaces (a word longer than the width stays whole)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if current and width(trial, font, size) > max_width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


# ----------------------------------------------------------------------------- document

class SpacelessCanvas(rl_canvas.Canvas):
    """A canvas whose text has no space characters: each word is drawn at its own position."""

    def drawString(self, x, y, text, *args, **kwargs):  # noqa: N802 - reportlab's name
        space = pdfmetrics.stringWidth(" ", self._fontname, self._fontsize)
        for word in text.split(" "):
            if word:
                super().drawString(x, y, word, *args, **kwargs)
            x += pdfmetrics.stringWidth(word, self._fontname, self._fontsize) + space

    def drawRightString(self, x, y, text, *args, **kwargs):  # noqa: N802
        self.drawString(x - pdfmetrics.stringWidth(text, self._fontname, self._fontsize), y, text)


class Doc:
    """A reportlab canvas with page bookkeeping: running head, folio, page turns."""

    def __init__(self, path: Path, style: Style):
        self.style = style
        self.regular, self.bold = font_names(style.font)
        self.body_font, self.body_bold = font_names("serif" if style.font != "serif" else "sans")
        canvas_class = SpacelessCanvas if style.spaceless else rl_canvas.Canvas
        self.c = canvas_class(str(path), pagesize=style.pagesize, pageCompression=1)
        self.c.setTitle(f"Layout test document ({style.name})")
        self.page_w, self.page_h = style.pagesize
        self.page_no = 0
        self.landscape_page = False
        self.new_page(landscape=False, first=True)

    # Frame of the current page in drawing coordinates (y up): width, height.
    @property
    def frame(self) -> tuple[float, float]:
        if self.landscape_page:
            return self.page_h, self.page_w
        return self.page_w, self.page_h

    def new_page(self, landscape: bool, first: bool = False) -> None:
        if not first:
            self.c.restoreState()
            self.c.showPage()
        self.page_no += 1
        self.c.saveState()
        self.landscape_page = landscape and self.style.landscape is not None
        w, h = self.page_w, self.page_h
        turned = self.landscape_page and self.style.landscape in ("rotate90", "rotate270")
        # reportlab swaps the media box of a page with /Rotate 90/270: give it the turned size
        # so the media box stays portrait and /Rotate turns it to landscape on screen.
        self.c.setPageSize((h, w) if turned else (w, h))
        self.c.setPageRotation(0)
        # The running head is set upright on the physical page: sideways on landscape pages.
        self.c.setFont(self.body_font, 8)
        self.c.drawString(50, h - 30, "Layout Test Journal (2024) 12:102")
        self.c.drawRightString(w - 50, h - 30, f"Page {self.page_no}")
        if self.landscape_page:
            mode = self.style.landscape
            if mode == "rotate90":
                self.c.setPageRotation(90)
                self.c.transform(0, 1, -1, 0, w, 0)
            elif mode == "rotate270":
                self.c.setPageRotation(270)
                self.c.transform(0, -1, 1, 0, 0, h)
            else:  # "matrix": the reader turns the page; text runs up the page
                self.c.transform(0, 1, -1, 0, w, 0)
        fw, fh = self.frame
        self.margin = 40 if not self.landscape_page else 50
        self.top = fh - 55
        self.bottom = 55
        self.y = self.top

    def save(self) -> None:
        self.c.restoreState()
        self.c.showPage()
        self.c.save()


def write_paragraphs(doc: Doc, paragraphs: list[str], columns: int) -> None:
    """Narrative text in one or two columns from doc.y down, turning pages as needed."""
    size, leading = 10.0, 12.5
    fw, _ = doc.frame
    gutter = 18
    col_w = (fw - 2 * doc.margin - (columns - 1) * gutter) / columns
    lines: list[tuple[str, bool]] = []  # (text, ends paragraph)
    for para in paragraphs:
        wrapped = wrap(para, doc.body_font, size, col_w)
        lines += [(ln, i == len(wrapped) - 1) for i, ln in enumerate(wrapped)]
    col = 0
    y = doc.y - size
    top = doc.y - size
    while lines:
        text, end = lines.pop(0)
        doc.c.setFont(doc.body_font, size)
        doc.c.drawString(doc.margin + col * (col_w + gutter), y, text)
        y -= leading + (0.6 * leading if end else 0)
        if y < doc.bottom and lines:
            col += 1
            if col >= columns:
                doc.new_page(landscape=False)
                col, top = 0, doc.y - size
            y = top
    doc.y = y - 6 if col == 0 or columns == 1 else min(y, doc.y) - 6


@dataclass
class Layout:
    x: list[float]  # left edge of each column
    w: list[float]  # width of each column
    pad: float


def column_layout(table: PrintedTable, font: str, bold: str, size: float, avail: float) -> Layout:
    pad = 3.0
    n = len(table.keys)
    natural, minimum = [0.0] * n, [0.0] * n
    for row in table.rows:
        for i, items in enumerate(row):
            for item in items:
                w = width(item, font, size)
                natural[i] = max(natural[i], w)
                longest = w if i in table.multi else max(width(t, font, size) for t in item.split(" "))
                minimum[i] = max(minimum[i], longest)
    for i, (_, label) in enumerate(table.labels):
        minimum[i] = max(minimum[i], max(width(t, bold, size) for t in label.split(" ")))
        natural[i] = max(natural[i], min(width(label, bold, size), 60))
    for i in table.spanning:  # a multirow label column stays narrow: its text spans rows
        natural[i] = min(natural[i], max(minimum[i], 70))
    total_min = sum(minimum) + 2 * pad * n
    if total_min > avail:
        raise ValueError(f"table {table.number} does not fit: {total_min:.0f} > {avail:.0f}")
    extra = avail - total_min
    slack = [max(0.0, natural[i] - minimum[i]) for i in range(n)]
    share = sum(slack) or 1.0
    widths = [minimum[i] + 2 * pad + min(slack[i], extra * slack[i] / share) for i in range(n)]
    xs, x = [], 0.0
    for w in widths:
        xs.append(x)
        x += w
    return Layout(xs, widths, pad)


def draw_table(doc: Doc, table: PrintedTable) -> None:
    st = doc.style
    if st.landscape is not None:
        doc.new_page(landscape=True)
    font, bold = doc.regular, doc.bold
    head_font = bold if st.header_bold else font
    fw, _ = doc.frame
    avail = (fw - 2 * doc.margin) * st.width_scale
    size = st.size
    while True:  # a wide table is set in a smaller size, as journals do
        try:
            lay = column_layout(table, font, head_font, size, avail)
            break
        except ValueError:
            if size <= 4.5:
                raise
            size = round(size - 0.25, 2)
    lead = round(size * 1.22, 2)
    x0 = doc.margin
    x1 = x0 + sum(lay.w)
    n = len(table.keys)

    # Header: group headers over their columns, then the labels.
    groups: list[tuple[str, int, int]] = []  # (text, first col, last col)
    for i, (group, _) in enumerate(table.labels):
        if group and groups and groups[-1][0] == group and groups[-1][2] == i - 1:
            groups[-1] = (group, groups[-1][1], i)
        elif group:
            groups.append((group, i, i))
    group_lines = {g[1]: wrap(g[0], head_font, size, sum(lay.w[g[1]:g[2] + 1]) - 2 * lay.pad) for g in groups}
    group_depth = max((len(v) for v in group_lines.values()), default=0)
    label_lines = [wrap(lbl, head_font, size, lay.w[i] - 2 * lay.pad) for i, (_, lbl) in enumerate(table.labels)]
    grouped = {i for g in groups for i in range(g[1], g[2] + 1)}
    gap_after_group = 0.9 * size
    header_h = max(
        max((len(label_lines[i]) for i in range(n) if i not in grouped), default=0) * lead,
        (group_depth * lead + gap_after_group + max((len(label_lines[i]) for i in grouped), default=0) * lead)
        if grouped else 0,
    ) + 2 * lay.pad

    # Body rows: lines per cell; a spanning cell may need more height than its group's rows.
    cell_lines = []
    for row in table.rows:
        cl = []
        for i, items in enumerate(row):
            if i in table.multi:
                cl.append(list(items))
            else:
                text = items[0] if items else ""
                cl.append(wrap(text, font, size, lay.w[i] - 2 * lay.pad) if text else [])
        cell_lines.append(cl)
    row_h = []
    for cl in cell_lines:
        lines = max((len(c) for i, c in enumerate(cl) if i not in table.spanning), default=1)
        row_h.append(max(lines, 1) * lead + 2 * st.vpad + st.row_gap)
    # Groups of a spanning column: rows from one printed value to the next.
    group_end: dict[int, int] = {}
    for i in table.spanning:
        starts = [r for r, cl in enumerate(cell_lines) if cl[i]] + [len(cell_lines)]
        for a, b in zip(starts, starts[1:]):
            need = len(cell_lines[a][i]) * lead + 2 * st.vpad + st.row_gap
            have = sum(row_h[a:b])
            if need > have:
                row_h[b - 1] += need - have
            # Rows under the spanning text must stay on its page.
            covered, r = 0.0, a
            while r < b and covered < need:
                covered += row_h[r]
                r += 1
            group_end[a] = max(group_end.get(a, a), r - 1)
    no_break_before = set()
    for a, end in group_end.items():
        no_break_before |= set(range(a + 1, end + 1))

    cap_font_size = size + 1.5
    footnote_size = size - 0.5

    def caption_lines(continued: bool) -> list[list[tuple[str, str]]]:
        head = f"Table {table.number}"
        if continued:
            return [[(head, bold), (" (continued)", font)]]
        words = wrap(f"{head} {table.caption}", font, cap_font_size, x1 - x0)
        out = []
        for k, ln in enumerate(words):
            if k == 0:
                out.append([(head, bold), (ln[len(head):], font)])
            else:
                out.append([(ln, font)])
        return out

    def draw_caption(lines, y) -> float:
        for parts in lines:
            x = x0
            for text, f in parts:
                doc.c.setFont(f, cap_font_size)
                doc.c.drawString(x, y - cap_font_size, text)
                x += width(text, f, cap_font_size)
            y -= cap_font_size * 1.25
        return y

    def caption_h(continued: bool) -> float:
        return len(caption_lines(continued)) * cap_font_size * 1.25 + 4

    foot_lines = wrap(table.footnote, font, footnote_size, x1 - x0)
    foot_h = len(foot_lines) * footnote_size * 1.25 + 6

    def draw_header(y: float) -> float:
        top = y
        if st.header_fill:
            doc.c.setFillGray(0.78)
            doc.c.rect(x0, y - header_h, x1 - x0, header_h, stroke=0, fill=1)
            doc.c.setFillGray(0)
        doc.c.setFont(head_font, size)
        for g, first, last in groups:
            gx = x0 + lay.x[first] + lay.pad
            for k, ln in enumerate(group_lines[first]):
                doc.c.drawString(gx, top - lay.pad - size - k * lead, ln)
            if last > first and st.rules != "none":  # a short rule under a group header
                ry = top - lay.pad - group_depth * lead - gap_after_group / 2
                doc.c.setLineWidth(0.4)
                doc.c.line(x0 + lay.x[first] + lay.pad, ry, x0 + lay.x[last] + lay.w[last] - lay.pad, ry)
        for i in range(n):
            ly = top - lay.pad - size
            if i in grouped:
                ly -= group_depth * lead + gap_after_group
            for k, ln in enumerate(label_lines[i]):
                doc.c.drawString(x0 + lay.x[i] + lay.pad, ly - k * lead, ln)
        if st.rules == "grid":
            doc.c.setLineWidth(0.5)
            for i in range(1, n):
                doc.c.line(x0 + lay.x[i], top, x0 + lay.x[i], top - header_h)
        if st.rules != "none":
            doc.c.setLineWidth(0.8)
            doc.c.line(x0, top - header_h, x1, top - header_h)
        return y - header_h

    row = 0
    chunk = 0
    while row < len(table.rows):
        continued = chunk > 0
        if continued:
            doc.new_page(landscape=True)
        y = doc.y
        show_caption = st.caption == "above" and (not continued or st.cont_caption)
        if show_caption:
            y = draw_caption(caption_lines(continued), y) - 2
        # Rows that fit on this page.
        reserve = (caption_h(continued) if st.caption == "below" else 0) + 4
        with_header = not continued or st.repeat_header
        space = y - doc.bottom - reserve - (header_h if with_header else 0)
        last = row
        used = 0.0
        limit = st.rows_per_page
        while last < len(table.rows):
            h = row_h[last]
            if used + h > space or (limit and last - row >= limit):
                break
            used += h
            last += 1
        while last < len(table.rows) and last in no_break_before and last > row + 1:
            used -= row_h[last - 1]
            last -= 1
        if last == len(table.rows) and used + foot_h > space:
            # Leave the footnote room under the last row: move rows to the next page.
            while last > row + 1 and used + foot_h > space:
                last -= 1
                used -= row_h[last]
            while last in no_break_before and last > row + 1:
                last -= 1
                used -= row_h[last]
        table_top = y
        if st.rules in ("booktabs", "hrules", "grid"):
            doc.c.setLineWidth(1.0)
            doc.c.line(x0, y, x1, y)
        if with_header:
            y = draw_header(y)
        body_top = y
        for r in range(row, last):
            h = row_h[r]
            if st.zebra and (r - row) % 2 == 1:
                doc.c.setFillGray(0.9)
                skip = [i for i in table.spanning]
                xa = x0 + (lay.x[max(skip)] + lay.w[max(skip)] if skip else 0)
                doc.c.rect(xa, y - h, x1 - xa, h, stroke=0, fill=1)
                doc.c.setFillGray(0)
            for i in table.spanning if st.zebra else ():
                # A multirow cell has one background: its groups are banded in turn.
                group_no = sum(1 for k in range(0, r + 1) if cell_lines[k][i]) - 1
                if group_no % 2 == 1:
                    doc.c.setFillGray(0.84)
                    doc.c.rect(x0 + lay.x[i], y - h, lay.w[i], h, stroke=0, fill=1)
                    doc.c.setFillGray(0)
            doc.c.setFont(font, size)
            for i, lines in enumerate(cell_lines[r]):
                for k, ln in enumerate(lines):
                    doc.c.drawString(x0 + lay.x[i] + lay.pad, y - st.vpad - size - k * lead, ln)
            y -= h
            if st.rules in ("hrules", "grid") and r < last - 1:
                # Under a row: skip a spanning column whose group goes on below.
                doc.c.setLineWidth(0.4)
                xa = x0
                for i in sorted(table.spanning):
                    if r + 1 < len(table.rows) and not cell_lines[r + 1][i]:
                        xa = x0 + lay.x[i] + lay.w[i]
                doc.c.line(xa, y, x1, y)
        if st.rules == "grid":
            doc.c.setLineWidth(0.5)
            for i in range(0, n + 1):
                xx = x0 + (lay.x[i] if i < n else sum(lay.w))
                doc.c.line(xx, table_top, xx, y)
        if st.rules != "none":
            doc.c.setLineWidth(1.0)
            doc.c.line(x0, y, x1, y)
        y -= 3
        if st.caption == "below" and (not continued or st.cont_caption):
            y = draw_caption(caption_lines(continued), y - 2)
        if last == len(table.rows):
            doc.c.setFont(font, footnote_size)
            y -= 2
            for ln in foot_lines:
                doc.c.drawString(x0, y - footnote_size, ln)
                y -= footnote_size * 1.25
        doc.y = y - 14
        row = last
        chunk += 1
        del body_top


def build(style: Style, path: Path) -> Path:
    tables = load_tables()
    doc = Doc(path, style)
    c = doc.c
    fw, _ = doc.frame
    c.setFont(doc.body_bold, 16)
    c.drawString(doc.margin, doc.y - 16, "Clinical trials of cell therapy: a layout test document")
    doc.y -= 40
    write_paragraphs(doc, PARAGRAPHS[:2], style.body_columns)
    for k, table in enumerate(tables):
        if style.landscape is None:
            doc.new_page(landscape=False)
        draw_table(doc, table)
        if style.landscape is not None:
            doc.new_page(landscape=False)
        write_paragraphs(doc, PARAGRAPHS[2 + k: 3 + k], style.body_columns)
    doc.save()
    return path


def random_styles(seed: int, count: int) -> list[Style]:
    """Random combinations of the style options (fixed seed): layouts nobody wrote by hand.

    Combinations a reader could not parse either are left out: rows set at the line pitch
    with neither rules nor stripes between them.
    """
    import random

    rng = random.Random(seed)
    out = []
    while len(out) < count:
        st = Style(f"random{seed}_{len(out)}", pagesize=rng.choice([A4, letter]),
                   landscape=rng.choice([None, None, "rotate90", "rotate270", "matrix"]),
                   body_columns=rng.choice([1, 2]), font=rng.choice(sorted(FONTS)),
                   size=rng.choice([6.0, 6.5, 7.0, 7.5]), rules=rng.choice(["booktabs", "grid", "hrules", "none"]),
                   row_gap=rng.choice([0.0, 1.5, 4.0]), caption=rng.choice(["above", "below"]),
                   cont_caption=rng.choice([True, False]), repeat_header=rng.choice([True, False]),
                   width_scale=rng.choice([0.85, 1.0]), vpad=rng.choice([0.8, 3.0]), spaceless=rng.random() < 0.2)
        if st.rules == "none":
            st = replace(st, zebra=rng.random() < 0.7, header_fill=rng.random() < 0.5, header_bold=True)
        if st.caption == "below":
            st = replace(st, cont_caption=True)
        if st.rules in ("none", "booktabs") and not st.zebra and st.row_gap == 0.0 and st.vpad < 1:
            st = replace(st, row_gap=4.0)
        out.append(st)
    return out


def expected_paragraphs() -> list[str]:
    return list(PARAGRAPHS)


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    names = argv[1:] or list(STYLES)
    for name in names:
        print(build(STYLES[name], out / f"{name}.pdf"))


if __name__ == "__main__":
    main(sys.argv[1:])


__all__ = ["STYLES", "Style", "build", "fonts_available", "expected_paragraphs", "replace"]
