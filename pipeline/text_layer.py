"""The narrative text layer: running heads dropped, reading order rebuilt, blocks typed.

Input: the pages' words and the regions that tables occupy. Output: :class:`TextBlock`
records in reading order, each with its page, bounding box and type. Table cells never
enter the narrative; text drawn inside figures is kept apart as ``figure_text``.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from pipeline.fonts import FontStyle, heavier
from pipeline.geometry import group_lines, inside, split_line, union_bbox
from pipeline.records import BBox, Line, PageLayout, TextBlock, Word

HEAD_BAND = 0.07  # top/bottom share of the page where running heads and folios live
PAGE_NUMBER_RE = re.compile(r"^(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?$", re.IGNORECASE)
# A figure's caption; other floats' captions need a delimiter ("Table 1 shows ..." is prose).
FIGURE_CAPTION_RE = re.compile(r"^((Fig\.?|Figure)\s*\d+|(Table|Algorithm|Scheme|Box)\s*[A-Z]?\d+(\.\d+)?\s*[:.|])",
                               re.IGNORECASE)
# Floats whose body is not a drawing: pseudo-code, listings, boxed text.
RULED_FLOAT_CAPTION_RE = re.compile(r"^(Algorithm|Listing|Procedure|Program|Box|Scheme)\s*[A-Z]?\d+(\.\d+)?\s*[:.|]?")
REFERENCE_START_RE = re.compile(r"^\[?\d{1,4}[.\]]\s")
SECTION_TYPES = {"references": "reference", "bibliography": "reference", "abbreviations": "abbreviation",
                 "list of abbreviations": "abbreviation"}
_WORD_CHARS_RE = re.compile(r"^[^\w]+|[^\w]+$")
TITLE_MIN_WORDS = 3
FIGURE_LABEL_MAX_WORDS = 8  # a label beside a drawing is short; a line of running text is not
FIGURE_CAPTION_REACH = 4.0  # in lines: a figure's caption stands this close to its art
FIGURE_STROKE_MAX = 0.3  # share of the page width: longer rules separate text, shorter ones draw
SIDE_COLUMN_MIN_LINES = 5  # lines of small print flush at one x that make a side column (not a logo's words)
FOOT_LINE_MAX_WORDS = 12  # a line or two of small print, not a paragraph
FOOT_RULE_MAX = 0.6  # share of the page width: a rule over a column's notes spans one column at most


@dataclass(slots=True)
class _Piece:
    """Part of a printed line that belongs to one column (or spans the page)."""

    line: Line
    column: int  # 0 = full width, 1 = left, 2 = right
    side: bool = False  # in a narrow side column of notes beside the main text
    emphasised: bool = False  # set heavier than the running text under it (a label)

    @property
    def top(self) -> float:
        return self.line.top


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.strip().lower())


def running_heads(pages: list[PageLayout]) -> set[str]:
    """Shapes (digits masked) of text repeated in the top/bottom band, or on the first or last
    line, of many pages."""
    counts: Counter[str] = Counter()
    for page in pages:
        band = HEAD_BAND * page.height
        seen = set()
        lines = group_lines(page.words)
        for i, line in enumerate(lines):
            if not (line.bottom < band or line.top > page.height - band or i in (0, len(lines) - 1)):
                continue
            for piece in split_line(line, _head_gap(line)):
                seen.add(_shape(piece.text))
        # A landscape page carries the running head sideways (kept apart by the loader).
        seen.update(_shape(w.text) for w in getattr(page, "rotated_words", []) or [])
        counts.update(seen)
    need = max(2, len(pages) // 2)
    return {shape for shape, n in counts.items() if n >= need}


def _head_gap(line: Line) -> float:
    return 1.5 * min(w.size for w in line.words)


def _side_text(pages: list[PageLayout], heads: set[str]) -> dict[int, list[Word]]:
    """Text set sideways (the loader keeps it apart as rotated lines), running heads dropped.

    A landscape page turned by /Rotate carries the journal's running head sideways in its
    margin; so does a page whose table is drawn rotated. Such lines are dropped when they
    repeat a running head or a folio, or recur on several pages; other sideways text (a
    margin note, an axis label) is kept.
    """
    per_page = {p.number: list(getattr(p, "rotated_words", []) or []) for p in pages}
    counts: Counter[str] = Counter()
    for words in per_page.values():
        counts.update({_shape(w.text) for w in words})
    out: dict[int, list[Word]] = {}
    for number, words in per_page.items():
        kept = [w for w in words if not (_shape(w.text) in heads or counts[_shape(w.text)] >= 2
                                         or PAGE_NUMBER_RE.match(w.text.strip()))]
        if kept:
            out[number] = kept
    return out


def figure_regions(page: PageLayout) -> list[BBox]:
    """Framed or drawn figure areas: a box that holds vector art, or a cluster of art."""
    regions = []
    art = page.graphics
    for f in page.fills:
        area = (f.x1 - f.x0) * (f.bottom - f.top)
        holds = sum(1 for g in art if inside(g, f.bbox))
        if area > 0.05 * page.width * page.height and holds >= 3:
            regions.append(f.bbox)
    loose = [g for g in art if not any(inside(g, r) for r in regions)]
    # Outlined boxes (a flow chart's nodes) are drawing elements too.
    loose += [f.bbox for f in page.fills if f.stroked and not f.filled
              and (f.x1 - f.x0) * (f.bottom - f.top) <= 0.05 * page.width * page.height
              and not any(inside(f.bbox, r) for r in regions)]
    # So are short strokes (a plot's axis, ticks and whiskers, a diagram's arrows); a table's
    # rules cluster too, but its words are the table's before figures are looked for.
    loose += [(r.x0, r.top, r.x1, r.bottom) for r in page.rules
              if max(r.x1 - r.x0, r.bottom - r.top) < FIGURE_STROKE_MAX * page.width
              and not any(inside((r.x0, r.top, r.x1, r.bottom), g) for g in regions)]
    for cluster in _art_clusters(loose, gap=12.0):
        if len(cluster) >= 5:
            regions.append(union_bbox(cluster))
    return regions + _ruled_floats(page)


def _ruled_floats(page: PageLayout) -> list[BBox]:
    """The bodies of floats set in the "ruled" style: a rule, the caption ("Algorithm 1: MIRA"),
    a rule, the body (pseudo-code, a listing), and a closing rule as wide as the first.

    Pseudo-code is set in short lines and columns of its own and is neither running text nor
    a table; its caption, between the first two rules, stays a caption.
    """
    rules = [r for r in page.rules if r.horizontal]
    floats = []
    for line in group_lines(page.words):
        for piece in split_line(line, 1.5 * line.size):
            if not RULED_FLOAT_CAPTION_RE.match(piece.text):
                continue
            reach = 1.5 * piece.size

            def spans(r) -> bool:
                return r.x0 <= piece.x0 + 1 and r.x1 >= piece.x1 - 1

            above = [r for r in rules if spans(r) and 0 <= piece.top - r.top <= reach]
            under = [r for r in rules if spans(r) and 0 <= r.top - piece.bottom <= reach]
            if not above or not under:
                continue
            top_rule, open_rule = max(above, key=lambda r: r.top), min(under, key=lambda r: r.top)
            closing = [r for r in rules if r.top > open_rule.top + piece.size
                       and abs(r.x0 - top_rule.x0) <= 2 and abs(r.x1 - top_rule.x1) <= 2]
            if closing:
                bottom = min(r.top for r in closing)
                floats.append((top_rule.x0, open_rule.top, top_rule.x1, bottom))
    return floats


def _frames_one_line(region: BBox, words: list[Word]) -> bool:
    lines = group_lines([w for w in words if inside(w.bbox, region)])
    return len(lines) == 1 and region[3] - region[1] < 3 * lines[0].size


def _label_zone(region: BBox, size: float) -> BBox:
    """Where a drawing's labels stand: its art, and up to a line and a half around it (an
    axis title left of the axis, tick labels under it, the words a diagram's arrows point to)."""
    m = 1.5 * size
    return (region[0] - m, region[1] - m, region[2] + m, region[3] + m)


def _touches(box: BBox, zone: BBox) -> bool:
    return box[0] < zone[2] and zone[0] < box[2] and box[1] < zone[3] and zone[1] < box[3]


def _figure_labels(words: list[Word], regions: list[BBox], page: PageLayout) -> list[Line]:
    """Short pieces of text right beside a figure's art: its labels, not narrative.

    A figure is a drawing with a caption just above or below it; a logo, a badge or the
    strokes of a box's border have none, and the text beside them stays narrative. So does
    a piece of a full line of running text, or a caption, however close.
    """
    lines = group_lines(words)
    pieces = [piece for line in lines for piece in split_line(line, 1.5 * line.size)]
    captions = [p.bbox for p in pieces if FIGURE_CAPTION_RE.match(p.text)]
    drawings = []
    for r in regions:
        reach = FIGURE_CAPTION_REACH * statistics.median(p.size for p in pieces)
        if min(r[2] - r[0], r[3] - r[1]) >= reach / 2 and any(
                c[0] < r[2] and r[0] < c[2] and (0 <= c[1] - r[3] <= reach or 0 <= r[1] - c[3] <= reach)
                for c in captions):
            drawings.append(r)
    return [p for p in pieces if drawings and len(p.words) < FIGURE_LABEL_MAX_WORDS
            and not FIGURE_CAPTION_RE.match(p.text)
            and any(_touches(p.bbox, _label_zone(r, p.size)) for r in drawings)]


def _art_clusters(boxes: list[BBox], gap: float) -> list[list[BBox]]:
    """Pieces of art that lie within *gap* of each other (single linkage): one drawing each.

    A page's logos and icons far apart are separate clusters, not one region spanning the
    page (which would swallow the text between them).
    """
    clusters: list[list[BBox]] = []
    boxes_left = sorted(boxes, key=lambda b: (b[1], b[0]))
    while boxes_left:
        seed = boxes_left.pop(0)
        cluster, frontier = [seed], [seed]
        while frontier:
            a = frontier.pop()
            near = [b for b in boxes_left if b[0] - gap <= a[2] and a[0] - gap <= b[2]
                    and b[1] - gap <= a[3] and a[1] - gap <= b[3]]
            for b in near:
                boxes_left.remove(b)
            cluster += near
            frontier += near
        clusters.append(cluster)
    return clusters


def _gutter(parts: list[Line], width: float) -> float:
    """Where the page's two columns meet: its centre, unless the text leaves a clear vertical
    gap elsewhere with text on both sides (a narrow side column beside a wide main one)."""
    centre = width / 2
    if len(parts) < 10:
        return centre
    best: tuple[int, float] | None = None
    runs: list[float] = []
    # Sorted edges answer "how many parts end left of / start right of x" by bisection: the
    # probe runs 161 times per page, and Line edges are computed from its words on every access.
    starts = sorted(p.x0 for p in parts)
    ends = sorted(p.x1 for p in parts)
    for x in (width * i / 200 for i in range(20, 181)):
        left = bisect_right(ends, x)  # x1 <= x
        right = len(starts) - bisect_left(starts, x)  # x0 >= x
        started_left = bisect_left(starts, x)  # x0 < x
        crossing = started_left - bisect_right(ends, x)  # x0 < x < x1 (x1 <= x0 never holds)
        if left < 5 or right < 5 or crossing > 0.05 * len(parts):
            continue
        if best is None or crossing < best[0]:
            best, runs = (crossing, x), [x]
        elif crossing == best[0]:
            runs.append(x)
    if best is None:
        return centre
    started_left = bisect_left(starts, centre)
    if started_left - bisect_right(ends, centre) <= best[0]:
        return centre  # the centre is as clear as any gap
    gutter = statistics.median(runs)
    # Columns of running text, not a list's terms beside their expansions.
    for side in ([p for p in parts if p.x1 <= gutter], [p for p in parts if p.x0 >= gutter]):
        if statistics.median(p.x1 - p.x0 for p in side) < 0.2 * width:
            return centre
    return gutter


def _split_columns(lines: list[Line], page: PageLayout, gap: float) -> list[_Piece]:
    pieces = [_Piece(part, 0) for line in lines for part in split_line(line, gap)]
    _mark_side_column(pieces, page, gap / 1.2)
    # The main columns meet where the main text leaves a gap: a side column beside them
    # (affiliations left of the abstract) leaves a gap of its own, which is not theirs.
    centre = _gutter([p.line for p in pieces if not p.side], page.width)
    for piece in pieces:
        part = piece.line
        if part.x0 < centre - 5 and part.x1 > centre + 5:
            piece.column = 0
        else:
            piece.column = 1 if (part.x0 + part.x1) / 2 < centre else 2
    # A line across the centre with a column's text beside it belongs to a wider column on
    # that side (an abstract box that takes more than half the page), not to the full width.
    for piece in pieces:
        if piece.column != 0:
            continue
        a = piece.line
        beside = [o.line for o in pieces if o.column != 0 and o.line.top < a.bottom and a.top < o.line.bottom
                  and o.line.x1 - o.line.x0 >= 0.2 * page.width]  # a column's line, not a logo's words
        if any(o.x0 >= a.x1 for o in beside):
            piece.column = 1
        elif any(o.x1 <= a.x0 for o in beside):
            piece.column = 2
    # Parts of one printed line that fall into the same column belong together again
    # (an abbreviation and its expansion, a justified line with a wide space); a side
    # column's line beside the main column's stays apart.
    merged: list[_Piece] = []
    for piece in sorted(pieces, key=lambda p: (p.column, p.side, round(p.top, 1), p.line.x0)):
        prev = merged[-1] if merged else None
        if prev and (prev.column, prev.side) == (piece.column, piece.side) and abs(prev.top - piece.top) < 1.0:
            prev.line = Line(prev.line.words + piece.line.words)
        else:
            merged.append(piece)
    return merged


def _mark_side_column(pieces: list[_Piece], page: PageLayout, body_size: float) -> None:
    """Mark a narrow side column of small print (citation, editor, dates, licence beside the
    first page's main column): it is read on its own, after the page's main text, instead
    of line by line between the main column's lines.

    A side column is a run of at least SIDE_COLUMN_MIN_LINES lines flush at one x, all
    narrow and set in one size smaller than the body, most with nothing in that size beside
    them; a wide line at that x ends it.
    """
    by_x: dict[int, list[_Piece]] = {}
    for piece in sorted(pieces, key=lambda p: p.top):
        key = next((k for k in by_x if abs(by_x[k][0].line.x0 - piece.line.x0) < 1.0), len(by_x))
        by_x.setdefault(key, []).append(piece)
    runs: list[list[_Piece]] = []
    for stack in by_x.values():
        run: list[_Piece] = []
        for piece in stack:
            ln = piece.line
            fits = ln.x1 - ln.x0 < 0.2 * page.width and ln.size < body_size - 0.5
            if fits and (not run or abs(ln.size - run[0].line.size) < 0.5):
                run.append(piece)
                continue
            runs.append(run)
            run = [piece] if fits else []
        runs.append(run)
    for run in runs:
        # Terms beside their expansions in one size are a list, not notes beside the main text.
        listed = sum(1 for p in run if any(o is not p and o.line.top < p.line.bottom and p.line.top < o.line.bottom
                                           and abs(o.line.size - p.line.size) < 0.5 for o in pieces))
        if len(run) >= SIDE_COLUMN_MIN_LINES and listed < len(run) / 2:
            for piece in run:
                piece.side = True


def _widen_orphans(pieces: list[_Piece]) -> None:
    """A short last line of a full-width paragraph sits left of centre: keep it full width.

    It is one when no piece of the other column stands beside it and the line above it,
    one pitch up, is full width and starts at the same x.
    """
    tops = [p.top for p in pieces]  # the lines do not change here (their columns may)
    for piece, top in zip(pieces, tops):
        if piece.column == 0:
            continue
        size = piece.line.size
        beside = any(o.column not in (0, piece.column) and abs(o_top - top) < 2 * size
                     for o, o_top in zip(pieces, tops))
        above = [o for o, o_top in zip(pieces, tops) if o.column == 0 and 0 < top - o_top < 1.6 * size]
        if not beside and above and abs(above[-1].line.x0 - piece.line.x0) < 1.0:
            piece.column = 0


def _reading_order(pieces: list[_Piece], gap: float) -> list[_Piece]:
    """Full-width pieces cut the page into bands; so does white space at least *gap* tall
    across both columns (side-by-side author blocks above the abstract). Within a band,
    left column then right. A side column of notes comes after the page's main text."""
    ordered: list[_Piece] = []
    band: list[_Piece] = []
    band_bottom = None
    for piece in sorted((p for p in pieces if not p.side), key=lambda p: p.top):
        if band and band_bottom is not None and piece.top - band_bottom >= gap:
            ordered += sorted(band, key=lambda p: (p.column, p.top))
            band = []
        if piece.column == 0:
            ordered += sorted(band, key=lambda p: (p.column, p.top))
            band = []
            ordered.append(piece)
            band_bottom = None
        else:
            band.append(piece)
            band_bottom = max(band_bottom or piece.line.bottom, piece.line.bottom)
    ordered += sorted(band, key=lambda p: (p.column, p.top))
    return ordered + sorted((p for p in pieces if p.side), key=lambda p: p.top)


@dataclass(frozen=True, slots=True)
class BodyStyle:
    """The document's running-text style, measured on its own pages."""

    size: float  # font size carrying most narrative characters
    fontname: str  # the font that sets most of them
    pitch: float  # baseline-to-baseline distance of consecutive body lines
    column_width: float  # the commonest width of a full body line


def body_style(words: list[Word]) -> BodyStyle:
    """The dominant paragraph style of *words* (narrative words: tables, figures, running heads gone)."""
    chars: Counter[tuple[float, str]] = Counter()
    for w in words:
        chars[(w.size, w.fontname)] += len(w.text)
    if not chars:
        return BodyStyle(0.0, "", 0.0, 0.0)
    (size, font), _ = chars.most_common(1)[0]
    widths: Counter[int] = Counter()
    pitches: list[float] = []
    by_page: dict[int, list[Word]] = {}
    for w in words:
        if w.fontname == font and abs(w.size - size) < 0.1:
            by_page.setdefault(w.page, []).append(w)
    for page_words in by_page.values():
        lines = [ln for ln in group_lines(page_words) for ln in split_line(ln, 1.2 * size)]
        for ln in lines:
            if len(ln.words) >= 5:
                widths[round((ln.x1 - ln.x0) / 5) * 5] += 1
        lines.sort(key=lambda ln: (round(ln.x0 / 20), ln.top))
        pitches += [b.top - a.top for a, b in zip(lines, lines[1:])
                    if 0 < b.top - a.top < 2.5 * size and abs(a.x0 - b.x0) < 20]
    column_width = float(widths.most_common(1)[0][0]) if widths else 0.0
    pitch = statistics.median(pitches) if pitches else 1.2 * size
    return BodyStyle(size=size, fontname=font, pitch=pitch, column_width=column_width)


def _mark_emphasis(pieces: list[_Piece], fonts: dict[str, FontStyle], body: BodyStyle) -> None:
    """Mark a line set in a clearly heavier face than the upright running text right under
    it, in its size: a label over its text (a structured abstract's "Objective" in a medium
    face over regular text), though neither face need be bold against the body font.

    *pieces* are in reading order. Small print (notes, a side column) is left alone, and so
    is a line in the body face (upright text over a line of italics is no label).
    """
    for piece, below in zip(pieces, pieces[1:]):
        a, b = piece.line, below.line
        if ((below.column, below.side) != (piece.column, piece.side) or not 0 < b.top - a.top < 2.5 * a.size
                or abs(a.size - b.size) >= 0.5 or a.size < 0.85 * body.size
                or any(w.fontname == body.fontname for w in a.words)):
            continue
        chars: Counter[str] = Counter()
        for w in b.words:
            chars[w.fontname] += len(w.text)
        face = fonts.get(chars.most_common(1)[0][0])
        piece.emphasised = (face is not None and not face.italic
                            and all(heavier(fonts.get(w.fontname), face) for w in a.words))


def _is_heading_line(line: Line, body_size: float, emphasised: bool = False) -> bool:
    """Set apart from running text by weight, slant or size.

    A styled line that ends a clause (".", ",", ";") is a sentence set in bold or italics
    (a product name wrapped onto its own line, a listed file), not a heading.
    """
    if line.text.rstrip().endswith((".", ",", ";")):
        return False
    if emphasised or all(w.bold for w in line.words):
        return line.size >= 0.7 * body_size  # small bold headings of back matter count too
    italic = all(w.italic for w in line.words)
    larger = line.size >= 1.15 * body_size
    return (italic or larger) and line.size >= 0.85 * body_size


def _starts_block(first: _Piece, prev: _Piece, cur: _Piece, col_x0: float, body_size: float) -> bool:
    """Does *cur* open a new block after *prev* (the last line of the block opened by *first*)?"""
    a, b = prev.line, cur.line
    if cur.column != prev.column or cur.side != prev.side or b.page != a.page:
        return True
    if abs(a.size - b.size) > 0.4:
        return True
    if (_is_heading_line(a, body_size, prev.emphasised) != _is_heading_line(b, body_size, cur.emphasised)
            and not FIGURE_CAPTION_RE.match(first.line.text)):  # a caption's bold title runs on
        return True
    if b.top - a.bottom > 0.55 * b.size:
        return True
    if REFERENCE_START_RE.match(b.text):
        return True
    if FIGURE_CAPTION_RE.match(b.text) and a.text.rstrip().endswith((".", ":", "!", "?")):
        return True  # a caption opens after a finished sentence ("... Figure 1 processes" runs on)
    indent = 0.6 * b.size
    if REFERENCE_START_RE.match(first.line.text) and b.x0 - first.line.x0 > indent:
        return False  # the hanging indent of a numbered reference's wrapped lines
    return b.x0 - col_x0 > indent and a.x0 - col_x0 <= indent  # first-line indent opens a paragraph


class Dehyphenator:
    """Rejoin words broken at line ends, using the document itself as the dictionary.

    "autoleu-" + "cel" becomes "autoleucel" when the document spells "autoleucel" (or
    neither form is attested and both halves are lower-case prose); "cilta-" + "cel" stays
    "cilta-cel" when the document writes "cilta-cel" elsewhere; a hyphen next to a capital
    or a digit ("CAR-" + "T", "IL-" + "6", "P-BCMA-" + "101") is always a real hyphen.
    """

    def __init__(self, words: list[str]):
        self.vocab: Counter[str] = Counter()
        for w in words:
            token = _WORD_CHARS_RE.sub("", w).lower()
            if token:
                self.vocab[token] += 1

    def join(self, head: str, tail: str) -> str:
        """Join the last word of a line (*head*, ending in '-') with the next line's first word."""
        stem = head[:-1]
        first_tail = tail.split(" ", 1)[0]
        t = _WORD_CHARS_RE.sub("", first_tail)
        s = re.sub(r"^[^\w]+", "", stem)
        last_part = s.split("-")[-1]
        joined = (s + t).lower()
        hyphenated = f"{s}-{t}".lower()
        if self.vocab[hyphenated] > self.vocab[joined]:
            return head + tail
        if self.vocab[joined] > 0:
            return stem + tail
        if not last_part or not t or not last_part.isalpha() or not t[0].islower() or not last_part[-1].islower():
            return head + tail
        if _compound_break(last_part.lower(), t.lower()):
            return head + tail
        return stem + tail


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """Webster's word list (english-words package, offline), loaded only when needed."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2"], lower=True))


def _is_word(word: str, words: frozenset[str]) -> bool:
    if word in words:
        return True
    # web2 lists base forms: strip an inflection before looking a word up.
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                         ("ing", "e"), ("ly", ""), ("er", ""), ("est", "")):
        if word.endswith(suffix) and word[: -len(suffix)] + repl in words:
            return True
    return False


def _compound_break(left: str, right: str) -> bool:
    """A line break at the hyphen of a compound ("triple-/class") rather than inside a word.

    Asked only when the document spells neither form: the joined form is not an English
    word but both halves are ("smaller-sized"), while "develop-/ing" or "thera-/pies" join.
    """
    words = _english_words()
    if _is_word(left + right, words):
        return False
    return len(left) >= 3 and len(right) >= 3 and _is_word(left, words) and _is_word(right, words)


def join_lines(lines: list[str], dehyphenator: Dehyphenator) -> tuple[str, list[int]]:
    """The lines as one text, words broken at a line end mended; and where each line starts in it."""
    text = ""
    starts: list[int] = []
    for line in lines:
        line = line.strip()
        if not text:
            text = line
        elif text.endswith("-") and not text.endswith(" -") and len(text) > 1 and text[-2].isalnum():
            head_start = text.rfind(" ") + 1
            text = text[:head_start] + dehyphenator.join(text[head_start:], line)  # ... + line
        else:
            text += " " + line
        starts.append(len(text) - len(line))
    return text, starts


def _spaced_starts(lines: list[Line]) -> list[int]:
    """Where each line starts in the lines' texts joined by single spaces."""
    starts, at = [], 0
    for ln in lines:
        starts.append(at)
        at += len(ln.text) + 1
    return starts


def _printed_lines(lines: list[Line], starts: list[int]) -> list[tuple[int, BBox]]:
    return [(start, ln.bbox) for start, ln in zip(starts, lines)]


def _abbreviation_text(lines: list[Line]) -> str:
    """An abbreviation entry as "TERM<TAB>expansion": the widest gap on its first line splits them."""
    first = lines[0].words
    gaps = [(b.x0 - a.x1, i) for i, (a, b) in enumerate(zip(first, first[1:]), start=1)]
    if not gaps:
        return lines[0].text
    _, cut = max(gaps)
    term = " ".join(w.text for w in first[:cut])
    expansion = " ".join([" ".join(w.text for w in first[cut:])] + [ln.text for ln in lines[1:]])
    return f"{term}\t{expansion}"


def build_text_blocks(pages: list[PageLayout], excluded: dict[int, list[BBox]]) -> list[TextBlock]:
    """Narrative blocks of the document in reading order.

    *excluded* maps a page number to regions (tables) whose words are not text-layer text.
    """
    heads = running_heads(pages)
    # A frame around a single line of text (an article-type banner) is not a figure.
    figure_boxes = {p.number: [r for r in figure_regions(p) if not _frames_one_line(r, p.words)] for p in pages}
    side_text = _side_text(pages, heads)
    kept: list[tuple[PageLayout, list[Word], list[Word]]] = []
    for page in pages:
        regions = excluded.get(page.number, [])
        band = HEAD_BAND * page.height
        words, figure_words = [], []
        free = [w for w in page.words if not any(inside(w.bbox, r) for r in regions)]
        for line in group_lines(free):
            for piece in split_line(line, 1.5 * line.size):
                held = [any(inside(w.bbox, r) for r in figure_boxes[page.number]) for w in piece.words]
                # A line of text that runs out of a drawing's box is not the drawing's
                # ("Open access" beside a licence logo).
                if all(held):
                    figure_words += piece.words
                else:
                    words += piece.words
        labels = [w for piece in _figure_labels(words, figure_boxes[page.number], page) for w in piece.words]
        if labels:
            figure_words += labels
            words = [w for w in words if w not in set(labels)]
        # Drop running heads and folios in the top/bottom band.
        body_words = []
        lines = group_lines(words)
        for i, line in enumerate(lines):
            in_band = line.bottom < band or line.top > page.height - band
            # A running head or folio is the page's first or last line, even in a narrow margin.
            edge = i in (0, len(lines) - 1)
            for piece in split_line(line, _head_gap(line)):
                if (in_band or edge) and (_shape(piece.text) in heads or PAGE_NUMBER_RE.match(piece.text.strip())):
                    continue
                body_words += piece.words
        kept.append((page, body_words, figure_words))
    dehyphenator = Dehyphenator([w.text for _, ws, _ in kept for w in ws])
    body = body_style([w for _, ws, _ in kept for w in ws])
    body_size = body.size

    blocks: list[TextBlock] = []
    reading = _Reading()
    title_size = _title_size(kept[0][1]) if kept else 0.0
    for page, words, figure_words in kept:
        pieces = _split_columns(group_lines(words), page, 1.2 * body_size)
        _widen_orphans(pieces)
        pieces = _reading_order(pieces, 3.0 * body.pitch)
        _mark_emphasis(pieces, getattr(page, "fonts", None) or {}, body)
        col_x0 = {c: min((p.line.x0 for p in pieces if p.column == c), default=0.0) for c in (0, 1, 2)}
        groups: list[list[_Piece]] = []
        for piece in pieces:
            if groups and not _starts_block(groups[-1][0], groups[-1][-1], piece, col_x0[piece.column], body_size):
                groups[-1].append(piece)
            else:
                groups.append([piece])
        parts = [_Part([p.line for p in group], *join_lines([p.line.text for p in group], dehyphenator),
                       all(_is_heading_line(p.line, body_size, p.emphasised) for p in group), group[0].column)
                 for group in groups]
        for gi, (group, part) in enumerate(zip(groups, parts)):
            lines, text = part.lines, part.text
            reading.prose_follows = _leads_to_prose(part, parts[gi + 1:], body)
            following = parts[gi + 1].lines if gi + 1 < len(parts) else []
            # Typesetters never end a column with a heading: text follows it below, in its column.
            reading.text_below = bool(following) and following[0].top > lines[-1].top and (
                groups[gi + 1][0].column == group[0].column or groups[gi + 1][0].column == 0)
            kind = _classify(lines, text, part.styled, reading, page.number, body, title_size)
            if kind in ("abbreviation", "reference") and _under_foot_rule(lines[0], page):
                kind = "footnote"  # a list never runs on under the rule that opens a column's notes
            entries = _abbreviation_entries(lines) if kind == "abbreviation" else [lines]
            prev = blocks[-1] if blocks else None
            head = entries[0]
            if (kind == "abbreviation" and prev is not None and prev.type == kind and prev.page == page.number
                    and head[0].x0 > col_x0[group[0].column] + 0.6 * head[0].size):
                # An expansion wrapped onto an indented line continues the entry above.
                prev.lines += [(len(prev.text) + 1 + start, box)
                               for start, box in _printed_lines(head, _spaced_starts(head))]
                prev.text += " " + " ".join(ln.text for ln in head)
                prev.bbox = union_bbox([prev.bbox] + [ln.bbox for ln in head])
                entries = entries[1:]
            for entry in entries:
                if kind == "abbreviation":  # "TERM<TAB>expansion": as long as its lines joined by spaces
                    entry_text, starts = _abbreviation_text(entry), _spaced_starts(entry)
                else:
                    entry_text, starts = text, part.starts
                blocks.append(TextBlock(id="", page=page.number, bbox=union_bbox(ln.bbox for ln in entry),
                                        type=kind, text=entry_text, column=group[0].column,
                                        lines=_printed_lines(entry, starts)))
        for w in side_text.get(page.number, []):
            in_figure = any(inside(w.bbox, r) for r in figure_boxes[page.number])
            blocks.append(TextBlock(id="", page=page.number, bbox=w.bbox,
                                    type="figure_text" if in_figure else "footnote", text=w.text,
                                    lines=[(0, w.bbox)]))
        for region in figure_boxes[page.number]:
            fig_lines = group_lines([w for w in figure_words if _touches(w.bbox, _label_zone(region, w.size))])
            if fig_lines:
                blocks.append(TextBlock(id="", page=page.number, bbox=union_bbox(ln.bbox for ln in fig_lines),
                                        type="figure_text", text=" ".join(ln.text for ln in fig_lines),
                                        lines=_printed_lines(fig_lines, _spaced_starts(fig_lines))))
    _retype_by_place(blocks)
    for i, block in enumerate(blocks, start=1):
        block.id = f"b{i:04d}"
    link_continuations(blocks, dehyphenator)
    return blocks


def _under_foot_rule(line: Line, page: PageLayout) -> bool:
    """Does the line stand under the short rule that opens the notes at the foot of a column
    (correspondence, affiliations): a rule in the page's lower half, no wider than a column,
    from the column's left edge?"""
    return any(r.horizontal and r.x1 - r.x0 <= FOOT_RULE_MAX * page.width and r.top > page.height / 2
               and abs(r.x0 - line.x0) <= 0.5 * line.size and r.top < line.top
               for r in page.rules)


def _overlap_x(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2]


def _retype_by_place(blocks: list[TextBlock]) -> None:
    """Small print typed by where it stands on its page, once the page's running text is known.

    - On page 1, small print with no running text above it in its column is not a note at the
      foot of a column but the front matter's side column (editor, dates, DOI, licence).
    - Other small print with running text below it in its column is not at the foot of the
      column: it is running text set small (a keywords line under the abstract).
    - Notes stack at the foot of a column: a short block that ends its column right under a
      footnote (a DOI line set in bold) is one of them.
    """
    by_page: dict[int, list[TextBlock]] = {}
    for b in blocks:
        if b.type != "figure_text":
            by_page.setdefault(b.page, []).append(b)
    for page, page_blocks in by_page.items():
        paragraphs = [b for b in page_blocks if b.type == "paragraph"]
        for b in page_blocks:
            if (page == 1 and b.type == "footnote"
                    and not any(p.bbox[3] <= b.bbox[1] and _overlap_x(p.bbox, b.bbox) for p in paragraphs)):
                b.type = "front_matter"
            elif b.type == "footnote" and any(o.bbox[1] >= b.bbox[3] - 1.0 and _overlap_x(o.bbox, b.bbox)
                                              for o in paragraphs if len(o.text.split()) > FOOT_LINE_MAX_WORDS):
                b.type = "paragraph"
        for b in page_blocks:
            if b.type not in ("paragraph", "heading") or len(b.text.split()) > FOOT_LINE_MAX_WORDS:
                continue
            column = [o for o in page_blocks if o is not b and _overlap_x(o.bbox, b.bbox)]
            above = [o for o in column if o.bbox[3] <= b.bbox[1] + 1.0]
            below = [o for o in column if o.bbox[1] >= b.bbox[3] - 1.0]
            if above and not below and max(above, key=lambda o: o.bbox[3]).type == "footnote":
                b.type = "footnote"


def _title_like(text: str) -> bool:
    """A title says something: a few words at least (a journal name, an article-type banner
    or a drop cap says less)."""
    return sum(1 for w in text.split() if any(c.isalpha() for c in w)) >= TITLE_MIN_WORDS


def _title_size(words: list[Word]) -> float:
    """The title's size: the largest text of page 1 (running heads gone) that reads as a title."""
    sizes = [piece.size for line in group_lines(words) for piece in split_line(line, _head_gap(line))
             if _title_like(piece.text)]
    return max(sizes, default=0.0)


def link_continuations(blocks: list[TextBlock], dehyphenator: Dehyphenator) -> None:
    """Mark a paragraph that goes on in the next column or page, and mend a word broken there.

    The next paragraph block continues this one when it starts in lower case and this one
    does not end a sentence. A word hyphenated across the break is rejoined into the first
    block's text (the dehyphenation rules of a line break apply), so no block starts or ends
    with half a word.
    """
    paragraphs = [b for b in blocks if b.type == "paragraph"]
    for prev, block in zip(paragraphs, paragraphs[1:]):
        head = prev.text.rstrip()
        if not block.text[:1].islower() or head.endswith((".", "!", "?", ":")):
            continue
        block.continues = prev.id
        if head.endswith("-") and len(head) > 1 and head[-2].isalpha():
            start = head.rfind(" ") + 1
            first, _, rest = block.text.partition(" ")
            joined = dehyphenator.join(head[start:], first)
            prev.text = head[:start] + joined
            block.text = rest
            moved = len(first) + 1  # "first rest": the rest starts after the space
            block.lines = [(max(0, at - moved), box) for at, box in block.lines]


def _abbreviation_entries(lines: list[Line]) -> list[list[Line]]:
    """One entry per term: a line starting at the list's left edge opens an entry."""
    left = min(ln.x0 for ln in lines)
    entries: list[list[Line]] = []
    for ln in lines:
        if entries and ln.x0 > left + 0.6 * ln.size:
            entries[-1].append(ln)  # a wrapped expansion
        else:
            entries.append([ln])
    return entries


@dataclass(slots=True)
class _Reading:
    """Where the reader is in the document: front matter until the body starts, then sections."""

    section: str = "front"  # front, body, reference, abbreviation
    title_seen: bool = False
    after_heading: bool = False  # the block before this one was a heading
    prose_follows: bool = False  # the next block on the page is running text
    text_below: bool = True  # the next block on the page follows below, in the same column
    caption: tuple[list[Line], str] | None = None  # the block before this one, when it was a caption


def _is_section_heading(text: str) -> bool:
    """A heading that can open the body: a few words, not a list of names ("A, B, and C")."""
    return len(text.split()) <= 6 and "," not in text


@dataclass(frozen=True, slots=True)
class _Part:
    """A block of a page before it is typed."""

    lines: list[Line]
    text: str
    starts: list[int]  # where each line starts in text
    styled: bool  # every line set apart from running text (see _is_heading_line)
    column: int


def _leads_to_prose(heading: _Part, following: list[_Part], body: BodyStyle) -> bool:
    """Does running text follow a heading: right under it, or past the labelled parts of a
    structured section under it, in its column (a label, a sentence or two, the next label,
    ..., then running text)?"""
    label_due = False
    above = heading
    for part in following:
        if _is_prose(part.lines, part.text, body):
            return True
        if part.column != heading.column or part.lines[0].top < above.lines[-1].bottom:
            return False
        above = part
        if part.styled and len(part.lines) <= 3 and _is_section_heading(part.text):
            label_due = False
        elif label_due or not part.text.rstrip().endswith((".", "!", "?")):
            return False
        else:
            label_due = True  # a label's short text; the next label must come next
    return False


def _is_prose(lines: list[Line], text: str, body: BodyStyle) -> bool:
    """Running text in (about) the body style: several full lines of mostly lower-case words.

    This is where the front matter ends when no heading announces the body: an abstract or
    first paragraph looks like this, an author list, affiliation or journal banner does not.
    """
    if len(lines) < 3 or not body.column_width:
        return False
    size = statistics.median(ln.size for ln in lines)
    if abs(size - body.size) > 1.5:
        return False
    full = sum(1 for ln in lines[:-1] if ln.x1 - ln.x0 >= 0.8 * body.column_width)
    words = [w for w in text.split() if w[:1].isalpha()]
    lower = sum(1 for w in words if w[0].islower())
    return full >= 2 * (len(lines) - 1) / 3 and bool(words) and lower >= 0.4 * len(words)


def _classify(lines: list[Line], text: str, styled: bool, reading: _Reading, page: int, body: BodyStyle,
              title_size: float) -> str:
    """Block type; advances *reading* past the front matter and into named sections.

    The front matter ends at the first heading after the title that running text follows,
    or at the first block of running text, whichever comes first: found from the page's
    styles, not from heading names.
    """
    kind = _block_type(lines, text, styled, reading, page, body, title_size)
    reading.after_heading = kind == "heading"
    reading.caption = (lines, text) if kind == "caption" else None
    return kind


def _continues_caption(cap_lines: list[Line], cap_text: str, lines: list[Line], text: str, body: BodyStyle) -> bool:
    """Does this block go on with the caption just before it?

    Over a page break: the next page's first block opens in lower case after a caption that
    ends mid-sentence. On its page: the block stands right under the caption, in its column,
    and the caption announced more (it ends with ":") or the block is set in the caption's
    own size, smaller than the body (a figure's DOI line, a legend's second paragraph).
    """
    last, first = cap_lines[-1], lines[0]
    if first.page != last.page:
        return (first.page == last.page + 1 and text[:1].islower()
                and not cap_text.rstrip().endswith((".", "!", "?")))
    gap = first.top - last.bottom
    if not (-1.0 <= gap <= 1.5 * last.size) or not (first.x0 < last.x1 and last.x0 < first.x1):
        return False
    size = max(ln.size for ln in lines)
    return cap_text.rstrip().endswith(":") or (abs(size - last.size) < 0.3 and size < body.size - 0.5)


def _block_type(lines: list[Line], text: str, styled: bool, reading: _Reading, page: int, body: BodyStyle,
                title_size: float) -> str:
    """*styled*: every line is set apart from running text (see :func:`_is_heading_line`)."""
    size = max(ln.size for ln in lines)
    heading = (styled and len(lines) <= 3
               and (reading.text_below or reading.section == "front"))
    name = text.strip().lower().rstrip(":")
    front = reading.section == "front"
    if page == 1 and size >= title_size - 0.1 and front and (reading.title_seen or _title_like(text)):
        reading.title_seen = True
        return "title"
    if page == 1 and front and not reading.title_seen:
        return "front_matter"  # above the title: mastheads, banners, the journal's name and links
    if len(lines) == 1 and name in SECTION_TYPES:
        reading.section = SECTION_TYPES[name]
        return "heading"
    if FIGURE_CAPTION_RE.match(text) or (reading.caption and _continues_caption(*reading.caption, lines, text, body)):
        return "caption"
    if heading:
        if not front:
            reading.section = "body"
        elif reading.title_seen or page > 1:
            if not (_is_section_heading(text) and reading.prose_follows):
                return "front_matter"  # set in bold under the title: authors, affiliations
            reading.section = "body"
        return "heading"
    if reading.section in ("reference", "abbreviation"):
        return reading.section
    if front:
        if not _is_prose(lines, text, body):
            return "front_matter"
        reading.section = "body"
        return "paragraph"  # the running text that ends the front matter (an abstract set smaller)
    if size < body.size - 1.0 and not reading.after_heading:
        return "footnote"  # small print that no heading announces (a heading's own text is its section's)
    return "paragraph"


def narrative_warnings(blocks: list[TextBlock]) -> list[str]:
    """What a user must hear about the narrative: a document where no running text was found."""
    if any(b.type == "paragraph" for b in blocks):
        return []
    counts = Counter(b.type for b in blocks)
    found = ", ".join(f"{n} {t}" for t, n in counts.most_common()) or "no text blocks"
    return [f"no paragraphs found in the narrative ({found}): entities and facts from the text are "
            "missing"]
