"""Geometry helpers over words and boxes, kept apart from any extraction logic."""

from __future__ import annotations

import operator
import statistics
from collections.abc import Iterable, Sequence

from pipeline.records import BBox, Line, Word


def union_bbox(boxes: Iterable[BBox]) -> BBox:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def h_overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length of the overlap of two intervals (0 when they are apart)."""
    return max(0.0, min(a1, b1) - max(a0, b0))


def inside(box: BBox, region: BBox, tol: float = 1.0) -> bool:
    """True when the centre of *box* lies in *region* (grown by *tol*)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return (region[0] - tol <= cx <= region[2] + tol) and (region[1] - tol <= cy <= region[3] + tol)


def group_lines(words: Sequence[Word]) -> list[Line]:
    """Group words into lines: words whose vertical extents overlap by half sit on one line.

    Words are returned left to right; lines top to bottom. Lines are *not* split into
    columns here: callers split them with :func:`split_line` where layout requires it.
    """
    # Called for every page by several stages: min/max and properties are spelled out here.
    lines: list[list[Word]] = []
    for word in sorted(words, key=_reading_order):
        top, bottom = word.top, word.bottom
        height = bottom - top
        for k in range(len(lines) - 1, max(len(lines) - 4, -1), -1):  # the last three lines, last first
            ref = lines[k][0]
            ref_top, ref_bottom = ref.top, ref.bottom
            overlap = ((ref_bottom if ref_bottom <= bottom else bottom)
                       - (ref_top if ref_top >= top else top))
            ref_height = ref_bottom - ref_top
            if overlap >= 0.5 * (height if height <= ref_height else ref_height):
                lines[k].append(word)
                break
        else:
            lines.append([word])
    keyed = []
    for ws in lines:
        ws.sort(key=_left_edge)
        keyed.append(((min([w.top for w in ws]), ws[0].x0), Line(ws)))  # (Line.top, Line.x0)
    keyed.sort(key=_first)
    return [line for _, line in keyed]


def _reading_order(word: Word) -> tuple[float, float]:
    return (round(word.top, 1), word.x0)


_left_edge = operator.attrgetter("x0")
_first = operator.itemgetter(0)


def split_line(line: Line, max_gap: float) -> list[Line]:
    """Split a line wherever the horizontal gap between two words exceeds *max_gap*."""
    parts: list[list[Word]] = [[line.words[0]]]
    for prev, word in zip(line.words, line.words[1:]):
        if word.x0 - prev.x1 > max_gap:
            parts.append([word])
        else:
            parts[-1].append(word)
    return [Line(p) for p in parts]


def merge_intervals(intervals: Iterable[tuple[float, float]], gap: float = 0.0) -> list[tuple[float, float]]:
    """Merge intervals that overlap or lie closer than *gap*."""
    merged: list[list[float]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def dominant_size(words: Iterable[Word]) -> float:
    """The font size carrying most characters (the body text size of a page or document)."""
    weights: dict[float, int] = {}
    for w in words:
        weights[w.size] = weights.get(w.size, 0) + len(w.text)
    if not weights:
        return 0.0
    return max(weights, key=weights.get)


def median(values: Sequence[float], default: float = 0.0) -> float:
    return statistics.median(values) if values else default
