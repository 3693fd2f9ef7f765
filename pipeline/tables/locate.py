"""Find table chunks on pages: the caption, the header and body words, the footnote.

A chunk is the part of one table printed on one page ("Table 2" or "Table 2
(continued)"). Tables are found by their captions; the chunk's extent comes from the
horizontal rules under the caption when there are any, else from the gap that separates
the table from the text around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.geometry import group_lines, h_overlap, union_bbox
from pipeline.records import BBox, Line, PageLayout, Rule, Word

CAPTION_RE = re.compile(
    r"^Table\s*(?P<num>\d+|[IVX]+)\b\.?\s*(?P<cont>\((?:continued|cont(?:'d|\.)?)\))?[.:]?\s*(?P<title>.*)$",
    re.IGNORECASE,
)
CONTINUED_TAIL_RE = re.compile(r"\s*[(\[]\s*(?:continued|cont(?:'d|\.)?)\s*[)\]]\.?$", re.IGNORECASE)
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


@dataclass(slots=True)
class Caption:
    number: int
    continued: bool
    title: str
    lines: list[Line]

    @property
    def bbox(self) -> BBox:
        return union_bbox(ln.bbox for ln in self.lines)


@dataclass(slots=True)
class TableChunk:
    """One table's part on one page, split into header words, body words and footnote lines."""

    number: int
    continued: bool
    page: int
    caption: Caption
    header_words: list[Word]
    body_words: list[Word]
    footnote_lines: list[Line]
    row_separators: list[float] = field(default_factory=list)  # y of rules/shading edges in the body
    bbox: BBox = (0.0, 0.0, 0.0, 0.0)


def _caption_number(text: str) -> tuple[int, bool, str] | None:
    m = CAPTION_RE.match(text.strip())
    if not m:
        return None
    num = m.group("num")
    number = int(num) if num.isdigit() else _ROMAN.get(num.upper(), 0)
    title = m.group("title").strip()
    continued = bool(m.group("cont"))
    tail = CONTINUED_TAIL_RE.search(title)
    if tail:  # "Table 2 Overview of ... (Continued)"
        continued, title = True, title[: tail.start()].strip()
    return (number, continued, title) if number else None


def find_captions(page: PageLayout, body_size: float) -> list[Caption]:
    """Lines that start with "Table N" set apart from body text (bold, or another size)."""
    captions = []
    lines = group_lines(page.words)
    for i, line in enumerate(lines):
        parsed = _caption_number(line.text)
        if not parsed:
            continue
        first = line.words[0]
        if not (first.bold or abs(first.size - body_size) > 0.3):
            continue  # "Table 1 shows ..." inside a paragraph
        # A caption may wrap: following lines with the same size and a tight pitch belong to it.
        cap_lines = [line]
        for nxt in lines[i + 1:]:
            prev = cap_lines[-1]
            if (abs(nxt.size - line.size) < 0.3 and nxt.top - prev.bottom < 0.6 * line.size
                    and h_overlap(nxt.x0, nxt.x1, line.x0, line.x1) > 0
                    and abs(nxt.x0 - line.x0) < 2 and not _caption_number(nxt.text)):
                cap_lines.append(nxt)
            else:
                break
        number, continued, title = parsed
        extra = " ".join(ln.text for ln in cap_lines[1:])
        captions.append(Caption(number, continued, (title + " " + extra).strip(), cap_lines))
    return captions


def _table_rules(page: PageLayout, caption: Caption, limit: float) -> list[Rule]:
    """Horizontal rules under the caption (and above *limit*) that span much of its width."""
    width = page.width
    rules = [r for r in page.rules if r.horizontal and r.top >= caption.bbox[1] - 1
             and r.top < limit and (r.x1 - r.x0) >= 0.25 * width]
    return sorted(rules, key=lambda r: r.top)


def _merge_close(values: list[float], tol: float) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def locate_chunks(page: PageLayout, body_size: float) -> list[TableChunk]:
    """Split a page's table regions into caption, header, body and footnote."""
    captions = find_captions(page, body_size)
    chunks = []
    for index, caption in enumerate(captions):
        limit = captions[index + 1].bbox[1] if index + 1 < len(captions) else page.height
        chunk = _chunk_from_rules(page, caption, limit, body_size)
        if chunk is not None:
            chunks.append(chunk)
    return chunks


def _words_between(page: PageLayout, top: float, bottom: float, x0: float, x1: float) -> list[Word]:
    return [w for w in page.words if w.top >= top - 0.5 and w.bottom <= bottom + 0.5
            and w.x0 >= x0 - 2 and w.x1 <= x1 + 2]


def _chunk_from_rules(page: PageLayout, caption: Caption, limit: float, body_size: float) -> TableChunk | None:
    cap_box = caption.bbox
    rules = _table_rules(page, caption, limit)
    if len(rules) < 2:
        return None
    x0 = min(r.x0 for r in rules)
    x1 = max(r.x1 for r in rules)
    # The first rule under the caption opens the table; the chain of rules goes on while
    # what lies between two rules is table text (not body-size prose).
    ys = _merge_close([r.top for r in rules], 1.0)
    if ys[0] - cap_box[3] > 4 * caption.lines[0].size:
        return None
    chain = [ys[0]]
    table_size: float | None = None
    for y in ys[1:]:
        between = _words_between(page, chain[-1], y, x0, x1)
        if between:
            sizes = {w.size for w in between}
            if table_size is None:
                table_size = max(sizes)
            if max(sizes) > table_size + 0.6:
                break  # prose between two rules: the table ended at the previous rule
        chain.append(y)
    if len(chain) < 2:
        return None
    header_bottom = chain[1] if len(chain) >= 3 else None
    top, bottom = chain[0], chain[-1]
    if header_bottom is None:
        words = _words_between(page, top, bottom, x0, x1)
        header_words, body_words = _split_header_by_gap(words)
        separators = []
    else:
        header_words = _words_between(page, top, header_bottom, x0, x1)
        body_words = _words_between(page, header_bottom, bottom, x0, x1)
        separators = [y for y in chain[2:-1]]
    separators += _shading_edges(page, header_bottom or top, bottom, x0, x1)
    footnote = _footnote_lines(page, bottom, limit, x0, x1, table_size or body_size)
    boxes = [cap_box, (x0, top, x1, bottom)] + [ln.bbox for ln in footnote]
    return TableChunk(number=caption.number, continued=caption.continued, page=page.number,
                      caption=caption, header_words=header_words, body_words=body_words,
                      footnote_lines=footnote, row_separators=sorted(set(separators)),
                      bbox=union_bbox(boxes))


def _split_header_by_gap(words: list[Word]) -> tuple[list[Word], list[Word]]:
    """With no rule under the header, the header is the first line group (up to the first wide gap)."""
    lines = group_lines(words)
    if not lines:
        return [], []
    header = [lines[0]]
    for ln in lines[1:]:
        if ln.top - header[-1].bottom > 0.6 * ln.size:
            break
        header.append(ln)
    header_ids = {id(w) for ln in header for w in ln.words}
    return ([w for w in words if id(w) in header_ids], [w for w in words if id(w) not in header_ids])


def _shading_edges(page: PageLayout, top: float, bottom: float, x0: float, x1: float) -> list[float]:
    """Top and bottom edges of row shading (zebra stripes) inside the table body."""
    edges = []
    for f in page.fills:
        if f.filled and f.top > top - 1 and f.bottom < bottom + 1 and (f.x1 - f.x0) > 0.5 * (x1 - x0):
            edges += [f.top, f.bottom]
    return edges


def _footnote_lines(page: PageLayout, bottom: float, limit: float, x0: float, x1: float,
                    table_size: float) -> list[Line]:
    """Small-print lines right under the table's last rule (abbreviations, notes)."""
    candidates = [w for w in page.words if w.top > bottom and w.top < limit and w.x0 >= x0 - 2 and w.x1 <= x1 + 2]
    lines = group_lines(candidates)
    out: list[Line] = []
    prev_bottom = bottom
    for ln in lines:
        if ln.size > table_size + 0.3 or ln.top - prev_bottom > 1.2 * ln.size:
            break
        out.append(ln)
        prev_bottom = ln.bottom
    return out
