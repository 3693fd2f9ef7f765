"""Name a glyph by its outline, when nothing in the PDF names it.

A font may embed glyphs that neither a ToUnicode map, its encoding's glyph names, nor its own
program's cmap relate to any character: the text layer gives "(cid:3)" where "*" is printed.
Such a glyph's outline is drawn into a small bitmap (its ink box stretched to a GRID x GRID
square) and compared with the bitmaps of reference glyphs drawn the same way from free fonts
(``glyph_shapes.json``, written by ``scripts/build_glyph_shapes.py``). A glyph is named only
when its outline is close to one character's references and clearly closer than to any other
character's; otherwise it stays unnamed (and the table self-check reports it).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GRID = 32
REFERENCE_FILE = Path(__file__).with_name("glyph_shapes.json")
# A glyph is named when its distance to the best character is at most MAX_DISTANCE and the
# next character (of another look-alike group) is at least MIN_MARGIN farther away.
MAX_DISTANCE = 0.30
MIN_MARGIN = 0.08
# Weights of the ink box's proportions in the distance (log ratios): an outline stretched to
# the square loses them, and they tell a hyphen from a dot, a minus from an em dash.
ASPECT_WEIGHT = 0.25
SIZE_WEIGHT = 0.3
# Beyond this log ratio (about 7:1) a bar is a bar: how much thinner it is drawn says only how
# heavy the font is (a minus is told from an em dash by its length).
ASPECT_LIMIT = 2.0
# ... and the height of the ink box's middle above the baseline (in em) tells a minus from an
# underscore and a degree sign from a ring operator.
CENTRE_WEIGHT = 1.0
# Each cell of the bitmap is sampled SUPERSAMPLE x SUPERSAMPLE times and inked when any sample
# is: a hairline stroke thinner than a cell still inks it, whatever the font's weight.
SUPERSAMPLE = 2
_CURVE_STEPS = 8
# Characters that look alike in every font: a match among them is decided by distance alone,
# not held back for want of a margin.
LOOKALIKES = ["-‐‑‒–—―−", "*∗⁎", "°˚∘◦", "·⋅", "•∙●", "'’′ʹ", "\"”″", "|∣ǀ", "×✕"]


_FULL = (1 << GRID * GRID) - 1
_NOT_FIRST_COL = sum(1 << (r * GRID) for r in range(GRID)) ^ _FULL
_NOT_LAST_COL = sum(1 << (r * GRID + GRID - 1) for r in range(GRID)) ^ _FULL


def _clip(aspect: float) -> float:
    return max(-ASPECT_LIMIT, min(ASPECT_LIMIT, aspect))


def _dilate(bits: int) -> int:
    """The bitmap grown by one cell in the eight directions."""
    across = bits | ((bits << 1) & _NOT_FIRST_COL) | ((bits >> 1) & _NOT_LAST_COL)
    return (across | (across << GRID) | (across >> GRID)) & _FULL


@dataclass(frozen=True, slots=True)
class GlyphShape:
    bits: int  # GRID x GRID ink bitmap, row-major, of the outline stretched to its ink box
    aspect: float  # log(ink width / ink height)
    size: float  # the ink box's larger side, in em
    centre: float  # height of the ink box's middle above the baseline, in em

    def distance(self, other: GlyphShape) -> float:
        """0 for the same look; ink is compared with a tolerance of one cell (a stroke drawn a
        little thicker or further out in one font is the same stroke)."""
        ink = self.bits.bit_count() + other.bits.bit_count()
        near = (self.bits & _dilate(other.bits)).bit_count() + (other.bits & _dilate(self.bits)).bit_count()
        return ((1.0 - near / ink if ink else 1.0) + ASPECT_WEIGHT * abs(_clip(self.aspect) - _clip(other.aspect))
                + SIZE_WEIGHT * abs(math.log(max(self.size, 1e-3) / max(other.size, 1e-3)))
                + CENTRE_WEIGHT * abs(self.centre - other.centre))

    def to_json(self) -> list:
        return [format(self.bits, "x"), round(self.aspect, 3), round(self.size, 4), round(self.centre, 4)]

    @classmethod
    def from_json(cls, item: list) -> GlyphShape:
        return cls(int(item[0], 16), float(item[1]), float(item[2]), float(item[3]))


def outline_contours(glyph_set, name: str) -> list[list[tuple[float, float]]]:
    """The glyph's contours as closed polygons (curves flattened), in font units."""
    from fontTools.pens.basePen import BasePen

    contours: list[list[tuple[float, float]]] = []

    class Pen(BasePen):
        def _moveTo(self, pt):
            contours.append([pt])

        def _lineTo(self, pt):
            contours[-1].append(pt)

        def _curveToOne(self, p1, p2, p3):
            p0 = self._getCurrentPoint()
            for i in range(1, _CURVE_STEPS + 1):
                t = i / _CURVE_STEPS
                u = 1 - t
                contours[-1].append(tuple(u ** 3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t ** 3 * d
                                          for a, b, c, d in zip(p0, p1, p2, p3)))

        def _closePath(self):
            pass

    glyph_set[name].draw(Pen(glyph_set))
    return [c for c in contours if len(c) >= 3]


def shape_of(contours: list[list[tuple[float, float]]], units_per_em: float) -> GlyphShape | None:
    """The outline's bitmap (non-zero winding, sampled at cell centres) and proportions."""
    points = [p for c in contours for p in c]
    if not points:
        return None
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    w, h = x1 - x0, y1 - y0
    if w <= 0 or h <= 0:
        return None
    edges = [(a, b) for c in contours for a, b in zip(c, c[1:] + c[:1]) if a[1] != b[1]]
    fine = GRID * SUPERSAMPLE
    bits = 0
    for sub_row in range(fine):
        y = y1 - (sub_row + 0.5) * h / fine
        crossings = []
        for (ax, ay), (bx, by) in edges:
            if (ay <= y) != (by <= y):
                crossings.append((ax + (y - ay) * (bx - ax) / (by - ay), 1 if by > ay else -1))
        crossings.sort()
        winding, i = 0, 0
        row = (sub_row // SUPERSAMPLE) * GRID
        for sub_col in range(fine):
            x = x0 + (sub_col + 0.5) * w / fine
            while i < len(crossings) and crossings[i][0] <= x:
                winding += crossings[i][1]
                i += 1
            if winding:
                bits |= 1 << (row + sub_col // SUPERSAMPLE)
    return GlyphShape(bits, math.log(w / h), max(w, h) / units_per_em, (y0 + y1) / 2 / units_per_em)


@lru_cache(maxsize=1)
def _references() -> tuple[tuple[str, GlyphShape], ...]:
    data = json.loads(REFERENCE_FILE.read_text("utf-8"))
    return tuple((char, GlyphShape.from_json(item)) for char, items in data["glyphs"].items() for item in items)


def _group(char: str) -> str:
    return next((g for g in LOOKALIKES if char in g), char)


def name_by_shape(shape: GlyphShape) -> tuple[str, float] | None:
    """(character, distance) of the reference the outline matches, or None when no character is
    both close and clearly closer than every other-looking character."""
    best: dict[str, tuple[float, str]] = {}  # look-alike group -> (distance, character)
    for char, ref in _references():
        d = shape.distance(ref)
        group = _group(char)
        if group not in best or d < best[group][0]:
            best[group] = (d, char)
    ranked = sorted(best.values())
    if not ranked or ranked[0][0] > MAX_DISTANCE:
        return None
    if len(ranked) > 1 and ranked[1][0] - ranked[0][0] < MIN_MARGIN:
        return None
    return ranked[0][1], ranked[0][0]
