"""Table regions found from the page itself: text set in aligned columns, the rules around it.

A caption is not needed to find a table. Lines are split into phrases wherever a gap wider
than an em separates two words. A line of two or more phrases may be a table row; prose is
set in long phrases of many words (a paragraph, or one column of a two-column page). A
table is a run of such lines, close together, whose short phrases fall into at least two
column strips that several lines share. The run then takes in the short lines next to it
(a header over several lines, a group heading, a wrapped cell), and the horizontal rules
that open and close it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.geometry import group_lines, h_overlap, merge_intervals, split_line
from pipeline.records import BBox, Line, PageLayout, Word

PROSE_MIN_WORDS = 5  # a phrase of this many words, set wide, reads as prose
PROSE_MIN_WIDTH = 0.2  # share of the page width a prose phrase spans
MIN_ROWS = 3  # lines set in columns that make a table
NUMERIC_RE = re.compile(r"^[(<>≤≥±~+\-−–]?\s*[\d.,]+\s*[%)†*]?(?:\s+[(\[]?[\d.,–\-]+[)\]]?%?)*$")
GLOSSARY_TERM_CHARS = 15  # an abbreviation with its qualifier ("K_ATP channel") is this short
HEAD_BAND = 0.06  # top/bottom share of a page that holds running heads and folios


@dataclass(slots=True)
class Region:
    """A table's area on a page (caption and notes excluded), and the rules that bound it."""

    top: float
    bottom: float
    x0: float
    x1: float
    rules: list[float]  # y of full-width rules from the top rule to the bottom rule (may be empty)
    size: float  # the table's text size
    columns: int = 0  # column strips its rows line up in
    numeric: float = 0.0  # share of its cells (phrases) that are numbers

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)


@dataclass(slots=True)
class _Row:
    line: Line
    phrases: list[Line]
    prose: list[bool]


def _is_prose(phrase: Line, page_width: float) -> bool:
    return len(phrase.words) >= PROSE_MIN_WORDS and (phrase.x1 - phrase.x0) >= PROSE_MIN_WIDTH * page_width


def _rows(words: list[Word], page_width: float) -> list[_Row]:
    out = []
    for line in group_lines(words):
        phrases = split_line(line, 1.0 * line.size)
        out.append(_Row(line, phrases, [_is_prose(p, page_width) for p in phrases]))
    return out


def _tabular(row: _Row) -> bool:
    """Two or more phrases, not all of them prose (two prose phrases: a two-column page), and
    not a note or list item: a mark ("(*)", "1.", "•") before a line of prose."""
    if len(row.phrases) < 2 or all(row.prose):
        return False
    marked = len(row.phrases) == 2 and row.prose[1] and len(row.phrases[0].text) <= 4
    return not marked


def _strips(rows: list[_Row]) -> list[tuple[float, float, bool]]:
    """Column strips of the rows' phrases, left to right: (x0, x1, mostly prose by width).

    A strip is an x-range that the phrases of more than a tenth of the lines cover; a few
    phrases across a gap (a total set tight, a long label) do not close it.
    """
    lines = [r for r in rows if len(r.phrases) >= 2]
    phrases = [(p, pr) for r in lines for p, pr in zip(r.phrases, r.prose)]
    if not phrases:
        return []
    lo = int(min(p.x0 for p, _ in phrases))
    cover = [0] * (int(max(p.x1 for p, _ in phrases)) - lo + 2)
    for p, _ in phrases:
        for x in range(int(p.x0) - lo, int(p.x1) - lo + 1):
            cover[x] += 1
    need = 0.1 * len(lines)
    spans: list[tuple[float, float]] = []
    start = None
    for x, n in enumerate(cover + [0]):
        if n > need and start is None:
            start = x
        elif n <= need and start is not None:
            spans.append((start + lo, x - 1 + lo))
            start = None
    out = []
    for a, b in spans:
        inside = [(p.x1 - p.x0, pr) for p, pr in phrases if a <= (p.x0 + p.x1) / 2 <= b]
        prose = sum(w for w, pr in inside if pr)
        out.append((float(a), float(b), prose > 0.5 * sum(w for w, _ in inside)))
    return out


def _aligned_share(phrases: list[tuple[int, Line]]) -> float:
    """Share of phrases whose left edge, right edge or centre lines up with a phrase of another line.

    Table columns line their cells up; the stretched word spaces of a justified line do not.
    """
    def lines_up(a: Line, b: Line) -> bool:
        return (abs(a.x0 - b.x0) <= 2 or abs(a.x1 - b.x1) <= 2
                or abs((a.x0 + a.x1) - (b.x0 + b.x1)) <= 4)

    aligned = sum(1 for i, p in phrases if any(j != i and lines_up(p, q) for j, q in phrases))
    return aligned / len(phrases) if phrases else 0.0


def _runs(rows: list[_Row], is_caption) -> list[list[int]]:
    """Runs of tabular lines set close together (one other line may sit between two of them).

    A caption ("Table 6:  Number of ...") is never a row, however far its label stands out.
    """
    runs: list[list[int]] = []
    for i, row in enumerate(rows):
        if not _tabular(row) or is_caption(row.line.text):
            continue
        if runs:
            last = rows[runs[-1][-1]]
            between = i - runs[-1][-1] - 1
            gap = row.line.top - last.line.bottom
            if between <= 1 and gap <= 2.5 * max(row.line.size, last.line.size):
                runs[-1].append(i)
                continue
        runs.append([i])
    return runs


def _table_span(rows: list[_Row], run: list[int]) -> tuple[float, float, int, float] | None:
    """The x-range of the run's table (prose beside it left out), None when it holds no table.

    The table's strips are the widest group of neighbouring strips with no prose strip
    among them (a list's numbers beside its prose entries are no table). The lines with
    phrases in two of them are the table's rows: at least MIN_ROWS, their phrases lined up.
    """
    def beside(strip: tuple[float, float, bool]) -> bool:
        """Prose in the same size that goes on right above or below the run: a text column
        beside the table (a table's own long labels stop where its rows stop; its notes are
        set smaller)."""
        a, b, prose = strip
        if not prose:
            return False
        for k, edge in ((run[0] - 1, run[0]), (run[-1] + 1, run[-1])):
            if 0 <= k < len(rows):
                near, row = rows[k], rows[edge]
                gap = max(near.line.top - row.line.bottom, row.line.top - near.line.bottom)
                if gap <= 1.5 * row.line.size and abs(near.line.size - row.line.size) <= 0.5 and any(
                        pr and h_overlap(p.x0, p.x1, a, b) > 0.5 * (p.x1 - p.x0)
                        for p, pr in zip(near.phrases, near.prose)):
                    return True
        return False

    # A prose strip belongs to the table only as the long labels of its rows: with two or more
    # strips of cells after it (a list's entries after their numbers are not labels).
    strips = _strips([rows[i] for i in run])
    groups: list[list[tuple[float, float, bool]]] = [[]]
    for k, strip in enumerate(strips):
        cells_after = 0
        for later in strips[k + 1:]:
            if later[2]:
                break
            cells_after += 1
        if strip[2] and (beside(strip) or cells_after < 2):
            groups.append([])
        else:
            groups[-1].append(strip)
    best = max(groups, key=len)
    if len(best) < 2:
        return None
    x0, x1 = best[0][0], best[-1][1]
    phrases: list[tuple[int, Line]] = []
    full = 0
    for i in run:
        inside = [p for p in rows[i].phrases if x0 - 1 <= p.x0 and p.x1 <= x1 + 1]
        if len(inside) >= 2:
            full += 1
            phrases += [(i, p) for p in inside]
    if full < MIN_ROWS or _aligned_share(phrases) < 0.6 or _glossary([rows[i] for i in run], x0, x1):
        return None
    numeric = sum(1 for _, p in phrases if NUMERIC_RE.match(p.text)) / len(phrases)
    return x0, x1, len(best), numeric


def _glossary(rows: list[_Row], x0: float, x1: float) -> bool:
    """A list of abbreviations set in columns ("NK  Natural killer", "het  Heterozygous",
    "K_ATP channel  ATP-sensitive potassium channel"): text, not a table.

    Each line is pairs of a short term and its longer spelled-out words (an odd phrase at
    the end: the text of the next column, beside the list).
    """
    paired = total = 0
    for row in rows:
        phrases = [p for p in row.phrases if x0 - 1 <= p.x0 and p.x1 <= x1 + 1]
        if len(phrases) < 2:
            continue
        total += 1
        if all(_spelled_out(term, spelled) for term, spelled in zip(phrases[::2], phrases[1::2])):
            paired += 1
    return total > 0 and paired >= 0.7 * total


def _spelled_out(term: Line, spelled: Line) -> bool:
    """Is *spelled* the words an abbreviation *term* stands for? The term is short and holds a
    capital or a digit ("NK", "IC50", "Kir6.2"), or is the first letters of the words ("het")."""
    text, words = term.text, spelled.text
    short = len(term.words) <= 3 and len(text) <= GLOSSARY_TERM_CHARS
    marked = any(ch.isupper() or ch.isdigit() for ch in text) or text[:1].lower() == words[:1].lower()
    return short and marked and len(words) > len(text) and words[:1].isalpha()


def _extend(rows: list[_Row], first: int, last: int, x0: float, x1: float, page: PageLayout,
            is_caption) -> tuple[int, int]:
    """Take in the short lines right above and below the run that lie within its x-range."""
    def fits(row: _Row) -> bool:
        if is_caption(row.line.text) or any(row.prose):
            return False
        inside = [p for p in row.phrases if h_overlap(p.x0, p.x1, x0, x1) > 0]
        return bool(inside) and all(x0 - row.line.size <= p.x0 and p.x1 <= x1 + row.line.size for p in inside)

    band = HEAD_BAND * page.height
    while first > 0:
        prev, cur = rows[first - 1], rows[first]
        if prev.line.bottom < band or cur.line.top - prev.line.bottom > 1.2 * cur.line.size or not fits(prev):
            break
        first -= 1
    while last + 1 < len(rows):
        cur, nxt = rows[last], rows[last + 1]
        if nxt.line.top > page.height - band or nxt.line.top - cur.line.bottom > 1.2 * cur.line.size \
                or not fits(nxt) or nxt.line.size > cur.line.size + 0.5:
            break
        last += 1
    return first, last


def _rules_around(page: PageLayout, top: float, bottom: float, x0: float, x1: float, size: float) -> list[float]:
    """y of the horizontal rules that span the region, taking in a top and bottom rule just outside."""
    width = x1 - x0
    ys = sorted({round(r.top, 1) for r in page.rules
                 if r.horizontal and h_overlap(r.x0, r.x1, x0, x1) >= 0.6 * width
                 and top - 2.0 * size <= r.top <= bottom + 1.5 * size})
    merged: list[float] = []
    for y in ys:
        if not merged or y - merged[-1] > 1.0:
            merged.append(y)
    return merged


def find_regions(page: PageLayout, exclude: list[BBox], is_caption) -> list[Region]:
    """Table regions of *page* away from the boxes in *exclude* (tables found by their captions)."""
    def excluded(w: Word) -> bool:
        cx, cy = (w.x0 + w.x1) / 2, (w.top + w.bottom) / 2
        return any(b[0] - 1 <= cx <= b[2] + 1 and b[1] - 1 <= cy <= b[3] + 1 for b in exclude)

    words = [w for w in page.words if not excluded(w)]
    rows = _rows(words, page.width)
    regions: list[Region] = []
    for run in _runs(rows, is_caption):
        span = _table_span(rows, run)
        if span is None:
            continue
        x0, x1, n_columns, numeric = span
        first, last = _extend(rows, run[0], run[-1], x0, x1, page, is_caption)
        lines = [rows[k].line for k in range(first, last + 1)]
        # Phrases inside the table's x-range set its extent (a prose column beside it stays out).
        inside = [p for k in range(first, last + 1) for p, pr in zip(rows[k].phrases, rows[k].prose)
                  if (x0 - 1 <= p.x0 and p.x1 <= x1 + 1) or (not pr and h_overlap(p.x0, p.x1, x0, x1) > 0)]
        if not inside:
            continue
        size = max(ln.size for ln in lines)
        for part in _side_by_side(page, inside, size):
            top, bottom = min(p.top for p in part), max(p.bottom for p in part)
            rx0, rx1 = min(p.x0 for p in part), max(p.x1 for p in part)
            rules = _rules_around(page, top, bottom, rx0, rx1, size)
            if rules:
                top, bottom = min(top, rules[0]), max(bottom, rules[-1])
            regions.append(Region(top, bottom, rx0, rx1, rules, size, n_columns, numeric))
    return regions


def _side_by_side(page: PageLayout, phrases: list[Line], size: float) -> list[list[Line]]:
    """The region's phrases, one list per table printed side by side in it.

    Two tables set next to each other share their lines, so they read as one run of rows.
    Each draws its own rules: where the horizontal rules across the region fall into groups
    with a gutter of white space between them that no phrase crosses, and each group opens
    and closes its rows (rules at two heights, not one rule under a group header) over lines
    in two or more columns, each group is a table of its own.
    """
    top, bottom = min(p.top for p in phrases), max(p.bottom for p in phrases)
    x0, x1 = min(p.x0 for p in phrases), max(p.x1 for p in phrases)
    rules = [r for r in page.rules if r.horizontal and r.x1 - r.x0 > 3 * size
             and top - 2.0 * size <= r.top <= bottom + 1.5 * size and h_overlap(r.x0, r.x1, x0, x1) > 0]
    spans = merge_intervals((r.x0, r.x1) for r in rules)

    def closed(span: tuple[float, float]) -> bool:
        ys = [r.top for r in rules if span[0] <= r.x0 and r.x1 <= span[1]]
        return bool(ys) and max(ys) - min(ys) > 2 * size

    cuts = [(a[1] + b[0]) / 2 for a, b in zip(spans, spans[1:])
            if closed(a) and closed(b) and not any(p.x0 < b[0] and p.x1 > a[1] for p in phrases)]
    parts: list[list[Line]] = [[] for _ in range(len(cuts) + 1)]
    for p in phrases:
        parts[sum(1 for c in cuts if (p.x0 + p.x1) / 2 > c)].append(p)

    def in_columns(part: list[Line]) -> bool:
        lines = group_lines([w for p in part for w in p.words])
        return sum(1 for ln in lines if len(split_line(ln, 1.0 * ln.size)) >= 2) >= 2

    if not all(in_columns(part) for part in parts):
        return [phrases]  # rules beside the table's columns, not under tables of their own
    return parts
