"""The weight and slant of the fonts a page actually uses, decided in one place.

A font's name is a poor witness: subset tags ("ABCDEF+"), obfuscated names ("AdvTT86d47313")
and house conventions (".B", "-Bd", "Medi") say little or nothing. So a font is judged from
what the PDF embeds, strongest evidence first:

1. the stem width measured on the embedded glyph outlines (CFF, TrueType, Type 1 programs):
   the ink runs where a horizontal cut crosses the stems of "l", "n", "o", ..., in thousandths
   of an em; a font is bold when its stems are clearly thicker than the body font's;
2. the font descriptor's FontWeight, ForceBold flag or StemV;
3. the name, as a last hint.

Each font is measured once per process (cached by the font object) and the result travels
with the page as a small picklable record.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import weakref
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

from pdfminer.pdffont import FontMetricsDB
from pdfminer.pdftypes import PDFObjRef, PDFStream, resolve1
from pdfminer.psparser import PSLiteral

from pipeline.records import Word

log = logging.getLogger(__name__)

SUBSET_TAG_RE = re.compile(r"^[A-Z]{6}\+")
# Stems this much thicker than the body font's are bold (regular -> bold is 1.4-2x;
# a sans set beside a serif body of the same weight stays below ~1.2x on this measure).
BOLD_STEM_RATIO = 1.3
# Without a measured body font: StemV of regular text faces is 70-100, of bold ones 120+.
BOLD_STEMV = 120
FORCE_BOLD_FLAG = 1 << 18
ITALIC_FLAG = 1 << 6
_NAME_BOLD_RE = re.compile(r"bold|black|heavy|demi|semibold|medi(um)?\b|[-.,_ ](b|bd|sb)$|bd$", re.IGNORECASE)
_NAME_ITALIC_RE = re.compile(r"italic|oblique|[-.,_ ](i|it)$|[^a-z]it$", re.IGNORECASE)
# Letters whose cut at mid-height crosses vertical stems only; fewer than _MIN_STEM_GLYPHS of
# them in a subset (a symbol font, a few punctuation marks) is no measurement.
_STEM_GLYPHS = "lnmhuoiILTUDO"
_MIN_STEM_GLYPHS = 3
_CURVE_STEPS = 8


def base_font_name(fontname: str) -> str:
    """The font's name without a subset tag ("HBENGH+AdvTT86d47313" -> "AdvTT86d47313")."""
    return SUBSET_TAG_RE.sub("", fontname)


@dataclass(frozen=True, slots=True)
class FontStyle:
    """What the PDF tells about one font's weight and slant."""

    stem: float | None  # measured stem width, thousandths of an em (None: no usable program)
    declared_bold: bool | None  # FontWeight / ForceBold / StemV (None: the descriptor is silent)
    stem_v: float | None  # the descriptor's StemV, when given and non-zero
    name_bold: bool
    italic: bool

    @property
    def absolute_bold(self) -> bool:
        """Bold judged from this font alone (no body font to compare with)."""
        if self.declared_bold is not None:
            return self.declared_bold
        return self.name_bold


def is_bold(style: FontStyle | None, body: FontStyle | None) -> bool:
    """Bold relative to the document's body font: measured stems first, then the descriptor, then the name."""
    if style is None:
        return False
    if body is not None and style.stem and body.stem:
        return style.stem >= BOLD_STEM_RATIO * body.stem
    if body is not None and style.declared_bold is None and style.stem_v and body.stem_v:
        return style.stem_v >= BOLD_STEM_RATIO * body.stem_v
    return style.absolute_bold


def differ_in_weight(a: FontStyle | None, b: FontStyle | None) -> bool:
    """Two fonts set apart by weight (for splitting a word where bold and regular glyphs touch)."""
    if a is None or b is None or a is b:
        return False
    if a.stem and b.stem:
        return max(a.stem, b.stem) >= BOLD_STEM_RATIO * min(a.stem, b.stem)
    return a.absolute_bold != b.absolute_bold


def heavier(a: FontStyle | None, b: FontStyle | None) -> bool:
    """Is *a* set clearly heavier than *b*? (A label in a medium face over text in a regular
    one: neither need be bold against the body font for the label to stand out.)"""
    if a is None or b is None or a is b:
        return False
    if a.stem and b.stem:
        return a.stem >= BOLD_STEM_RATIO * b.stem
    return a.absolute_bold and not b.absolute_bold


def style_from_name(fontname: str) -> FontStyle:
    """A font the page resources do not describe: only its name can be read."""
    name = base_font_name(fontname)
    return FontStyle(stem=None, declared_bold=None, stem_v=None, name_bold=bool(_NAME_BOLD_RE.search(name)),
                     italic=bool(_NAME_ITALIC_RE.search(name)))


# Fonts described so far, per open PDF document (object numbers are only unique within one).
_described: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def page_font_styles(page) -> dict[str, FontStyle]:
    """Style of every font in a pdfplumber page's resources (and its forms'), by pdfminer font name."""
    styles: dict[str, FontStyle] = {}
    try:
        resources = resolve1(page.page_obj.resources)
        cache = _described.setdefault(page.page_obj.doc, {})
    except Exception:  # a damaged resource dictionary: names are all there is
        return styles
    _collect(resources, styles, cache)
    return styles


def _collect(resources, styles: dict[str, FontStyle], cache: dict) -> None:
    for ref in font_refs(resources):
        key = ref.objid if isinstance(ref, PDFObjRef) else id(ref)
        if key not in cache:
            try:
                cache[key] = _describe(resolve1(ref))
            except Exception as exc:  # an unreadable font falls back to its name
                log.debug("font %s not described: %s", key, exc)
                continue
        name, style = cache[key]
        styles.setdefault(name, style)


def font_refs(resources, depth: int = 0, seen: set[int] | None = None) -> Iterator:
    """The fonts of a resource dictionary and of the forms it draws (four deep, each form once)."""
    seen = set() if seen is None else seen
    if not isinstance(resources, dict) or depth > 4:
        return
    fonts = resolve1(resources.get("Font")) or {}
    if isinstance(fonts, dict):
        yield from fonts.values()
    xobjects = resolve1(resources.get("XObject")) or {}
    if isinstance(xobjects, dict):
        for ref in xobjects.values():
            if isinstance(ref, PDFObjRef):
                if ref.objid in seen:
                    continue
                seen.add(ref.objid)
            xobj = resolve1(ref)
            if isinstance(xobj, PDFStream) and pdf_name(xobj.get("Subtype")) == "Form":
                yield from font_refs(resolve1(xobj.get("Resources")), depth + 1, seen)


def pdf_name(value) -> str:
    """A PDF name, string or reference as text ("" for none)."""
    value = resolve1(value)
    if isinstance(value, PSLiteral):
        value = value.name
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value) if value is not None else ""


def _describe(spec: dict) -> tuple[str, FontStyle]:
    """(font name as pdfminer reports it, style) of one font dictionary."""
    font = spec
    if pdf_name(spec.get("Subtype")) == "Type0":
        descendants = resolve1(spec.get("DescendantFonts")) or []
        font = resolve1(descendants[0]) if descendants else spec
    basefont = pdf_name(spec.get("BaseFont"))
    descriptor = resolve1(font.get("FontDescriptor"))
    if not isinstance(descriptor, dict):
        # A standard 14 font is described by the metrics pdfminer ships (as pdfminer does).
        try:
            descriptor = FontMetricsDB.get_metrics(basefont)[0]
        except KeyError:
            descriptor = {}
    # pdfminer names a char's font by the descriptor's FontName (else "unknown").
    name = pdf_name(descriptor.get("FontName")) or "unknown"
    basefont = basefont or name
    weight = resolve1(descriptor.get("FontWeight"))
    flags = resolve1(descriptor.get("Flags")) or 0
    stem_v = resolve1(descriptor.get("StemV"))
    stem_v = float(stem_v) if isinstance(stem_v, (int, float)) and stem_v > 0 else None
    declared: bool | None = None
    if isinstance(weight, (int, float)) and weight > 0:
        declared = weight >= 600
    elif isinstance(weight, (str, bytes, PSLiteral)) and pdf_name(weight):  # AFM metrics say "Bold", "Roman"
        declared = bool(_NAME_BOLD_RE.search(pdf_name(weight)))
    elif isinstance(flags, int) and flags & FORCE_BOLD_FLAG:
        declared = True
    elif stem_v is not None:
        declared = stem_v >= BOLD_STEMV
    angle = resolve1(descriptor.get("ItalicAngle")) or 0
    named = style_from_name(basefont)
    italic = (isinstance(angle, (int, float)) and abs(angle) > 1) or bool(isinstance(flags, int)
                                                                          and flags & ITALIC_FLAG) or named.italic
    return name, FontStyle(stem=_measured_stem(descriptor, spec), declared_bold=declared, stem_v=stem_v,
                           name_bold=named.name_bold, italic=italic)


def _measured_stem(descriptor: dict, spec: dict) -> float | None:
    """Median stem width of the embedded program's letters, in thousandths of an em."""
    try:
        for key in ("FontFile3", "FontFile2", "FontFile"):
            stream = resolve1(descriptor.get(key))
            if isinstance(stream, PDFStream):
                return _stem_of_program(key, stream.get_data(), spec)
    except Exception as exc:  # a program fontTools cannot read: the descriptor decides
        log.debug("font program not measured: %s", exc)
    return None


def _stem_of_program(key: str, data: bytes, spec: dict) -> float | None:
    if key == "FontFile2" or data[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        from fontTools.ttLib import TTFont

        tt = TTFont(io.BytesIO(data), lazy=True)
        glyphs = tt.getGlyphSet()
        cmap = tt.getBestCmap() or {}
        names = [cmap[ord(c)] for c in _STEM_GLYPHS if ord(c) in cmap]
        if len(names) < _MIN_STEM_GLYPHS:
            names = _glyphs_by_pdf_encoding(tt, spec)
        return _median_stem(glyphs, names, 1000.0 / tt["head"].unitsPerEm)
    if key == "FontFile3":
        from fontTools.cffLib import CFFFontSet

        cff = CFFFontSet()
        cff.decompile(io.BytesIO(data), None)
        top = cff[cff.fontNames[0]]
        glyphs = top.CharStrings
        scale = 1000.0 * (getattr(top, "FontMatrix", None) or [0.001])[0]
        return _median_stem(glyphs, [c for c in _STEM_GLYPHS if c in glyphs], scale)
    from fontTools.t1Lib import T1Font

    t1 = T1Font.__new__(T1Font)
    t1.data, t1.encoding = data, "ascii"
    t1.parse()
    glyphs = t1.getGlyphSet()
    return _median_stem(glyphs, [c for c in _STEM_GLYPHS if c in glyphs], 1.0)


def _glyphs_by_pdf_encoding(tt, spec: dict) -> list[str]:
    """Stem letters of a subset whose own cmap maps bare codes (a (1,0) table of codes 0..n):
    the PDF's ToUnicode map tells which code is which letter."""
    from pdfminer.pdfinterp import PDFResourceManager

    font = PDFResourceManager(caching=False).get_font(None, spec)
    names = []
    for table in tt["cmap"].tables:
        for code, glyph in table.cmap.items():
            try:
                letter = font.to_unichr(code)
            except Exception:  # a code the PDF does not map
                continue
            if letter and letter in _STEM_GLYPHS and glyph not in names:
                names.append(glyph)
    return names


def _median_stem(glyphs, names: list[str], scale: float) -> float | None:
    if len(names) < _MIN_STEM_GLYPHS:
        return None
    runs: list[float] = []
    for name in names:
        pen = _FlatPen(glyphs)
        glyphs[name].draw(pen)
        runs += pen.runs_at_mid_height()
    return round(statistics.median(runs) * scale, 1) if runs else None


class _FlatPen:
    """Collects a glyph's contours as polygons (curves flattened) and cuts them horizontally."""

    def __init__(self, glyph_set):
        from fontTools.pens.basePen import BasePen

        outer = self

        class Pen(BasePen):
            def _moveTo(self, pt):
                outer.contours.append([pt])

            def _lineTo(self, pt):
                outer.contours[-1].append(pt)

            def _curveToOne(self, p1, p2, p3):
                p0 = self._getCurrentPoint()
                for i in range(1, _CURVE_STEPS + 1):
                    t = i / _CURVE_STEPS
                    u = 1 - t
                    outer.contours[-1].append(tuple(u ** 3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t ** 3 * d
                                                    for a, b, c, d in zip(p0, p1, p2, p3)))

            def _closePath(self):
                pass

        self.contours: list[list[tuple[float, float]]] = []
        self.pen = Pen(glyph_set)

    def __getattr__(self, item):  # the glyph draws on the inner pen
        return getattr(self.pen, item)

    def runs_at_mid_height(self) -> list[float]:
        points = [p for c in self.contours for p in c]
        if len(points) < 3:
            return []
        ys = [p[1] for p in points]
        y = (min(ys) + max(ys)) / 2 + 0.01
        crossings = []
        for contour in self.contours:
            for (x0, y0), (x1, y1) in zip(contour, contour[1:] + contour[:1]):
                if (y0 <= y) != (y1 <= y):
                    crossings.append(x0 + (y - y0) * (x1 - x0) / (y1 - y0))
        crossings.sort()
        return [b - a for a, b in zip(crossings[::2], crossings[1::2]) if b > a]


def body_style(pages) -> FontStyle | None:
    """The style of the font that sets most of the document's characters."""
    chars: Counter[str] = Counter()
    for page in pages:
        for w in page.words:
            chars[w.fontname] += len(w.text)
    styles = _document_styles(pages)
    for name, _ in chars.most_common():
        if name in styles:
            return styles[name]
    return None


def _document_styles(pages) -> dict[str, FontStyle]:
    styles: dict[str, FontStyle] = {}
    for page in pages:
        for name, style in (getattr(page, "fonts", None) or {}).items():
            styles.setdefault(name, style)
    return styles


def mark_weights(pages) -> None:
    """Set every word's bold and italic flags (in place), bold judged against the body font."""
    styles = _document_styles(pages)
    body = body_style(pages)
    verdicts: dict[str, tuple[bool, bool]] = {}

    def marked(words: list[Word]) -> list[Word]:
        out = []
        for w in words:
            if w.fontname not in verdicts:
                style = styles.get(w.fontname) or style_from_name(w.fontname)
                verdicts[w.fontname] = (is_bold(style, body), style.italic)
            bold, italic = verdicts[w.fontname]
            out.append(w if (w.bold, w.italic) == (bold, italic) else replace(w, bold=bold, italic=italic))
        return out

    for page in pages:
        page.words = marked(page.words)
        if getattr(page, "rotated_words", None):
            page.rotated_words = marked(page.rotated_words)
