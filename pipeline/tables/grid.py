"""Column grid and row structure of one table chunk, from word positions alone.

Columns are the vertical strips of the body that no phrase crosses; rows start where a
cell's text starts (cells wrap at the table's line pitch, rows are set further apart or
divided by rules/shading). A cell whose text runs past the start of the next row spans
several rows (a group label such as "Strategies Under Investigation").
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from pipeline.geometry import (
    group_lines,
    h_overlap,
    merge_intervals,
    split_line,
    union_bbox,
)
from pipeline.records import BBox, Line, Word

MAX_HEADER_LINES = 4  # printed lines a table's header takes at most (above or below a rule)


@dataclass(slots=True)
class Fragment:
    """Consecutive lines of one column set at the table's line pitch: one cell's text."""

    lines: list[Line]

    @property
    def top(self) -> float:
        return self.lines[0].top

    @property
    def bottom(self) -> float:
        return self.lines[-1].bottom

    @property
    def bbox(self) -> BBox:
        return union_bbox(ln.bbox for ln in self.lines)


@dataclass(slots=True)
class ChunkRow:
    top: float
    cells: dict[int, Fragment]

    @property
    def bbox(self) -> BBox:
        return union_bbox(f.bbox for f in self.cells.values())


@dataclass(slots=True)
class ChunkGrid:
    columns: list[tuple[float, float]]
    labels: list[str]  # printed label per column ("" when the chunk prints none)
    group_labels: list[str]  # group header above the column ("" when none)
    labels_level_with_groups: list[bool]  # an ungrouped label that starts level with the group headers
    rows: list[ChunkRow]
    spanning_columns: set[int]
    unparsed: list[str] = field(default_factory=list)  # lines across columns, kept whole in one cell


def _phrase_gap(words: list[Word], lines: list[Line] | None = None) -> float:
    """Widest gap between two words of one phrase: half an em, or 1.25 word spaces.

    The word space is measured: the smallest gap between words of a line that recurs (a
    font's spaces are all alike, column gaps vary). A monospaced font's space is 0.6 em, a
    proportional font's about 0.25-0.3 em.
    """
    size = max((w.size for w in words), default=7.0)
    space = _word_space(words, lines)
    if space is not None:
        return max(0.5 * size, 1.25 * space)
    # Too few gaps to measure (a one-row chunk): a monospaced font's space is its advance.
    advances = [(w.x1 - w.x0) / len(w.text) for w in words if len(w.text) >= 3]
    if len(advances) >= 3:
        mean = sum(advances) / len(advances)
        if mean > 0 and max(abs(a - mean) for a in advances) < 0.06 * mean:
            return max(0.5 * size, 1.25 * mean)
    return 0.5 * size


def _word_space(words: list[Word], lines: list[Line] | None = None) -> float | None:
    """The font's word space: the smallest gap between words of a line that recurs (None when
    too few gaps recur to tell)."""
    size = max((w.size for w in words), default=7.0)
    gaps = []
    for line in lines if lines is not None else group_lines(words):
        for a, b in zip(line.words, line.words[1:]):
            g = b.x0 - a.x1
            if 0 < g <= 1.0 * size:
                gaps.append(g)
    gaps.sort()
    for i, g in enumerate(gaps):
        j = bisect.bisect_right(gaps, g + 0.3, lo=i)
        if j - i >= 2:
            return gaps[(i + j - 1) // 2]
    return None


def _split_at_column_starts(phrases: list[Line], space: float | None) -> list[Line]:
    """Phrases split where a word starts at the left edge that three or more other phrases start at.

    A column set close to the one before it ("GSDMA" 3 pt before "Phosphorylation") leaves
    less than the phrase gap between them, but its cells still start flush at its edge: where
    a word set wider apart than a word space from the one before it starts exactly there, a
    new cell starts (dense tables set columns as little as 1.2 word spaces apart). A wrapped
    line that happens to pass the edge is set at word spaces.
    """
    if space is None:
        return phrases
    starts = sorted(p.x0 for p in phrases)

    def edge(x: float) -> bool:
        return bisect.bisect_right(starts, x + 0.6) - bisect.bisect_left(starts, x - 0.6) >= 3

    out: list[Line] = []
    for p in phrases:
        current = [p.words[0]]
        for a, b in zip(p.words, p.words[1:]):
            if b.x0 - a.x1 > 1.1 * space and edge(b.x0):
                out.append(Line(current))
                current = []
            current.append(b)
        out.append(Line(current))
    return out


def _columns_and_strays(body_words: list[Word]) -> tuple[list[tuple[float, float]], list[Line]]:
    """Column x-ranges, and the phrases that would bridge two columns each well supported.

    A row printed across several columns (a note or a section line inside the body) cannot
    be split into cells: it is left out of the column strips (so it does not merge them)
    and reported, its words kept in the column where it starts.
    """
    if not body_words:
        return [], []
    lines = group_lines(body_words)
    gap = _phrase_gap(body_words, lines)
    phrases = _split_at_column_starts([p for line in lines for p in split_line(line, gap)],
                                      _word_space(body_words, lines))
    strays: list[Line] = []
    kept = list(range(len(phrases)))
    if len(phrases) >= 8:
        def bridges(k: int, strips_of: list[int]) -> bool:
            p = phrases[k]
            strips = [iv for iv in merge_intervals((phrases[i].x0, phrases[i].x1) for i in strips_of)
                      if h_overlap(iv[0], iv[1], p.x0, p.x1) > 0]
            support = [sum(1 for i in range(len(phrases)) if i != k and iv[0] - 1 <= phrases[i].x0
                           and phrases[i].x1 <= iv[1] + 1) for iv in strips]
            return len(strips) >= 2 and min(support) >= 3

        # Each of the widest phrases, and each phrase that crosses a gutter most rows leave
        # white (a group heading or "N/A" set across two columns), is judged against the
        # strips of all the other phrases, against those of the phrases not judged, and
        # against those of the phrases that cross no gutter (two such lines over the same
        # columns must not hold each other's strips together).
        widest = sorted(kept, key=lambda i: phrases[i].x1 - phrases[i].x0, reverse=True)[:12]
        crossing = _gap_bridges(phrases)
        judged = widest + [i for i in crossing if i not in widest]
        judged_set, crossing_set = set(judged), set(crossing)
        narrower = [i for i in kept if i not in judged_set]
        within = [i for i in kept if i not in crossing_set]
        for k in judged:
            if bridges(k, [i for i in kept if i != k]) or bridges(k, narrower) or (
                    k in crossing_set and bridges(k, within)):
                strays.append(phrases[k])
                kept.remove(k)
    columns = merge_intervals((phrases[i].x0, phrases[i].x1) for i in kept)
    return columns, strays


def _gap_bridges(phrases: list[Line]) -> list[int]:
    """Phrases that cross a gutter: a stretch that few phrases cover, with columns on both sides.

    Most rows leave a gutter between two columns white; the few phrases that cover it (a
    group heading or "N/A" set across two columns, centred headings that each reach a little
    into the next column) cross it. A stretch is a gutter where the phrases covering it are at
    most a quarter of those covering the columns beside it (within the phrase's own extent).
    """
    lo = int(min(p.x0 for p in phrases))
    cover = [0] * (int(max(p.x1 for p in phrases)) - lo + 2)
    for p in phrases:
        for x in range(int(p.x0) - lo, int(p.x1) - lo + 1):
            cover[x] += 1
    out = []
    for i, p in enumerate(phrases):
        span = cover[int(p.x0) - lo:int(p.x1) - lo + 1]
        right_peak = [0] * (len(span) + 1)
        for k in range(len(span) - 1, -1, -1):
            right_peak[k] = max(span[k], right_peak[k + 1])
        left_peak = 0
        for k, c in enumerate(span):
            beside = min(left_peak, right_peak[k + 1])
            if c < beside and c <= max(1, beside // _GUTTER_SHARE):
                out.append(i)
                break
            left_peak = max(left_peak, c)
    return out


# A gutter: the phrases crossing it are at most this share (1 in N) of those beside it.
_GUTTER_SHARE = 4


def _splits_into_columns(phrase: Line, columns: list[tuple[float, float]]) -> bool:
    """Does every word of a phrase across columns sit inside one column (numbers set a little
    tight: "3,068,550 3,103,540")? Then its words are cells like any other."""
    slots = []
    for w in phrase.words:
        inside = [i for i, (a, b) in enumerate(columns) if h_overlap(a, b, w.x0, w.x1) > 0]
        if len(inside) != 1:
            return False
        slots.append(inside[0])
    return len(set(slots)) >= 2


def match_columns(reference: list[tuple[float, float]], columns: list[tuple[float, float]]) -> list[int] | None:
    """Index of the reference column that each column lies in, or None when they disagree.

    A continuation chunk may leave a column empty (fewer columns); each of its columns must
    then fall inside one reference column's slot, no two in the same slot.
    """
    if not reference or not columns:
        return None
    bounds = [(columns_edge(reference, i)) for i in range(len(reference))]
    mapping = []
    for a, b in columns:
        overlap = [min(b, hi) - max(a, lo) for lo, hi in bounds]
        best = max(range(len(bounds)), key=lambda i: overlap[i])
        left = next(i for i, (lo, hi) in enumerate(bounds) if lo <= a + 1 < hi)
        if left != best and overlap[left] < 0.5 * (b - a):
            return None  # the column straddles two of the reference's columns
        mapping.append(left)
    if len(set(mapping)) != len(mapping):
        return None
    return mapping


def columns_edge(columns: list[tuple[float, float]], i: int) -> tuple[float, float]:
    """Column *i*'s slot: its range extended to the midpoints of the gaps beside it."""
    lo = (columns[i - 1][1] + columns[i][0]) / 2 if i > 0 else float("-inf")
    hi = (columns[i][1] + columns[i + 1][0]) / 2 if i + 1 < len(columns) else float("inf")
    return lo, hi


def _first_spanned_column(phrase: Line, columns: list[tuple[float, float]],
                          group_runs: list[tuple[int, int]] | tuple = ()) -> int:
    """The first of the columns a phrase set across columns spans: of the runs of columns it
    reaches into, and of the runs under one header group that take them in, the one it is
    centred on ("N/A" centred over the four columns of a group, a heading across the table),
    as a spanning cell is placed at its start. A wide value that only reaches a little into
    the column before its own is centred on its own column."""
    reached = [i for i, (a, b) in enumerate(columns) if h_overlap(a, b, phrase.x0, phrase.x1) > 0]
    if not reached:
        return _slot_index(columns, (phrase.x0 + phrase.x1) / 2)
    centre = (phrase.x0 + phrase.x1) / 2
    spans = [(a, b) for a in reached for b in reached if a <= b]
    spans += [(a, b) for a, b in group_runs if a <= reached[0] and reached[-1] <= b]
    first, _ = min(spans, key=lambda ab: (abs((columns[ab[0]][0] + columns[ab[1]][1]) / 2 - centre), ab))
    return first


def _runs(values: list[str]) -> list[tuple[int, int]]:
    """(first, last) index of each run of equal non-empty values."""
    out: list[tuple[int, int]] = []
    for i, v in enumerate(values):
        if v and out and values[out[-1][1]] == v and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        elif v:
            out.append((i, i))
    return out


def _slot_index(columns: list[tuple[float, float]], x: float) -> int:
    """Index of the column whose slot (extended to the midpoints between columns) holds x."""
    for i in range(len(columns) - 1):
        if x < (columns[i][1] + columns[i + 1][0]) / 2:
            return i
    return len(columns) - 1


def _by_column(words: list[Word], columns: list[tuple[float, float]]) -> dict[int, list[Word]]:
    out: dict[int, list[Word]] = {}
    for w in words:
        out.setdefault(_slot_index(columns, (w.x0 + w.x1) / 2), []).append(w)
    return out


def _weight(line: Line) -> bool | None:
    """True when every word of a line is bold, False when none is, None when mixed."""
    bold = {w.bold for w in line.words}
    return bold.pop() if len(bold) == 1 else None


def _fragments(lines: list[Line], max_pitch: float, separators: list[float],
               weight_parts: bool = True) -> list[Fragment]:
    """A column's lines grouped into cells: lines at the line pitch, no separator between them,
    set in the same weight (a bold group heading right above a row in regular type is a cell
    of its own, however tight it is set).

    Without *weight_parts* (rows and wraps told apart by their leadings) the weight does not
    part lines: a cell may set some of its items in bold ("Caspase-1" among regular items)."""
    frags: list[Fragment] = []
    for line in lines:
        if frags:
            prev = frags[-1].lines[-1]
            crosses = any(prev.bottom - 1.0 <= y <= line.top + 1.0 for y in separators)
            weights = {_weight(prev), _weight(line)}
            crosses = crosses or (weight_parts and weights == {True, False})
            if line.top - prev.top <= max_pitch and not crosses:
                frags[-1].lines.append(line)
                continue
        frags.append(Fragment([line]))
    return frags


def line_pitch(columns_lines: list[list[Line]], size: float) -> float:
    """The table's line pitch: the smallest step that recurs between lines of one column.

    Wrapped cells set their lines at this pitch; rows are set further apart. A table whose
    smallest recurring step exceeds normal leading has no wrapped cells at all.
    """
    steps = []
    for lines in columns_lines:
        tops = [ln.top for ln in lines]
        steps += [b - a for a, b in zip(tops, tops[1:]) if b - a >= 0.8 * size]
    steps.sort()
    need = max(2, len(steps) // 20)
    for s in steps:
        if sum(1 for t in steps if abs(t - s) <= 0.6) >= need:
            return min(s, 1.3 * size)
    return 1.2 * size


def _column_separators(separators: list, column: tuple[float, float]) -> list[float]:
    """y of the separators (y or (y, x0, x1)) that run under a column (cover its middle)."""
    mid = (column[0] + column[1]) / 2
    out = []
    for s in separators:
        if isinstance(s, tuple):
            y, x0, x1 = s
            if x0 - 1 <= mid <= x1 + 1 or h_overlap(x0, x1, column[0], column[1]) > 0.6 * (column[1] - column[0]):
                out.append(y)
        else:
            out.append(s)
    return out


_DOTS_RE = re.compile(r"^[.·…]+$")
_LEADER_TAIL_RE = re.compile(r"(?<=[^.·…])[.·…]{3,}$")


def drop_leaders(words: list[Word]) -> list[Word]:
    """Words without dot leaders ("All ages . . . . . 291,099"): three or more dots after a
    label, in one word or several, lead the eye to the next column and are no cell text."""
    out: list[Word] = []
    for line in group_lines(words):
        run: list[Word] = []
        kept: list[Word] = []
        for w in line.words + [None]:
            if w is not None and _DOTS_RE.match(w.text):
                run.append(w)
                continue
            dots = sum(len(r.text) for r in run)
            after_label = bool(kept) and run and run[0].x0 - kept[-1].x1 < run[0].size
            if run and not (after_label and dots >= 3):
                kept += run  # "..." alone: a cell of its own (not given)
            run = []
            if w is not None:
                tail = _LEADER_TAIL_RE.search(w.text)
                if tail:
                    w = Word(w.text[:tail.start()], w.x0, w.top, w.x1, w.bottom, w.fontname, w.size, w.page)
                kept.append(w)
        out += kept
    return out


def _header_lines_in_body(header_words: list[Word], body_cols: dict[int, list[Word]],
                          columns: list[tuple[float, float]]) -> set[int]:
    """Words of the body's first lines that go on with the header above them: a rule under
    every printed line parts the header's lines too ("F Ratio" under each label, a unit, the
    labels under group labels). Such a line holds no value, one phrase per cell, and two or
    more cells past the first column, each in a column that holds values in most of the rows
    below it; the first such line labels every column of values. A cell in the first column
    is the stub's label, unless the header labels the stub already and no line was carried
    before (then the line is the first labelled row).
    """
    if not header_words:
        return set()
    owner = {id(w): col for col, ws in body_cols.items() for w in ws}
    words = [w for ws in body_cols.values() for w in ws]
    lines = group_lines(words)
    gap = _phrase_gap(words, lines)
    first_col = min(body_cols, default=0)
    stub_labelled = any(_slot_index(columns, (w.x0 + w.x1) / 2) == first_col for w in header_words)
    carried: set[int] = set()
    for k, line in enumerate(lines[:MAX_HEADER_LINES]):
        cells = _by_owner(line, owner)
        phrases = split_line(line, gap)
        if (len(cells) < 2 or len(phrases) != len(cells)
                or any(_is_value(" ".join(w.text for w in ws)) for ws in cells.values())):
            break  # one phrase across columns (a group heading), or a value: the body has begun
        below: dict[int, list[str]] = {}
        for ln in lines[k + 1:]:
            for col, ws in _by_owner(ln, owner).items():
                below.setdefault(col, []).append(" ".join(w.text for w in ws))
        if first_col in cells and not carried and stub_labelled:
            break  # a labelled row under a header that labels the stub already
        values = {col for col, texts in below.items()
                  if col != first_col and len(texts) >= 2 and sum(map(_is_value, texts)) >= 0.6 * len(texts)}
        heads = {col for col in cells if col != first_col}  # the stub's own label may stand in the line
        if len(heads) < 2 or not heads <= values or (not carried and values - heads):
            break  # a heading over some of the columns of values ("Development" | "Set") is a row
        carried |= {id(w) for w in line.words}
    return carried


def _by_owner(line: Line, owner: dict[int, int]) -> dict[int, list[Word]]:
    out: dict[int, list[Word]] = {}
    for w in line.words:
        out.setdefault(owner[id(w)], []).append(w)
    return out


def parse_chunk_grid(header_words: list[Word], body_words: list[Word],
                     separators: list, spanners: list | tuple = ()) -> ChunkGrid:
    """The chunk's columns, header labels and rows. *separators* are the rules and shading
    edges inside the body, *spanners* the short rules inside the header, (y, x0, x1) each."""
    header_words, body_words = drop_leaders(header_words), drop_leaders(body_words)
    columns, strays = _columns_and_strays(body_words)
    strays = [p for p in strays if not _splits_into_columns(p, columns)]
    size = max((w.size for w in body_words), default=7.0)
    stray_ids = {id(w) for p in strays for w in p.words}
    body_cols = _by_column([w for w in body_words if id(w) not in stray_ids], columns)
    carried = _header_lines_in_body(header_words, body_cols, columns)
    header_breaks: list[float] = []
    if carried:
        # The rule over the carried lines parts them from the header's own: a label under a
        # label (a unit under its quantity) is a level of its own.
        header_breaks.append(min(w.top for w in body_words if id(w) in carried) - 0.5)
        header_words = header_words + [w for w in body_words if id(w) in carried]
        body_cols = {i: kept for i, ws in body_cols.items() if (kept := [w for w in ws if id(w) not in carried])}
    labels, groups, level = header_labels(header_words, columns, header_breaks, spanners)
    group_runs = [(a, b) for a, b in _runs(groups) if b > a]
    for p in strays:  # a line across columns stays whole, in the first column it spans
        body_cols.setdefault(_first_spanned_column(p, columns, group_runs), []).extend(p.words)
    col_lines = {i: group_lines(ws) for i, ws in body_cols.items()}
    pitch = line_pitch(list(col_lines.values()), size)
    # Wrapped lines follow at the pitch; a step of 1.45 em or more is never a wrap (leading is
    # 1.1-1.35 em), even where no cell wraps and rows are set only slightly apart.
    max_pitch = min(pitch + 0.2 * size, 1.45 * size)
    rule_ys = sorted({s[0] if isinstance(s, tuple) else s for s in separators})
    n_lines = len(group_lines([w for ws in body_cols.values() for w in ws]))
    row_step = _row_leading(body_cols, size)
    if row_step is not None:
        max_pitch = row_step  # wraps at the tighter leading, rows at the looser one
    # Rules or shading that part groups of rows (not every row): the rows inside a group are
    # told apart as if there were none. A double rule (two lines closer than a text line is
    # high, with no text between) parts the rows once.
    n_rules = sum(1 for a, b in zip([None, *rule_ys], rule_ys) if a is None or b - a > 0.5 * size)
    phrase_gap = _phrase_gap(body_words)
    if row_step is None and n_rules < 0.3 * n_lines and not _rows_set_apart(
            body_cols, pitch, size, rule_ys, len(columns)):
        rows = _full_width_headings(_rows_by_line(body_cols, pitch, rule_ys, stray_ids), columns, phrase_gap, size)
        rows = _hyphenated_across_rows(rows)
        return ChunkGrid(columns=columns, labels=labels, group_labels=groups, labels_level_with_groups=level, rows=rows,
                         spanning_columns=set(), unparsed=[p.text for p in strays])
    # Two values one above the other in a column are two rows: a number does not wrap.
    stacked = _stacked_values(col_lines, max_pitch, rule_ys)
    col_frags = {i: _fragments(lines, max_pitch, _column_separators(separators, columns[i]) + stacked,
                               weight_parts=row_step is None)
                 for i, lines in col_lines.items()}

    tops = sorted(f.top for frags in col_frags.values() for f in frags)
    anchors: list[float] = []
    for t in tops:
        if not anchors or t - anchors[-1] > 0.5 * pitch:
            anchors.append(t)
    rows = [ChunkRow(top=a, cells={}) for a in anchors]
    spanning: set[int] = set()
    for col, frags in col_frags.items():
        for frag in frags:
            idx = max(i for i, a in enumerate(anchors) if a <= frag.top + 0.5 * pitch)
            if col in rows[idx].cells:  # two pieces of one cell: keep both (nothing lost)
                rows[idx].cells[col].lines.extend(frag.lines)
            else:
                rows[idx].cells[col] = frag
            if idx + 1 < len(anchors) and frag.bottom > anchors[idx + 1] + 0.5:
                spanning.add(col)
    rows = _hyphenated_across_rows(_full_width_headings(_centred_labels(rows, pitch, rule_ys), columns, phrase_gap,
                                                        size))
    return ChunkGrid(columns=columns, labels=labels, group_labels=groups, labels_level_with_groups=level, rows=rows,
                     spanning_columns=spanning, unparsed=[p.text for p in strays])


_BROKEN_WORD_RE = re.compile(r"[^\W\d_]-$")


def _hyphenated_across_rows(rows: list[ChunkRow]) -> list[ChunkRow]:
    """A cell that ends in a word broken at a hyphen ("Un-") goes on in the cell under it
    ("supervised"), set in the next row's line: a label spanning those rows wrapped there.
    The rest of the word joins the cell it starts in, and leaves the row below."""
    for row, nxt in zip(rows, rows[1:]):
        for col, frag in list(row.cells.items()):
            below = nxt.cells.get(col)
            if (below is not None and len(nxt.cells) >= 2 and _BROKEN_WORD_RE.search(frag.lines[-1].text)
                    and below.lines[0].text[:1].islower()):
                frag.lines.extend(below.lines)
                del nxt.cells[col]
    return [r for r in rows if r.cells]


def _full_width_headings(rows: list[ChunkRow], columns: list[tuple[float, float]], gap: float,
                         size: float) -> list[ChunkRow]:
    """Rows that hold one phrase centred on the whole table: a heading over the rows below it
    ("Transporter", "Energy production"), which spans every column. Like any spanning cell it is
    written at the first column it spans, the first column of the table.

    A phrase in one column counts only when it is not set the way that column is aligned (left,
    right or centred, as at least half of its cells are): a column of centred values may be
    centred on the table too.
    """
    if len(columns) < 2:
        return rows
    centre = (columns[0][0] + columns[-1][1]) / 2
    edges: dict[int, list[tuple[float, float]]] = {}
    for row in rows:
        if len(row.cells) >= 2:
            for col, frag in row.cells.items():
                edges.setdefault(col, []).extend((ln.x0, ln.x1) for ln in frag.lines)
    for row in rows:
        frags = list(row.cells.values())
        if 0 in row.cells or any(len(f.lines) != 1 for f in frags):
            continue
        words = sorted((w for f in frags for w in f.lines[0].words), key=lambda w: w.x0)
        if any(b.x0 - a.x1 > gap for a, b in zip(words, words[1:])) or max(w.top for w in words) - min(
                w.top for w in words) > 0.5 * size:
            continue  # more than one phrase, or not one line: cells of their own
        x0, x1 = words[0].x0, words[-1].x1
        middle = (x0 + x1) / 2
        if abs(middle - centre) > size:
            continue
        if len(frags) == 1:
            (col,) = row.cells
            if any(abs(mine - edge) <= 1.0 for mine, edge in zip((x0, x1, middle), _alignment(edges.get(col, [])))
                   if edge is not None):
                continue  # in line with its column's cells: a cell of that column
        row.cells = {0: Fragment([Line(words)])}
    return rows


def _alignment(spans: list[tuple[float, float]]) -> tuple[float | None, float | None, float | None]:
    """The left edge, right edge and centre that at least half of a column's cells share
    (None for each edge they do not share)."""
    out: list[float | None] = []
    for edge in ([a for a, _ in spans], [b for _, b in spans], [(a + b) / 2 for a, b in spans]):
        middle = sorted(edge)[len(edge) // 2] if edge else None
        shared = middle is not None and 2 * sum(1 for v in edge if abs(v - middle) <= 1.0) >= len(edge)
        out.append(middle if shared else None)
    return out[0], out[1], out[2]


# A value: a number with its sign, unit or marks ("25.88", "-0.55**", "4.1M", "76.9%", "0.31,0.59").
_VALUE_START_RE = re.compile(r"^[-+\u2212\u2013<>\u2264\u2265\u00b1~]?\d")


def _is_value(text: str) -> bool:
    text = text.strip()
    return bool(_VALUE_START_RE.match(text)) and sum(ch.isalpha() for ch in text) <= 3


def _stacked_values(col_lines: dict[int, list[Line]], max_pitch: float, rule_ys: list[float]) -> list[float]:
    """y between two lines of a column that each hold a value, set at the line pitch.

    A wrapped cell goes on in words; a value never wraps onto a second value. Where a
    column holds values on consecutive lines, each line is a row of its own, in every column.
    Where a rule parts the two lines, the rule tells which columns it parts (a label that
    spans several rows has no rule through it).
    """
    ys = set()
    for lines in col_lines.values():
        for a, b in zip(lines, lines[1:]):
            if (b.top - a.top <= max_pitch and _is_value(a.text) and _is_value(b.text)
                    and not _OPEN_END_RE.search(a.text)  # "38, 41, 60," goes on: a wrapped list
                    and not any(a.bottom - 1.0 <= y <= b.top + 1.0 for y in rule_ys)):
                ys.add(round((a.bottom + b.top) / 2, 1))
    return sorted(ys)


def _centred_labels(rows: list[ChunkRow], pitch: float, rule_ys: list[float]) -> list[ChunkRow]:
    """Rows of one cell set between two lines of a group: the label of the group, centred on it.

    A label that stands for several rows (\"1\" beside five rows of runs) is printed halfway
    down them, between two lines. It is no row of its own: it goes to the first row of its
    group (the rows between the rules around it), as a spanning cell is placed at its start,
    or to the row above when that row already has the label's column filled.
    """
    out: list[ChunkRow] = []
    for k, row in enumerate(rows):
        if (len(row.cells) == 1 and out and k + 1 < len(rows)
                and rows[k + 1].top - out[-1].top <= 1.6 * pitch
                and 0.25 * pitch < row.top - out[-1].top and rows[k + 1].top - row.top > 0.25 * pitch
                and not any(out[-1].top < y < rows[k + 1].top for y in rule_ys)):
            (col, frag), = row.cells.items()
            above = [y for y in rule_ys if y < row.top]
            group = [r for r in out if not above or r.top > max(above)]
            target = group[0] if group and col not in group[0].cells and all(
                col not in r.cells for r in group) else out[-1]
            if col in target.cells:
                target.cells[col].lines.extend(frag.lines)
            else:
                target.cells[col] = frag
            continue
        out.append(row)
    return out


def _row_leading(body_cols: dict[int, list[Word]], size: float) -> float | None:
    """The step between two lines from which on they are two rows, where rows and wrapped
    lines are set at two leadings a point or so apart; None when they are not.

    Some tables set rows without rules or blank lines, only a little looser than the lines
    of a wrapped cell (9.8 pt against 8.7 pt): less than the 0.3 em by which rows set apart
    by white space are told from wraps. The steps between consecutive lines then fall into
    two tight clusters with a clear gap between them, both within normal leading (a blank
    line between groups of rows is no leading). The tighter cluster must be wrapped lines:
    many of the lines it reaches fill fewer columns than the line above them (a row of the
    same columns set tight is no wrap, whatever its leading).
    """
    owner = {id(w): col for col, ws in body_cols.items() for w in ws}
    lines = group_lines([w for ws in body_cols.values() for w in ws])
    pairs = [(b.top - a.top, a, b) for a, b in zip(lines, lines[1:])
             if 1.0 * size <= b.top - a.top <= 1.6 * size]
    if len(pairs) < 6:
        return None
    steps = sorted(st for st, _, _ in pairs)
    gap, k = max((b - a, i + 1) for i, (a, b) in enumerate(zip(steps, steps[1:])))
    low, high = steps[:k], steps[k:]
    if (len(low) < 3 or len(high) < 3 or gap < 0.1 * size or high[0] - low[0] > 0.3 * size
            or gap < 2 * (low[-1] - low[0]) or gap < 2 * (high[-1] - high[0])):
        return None
    threshold = (low[-1] + high[0]) / 2

    def filled(line: Line) -> set[int]:
        return {owner[id(w)] for w in line.words}

    wraps = [(a, b) for st, a, b in pairs if st < threshold]
    fewer = sum(1 for a, b in wraps if len(filled(b)) < len(filled(a)))
    return threshold if fewer >= 0.3 * len(wraps) else None


def _rows_set_apart(body_cols: dict[int, list[Word]], pitch: float, size: float, rule_ys: list[float],
                    n_columns: int) -> bool:
    """Are rows set apart by white space (a wider step between rows than between wrapped lines)?

    Without rules or shading between rows, that space is what tells a row from a wrapped
    line. When (almost) every step between two lines that fill several columns is the line
    pitch, it is not there (the space around a group heading or a rule does not count).
    """
    owner = {id(w): col for col, ws in body_cols.items() for w in ws}
    lines = group_lines([w for ws in body_cols.values() for w in ws])
    full = {id(ln) for ln in lines if len({owner[id(w)] for w in ln.words}) >= 2}
    pairs = [(a, b) for a, b in zip(lines, lines[1:])
             if not any(a.bottom - 1.0 <= y <= b.top + 1.0 for y in rule_ys)]  # a rule explains its space
    steps = [b.top - a.top for a, b in pairs if id(a) in full and id(b) in full]
    if len(steps) < 3:  # few full lines side by side: every step counts
        steps = [b.top - a.top for a, b in pairs]
    steps = [st for st in steps if st > 0.3 * size]
    # Lines a line pitch apart that both fill half the columns or more: rows, not a wrapped cell
    # (a wrap fills few columns). When nearly every such step is one, blank lines between
    # groups of rows do not set rows apart.
    dense = {id(ln) for ln in lines if len({owner[id(w)] for w in ln.words}) >= max(2, n_columns / 2)}
    tight = [(a, b) for a, b in pairs if b.top - a.top <= pitch + 0.3 * size]
    # A group heading ("Race" over its rows) set at the pitch like the rows around it: a label
    # alone in the first column, the label of the dense row under it indented under it (flush,
    # it may be the wrapped text of a label spanning those rows).
    first_col = min(body_cols) if body_cols else 0
    dense |= {id(a) for a, b in tight if id(b) in dense and {owner[id(w)] for w in a.words} == {first_col}
              and owner[id(b.words[0])] == first_col and b.x0 > a.x0 + 1.0}
    dense_pairs = sum(1 for a, b in tight if id(a) in dense and id(b) in dense)
    if dense_pairs >= min(3, len(lines) - 1) and dense_pairs >= 0.8 * len(tight):
        return False
    if rule_ys or len(steps) < 3:
        return True  # rules part rows where the space does not
    wide = sum(1 for st in steps if st > pitch + 0.3 * size)
    return wide >= 0.15 * len(steps)


_CONTINUES_RE = re.compile(r"^[a-z(\[&]|^(?:and|or|of|to|in)\b")
_OPEN_END_RE = re.compile(r"(?:[-,/&(]|\b(?:and|or|of|the|to|in|with|for))$")


def _rows_by_line(body_cols: dict[int, list[Word]], pitch: float, rule_ys: list[float],
                  across: set[int] = frozenset()) -> list[ChunkRow]:
    """Rows of a table whose rows are not set apart: each line starts a row, unless it goes on
    with the row above (a wrapped cell, values set between the lines of a two-line label).

    A line with a label in the first column starts a row, unless its text reads on from the
    label above ("compounds (NMVOC)", "(as HCl)"). A line without one starts a row when it
    fills about as many columns as the row above did; fewer, in columns already filled, are
    wrapped lines. A label alone in its line (a group heading) is a row of its own, and so is
    a line printed across columns (ids in *across*: "Projected enrollment, in thousands" over
    the values). A rule or shading edge between two lines always parts two rows.
    """
    owner = {id(w): col for col, ws in body_cols.items() for w in ws}
    words = [w for ws in body_cols.values() for w in ws]
    first_col = min(body_cols) if body_cols else 0
    lines = group_lines(words)
    steps = sorted(b.top - a.top for a, b in zip(lines, lines[1:]))
    row_step = steps[len(steps) // 2] if steps else 0.0
    # Labels that start lower case mark a wrapped line only where rows start upper case.
    stubs = [w for ln in lines for w in ln.words[:1] if owner[id(w)] == first_col]
    labels_capitalised = sum(1 for w in stubs if w.text[:1].islower()) < 0.3 * len(stubs)
    groups: list[list[Line]] = []  # physical lines of each row
    prev: Line | None = None  # the row's last line that is not set between two of its lines
    for line in lines:
        filled = {owner[id(w)] for w in line.words}
        if groups and prev is not None:
            row_lines = groups[-1]
            head = {owner[id(w)] for w in row_lines[0].words}
            stub = [w for w in line.words if owner[id(w)] == first_col]
            prev_stub = " ".join(w.text for w in prev.words if owner[id(w)] == first_col)
            if any(prev.bottom - 1.0 <= y <= line.top + 1.0 for y in rule_ys):
                joins = False  # a rule or a shading edge between them
            elif all(id(w) in across for w in line.words) or all(id(w) in across for w in prev.words):
                joins = False  # a line across columns: a section heading, a row of its own
            elif line.top - prev.top < 0.75 * pitch or (
                    line.top - row_lines[-1].top < 0.75 * pitch and len(filled) <= max(1, len(head) // 2)):
                # Set between two lines of the row (its values, centred on a two-line label; a
                # symbol set low), or the label's next line right under such values.
                row_lines.append(line)
                continue
            elif stub:
                text = " ".join(w.text for w in stub)
                reads_on = bool(prev_stub) and (bool(_CONTINUES_RE.match(text)) or bool(_OPEN_END_RE.search(prev_stub)))
                joins = (filled == {first_col} and (reads_on or bool(prev_stub) and _hanging_wrap(
                    row_lines, line, stub, owner, first_col, row_step))) or (
                    reads_on and labels_capitalised and len(filled) >= 2 and _every_cell_reads_on(prev, line, owner))
            else:
                joins = filled <= head and len(filled) <= max(1, len(head) // 2)
            if joins:
                row_lines.append(line)
                prev = line
                continue
        groups.append([line])
        prev = line
    rows = []
    for row_lines in groups:
        by_col: dict[int, list[Word]] = {}
        for ln in row_lines:
            for w in ln.words:
                by_col.setdefault(owner[id(w)], []).append(w)
        cells = {col: Fragment(group_lines(ws)) for col, ws in sorted(by_col.items())}
        rows.append(ChunkRow(top=row_lines[0].top, cells=cells))
    return rows


_WORDS_GO_ON_RE = re.compile(r"^[a-z]|^(?:and|or|of|to|in)\b")


def _every_cell_reads_on(prev: Line, line: Line, owner: dict[int, int]) -> bool:
    """Does every cell of *line* go on with the text of the cell above it (a row whose label and
    description both wrap: "constant dollars" under "Disposable income per capita in", "with an
    annual growth rate of 1.4%" under "Annual percent changes ...")? Values never start lower case."""
    def cells(ln: Line) -> dict[int, str]:
        out: dict[int, list[str]] = {}
        for w in ln.words:
            out.setdefault(owner[id(w)], []).append(w.text)
        return {col: " ".join(ws) for col, ws in out.items()}

    above, here = cells(prev), cells(line)
    return all(col in above and (bool(_WORDS_GO_ON_RE.match(text)) or bool(_OPEN_END_RE.search(above[col])))
               for col, text in here.items())


def _hanging_wrap(row_lines: list[Line], line: Line, stub: list[Word], owner: dict[int, int], first_col: int,
                  row_step: float) -> bool:
    """Is a label-only line the wrapped end of the row label above ("American Indian/Alaska"
    over "Native")? It is set closer than rows are, flush with or indented under a label whose
    row holds values (a group heading holds none, and its members are set a row apart)."""
    prev = row_lines[-1]
    prev_x0 = min((w.x0 for w in row_lines[0].words if owner[id(w)] == first_col), default=None)
    has_values = any(owner[id(w)] != first_col for ln in row_lines for w in ln.words)
    return (prev_x0 is not None and has_values and stub[0].x0 >= prev_x0 - 0.5
            and line.top - prev.top < 0.85 * row_step)


def _header_phrases(words: list[Word], columns: list[tuple[float, float]]) -> list[Line]:
    """Header phrases, also split where a word starts at a body column's left edge.

    Labels set tight together ("Location NCT") still start where their column starts.
    """
    gap = _phrase_gap(words)
    edges = [c[0] for c in columns[1:]]
    out: list[Line] = []
    for line in group_lines(words):
        for phrase in split_line(line, gap):
            current: list[Word] = []
            for w in phrase.words:
                if current and any(current[0].x0 < e - 0.5 <= w.x0 for e in edges):
                    out.append(Line(current))
                    current = []
                current.append(w)
            out.append(Line(current))
    return out


def _spanner_run(phrase: Line, neighbours: list[Line], columns: list[tuple[float, float]],
                 spanners: list | tuple, size: float) -> tuple[int, int] | None:
    """The columns a rule drawn right under the phrase, and under no other phrase of its line
    (*neighbours*), covers (at least two), if there is one: a group label's own rule
    (booktabs' cmidrule) says which columns it spans."""
    for y, x0, x1 in spanners:
        if (phrase.bottom - 0.5 <= y <= phrase.bottom + 0.8 * size and h_overlap(x0, x1, phrase.x0, phrase.x1) > 0
                and not any(p is not phrase and h_overlap(x0, x1, p.x0, p.x1) > 0 for p in neighbours)):
            covered = [j for j, (a, b) in enumerate(columns) if h_overlap(a, b, x0, x1) >= 0.5 * (b - a)]
            if len(covered) >= 2 and covered == list(range(covered[0], covered[-1] + 1)):
                return covered[0], covered[-1]
    return None


def _spanning_labels(header_words: list[Word], columns: list[tuple[float, float]],
                     size: float, spanners: list | tuple = ()) -> tuple[list[str], set[int]]:
    """Group labels set over several columns ("1-best" centred over four), and their words.

    A header phrase spans the columns it is centred on, or that it reaches across, when each
    of them has a label of its own printed under it: the widest run of columns between the
    phrase's neighbours on its line whose extent (body text and labels) is centred on the
    phrase, else the columns the phrase reaches across. Stacked spanning lines (a group
    label that wraps, or one group over others) are joined from the top down. Not a group:
    - a phrase over one column's label only, aligned with it: that label's first line;
    - a phrase under a line of another label in its columns: a line of a label set lower;
    - a phrase parted at the gutters into one piece per column, each aligned with a label right
      under it: the first lines of labels set tight in a row.
    """
    n = len(columns)
    groups = [""] * n
    used: set[int] = set()
    lines = group_lines(header_words)
    if len(lines) < 2 or n < 2:
        return groups, used
    gap = _phrase_gap(header_words, lines)
    pieces = _header_phrases(header_words, columns)
    slot = {id(p): _slot_index(columns, (p.x0 + p.x1) / 2) for p in pieces}
    tol = 0.5 * size
    for line in lines:
        phrases = split_line(line, gap)
        for k, phrase in enumerate(phrases):
            left = phrases[k - 1].x1 if k > 0 else float("-inf")
            right = phrases[k + 1].x0 if k + 1 < len(phrases) else float("inf")
            below = [p for p in pieces if p.top > phrase.bottom - 0.5]
            under: dict[int, list[float]] = {}  # column -> x extent of its labels under the phrase
            for p in below:
                under.setdefault(slot[id(p)], []).extend((p.x0, p.x1))
            inside = [j for j, (a, b) in enumerate(columns) if a >= left and b <= right and j in under]
            crossed = [j for j in inside if h_overlap(phrase.x0, phrase.x1, *columns[j])
                       >= 0.5 * (columns[j][1] - columns[j][0])]
            centre = (phrase.x0 + phrase.x1) / 2
            best: tuple[int, int] | None = None
            for a in inside:
                for b in inside:
                    run = range(a, b + 1)
                    if b <= a or any(j not in inside for j in run) or any(j not in run for j in crossed):
                        continue
                    x0 = min([columns[a][0], *under[a]])
                    x1 = max([columns[b][1], *under[b]])
                    if abs((x0 + x1) / 2 - centre) <= tol and (best is None or b - a > best[1] - best[0]):
                        best = (a, b)
            if best is None and len(crossed) >= 2 and crossed == list(range(crossed[0], crossed[-1] + 1)):
                best = (crossed[0], crossed[-1])
            ruled = _spanner_run(phrase, phrases, columns, spanners, size)  # a rule under it says, if drawn
            best = ruled or best
            if best is None:
                continue
            run = range(best[0], best[1] + 1)
            beneath = [p for p in below if h_overlap(p.x0, p.x1, phrase.x0, phrase.x1) > 0]
            if ruled is None and len({slot[id(p)] for p in beneath}) == 1 and _aligned(
                    (phrase.x0, phrase.x1), (min(p.x0 for p in beneath), max(p.x1 for p in beneath)), tol):
                continue  # the first line of the one label under it
            if ruled is None and any(p.bottom < phrase.bottom - 0.5 and slot[id(p)] in run
                                     and not all(id(w) in used for w in p.words) for p in pieces):
                continue  # a line of a label that starts higher in one of its columns
            gutters = [(columns[j][1], columns[j + 1][0]) for j in crossed[:-1]]
            parts: list[list[Word]] = [[phrase.words[0]]]
            for a, b in zip(phrase.words, phrase.words[1:]):
                if any(h_overlap(a.x1, b.x0, *g) > 0 for g in gutters):
                    parts.append([])
                parts[-1].append(b)
            if ruled is None and len(crossed) >= 2 and len(parts) == len(crossed) and all(
                    any(slot[id(p)] == _slot_index(columns, (part[0].x0 + part[-1].x1) / 2)
                        and p.top - phrase.bottom <= tol and _aligned((part[0].x0, part[-1].x1), (p.x0, p.x1), tol)
                        for p in beneath)
                    for part in parts):
                continue  # one label per column set tight, each piece the first line of the label under it
            for j in run:
                groups[j] = f"{groups[j]} {phrase.text}".strip()
            used |= {id(w) for w in phrase.words}
    return groups, used


def _aligned(a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    """Are two x-ranges set flush left, flush right or centred on one another?"""
    return min(abs(a[0] - b[0]), abs(a[1] - b[1]), abs((a[0] + a[1]) / 2 - (b[0] + b[1]) / 2)) <= tol


class HeaderLabels(NamedTuple):
    labels: list[str]  # printed label per column ("" when none)
    groups: list[str]  # group header above the column ("" when none)
    level_with_groups: list[bool]  # an ungrouped label that starts level with the group headers


def header_labels(header_words: list[Word], columns: list[tuple[float, float]],
                  breaks: list[float] | tuple = (), spanners: list | tuple = ()) -> HeaderLabels:
    """Printed label of each column, the group header that stands over it, and whether a
    label with no group starts level with the headers of groups of several columns (it spans
    their row and the labels' row, as "Category" beside "2005" over "Number" and "Percent").

    A phrase set over several columns is their group header (:func:`_spanning_labels`).
    Otherwise a column's header text that falls into two blocks (a wider gap than its line
    pitch, or a rule at one of the y in *breaks* between them) is a group header over a label
    ("Outcomes" over "ORR%"); that group header also covers the columns to its right whose own
    labels start below it.
    """
    n = len(columns)
    labels = [""] * n
    groups = [""] * n
    if not header_words or not n:
        return HeaderLabels(labels, groups, [False] * n)
    size = max(w.size for w in header_words)
    groups, spanning = _spanning_labels(header_words, columns, size, spanners)
    group_bottoms = [w.bottom for w in header_words if id(w) in spanning]
    by_col: dict[int, list[Word]] = {}
    for phrase in _header_phrases([w for w in header_words if id(w) not in spanning], columns):
        by_col.setdefault(_slot_index(columns, (phrase.x0 + phrase.x1) / 2), []).extend(phrase.words)
    col_lines = {i: group_lines(ws) for i, ws in by_col.items()}
    pitch = line_pitch(list(col_lines.values()), size)
    starts: dict[int, float] = {}
    group_spans: list[tuple[int, str, float]] = []  # (column, text, bottom)
    for i, lines in col_lines.items():
        frags = _fragments(lines, pitch + 0.1 * size, list(breaks))
        starts[i] = frags[0].top
        if len(frags) >= 2 and not groups[i]:
            group = " ".join(ln.text for ln in frags[0].lines)
            groups[i] = group
            group_spans.append((i, group, frags[0].bottom))
            labels[i] = " ".join(ln.text for f in frags[1:] for ln in f.lines)
        else:
            labels[i] = " ".join(ln.text for f in frags for ln in f.lines)
    for col, text, bottom in group_spans:
        for j in range(col + 1, n):
            if j in starts and starts[j] > bottom and not groups[j]:
                groups[j] = text
                group_bottoms.append(bottom)  # a group over several columns
            else:
                break
    group_bottom = max(group_bottoms, default=float("-inf"))
    level = [not groups[i] and i in starts and starts[i] < group_bottom - 0.5 for i in range(n)]
    return HeaderLabels(labels, groups, level)
