"""Find table chunks on pages: the caption, the header and body words, the footnote.

A chunk is the part of one table printed on one page ("Table 2" or "Table 2
(continued)"). Tables are found by their captions, above or below the table. The chunk's
extent comes from the horizontal rules next to the caption when there are any, else from
the white space that sets the table apart from the text around it (table text is set
smaller than body text, in several columns). A page that starts with a table-like block
right after a table that ran to the bottom of the previous page continues that table,
even without a "(continued)" caption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from pipeline.geometry import group_lines, h_overlap, split_line, union_bbox
from pipeline.records import BBox, Line, PageLayout, Rule, Word
from pipeline.tables.grid import MAX_HEADER_LINES
from pipeline.tables.regions import PROSE_MIN_WIDTH, PROSE_MIN_WORDS, find_regions

# "Table 2", "TABLE IV", "Table 6.1", "Table A.3:", "Table S1", "Table ES-3", "Table CA7.", "Exhibit 2a",
# "Table: 5", and an unnumbered "TABLE." (a label of letters must hold a digit, or be one capital
# or a roman numeral, so "Table shows ..." is not a caption).
CAPTION_RE = re.compile(
    r"^(?P<kind>(?i:table|exhibit))\s*(?P<colon>:)?\s*"
    r"(?P<num>(?:[A-Z]{1,3}[-.]?)?\d+(?:[.-]\d+)*[a-z]?(?![\w-])|[IVXLC]+(?![\w-])|[A-Z](?![\w-]))?"
    r"(?P<dot>\.)?\s*(?P<cont>\((?i:continued|cont(?:'d|\.)?)\))?\s*(?P<sep>[.:\u2013\u2014|-])?\s*(?P<title>.*)$"
)
# The captions of floats that are not tables: "Figure 2:", "Fig. 1 Inhibition of ...", "FIG 3 MIC ...",
# "Algorithm 1 SGD: ...", "Box 2.". Aligned text next to one is a chart's axis and legend, a
# diagram's boxes or pseudo-code, not a table ("Figure 2 shows ..." is a sentence, not a caption).
FLOAT_CAPTION_RE = re.compile(
    r"^(?i:fig(?:ure)?s?\.?|chart|graph|plate|map|scheme|algorithm|listing|procedure|box)\s*"
    r"(?P<num>[A-Z]?\d+(?:[.-]\d+)*[a-z]?)(?![\w-])\.?\s*(?P<sep>[.:\u2013\u2014|-])?\s*(?P<title>.*)$"
)
CONTINUED_TAIL_RE = re.compile(r"\s*[(\[]\s*(?:continued|cont(?:'d|\.)?)\s*[)\]]\.?$", re.IGNORECASE)
HEAD_BAND = 0.06  # top/bottom share of a page that holds running heads and folios
# Display math: an equation's number at the end of its line ("(6)", "(2.3a)"), a relation sign
# standing as a word or between two terms ("= 2E(r)", "t(1)=1").
EQUATION_NUMBER_RE = re.compile(r"^\(\d{1,3}(?:\.\d{1,3})?[a-z]?\)[.,;]?$")
RELATION_RE = re.compile(r"(?:^|\w[)\]]?)[=≤≥≠≈∝]|^[=≤≥≠≈∝<>]$")
# Pieces of a bracket built up over several lines (a matrix's or a case split's): Unicode's
# and the Symbol font's (which the text layer gives as private-use characters).
BRACKET_PIECE_RE = re.compile("[\u239b-\u23ad\uf8eb-\uf8fe]")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")  # an author's address in a block of authors
Separator = tuple[float, float, float]  # (y, x0, x1): a rule or shading edge between rows


@dataclass(slots=True)
class Caption:
    label: str | None  # the printed label ("2", "6.1", "S1", "IV"), None for "TABLE." alone
    continued: bool
    title: str
    lines: list[Line]

    @property
    def bbox(self) -> BBox:
        return union_bbox(ln.bbox for ln in self.lines)


@dataclass(slots=True)
class TableChunk:
    """One table's part on one page, split into header words, body words and footnote lines."""

    number: str  # the table this chunk belongs to: its printed label, else an id made from its page
    continued: bool
    page: int
    caption: Caption | None  # None: an uncaptioned table (found by its geometry alone)
    header_words: list[Word]
    body_words: list[Word]
    footnote_lines: list[Line]
    row_separators: list[Separator] = field(default_factory=list)
    bbox: BBox = (0.0, 0.0, 0.0, 0.0)
    header_bottom: float | None = None  # y of the rule (or edge) that closes the header
    header_rule: Separator | None = None  # that rule (or edge) with its x extent
    header_spanners: list[Separator] = field(default_factory=list)  # short rules inside the header
    table_box: BBox = (0.0, 0.0, 0.0, 0.0)  # the table proper (no caption, no footnote)
    n_columns: int = 0  # set once the grid is parsed
    columns: list[tuple[float, float]] = field(default_factory=list)  # x-ranges, set once parsed
    found_by: str = "caption"  # "caption" or "continuation" (a page-top block, no caption)


def parse_caption(text: str) -> tuple[str | None, bool, str] | None:
    """(label, continued, title) of a caption line, None when the line is not one."""
    m = CAPTION_RE.match(text.strip())
    if not m:
        return None
    label = m.group("num")
    punctuated = bool(m.group("colon") or m.group("dot") or m.group("sep"))
    if label is None and not (punctuated and m.group("kind").isupper()):
        return None  # "Table shows ...": only an upper-case "TABLE." stands without a number
    title = m.group("title").strip()
    if label is not None and not punctuated and title[:1].islower():
        return None  # "Table 2 shows ...": a sentence, not a caption
    continued = bool(m.group("cont"))
    tail = CONTINUED_TAIL_RE.search(title)
    if tail:  # "Table 2 Overview of ... (Continued)"
        continued, title = True, title[: tail.start()].strip()
    return label, continued, title


def parse_float_caption(text: str) -> tuple[str | None, bool, str] | None:
    """(label, continued, title) of the caption of a figure, an algorithm or a box (not a
    table), None when the line is not one."""
    m = FLOAT_CAPTION_RE.match(text.strip())
    if not m or (not m.group("sep") and m.group("title")[:1].islower()):
        return None
    return m.group("num"), False, m.group("title").strip()


def _phrases(page: PageLayout, lines: list[Line] | None = None) -> list[Line]:
    """The page's lines split where a gap wider than 1.5 em separates two columns of text."""
    out = []
    for line in lines if lines is not None else group_lines(page.words):
        out += split_line(line, 1.5 * line.size)
    return sorted(out, key=lambda ln: (ln.top, ln.x0))


def find_captions(page: PageLayout, body_size: float, phrases: list[Line] | None = None,
                  any_face: bool = False, parse=parse_caption) -> list[Caption]:
    """Phrases that start with "Table N" set apart from body text (bold, or another size).

    With *any_face*, captions set in the body face too: only a table found next to one
    tells such a caption from a line of a paragraph that starts with "Table 2". *parse*
    reads another float's caption (:func:`parse_float_caption`).
    """
    captions = []
    phrases = phrases if phrases is not None else _phrases(page)
    for i, line in enumerate(phrases):
        parsed = parse(line.text)
        if not parsed:
            continue
        if not parsed[2]:  # "Table 6:" set apart from its title ("Number of ...") on the same line
            title = next((p for p in phrases[i + 1:i + 3] if abs(p.top - line.top) < 0.5 * line.size
                          and 0 < p.x0 - line.x1 < 4 * line.size), None)
            if title is not None:
                line = Line(line.words + title.words)
                parsed = parse(line.text) or parsed
        first = line.words[0]
        if not (any_face or first.bold or abs(first.size - body_size) > 0.3):
            continue  # "Table 1 shows ..." inside a paragraph
        # A caption may wrap: following lines with the same size and a tight pitch belong to it.
        cap_lines = [line]
        for nxt in phrases[i + 1:]:
            prev = cap_lines[-1]
            if nxt.top - prev.bottom > 0.6 * line.size:
                break
            if (abs(nxt.size - line.size) < 0.3 and nxt.top > prev.top + 0.5 * line.size
                    and any(abs(nxt.x0 - w.x0) < 2 for w in line.words[:4])  # flush, or under the title
                    and not parse(nxt.text)):
                cap_lines.append(nxt)
        label, continued, title = parsed
        extra = " ".join(ln.text for ln in cap_lines[1:])
        title = (title + " " + extra).strip()
        tail = CONTINUED_TAIL_RE.search(title)
        if tail:
            continued, title = True, title[: tail.start()].strip()
        captions.append(Caption(label, continued, title, cap_lines))
    return captions


def _merge_close(values: list[float], tol: float) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _words_between(page: PageLayout, top: float, bottom: float, x0: float, x1: float) -> list[Word]:
    return [w for w in page.words if w.top >= top - 0.5 and w.bottom <= bottom + 0.5
            and w.x0 >= x0 - 2 and w.x1 <= x1 + 2]


def _in_band(page: PageLayout, y_top: float, y_bottom: float) -> bool:
    band = HEAD_BAND * page.height
    return y_bottom < band or y_top > page.height - band


@dataclass(slots=True)
class _Extent:
    top: float
    bottom: float
    x0: float
    x1: float
    rules: list[float]  # y of the rules of the chain, top to bottom (empty: found by white space)
    size: float  # the table's text size
    open_header: bool = False  # a header set above the first rule, with no rule over it
    open_foot: bool = False  # the body runs on under the last rule (no rule at the table's foot)


# ---------------------------------------------------------------------------------------
# Extent from rules

def _horizontal_rules(page: PageLayout, x0: float, x1: float) -> list[Rule]:
    """Rules that span much of the page (or of the caption's column) and overlap [x0, x1]."""
    min_width = 0.25 * page.width
    return [r for r in page.rules if r.horizontal and (r.x1 - r.x0) >= min_width
            and h_overlap(r.x0, r.x1, x0, x1) > 0]


def _is_prose(words: list[Word], table_size: float | None) -> bool:
    """Text set larger than the table's own text (the first segment sets the table's size)."""
    if not words or table_size is None:
        return False
    return max(w.size for w in words) > table_size + 0.6


def _paragraph(words: list[Word], width: float) -> bool:
    """Two or more lines that are each one run of many words across most of the width: a
    paragraph in the table's own size (a note row inside a table is one such line)."""
    wide = [ln for ln in group_lines(words) if len(ln.words) >= 8 and (ln.x1 - ln.x0) > 0.6 * width
            and len(split_line(ln, 1.5 * ln.size)) == 1]
    return len(wide) >= 2


def _rule_extent(page: PageLayout, start: float, direction: int, limit: float, x0: float, x1: float,
                 cap_size: float, body_size: float, open_header: bool = False) -> _Extent | None:
    """Chain of rules from the caption edge *start* going down (+1) or up (-1) to *limit*.

    With *open_header*, the lines between a caption and a table that rules every row may be
    its header, set with no rule over it.
    """
    rules = _horizontal_rules(page, x0, x1)
    if direction > 0:
        rules = [r for r in rules if start - 1 <= r.top < limit]
    else:
        rules = [r for r in rules if limit < r.top <= start + 1]
    if not rules:
        return None
    ys = _merge_close([r.top for r in rules], 1.0)
    if direction < 0:
        ys = ys[::-1]
    rx0 = min(r.x0 for r in rules)
    rx1 = max(r.x1 for r in rules)
    lo, hi = (start, ys[0]) if direction > 0 else (ys[0], start)
    between = header_lines = group_lines(_words_between(page, lo + 0.5, hi - 0.5, rx0, rx1))
    note = direction > 0 and len(between) <= 2 and all(len(split_line(ln, 1.5 * ln.size)) == 1 for ln in between)
    # A header with no rule above it (set on a shaded band under the caption): lines in
    # columns between the caption and the first rule, which closes them.
    header = (open_header and direction > 0 and not note and 0 < len(between) <= MAX_HEADER_LINES
              and any(len(split_line(ln, 1.0 * ln.size)) >= 2 for ln in between)
              and not _paragraph([w for ln in between for w in ln.words], rx1 - rx0))
    if abs(ys[0] - start) > (MAX_HEADER_LINES + 2 if header else 4) * cap_size:
        return None
    if between and not (note or header):
        return None  # text between the caption and the first rule: not this table's rule
    # (a one-line note under the caption, "[In thousands]", is no part of the table either)
    chain = [ys[0]]
    table_size: float | None = None
    for y in ys[1:]:
        a, b = (chain[-1], y) if direction > 0 else (y, chain[-1])
        between = _words_between(page, a, b, rx0, rx1)
        if between:
            if (_is_prose(between, table_size) or _paragraph(between, rx1 - rx0)
                    or parse_caption(group_lines(between)[0].text)):
                break  # prose or a caption (a note under its label) between two rules: the table ended
            if table_size is None:
                table_size = max(w.size for w in between)
        chain.append(y)
    chain = _without_ruled_notes(page, sorted(chain), rx0, rx1)
    if len(chain) < 2:
        return None
    used = [r for r in rules if chain[0] - 1 <= r.top <= chain[-1] + 1]
    rx0 = min(r.x0 for r in used)
    rx1 = max(r.x1 for r in used)
    top = min(ln.top for ln in header_lines) - 0.5 if header else chain[0]
    words = _words_between(page, top, chain[-1], rx0, rx1)
    if header and len(chain) < 0.5 * len(group_lines(words)):
        return None  # rules only here and there: the lines above may be another table's
    size = max((w.size for w in words), default=body_size)
    return _Extent(top, chain[-1], rx0, rx1, chain, size, open_header=header)


def _without_ruled_notes(page: PageLayout, chain: list[float], x0: float, x1: float) -> list[float]:
    """The chain (top to bottom) without its last segments when those hold notes, not rows.

    A house style that rules every row (PLOS) may rule its notes off too: after the last row
    come lines that are each one phrase starting at the table's left edge ("*Significant at
    P < 0.05") between rules, and no row set in columns follows. Those segments are the
    table's notes (found under it as its footnote) or the page's foot, not its body. (A row
    with only a later column filled starts right of that edge: it stays a row.)
    """
    segments = [group_lines(_words_between(page, a, b, x0, x1)) for a, b in zip(chain, chain[1:])]
    in_columns = [i for i, lines in enumerate(segments)
                  if any(len(split_line(ln, 1.5 * ln.size)) >= 2 for ln in lines)]
    if not in_columns:
        return chain
    left = min(ln.x0 for i in in_columns for ln in segments[i])
    last = max(in_columns)
    for i in range(last + 1, len(segments)):
        if any(ln.x0 > left + ln.size for ln in segments[i]):
            last = i  # a row of a later column only
    return chain[:last + 2]


# ---------------------------------------------------------------------------------------
# Extent from white space

def _table_like(line: Line, body_size: float) -> bool:
    """A line of a table: small print in two or more phrases, or three or more phrases."""
    n = len(split_line(line, 1.0 * line.size))
    return (n >= 2 and line.size <= body_size - 0.5) or n >= 3


def _gap_extent(page: PageLayout, phrases: list[Line], start: float, direction: int, limit: float,
                x0: float, body_size: float, stop_at: list[BBox]) -> _Extent | None:
    """Lines next to the caption (down or up) set as a table, up to the white space around it."""
    x_min = x0 - 2
    candidates = [ln for ln in group_lines([w for w in page.words if w.x0 >= x_min])]
    if direction > 0:
        seq = [ln for ln in candidates if ln.top >= start - 0.5 and ln.top < limit]
    else:
        seq = [ln for ln in candidates if ln.bottom <= start + 0.5 and ln.bottom > limit][::-1]
    for k, ln in enumerate(seq):
        if any(_overlaps(ln.bbox, b) for b in stop_at):
            seq = seq[:k]
            break
    if not seq or _in_band(page, seq[0].top, seq[0].bottom):
        return None
    first = seq[0]
    edge_gap = first.top - start if direction > 0 else start - first.bottom
    if edge_gap > 2.5 * first.size:
        return None
    size = first.size
    taken = [first]
    width = first.x1 - first.x0
    for ln in seq[1:]:
        prev = taken[-1]
        gap = ln.top - prev.bottom if direction > 0 else prev.top - ln.bottom
        if gap > 2.6 * size or ln.size > size + 0.3 or ln.size < size - 0.35:
            break
        if _in_band(page, ln.top, ln.bottom) or parse_caption(ln.text):
            break
        parts = split_line(ln, 1.0 * ln.size)
        if len(parts) == 1 and (ln.x1 - ln.x0) > 0.6 * max(width, 1.0) and len(taken) >= 2:
            break  # one wide phrase: a note or prose, not a row of a multi-column table
        taken.append(ln)
        width = max(width, ln.x1 - ln.x0)
    if direction > 0:
        taken = _up_to_a_repeated_header(page, taken)
    # A table: several lines set in columns (the line next to the caption may be the last,
    # wrapped line of one cell, or a group header).
    many = sum(1 for ln in taken if len(split_line(ln, 1.0 * ln.size)) >= 3)
    if len(taken) <= 3:  # one short row (a continuation's last): a line of many columns
        if not many:
            return None
    elif sum(1 for ln in taken if _table_like(ln, body_size)) < max(2, 0.15 * len(taken)):
        return None
    box = union_bbox(ln.bbox for ln in taken)
    return _Extent(box[1], box[3], box[0], box[2], [], size)


def _body_under_header_rules(page: PageLayout, phrases: list[Line], ext: _Extent, limit: float,
                             body_size: float, stop_at: list[BBox]) -> _Extent:
    """The extent of a table ruled over and under its header only, with no rule at its foot.

    Some house styles (RSC) close a table with its notes or white space, not a rule: the rules
    then enclose no more lines than a header's, and rows set in columns follow right under the
    last one. Those rows, down to the white space, are the table's body.
    """
    enclosed = group_lines(_words_between(page, ext.top, ext.bottom, ext.x0, ext.x1))
    if not enclosed or len(enclosed) > MAX_HEADER_LINES:
        return ext
    body = _gap_extent(page, phrases, ext.bottom, +1, limit, ext.x0, body_size, stop_at)
    if body is None or body.x1 > ext.x1 + ext.size or body.top - ext.bottom > 1.5 * body.size:
        return ext
    return replace(ext, bottom=body.bottom, x0=min(ext.x0, body.x0), open_foot=True)


def _up_to_a_repeated_header(page: PageLayout, lines: list[Line]) -> list[Line]:
    """The lines of a table found by white space, up to a second header: the table's header is
    closed by a rule across it, and after a blank line a few lines closed by another such rule
    start the next table (tables set one under the other, each under its own header)."""
    x0, x1 = min(ln.x0 for ln in lines), max(ln.x1 for ln in lines)
    ys = sorted(r.top for r in page.rules if r.horizontal and h_overlap(r.x0, r.x1, x0, x1) >= 0.6 * (x1 - x0)
                and lines[0].top < r.top < lines[-1].bottom)

    def lines_above(y: float, start: int) -> int:
        return sum(1 for ln in lines[start:] if ln.bottom <= y + 0.5)

    if not ys or not 1 <= lines_above(ys[0], 0) <= 4:
        return lines
    for k in range(lines_above(ys[0], 0) + 1, len(lines)):
        gap = lines[k].top - lines[k - 1].bottom
        if gap < 0.8 * lines[k].size:
            continue
        closing = [y for y in ys if y > lines[k].top]
        if closing and 1 <= lines_above(closing[0], k) <= 4 and lines_above(closing[0], k) < len(lines) - k:
            return lines[:k]
    return lines


def _overlaps(a: BBox, b: BBox) -> bool:
    return h_overlap(a[0], a[2], b[0], b[2]) > 0 and h_overlap(a[1], a[3], b[1], b[3]) > 0


def _header_over_first_rule(page: PageLayout, ext: _Extent) -> bool:
    """Does the table's header stand over its first rule, with no rule above it (a header
    closed by a rule, none over it)? A few lines above the first rule, more below it."""
    if not ext.rules:
        return False
    lines = group_lines(_words_between(page, ext.top, ext.bottom, ext.x0, ext.x1))
    above = [ln for ln in lines if (ln.top + ln.bottom) / 2 < ext.rules[0]]
    return 0 < len(above) <= MAX_HEADER_LINES and len(lines) > len(above)


def _with_header_over_top_rule(page: PageLayout, ext: _Extent, limit: float) -> _Extent:
    """A table found by the rules over its caption, with the header set right over its top rule
    and no rule over the header: the lines in columns set tight above that rule, white space
    (or nothing) above them. A paragraph's last lines stand alone, one phrase each."""
    words = [w for w in page.words if limit < w.top and w.bottom <= ext.top + 0.5
             and w.x0 >= ext.x0 - 2 and w.x1 <= ext.x1 + 2]
    lines = group_lines(words)[::-1]
    taken: list[Line] = []
    edge = ext.top
    for ln in lines:
        if _in_band(page, ln.top, ln.bottom) or ln.size > ext.size + 0.3 or edge - ln.bottom > 0.6 * ln.size:
            break
        if len(split_line(ln, 1.0 * ln.size)) < 2 or parse_caption(ln.text):
            break
        taken.append(ln)
        edge = ln.top
    if not taken or len(taken) > MAX_HEADER_LINES:
        return ext
    above = [w for w in page.words if limit < w.bottom <= edge and h_overlap(w.x0, w.x1, ext.x0, ext.x1) > 0]
    if any(edge - w.bottom < 0.8 * taken[-1].size for w in above):
        return ext  # no white space over the lines: they go on from the text above
    return _Extent(edge - 0.5, ext.bottom, ext.x0, ext.x1, ext.rules, ext.size, open_header=True)


# ---------------------------------------------------------------------------------------
# Header / body / footnote

def _cut(words: list[Word], y: float) -> tuple[list[Word], list[Word], float]:
    """Words above and below *y* (each word on the side of its centre)."""
    above = [w for w in words if (w.top + w.bottom) / 2 < y]
    below = [w for w in words if (w.top + w.bottom) / 2 >= y]
    return above, below, y


def _header_split(page: PageLayout, ext: _Extent) -> tuple[list[Word], list[Word], float | None]:
    """Header and body words of a table extent, and the y that closes the header."""
    words = _words_between(page, ext.top, ext.bottom, ext.x0, ext.x1)
    above = [ln for ln in group_lines(words) if (ln.top + ln.bottom) / 2 < ext.rules[0]] if ext.open_header else []
    if above:
        # Lines above the table's first rule: a header with no rule over it. The rule closes
        # it, unless the lines right above the rule are set in the body's face, not the
        # header's: they are the first body row (a rule under every row, none under the header).
        def face(line: Line) -> tuple[str, float]:
            return line.words[0].fontname, round(line.words[0].size, 1)

        k = len(above)
        while k > 0 and face(above[k - 1]) == face(above[-1]):
            k -= 1
        closing = ext.rules[0]
        for y in ext.rules[1:]:  # a double rule closes the header at its lower line
            if y - closing < 0.5 * ext.size:
                closing = y
        return _cut(words, (above[k - 1].bottom + above[k].top) / 2 if k else closing)
    if len(ext.rules) >= (2 if ext.open_foot else 3):
        # The header closes at the first rule under the top rule that spans the table from end
        # to end; shorter rules above it stand under group labels ("Actual" over three years,
        # "Race" over every column but the row labels'). The last rule is the table's foot,
        # unless the body runs on under it.
        def extent(y: float) -> tuple[float, float]:
            at = [(max(r.x0, ext.x0), min(r.x1, ext.x1)) for r in page.rules
                  if r.horizontal and abs(r.top - y) <= 1.0 and h_overlap(r.x0, r.x1, ext.x0, ext.x1) > 0]
            return (min(a for a, _ in at), max(b for _, b in at)) if at else (0.0, 0.0)
        top_x0, top_x1 = extent(ext.rules[0])
        slack = ext.size  # ends drawn flush with the top rule's, give or take an em
        inner = ext.rules[1:] if ext.open_foot else ext.rules[1:-1]
        full = [y for y in inner if extent(y)[0] <= top_x0 + slack and extent(y)[1] >= top_x1 - slack
                and any((w.top + w.bottom) / 2 < y for w in words)]
        return _cut(words, full[0] if full else ext.rules[1])
    lines = group_lines(words)
    if not lines:
        return [], [], None
    # A shaded header: the fill over the first line closes the header at its bottom edge.
    first = lines[0]
    for f in page.fills:
        if (f.filled and f.top <= first.top + 0.5 and f.bottom >= first.bottom - 0.5
                and (f.x1 - f.x0) > 0.6 * (ext.x1 - ext.x0) and f.bottom < ext.bottom - 1):
            return _cut(words, f.bottom)
    # A bold header: the leading lines set in bold.
    if all(w.bold for w in first.words):
        k = 0
        while k < len(lines) and all(w.bold for w in lines[k].words):
            k += 1
        if 0 < k < len(lines):
            cut = (lines[k - 1].bottom + lines[k].top) / 2
            ids = {id(w) for ln in lines[:k] for w in ln.words}
            return [w for w in words if id(w) in ids], [w for w in words if id(w) not in ids], cut
    # Else: the first line group, up to the first gap wider than the line pitch.
    header = [lines[0]]
    for ln in lines[1:]:
        if ln.top - header[-1].bottom > 0.6 * ln.size:
            break
        header.append(ln)
    if len(header) > len(lines) // 2:
        header = lines[:1]  # no space sets the header apart: its first line, the labels
    ids = {id(w) for ln in header for w in ln.words}
    cut = (header[-1].bottom + lines[len(header)].top) / 2 if len(header) < len(lines) else None
    return [w for w in words if id(w) in ids], [w for w in words if id(w) not in ids], cut


def _separators(page: PageLayout, ext: _Extent, header_bottom: float | None) -> list[Separator]:
    """Rules and shading edges inside the body: row boundaries, each with its x extent."""
    top = header_bottom if header_bottom is not None else ext.top
    seps: list[Separator] = []
    for r in page.rules:
        if (r.horizontal and top + 0.5 < r.top < ext.bottom - 0.5 and (r.x1 - r.x0) > 8
                and h_overlap(r.x0, r.x1, ext.x0, ext.x1) > 0):
            seps.append((r.top, r.x0, r.x1))
    # Shading that reaches into the body (a stripe may stick out past the last line of text).
    shades = sorted((f.x0, f.top, f.x1, f.bottom) for f in page.fills
                    if f.filled and f.top < ext.bottom - 0.5 and f.bottom > top + 0.5 and f.top > top - 1
                    and (f.x1 - f.x0) > 2 * ext.size and h_overlap(f.x0, f.x1, ext.x0, ext.x1) > 0)
    # Shading drawn cell by cell: boxes of one column that touch make one shaded area.
    merged: list[list[float]] = []
    for x0, t, x1, b in sorted(shades, key=lambda r: (round(r[0]), round(r[2]), r[1])):
        last = merged[-1] if merged else None
        if last and abs(last[0] - x0) < 0.5 and abs(last[2] - x1) < 0.5 and t <= last[3] + 0.3:
            last[3] = max(last[3], b)
        else:
            merged.append([x0, t, x1, b])
    for x0, t, x1, b in merged:
        # Row stripes, or the shading of a cell (a multirow cell banded on its own): their
        # edges separate rows in the columns they cover.
        if (b - t) < 0.5 * (ext.bottom - ext.top):
            seps += [(y, x0, x1) for y in (t, b) if top + 0.5 < y < ext.bottom - 0.5]
    return sorted(set(seps))


def _footnote_lines(page: PageLayout, start: float, limit: float, x0: float, x1: float,
                    table_size: float, skip: list[BBox], first_gap: float, label: str | None = None) -> list[Line]:
    """Small-print lines right under the table (abbreviations, notes).

    A note may repeat the table's own *label* ("Table 2: The sites in parentheses ..."); a
    line that starts with another table's label is that table's caption, never a note.
    """
    slack = max(2.0, table_size)  # a note may start a little left of the first column's text
    candidates = [w for w in page.words if w.top > start and w.top < limit and w.x0 >= x0 - slack
                  and not any(_overlaps(w.bbox, b) for b in skip)]
    # Lines (phrases) that start under the table; a note may run a little past its last column.
    # A line in three or more phrases is a table's row (the next table's), never a note.
    lines = [(p, len(parts)) for ln in group_lines(candidates)
             for parts in [split_line(ln, 1.5 * ln.size)] for p in parts if p.x0 <= x1]
    out: list[Line] = []
    prev_bottom = start
    for ln, phrases in lines:
        gap_limit = first_gap * max(ln.size, table_size) if not out else 1.2 * ln.size
        caption = parse_caption(ln.text)
        if (ln.size > table_size + 0.3 or ln.top - prev_bottom > gap_limit
                or (caption is not None and (label is None or caption[0] != label)) or phrases >= 3):
            break
        if _in_band(page, ln.top, ln.bottom):
            break
        out.append(ln)
        prev_bottom = ln.bottom
    return out


def _make_chunk(page: PageLayout, key: str, caption: Caption | None, ext: _Extent, limit: float, below: bool,
                found_by: str = "caption", continued: bool = False) -> TableChunk:
    header_words, body_words, header_bottom = _header_split(page, ext)
    separators = _separators(page, ext, header_bottom)
    header_rule: Separator | None = None
    if header_bottom is not None:
        under = [(r.x1 - r.x0, r.x0, r.x1) for r in page.rules
                 if r.horizontal and abs(r.top - header_bottom) <= 1.0 and h_overlap(r.x0, r.x1, ext.x0, ext.x1) > 0]
        if under:
            _, rx0, rx1 = max(under)
            header_rule = (header_bottom, rx0, rx1)
        elif any(f.filled and abs(f.bottom - header_bottom) <= 1.0 for f in page.fills):
            header_rule = (header_bottom, ext.x0, ext.x1)  # the edge of a shaded header
        # else the header ends at white space: nothing drawn that could also part two rows
    # Short rules inside the header, each under a group label over the columns it covers.
    spanners = [(r.top, r.x0, r.x1) for r in page.rules
                if header_words and r.horizontal and h_overlap(r.x0, r.x1, ext.x0, ext.x1) > 0
                and r.x1 - r.x0 < 0.9 * (ext.x1 - ext.x0)  # not a rule across the table
                and min(w.top for w in header_words) < r.top < max(w.bottom for w in header_words)]
    cap_box = caption.bbox if caption is not None and caption.lines else None
    foot_x0, foot_x1 = ext.x0, ext.x1
    if below and cap_box is not None:
        # Notes under a caption set below the table sit under that caption: a caption narrower
        # than the table (one column of a two-column page) has running text beside it.
        foot_start = cap_box[3]
        foot_x0, foot_x1 = max(ext.x0, cap_box[0]), min(ext.x1, cap_box[2])
    else:
        foot_start = ext.bottom
    skip = [cap_box] if cap_box is not None else []
    first_gap = 2.0 if ext.rules or below else 2.6  # white space under the last row counts
    footnote = _footnote_lines(page, foot_start, limit, foot_x0, foot_x1, ext.size, skip, first_gap,
                               caption.label if caption is not None and not below else None)
    boxes = [(ext.x0, ext.top, ext.x1, ext.bottom)] + [ln.bbox for ln in footnote]
    if cap_box is not None:
        boxes.append(cap_box)
    return TableChunk(number=key, continued=continued or (caption is not None and caption.continued), page=page.number,
                      caption=caption, header_words=header_words, body_words=body_words,
                      footnote_lines=footnote, row_separators=separators, bbox=union_bbox(boxes),
                      header_bottom=header_bottom, header_rule=header_rule, header_spanners=spanners,
                      table_box=(ext.x0, ext.top, ext.x1, ext.bottom),
                      found_by=found_by)


def locate_chunks(page: PageLayout, body_size: float) -> list[TableChunk]:
    """The captioned table chunks of one page (caption above or below the table).

    Tables without a caption are found afterwards by :func:`geometric_chunks`, once a
    table continued from the previous page has claimed its part of the page.
    """
    lines = group_lines(page.words)
    phrases = _phrases(page, lines)
    captions = find_captions(page, body_size, phrases)
    chunks: list[TableChunk] = []
    taken: list[BBox] = []
    for index, caption in enumerate(captions):
        cap = caption.bbox
        if any(_overlaps(cap, b) for b in taken):
            continue  # a note of the table above that repeats its label ("Table 2: The sites ...")
        size = caption.lines[0].size
        # A line under the caption that repeats its label does not end the table: it may be its note.
        following = [c for c in captions[index + 1:] if c.label is None or c.label != caption.label or c.continued]
        below_limit = following[0].bbox[1] if following else page.height
        above_limit = max([c.bbox[3] for c in captions[:index]] + [b[3] for b in taken] + [0.0])
        cap_x1 = max(cap[2], page.width - cap[0]) if cap[2] - cap[0] < 0.5 * page.width else cap[2]
        others = [c.bbox for c in captions if c is not caption]
        ext = _rule_extent(page, cap[3], +1, below_limit, cap[0], cap_x1, size, body_size, open_header=True)
        if ext is not None:
            ext = _body_under_header_rules(page, phrases, ext, below_limit, body_size, others + taken)
        below = False
        if ext is None:
            ext = _gap_extent(page, phrases, cap[3], +1, below_limit, cap[0], body_size, others + taken)
        if ext is None:
            below = True
            ext = _rule_extent(page, cap[1], -1, above_limit, cap[0], cap_x1, size, body_size)
            if ext is not None:
                ext = _with_header_over_top_rule(page, ext, above_limit)
            if ext is None:
                ext = _gap_extent(page, phrases, cap[1], -1, above_limit, cap[0], body_size, others + taken)
        if ext is None:
            continue
        key = caption.label if caption.label is not None else f"p{page.number}.{index + 1}"
        chunk = _make_chunk(page, key, caption, ext, below_limit, below)
        chunks.append(chunk)
        taken.append(chunk.bbox)
    return chunks


def geometric_chunks(page: PageLayout, body_size: float, found: list[TableChunk]) -> list[TableChunk]:
    """Tables found by their geometry away from the chunks already *found* (by caption or as a
    continuation), each with the caption next to it if there is one."""
    phrases = _phrases(page)
    used = [c.caption for c in found]
    taken = [c.bbox for c in found]
    used_boxes = [c.bbox for c in used if c is not None and c.lines]
    table_captions = find_captions(page, body_size, phrases, any_face=True)
    free = [c for c in table_captions if not any(_overlaps(c.bbox, b) for b in used_boxes + taken)]
    # A column gutter may be narrower than 1.5 em: a caption at the top of the right-hand
    # column is found in phrases split at 1 em.
    narrow = sorted((p for ln in group_lines(page.words) for p in split_line(ln, 1.0 * ln.size)),
                    key=lambda ln: (ln.top, ln.x0))
    floats = find_captions(page, body_size, narrow, any_face=True, parse=parse_float_caption)
    chunks = []
    caption_boxes = [c.bbox for c in free]
    for k, region in enumerate(find_regions(page, taken + caption_boxes, lambda text: parse_caption(text) is not None)):
        ext = _Extent(region.top, region.bottom, region.x0, region.x1, region.rules, region.size)
        ext.open_header = _header_over_first_rule(page, ext)
        caption, below = _nearest_caption(region, free)
        if caption is None and not _drawn(page, region) and region.numeric < 0.3 and (
                region.columns < 3 or _holds_addresses(page, region)):
            continue  # columns of words, nothing drawn, no caption: an author block, a form
        if caption is None and _in_other_float(page, region, floats, taken + [c.bbox for c in table_captions],
                                               body_size):
            continue  # a chart's axes and legend, a diagram, pseudo-code: words in columns, no table
        if caption is None and _display_math(page, region):
            continue  # a matrix or aligned equations: terms in columns, no table
        if caption is not None:
            free.remove(caption)
            key = caption.label if caption.label is not None else f"p{page.number}.g{k + 1}"
        else:
            key = f"p{page.number}.g{k + 1}"
        limit = min([c.bbox[1] for c in free if c.bbox[1] > region.bottom] + [page.height])
        chunk = _make_chunk(page, key, caption, ext, limit, below, found_by="geometry")
        chunks.append(chunk)
    return chunks


def _holds_addresses(page: PageLayout, region) -> bool:
    """Does the region hold e-mail addresses (authors set side by side, each over an address)?"""
    return any(EMAIL_RE.search(w.text) for w in _words_between(page, region.top, region.bottom, region.x0, region.x1))


def _display_math(page: PageLayout, region) -> bool:
    """Is the region displayed math set in columns (aligned equations, a matrix)?

    A numbered equation ends its line with its number ("(6)") after a relation ("=", "≤"); so
    does no table row. Unnumbered, math still relates terms on most of its lines, where a
    table's cells rarely hold a relation; and brackets built up from pieces enclose a matrix.
    """
    words = _words_between(page, region.top, region.bottom, region.x0, region.x1)
    if sum(1 for w in words if BRACKET_PIECE_RE.search(w.text)) >= 2:
        return True
    lines = group_lines(words)
    related = [ln for ln in lines if any(RELATION_RE.search(w.text) for w in ln.words)]
    if any(EQUATION_NUMBER_RE.match(ln.words[-1].text) for ln in related):
        return True
    return len(lines) >= 2 and 2 * len(related) >= len(lines)


def _in_other_float(page: PageLayout, region, floats: list[Caption], tables: list[BBox], body_size: float) -> bool:
    """Does the region belong to a figure, an algorithm or a box? Its caption runs into the
    region, or is nearer to it than any table (a table's caption or a table found already) of
    all that stand above or below it with no running text between (a figure's labels stand
    apart from its caption by the art alone; a table's body may stand apart from its header).

    Some of the float's art lies in the region or right next to it: one picture behind all its
    labels, plots, boxes and arrows among them, the rules of a ruled algorithm. Columns with no
    art at all are a table whatever caption follows.
    """
    box = region.bbox
    if not _near_art(page, region):
        return False
    if any(_overlaps(c.bbox, box) for c in floats):
        return True
    anchors = [(c.bbox, False) for c in floats] + [(t, True) for t in tables]
    reach = []
    for anchor, is_table in anchors:
        if h_overlap(anchor[0], anchor[2], region.x0, region.x1) <= 0:
            continue
        if anchor[3] <= region.top + 1:
            top, bottom = anchor[3], region.top
        elif anchor[1] >= region.bottom - 1:
            top, bottom = region.bottom, anchor[1]
        else:
            continue
        x0, x1 = max(region.x0, anchor[0]), min(region.x1, anchor[2])
        if not _running_text_between(page, top, bottom, x0, x1, body_size):
            reach.append((bottom - top, is_table))
    return bool(reach) and not min(reach)[1]


def _near_art(page: PageLayout, region) -> bool:
    """Graphics, fills or rules in the region or within a line and a half of it (labels set
    right under or over a picture count as over it)."""
    x0, top, x1, bottom = region.bbox
    m = 1.5 * region.size

    def meets(b) -> bool:
        return b[0] < x1 and x0 < b[2] and b[1] < bottom + m and top - m < b[3]

    return (any(meets(g) for g in page.graphics) or any(meets(f.bbox) for f in page.fills)
            or any(meets((r.x0, r.top, r.x1, r.bottom)) for r in page.rules))


def _running_text_between(page: PageLayout, top: float, bottom: float, x0: float, x1: float,
                          body_size: float) -> bool:
    """A line of running text in the band: many words, wide, in the body size (a chart's axis
    title is set smaller)."""
    words = [w for w in page.words if w.top >= top - 1 and w.bottom <= bottom + 1 and h_overlap(w.x0, w.x1, x0, x1) > 0]
    for line in group_lines(words):
        for phrase in split_line(line, 1.0 * line.size):
            if (len(phrase.words) >= PROSE_MIN_WORDS and phrase.x1 - phrase.x0 >= PROSE_MIN_WIDTH * page.width
                    and phrase.size > body_size - 1.0):
                return True
    return False


def _drawn(page: PageLayout, region) -> bool:
    """Rules or shading in or around a region."""
    box = region.bbox
    return bool(region.rules) or any(f.filled and _overlaps(f.bbox, box) for f in page.fills)


def _nearest_caption(region, captions: list[Caption]) -> tuple[Caption | None, bool]:
    """The caption right above the region (a note may sit between), else right below it."""
    size = region.size
    above = [c for c in captions if c.bbox[3] <= region.top + 1 and region.top - c.bbox[3] <= 6 * size
             and h_overlap(c.bbox[0], c.bbox[2], region.x0, region.x1) > 0]
    if above:
        return max(above, key=lambda c: c.bbox[3]), False
    below = [c for c in captions if c.bbox[1] >= region.bottom - 1 and c.bbox[1] - region.bottom <= 3 * size
             and h_overlap(c.bbox[0], c.bbox[2], region.x0, region.x1) > 0]
    if below:
        return min(below, key=lambda c: c.bbox[1]), True
    return None, False


def ran_to_page_bottom(page: PageLayout, chunk: TableChunk) -> bool:
    """True when nothing but the running foot follows the chunk on its page."""
    bottom = chunk.bbox[3]
    limit = page.height * (1 - HEAD_BAND)
    return not any(w.top > bottom + 1 and w.bottom < limit for w in page.words)


def continuation_chunk(page: PageLayout, previous: TableChunk, body_size: float) -> TableChunk | None:
    """A table-like block at the top of *page* that goes on with *previous* (no caption)."""
    band = HEAD_BAND * page.height
    words = [w for w in page.words if w.top > band and w.bottom < page.height - band]
    if not words:
        return None
    first_top = min(w.top for w in words)
    x0 = min(w.x0 for w in words)
    lines = group_lines(page.words)
    phrases = _phrases(page, lines)
    captions = find_captions(page, body_size, phrases)
    limit = min([c.bbox[1] for c in captions] + [page.height])
    start = first_top - 0.5
    cap_lines = previous.caption.lines if previous.caption is not None else []
    ext = _rule_extent(page, max(band, start - 6.0), +1, limit, x0, page.width,
                       cap_lines[0].size if cap_lines else 9.0, body_size)
    if ext is None or ext.top > first_top + 1:
        ext = _gap_extent(page, phrases, start, +1, limit, x0, body_size, [c.bbox for c in captions])
    if ext is None:
        return None
    return _make_chunk(page, previous.number, None, ext, limit, False, found_by="continuation", continued=True)
