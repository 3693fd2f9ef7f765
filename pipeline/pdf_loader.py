"""Read a PDF once into :class:`PageLayout` records (words, rules, fills, graphics).

Every page's characters are parsed exactly once here; the text layer and the table
parser both work from the records this module returns.
"""

from __future__ import annotations

import bisect
import logging
import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pdfplumber
from pdfminer.layout import LTContainer, LTFigure
from pdfminer.pdffont import PDFUnicodeNotDefined
from pdfminer.pdfinterp import PDFPageInterpreter
from pdfminer.pdftypes import PDFStream, resolve1
from pdfminer.utils import apply_matrix_pt
from pdfplumber.page import PDFPageAggregatorWithMarkedContent, fix_fontname_bytes
from pdfplumber.utils import extract_words, resolve_all, resolve_and_decode
from pdfplumber.utils.exceptions import PdfminerException

from pipeline.errors import (
    CorruptPdfError,
    Deadline,
    EncryptedPdfError,
    InputNotFoundError,
    NotAPdfError,
    NoTextLayerError,
    ReviewExtractError,
)
from pipeline.fonts import FontStyle, base_font_name, differ_in_weight, mark_weights, page_font_styles, style_from_name
from pipeline.glyph_recovery import GlyphRecovery
from pipeline.parallel import ForkedWorkers, worker_processes
from pipeline.records import BBox, Fill, PageLayout, Rule, Word
from pipeline.versioning import file_sha256

# pdfminer logs every oddity of a damaged file (bad colours, font boxes) as a warning on
# the root logger; the loader reports what matters itself (one line, or a page warning).
logging.getLogger("pdfminer").setLevel(logging.ERROR)

# A drawn object thinner than this (pt) is a rule, not a box.
RULE_THICKNESS = 2.0
# Ligatures and compatibility characters that are always safe to expand.
_SAFE_COMPAT = {"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st",
                "\u00ad": "", "\u00a0": " ", "\u2009": " ", "\u202f": " "}


def normalise_text(text: str) -> str:
    """Expand ligatures and drop soft hyphens; keep Greek letters, ≥, ™ and dashes as printed."""
    for src, dst in _SAFE_COMPAT.items():
        if src in text:
            text = text.replace(src, dst)
    return unicodedata.normalize("NFC", text)


@dataclass(slots=True)
class LoadedPage(PageLayout):
    """A page as read: its upright words plus the lines set in another direction."""

    rotated_words: list[Word] = field(default_factory=list)  # one Word per rotated line (page frame)
    text_turned: int = 0  # degrees the page's text was turned to read upright (rotated text matrix)
    image_cover: float = 0.0  # share of the page covered by its largest image (a scanned page: ~1)
    fonts: dict[str, FontStyle] = field(default_factory=dict)  # by font name without subset tag


@dataclass(slots=True)
class LoadedDocument:
    path: Path
    sha256: str
    metadata: dict
    pages: list[PageLayout]
    warnings: list[str] = field(default_factory=list)
    partial: bool = False  # some page could not be read

    @property
    def page_count(self) -> int:
        return len(self.pages)


def _check_is_pdf(path: Path) -> None:
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise NotAPdfError(f"{path}: is a folder, not a PDF file")
    size = path.stat().st_size
    if size == 0:
        raise NotAPdfError(f"{path}: the file is empty")
    with open(path, "rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        raise NotAPdfError(f"{path}: not a PDF (no %PDF- header in its first 1 KiB)")


def _is_white(color) -> bool:
    if color is None:
        return False
    values = color if isinstance(color, (tuple, list)) else (color,)
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    if len(values) == 4:  # CMYK: white is no ink
        return all(v <= 0.02 for v in values)
    return bool(values) and all(v >= 0.98 for v in values)


def _rules_and_fills(objects: dict[str, list[dict]], turn: Callable | None) -> tuple[list[Rule], list[Fill], list[tuple]]:
    """Rules (lines, thin boxes, flat paths; collinear pieces joined), fills and figure art."""
    rules: list[Rule] = []
    fills: list[Fill] = []
    graphics: list[tuple] = []

    def box(obj) -> BBox:
        b = (obj["x0"], obj["top"], obj["x1"], obj["bottom"])
        return turn(b) if turn else b

    for line in objects.get("line", []):
        rules.append(Rule(*box(line)))
    for rect in objects.get("rect", []):
        x0, top, x1, bottom = box(rect)
        w, h = x1 - x0, bottom - top
        if min(w, h) <= RULE_THICKNESS and max(w, h) > 3 * RULE_THICKNESS:
            rules.append(Rule(x0, top, x1, bottom))
        elif w > RULE_THICKNESS and h > RULE_THICKNESS:
            stroked = bool(rect.get("stroke"))
            filled = bool(rect.get("fill")) and not _is_white(rect.get("non_stroking_color"))
            if stroked or filled:
                fills.append(Fill(x0, top, x1, bottom, stroked=stroked, filled=filled))
    # A rule may be drawn as a path, or as an image of one row or column of pixels stretched
    # into a line (older TeX drivers rule whole tables that way): a rule all the same.
    for obj in objects.get("curve", []) + objects.get("image", []):
        x0, top, x1, bottom = box(obj)
        w, h = x1 - x0, bottom - top
        if min(w, h) <= RULE_THICKNESS and max(w, h) > 3 * RULE_THICKNESS:
            rules.append(Rule(x0, top, x1, bottom))
        else:
            graphics.append((x0, top, x1, bottom))
    return _join_rules(rules), fills, graphics


RULE_JOIN_GAP = 2.0  # pt between two pieces of one rule (cell borders of 1.5 pt seen)


def _join_rules(rules: list[Rule]) -> list[Rule]:
    """Join collinear horizontal pieces that touch or nearly do (a rule drawn cell by cell is one
    rule, even with a hairline gap at each column border; rules under column groups stand apart
    by more)."""
    horizontal = sorted((r for r in rules if r.horizontal), key=lambda r: (round(r.top), r.x0))
    out = [r for r in rules if not r.horizontal]
    current: Rule | None = None
    for r in horizontal:
        if (current is not None and abs(r.top - current.top) <= 0.8 and abs(r.bottom - current.bottom) <= 1.2
                and r.x0 <= current.x1 + RULE_JOIN_GAP):
            current = Rule(current.x0, min(current.top, r.top), max(current.x1, r.x1),
                           max(current.bottom, r.bottom))
        else:
            if current is not None:
                out.append(current)
            current = r
    if current is not None:
        out.append(current)
    return out


# ---------------------------------------------------------------------------------------
# Text direction. A landscape table may be set on a page turned by /Rotate (pdfplumber
# already applies that) or drawn with a rotated text matrix on an upright page. The
# page's dominant text direction is turned upright here; text in any other direction
# (a running head set sideways in the margin, an axis label) is kept apart as rotated
# lines, so it neither joins nor splits the lines of the upright text.

def _char_angle(char: dict) -> int:
    """Direction of a glyph's baseline in degrees counter-clockwise (0, 90, 180 or 270)."""
    a, b = char["matrix"][0], char["matrix"][1]
    if abs(b) <= abs(a):
        return 0 if a >= 0 else 180
    return 90 if b > 0 else 270


def _turner(angle: int, width: float, height: float) -> tuple[Callable[[BBox], BBox], float, float]:
    """Map a (x0, top, x1, bottom) box into the frame where text at *angle* reads upright."""
    if angle == 90:  # baseline runs up the page
        def turn(b: BBox) -> BBox:
            return (height - b[3], b[0], height - b[1], b[2])
        return turn, height, width
    if angle == 270:  # baseline runs down the page
        def turn(b: BBox) -> BBox:
            return (b[1], width - b[2], b[3], width - b[0])
        return turn, height, width

    def turn(b: BBox) -> BBox:  # 180: upside down
        return (width - b[2], height - b[3], width - b[0], height - b[1])
    return turn, width, height


def _unturner(angle: int, width: float, height: float) -> Callable[[BBox], BBox]:
    """The inverse of :func:`_turner` (boxes back into the page frame)."""
    back = {90: 270, 270: 90, 180: 180}[angle]
    tw, th = (height, width) if angle in (90, 270) else (width, height)
    return _turner(back, tw, th)[0]


def to_page_frame(page: PageLayout) -> Callable[[BBox], BBox]:
    """Map a box of *page* (its text turned upright) back into the page as displayed.

    The displayed page is pdfplumber's frame (/Rotate applied), the one its images show.
    """
    angle = getattr(page, "text_turned", 0)
    if not angle:
        return lambda b: b
    width, height = (page.height, page.width) if angle in (90, 270) else (page.width, page.height)
    return _unturner(angle, width, height)


def _turned_chars(chars: list[dict], turn: Callable[[BBox], BBox]) -> list[dict]:
    out = []
    for c in chars:
        x0, top, x1, bottom = turn((c["x0"], c["top"], c["x1"], c["bottom"]))
        d = dict(c)
        d.update(x0=x0, top=top, x1=x1, bottom=bottom, doctop=top, upright=True, size=bottom - top,
                 width=x1 - x0, height=bottom - top)
        out.append(d)
    return out


# Where the glyph box sits relative to the baseline, as a share of its height: most text
# fonts descend ~0.21 em below it. Boxing every glyph this way puts glyphs of one baseline
# on one line even when a font (quotes, bullets from a symbol font) declares no descent.
DESCENT = 0.21


def _align_to_baseline(chars: list[dict], angle: int, width: float, height: float) -> None:
    """Box upright glyphs (in the frame turned by *angle*) from their baseline, in place.

    A glyph boxed far off its baseline is re-boxed only when that baseline is one the page's
    sanely boxed glyphs share: a symbol font declaring a huge descent (TeX's CMSY "⊕" boxed a
    line lower) sits on the line of the text around it, while a Type3 font's matrix gives no
    baseline at all (and then matches no line).
    """
    def baseline(c: dict) -> float:
        e, f = c["matrix"][4], c["matrix"][5]
        if angle == 0:
            return height - f
        if angle == 90:
            return e
        if angle == 270:
            return width - e
        return f

    off_line = []
    sane_baselines: list[float] = []
    for c in chars:
        base = baseline(c)
        h = c["bottom"] - c["top"]
        bottom = base + DESCENT * h
        if abs(bottom - c["bottom"]) < 0.6 * h:  # a sane matrix (not a Type3 oddity)
            c["bottom"] = bottom
            c["top"] = bottom - h
            sane_baselines.append(base)
        else:
            off_line.append((c, base, h))
    sane_baselines.sort()
    for c, base, h in off_line:
        i = bisect.bisect_left(sane_baselines, base - 0.05 * h)
        if i < len(sane_baselines) and sane_baselines[i] <= base + 0.05 * h:
            c["bottom"] = base + DESCENT * h
            c["top"] = c["bottom"] - h


# A wider gap than this share of the font size between two glyphs separates two words.
# Publishers' text layers often have no space characters at all (words are set apart by
# position only); inside a word glyphs touch or overlap (kerning), letter-spaced capitals
# stay below ~0.12, thin spaces (about 0.2) and word spaces (0.25+) lie above.
WORD_GAP_RATIO = 0.15
_CID_RE = re.compile(r"^\(cid:\d+\)$")
DROP_CAP_RATIO = 2.0


def _font(chars: list[dict]) -> str:
    counts: dict[str, int] = {}
    for c in chars:
        counts[c["fontname"]] = counts.get(c["fontname"], 0) + 1
    return max(counts, key=counts.get)


def _words_from_chars(chars: list[dict], page_number: int, fonts: dict[str, FontStyle]) -> list[Word]:
    """Words of upright glyphs: split at space characters and at gaps wider than WORD_GAP_RATIO."""
    if not chars:
        return []
    # Glyphs of one line may sit up to ~0.3 em apart vertically: a symbol font without a
    # descent (quotes, bullets) is boxed a quarter em higher than the text around it.
    raw = extract_words(_scripts_on_their_line(chars), x_tolerance_ratio=WORD_GAP_RATIO, y_tolerance=3, y_tolerance_ratio=0.3,
                        keep_blank_chars=False, use_text_flow=False, return_chars=True)
    words = []
    split = _split_at_weight_changes(raw, fonts)
    for w in split:
        glyphs = w["chars"]
        text = w["text"]
        if len(glyphs) == 1 and _CID_RE.match(text) and not _follows_text(w, split, glyphs[0]["size"]):
            # A lone glyph without a Unicode mapping (its font did not name it either), set
            # apart from the text around it and opening its line, is a list bullet (the common
            # case in publishers' PDFs): written as "•". Between words ("596 ? 2") it is left
            # unnamed, for the table self-check to report.
            text = "\u2022"
        if any(c["text"] in _SPACING_ACCENTS for c in glyphs):
            text = _with_accents_composed(glyphs, text)
        text = normalise_text(text)
        if not text.strip():
            continue
        size = max(c["size"] for c in glyphs)
        top, bottom, x0 = w["top"], w["bottom"], w["x0"]
        if _drop_cap(glyphs):
            # A paragraph's large initial hangs beside the lines it spans: the word is placed,
            # and sized, as its line's text, so that line is not merged with the ones below.
            rest = glyphs[1:]
            size = max(c["size"] for c in rest)
            top = statistics.median(c["top"] for c in rest)
            bottom = statistics.median(c["bottom"] for c in rest)
            x0 = rest[0]["x0"]
        elif len(glyphs) > 2 and bottom - top > 1.15 * size:
            # Glyphs boxed off the line (a font without descent): the word's height is
            # its typical glyph's, so it lines up with its neighbours.
            top = statistics.median(c["top"] for c in glyphs)
            bottom = statistics.median(c["bottom"] for c in glyphs)
        words.append(Word(text=text, x0=x0, top=top, x1=w["x1"], bottom=bottom,
                          fontname=base_font_name(_font(glyphs)), size=round(size, 2), page=page_number))
    return words


# Spacing accents a text layer may set as glyphs of their own over a letter ("A" + "˚" for Å).
_SPACING_ACCENTS = {"˚": "\u030a", "¨": "\u0308", "´": "\u0301", "`": "\u0300", "ˆ": "\u0302",
                    "˜": "\u0303", "¸": "\u0327", "ˇ": "\u030c", "¯": "\u0304"}


def _with_accents_composed(glyphs: list[dict], text: str) -> str:
    """The word's text with each spacing accent drawn over (or under) a letter composed with it
    ("A˚" -> "Å"), when the pair has a precomposed character; other accents stay as printed."""
    out: list[str] = []
    used: set[int] = set()
    for i, c in enumerate(glyphs):
        if i in used:
            continue
        mark = _SPACING_ACCENTS.get(c["text"])
        if mark is None:
            out.append(c["text"])
            continue
        width = max(c["x1"] - c["x0"], 1e-6)
        for j in (i + 1, i - 1):
            if 0 <= j < len(glyphs) and j not in used and glyphs[j]["text"].isalpha() and len(glyphs[j]["text"]) == 1:
                letter = glyphs[j]
                overlap = min(c["x1"], letter["x1"]) - max(c["x0"], letter["x0"])
                composed = unicodedata.normalize("NFC", letter["text"] + mark)
                if overlap > 0.5 * width and len(composed) == 1:
                    if j == i - 1:
                        out[-1] = composed
                    else:
                        out.append(composed)
                        used.add(j)
                    break
        else:
            out.append(c["text"])
    composed_text = "".join(out)
    return composed_text if len(composed_text) < len(text) else text


SCRIPT_SIZE = (0.5, 0.85)  # sub- and superscripts are set at this share of their line's size
SCRIPT_GAP = 0.15  # ... and touch the glyph before them (in em of the line's size)


def _scripts_on_their_line(chars: list[dict]) -> list[dict]:
    """Sub- and superscripts (smaller glyphs set right after a glyph, lowered or raised) are
    boxed from the top of the glyph they follow, so they stay in its word ("FV/FM", "spike-1",
    "Proteina") instead of starting a line of their own; their other coordinates are kept."""
    out = list(chars)
    anchor: dict | None = None
    previous: dict | None = None
    for i, c in enumerate(chars):
        if not c["text"].strip():
            anchor = previous = None
            continue
        if (anchor is not None and previous is not None
                and SCRIPT_SIZE[0] < c["size"] / max(anchor["size"], 1e-6) < SCRIPT_SIZE[1]
                and abs(c["x0"] - previous["x1"]) <= SCRIPT_GAP * anchor["size"]
                and c["bottom"] > anchor["top"] and c["top"] < anchor["bottom"] and c["top"] != anchor["top"]):
            out[i] = dict(c, top=anchor["top"])
        else:
            anchor = c
        previous = c
    return out


def _follows_text(word: dict, words: list[dict], size: float) -> bool:
    """Whether another word ends less than an em before *word* on its line."""
    middle = (word["top"] + word["bottom"]) / 2
    return any(other is not word and other["top"] <= middle <= other["bottom"]
               and 0 <= word["x0"] - other["x1"] <= size for other in words)


def _drop_cap(glyphs: list[dict]) -> bool:
    """A word whose first letter is set at least twice the size of the rest (a drop cap)."""
    return (len(glyphs) >= 2 and glyphs[0]["text"].isalpha()
            and glyphs[0]["size"] >= DROP_CAP_RATIO * max(c["size"] for c in glyphs[1:]))


def _weightless(char: dict) -> bool:
    """A math symbol ("=", "±", often set from a symbol font with no bold) or another
    non-ASCII symbol glyph: its font's weight says nothing about the text around it."""
    text = char["text"]
    if len(text) != 1:
        return False
    category = unicodedata.category(text)
    return category == "Sm" or (ord(text) > 127 and category.startswith("S"))


def _split_at_weight_changes(raw: list[dict], fonts: dict[str, FontStyle]) -> list[dict]:
    """Split a word where bold and regular glyphs touch ("Table 1" + "Patient-provider ...").

    Other font changes inside a word (a quote or bullet from a symbol font) do not split it,
    and a math symbol set between two letters of one face ("A◦N", CMSY between bold letters)
    has no weight of its own: the letters around it are compared.
    """
    out = []
    for w in raw:
        glyphs = w["chars"]
        first = glyphs[0]["fontname"]
        if all(c["fontname"] == first for c in glyphs):
            out.append(w)
            continue
        def style(char: dict) -> FontStyle:
            return fonts.get(char["fontname"]) or style_from_name(char["fontname"])

        runs: list[list[dict]] = [[glyphs[0]]]
        weighted = None if _weightless(glyphs[0]) else glyphs[0]  # the last glyph with a weight
        for c in glyphs[1:]:
            if _weightless(c):
                runs[-1].append(c)
                continue
            if weighted is not None and differ_in_weight(style(c), style(weighted)) and c["text"].strip() \
                    and runs[-1][-1]["text"].strip():
                runs.append([c])
            else:
                runs[-1].append(c)
            weighted = c
        if len(runs) == 1:
            out.append(w)
            continue
        for run in runs:
            out.append({"text": "".join(c["text"] for c in run), "x0": min(c["x0"] for c in run),
                        "x1": max(c["x1"] for c in run), "top": min(c["top"] for c in run),
                        "bottom": max(c["bottom"] for c in run), "chars": run})
    return out


def _rotated_lines(chars: list[dict], angle: int, width: float, height: float, page_number: int,
                   fonts: dict[str, FontStyle]) -> list[Word]:
    """Lines of text set in a minority direction, as one Word each, boxed in the page frame."""
    turn, tw, th = _turner(angle, width, height)
    back = _unturner(angle, width, height)
    words = _words_from_chars(_turned_chars(chars, turn), page_number, fonts)
    from pipeline.geometry import (  # local: geometry imports records only
        group_lines,
        split_line,
    )

    out = []
    for line in group_lines(words):
        for part in split_line(line, 1.5 * line.size):
            x0, top, x1, bottom = back(part.bbox)
            out.append(Word(text=part.text, x0=x0, top=top, x1=x1, bottom=bottom,
                            fontname=part.words[0].fontname, size=part.size, page=page_number))
    return out


# ---------------------------------------------------------------------------------------
# pdfplumber builds a pdfminer LTChar for every glyph, then turns it into a dict generically
# (every attribute resolved recursively: a generator per number of a glyph's matrix). A page
# has thousands of glyphs whose attributes are plain numbers and strings, and those two steps
# cost more than pdfminer's own reading of the page. The device below writes each glyph's dict
# directly, with pdfminer's arithmetic for its box and pdfplumber's for the rest, the very same
# dicts (tests/test_pdf_loader.py compares them with pdfplumber's, key order included); every
# other object (rules, boxes, curves, images: a few per page) still goes through pdfplumber.

_PLAIN_TYPES = frozenset((float, int, str, bool, type(None)))


class _GlyphDictDevice(PDFPageAggregatorWithMarkedContent):
    """pdfplumber's layout device, with glyphs recorded as pdfplumber's char dicts (x0 and x1
    still in pdfminer's frame: :func:`page_objects` clips them to their form first)."""

    def __init__(self, page) -> None:
        super().__init__(page.pdf.rsrcmgr, pageno=page.page_number, laparams=None)
        self.page_number = page.page_number
        self.height, self.mediabox_top = page.height, page.mediabox[1]
        self.initial_doctop = page.initial_doctop
        self.unicode_norm = page.pdf.unicode_norm
        self.fonts: dict[int, tuple] = {}  # id(font) -> (font, fontname, vertical, descent per size unit)
        self.colour_spaces: dict = {}  # colour space name -> decoded name

    def _font(self, font) -> tuple:
        known = self.fonts.get(id(font))
        if known is None or known[0] is not font:
            name = font.fontname
            kind = type(name)
            if kind not in _PLAIN_TYPES and not (kind is tuple and set(map(type, name)) <= _PLAIN_TYPES):
                name = resolve_all(name)
            if isinstance(name, bytes):
                name = fix_fontname_bytes(name)
            known = self.fonts[id(font)] = (font, name, font.is_vertical(), font.get_descent())
        return known

    def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate) -> float:
        try:
            text = font.to_unichr(cid)
            assert isinstance(text, str), str(type(text))
        except PDFUnicodeNotDefined:
            text = self.handle_undefined_char(font, cid)
        _, fontname, vertical, descent = self._font(font)
        adv = font.char_width(cid) * fontsize * scaling
        # LTChar's box: a rectangle in text space through the glyph's matrix (apply_matrix_rect)
        if vertical:
            vx, vy = font.char_disp(cid)
            vx = fontsize * 0.5 if vx is None else vx * fontsize * 0.001
            vy = (1000 - vy) * fontsize * 0.001
            bx0, by0, bx1, by1 = -vx, vy + rise + adv, -vx + fontsize, vy + rise
        else:
            descent = descent * fontsize
            bx0, by0, bx1, by1 = 0, descent + rise, adv, descent + rise + fontsize
        a, b, c, d, e, f = matrix
        left1, bottom1 = a * bx0 + c * by0 + e, b * bx0 + d * by0 + f
        right1, bottom2 = a * bx1 + c * by0 + e, b * bx1 + d * by0 + f
        right2, top1 = a * bx1 + c * by1 + e, b * bx1 + d * by1 + f
        left2, top2 = a * bx0 + c * by1 + e, b * bx0 + d * by1 + f
        x0, y0 = min(left1, left2, right1, right2), min(bottom1, bottom2, top1, top2)
        x1, y1 = max(left1, left2, right1, right2), max(bottom1, bottom2, top1, top2)
        width, height = x1 - x0, y1 - y0
        kind = type(matrix)
        if kind is not tuple or not set(map(type, matrix)) <= _PLAIN_TYPES:
            matrix = resolve_all(matrix)
        name = ncs.name
        colour_space = self.colour_spaces.get(name)
        if colour_space is None:
            colour_space = self.colour_spaces[name] = resolve_and_decode(name)
        if self.unicode_norm is not None:
            text = unicodedata.normalize(self.unicode_norm, text)
        scolor, ncolor = graphicstate.scolor, graphicstate.ncolor
        top = (self.height - y1) + self.mediabox_top
        self.cur_item._objs.append({
            "matrix": matrix, "fontname": fontname, "adv": adv, "upright": a * d * scaling > 0 and b * c <= 0,
            "x0": x0, "y0": y0, "x1": x1, "y1": y1, "width": width, "height": height,
            "size": width if vertical else height, "mcid": self.cur_mcid, "tag": self.cur_tag,
            "object_type": "char", "page_number": self.page_number, "ncs": colour_space, "text": text,
            "stroking_color": scolor if isinstance(scolor, tuple) else (scolor,),
            "non_stroking_color": ncolor if isinstance(ncolor, tuple) else (ncolor,),
            "top": top, "bottom": (self.height - y0) + self.mediabox_top, "doctop": self.initial_doctop + top})
        return adv


def _page_layout_objects(page) -> list:
    """The page's pdfminer layout objects, glyphs as dicts (pdfplumber's ``Page.layout`` otherwise)."""
    device = _GlyphDictDevice(page)
    try:
        PDFPageInterpreter(page.pdf.rsrcmgr, device).process_page(page.page_obj)
    except Exception as exc:
        raise PdfminerException(exc) from exc
    return device.get_result()._objs


def page_objects(page) -> dict[str, list[dict]]:
    """``page.objects`` of a pdfplumber page: the same dicts, glyphs converted faster, less the
    glyphs a form XObject draws outside its BBox (not printed)."""
    if page.pdf.laparams is not None:  # layout analysis: text containers are objects too
        return page.objects
    objects: dict[str, list[dict]] = {}
    shift = page.mediabox[0]  # pdfplumber's x0 and x1 are relative to the media box's left edge
    forms = _page_forms(page)

    def walk(items, clip=None, in_form=False) -> None:
        for obj in items:
            if type(obj) is dict:  # a glyph
                if clip is not None and not (clip[0] - 1 <= (obj["x0"] + obj["x1"]) / 2 <= clip[2] + 1
                                             and clip[1] - 1 <= (obj["y0"] + obj["y1"]) / 2 <= clip[3] + 1):
                    continue
                if shift != 0:
                    obj["x0"] = obj["x0"] + shift
                    obj["x1"] = obj["x1"] + shift
                parsed = obj
            elif isinstance(obj, LTFigure) and not in_form:
                # A form XObject's BBox clips what it draws: text outside it is not printed
                # (a whole page embedded as a figure, cut down to the figure's area). A form
                # inside a form names its own resources, so only the page's forms are looked up.
                walk(obj._objs, _form_clip(obj, forms), in_form=True)
                continue
            elif isinstance(obj, LTContainer):
                walk(obj._objs, clip, in_form)
                continue
            else:
                parsed = page.process_object(obj)
                if parsed["object_type"] == "anno":
                    continue
            objects.setdefault(parsed["object_type"], []).append(parsed)

    walk(_page_layout_objects(page))
    return objects


def _page_forms(page) -> dict:
    """The page's own form XObjects, by name."""
    try:
        xobjects = resolve1(resolve1(page.page_obj.resources).get("XObject")) or {}
        return {name: resolve1(ref) for name, ref in xobjects.items()} if isinstance(xobjects, dict) else {}
    except Exception:  # a damaged resource dictionary: nothing is clipped
        return {}


def _form_clip(figure: LTFigure, forms: dict) -> tuple[float, float, float, float] | None:
    """The area a form XObject may print on: its BBox under the figure's matrix (pdfminer's
    own LTFigure box reads BBox as x, y, width, height, so it is recomputed here)."""
    form = forms.get(figure.name)
    bbox = resolve1(form.get("BBox")) if isinstance(form, PDFStream) else None
    if not isinstance(bbox, list) or len(bbox) != 4:
        return None
    try:
        corners = [apply_matrix_pt(figure.matrix, (float(resolve1(x)), float(resolve1(y))))
                   for x in (bbox[0], bbox[2]) for y in (bbox[1], bbox[3])]
    except (TypeError, ValueError):
        return None
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def _page_layout(page, number: int, recovery: GlyphRecovery | None = None) -> LoadedPage:
    """One page's words, rules, fills and art, its dominant text direction turned upright.

    *recovery* names the glyphs the text layer leaves unnamed, from their fonts (once per font
    for the pages it reads)."""
    objects = page_objects(page)
    chars = objects.get("char", [])
    (recovery or GlyphRecovery()).fix_page(page, chars)
    fonts = page_font_styles(page)
    counts = {0: 0, 90: 0, 180: 0, 270: 0}
    angles = []
    for c in chars:
        a = _char_angle(c)
        angles.append(a)
        if not c["text"].isspace():
            counts[a] += 1
    width, height = float(page.width), float(page.height)
    dominant = max(counts, key=lambda a: (counts[a], a == 0))
    turn = None
    if dominant != 0:
        turn, width, height = _turner(dominant, float(page.width), float(page.height))
    main_chars = [c for c, a in zip(chars, angles) if a == dominant]
    if turn is not None:
        main_chars = _turned_chars(main_chars, turn)
    _align_to_baseline(main_chars, dominant, float(page.width), float(page.height))
    rules, fills, graphics = _rules_and_fills(objects, turn)
    rotated: list[Word] = []
    for angle in (0, 90, 180, 270):
        if angle != dominant and counts[angle]:
            # Minority text, boxed in the page's (turned) frame.
            group = [c for c, a in zip(chars, angles) if a == angle]
            if turn is not None:
                group = [dict(c, **dict(zip(("x0", "top", "x1", "bottom"),
                                            turn((c["x0"], c["top"], c["x1"], c["bottom"])))))
                         for c in group]
            rel = (angle - dominant) % 360
            if rel == 0:
                continue
            rotated += _rotated_lines(group, rel, width, height, number, fonts)
    area = max(width * height, 1.0)
    cover = max(((i["x1"] - i["x0"]) * (i["bottom"] - i["top"]) / area for i in objects.get("image", [])), default=0.0)
    return LoadedPage(number=number, width=width, height=height,
                      rotation=(int(page.rotation or 0) + dominant) % 360,
                      words=_words_from_chars(main_chars, number, fonts), rules=rules, fills=fills,
                      graphics=graphics, rotated_words=rotated, text_turned=dominant,
                      image_cover=min(cover, 1.0), fonts={base_font_name(k): v for k, v in fonts.items()})


def _cause(exc: BaseException) -> BaseException:
    """The underlying error (pdfplumber wraps pdfminer's in PdfminerException(original))."""
    seen = 0
    while seen < 5:
        seen += 1
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        inner = inner or exc.__cause__ or exc.__context__
        if inner is None:
            break
        exc = inner
    return exc


def _is_encryption_error(exc: BaseException) -> bool:
    names = {type(exc).__name__, type(_cause(exc)).__name__}
    return any("Password" in n or "Encrypt" in n for n in names)


def _open(path: Path, password: str | None):
    try:
        return pdfplumber.open(path, password=password or "")
    except Exception as exc:  # pdfminer raises many unrelated types for broken files
        if _own_error(exc) is not None:
            raise _own_error(exc) from None
        exc = _cause(exc) if not _is_encryption_error(exc) else exc
        name = type(_cause(exc)).__name__
        if _is_encryption_error(exc):
            if password:
                raise EncryptedPdfError(f"{path}: the PDF is encrypted and the password is wrong") from None
            raise EncryptedPdfError(f"{path}: the PDF is encrypted (give its password with --password)") from None
        raise CorruptPdfError(f"{path}: damaged PDF, cannot be parsed ({name}: {_short(_cause(exc))})") from None


def _own_error(exc: BaseException | None) -> ReviewExtractError | None:
    """One of our errors (the time limit's alarm) raised inside pdfplumber and wrapped by it."""
    for _ in range(5):
        if exc is None or isinstance(exc, ReviewExtractError):
            return exc
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = inner or exc.__cause__ or exc.__context__
    return None


def _input_error(path: Path, exc: BaseException, what: str) -> ReviewExtractError:
    """The one-line error for a PDF that fails after opening: ours, encrypted, else damaged."""
    own = _own_error(exc)
    if own is not None:
        return own
    if _is_encryption_error(exc):
        return EncryptedPdfError(f"{path}: the PDF is encrypted (give its password with --password)")
    return CorruptPdfError(f"{path}: damaged PDF, {what} ({type(_cause(exc)).__name__}: {_short(exc)})")


def _short(exc: BaseException, limit: int = 120) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


PARALLEL_MIN_PAGES = 8  # below this, starting other processes costs more than it saves
PAGES_PER_TASK = 4  # small page ranges: the processes share the work evenly, progress is smooth


def _page_ranges(total: int, workers: int) -> list[tuple[int, int]]:
    """Page ranges for the reader processes (one range, read here, for short documents)."""
    if workers < 2 or total < PARALLEL_MIN_PAGES:
        return [(0, total)]
    step = max(1, min(PAGES_PER_TASK, -(-total // workers)))
    return [(a, min(a + step, total)) for a in range(0, total, step)]


def _page_readers(path: Path, password: str | None, total: int, ranges: list[tuple[int, int]],
                  deadline: Deadline | None) -> ForkedWorkers | None:
    """Forked page readers for the page ranges, or None where the pages are read in this process
    (one range; inside a daemonic process such as a Dask worker, or without fork; no processes
    left). The readers end with the run, also on a time limit (pipeline.parallel)."""
    processes = min(len(ranges), worker_processes())
    if processes < 2:
        return None
    try:
        return ForkedWorkers(lambda pages: _read_page_range(path, password, *pages, total, deadline), ranges,
                             processes, "reading pages")
    except OSError:  # no processes left
        return None


_reader_pdf: dict[tuple, object] = {}  # in a reader process: the PDF it has open


def _read_page_range(path: Path, password: str | None, start: int, stop: int, total: int,
                     deadline: Deadline | None) -> tuple[list[PageLayout], list[str], int]:
    """Pages [start, stop) of the PDF, opened once per reader process."""
    key = (str(path), password)
    if key not in _reader_pdf:
        _reader_pdf[key] = _open(path, password)
    return _read_pages(_reader_pdf[key].pages[start:stop], start, total, path, deadline, None)


def _read_pages(page_list, offset: int, total: int, path: Path, deadline: Deadline | None,
                progress: Callable[[int, int], None] | None) -> tuple[list[PageLayout], list[str], int]:
    """Read each page once: (layouts, warnings, number of pages that could not be read)."""
    pages: list[PageLayout] = []
    warnings: list[str] = []
    failed = 0
    recovery = GlyphRecovery()
    for index, page in enumerate(page_list, start=offset):
        try:
            layout = _page_layout(page, index + 1, recovery)
        except ReviewExtractError:
            raise
        except Exception as exc:
            failed += 1
            warnings.append(f"page {index + 1}: cannot be read ({type(exc).__name__}: {_short(exc)}); "
                            "left out")
            layout = LoadedPage(number=index + 1, width=0.0, height=0.0, rotation=0, words=[])
        finally:
            page.close()  # free pdfminer's layout cache: each page is read once
        pages.append(layout)
        if deadline is not None:
            deadline.check(f"{path}: reading page {index + 1} of {total}")
        if progress:
            progress(index + 1, total)
    return pages, warnings + recovery.notes(), failed


def load_pdf(path: str | Path, password: str | None = None,
             progress: Callable[[int, int], None] | None = None,
             deadline: Deadline | None = None, while_reading: Callable[[], None] | None = None) -> LoadedDocument:
    """Open *path* and read every page's words, rules and fills once.

    Raises a :class:`~pipeline.errors.ReviewExtractError` subclass with a one-line
    message for input that is not a readable PDF with a text layer. A page that cannot
    be read is left empty with a warning (the document is then marked partial), unless no
    page can be read at all. *deadline* is checked after every page. *while_reading* is
    called once while other processes read the pages (not called when they are read here).
    """
    path = Path(path)
    _check_is_pdf(path)
    sha = file_sha256(path)
    pdf = _open(path, password)
    try:
        with pdf:
            try:
                metadata = {k: (v.decode("latin-1") if isinstance(v, bytes) else v)
                            for k, v in (pdf.metadata or {}).items() if isinstance(v, (str, bytes))}
                page_list = pdf.pages
            except ReviewExtractError:
                raise
            except Exception as exc:
                raise _input_error(path, exc, "its page tree cannot be read") from None
            total = len(page_list)
            ranges = _page_ranges(total, worker_processes())
            readers = _page_readers(path, password, total, ranges, deadline)
            if readers is None:
                pages, warnings, failed = _read_pages(page_list, 0, total, path, deadline, progress)
            else:
                with readers:  # reader processes take the page ranges in turn while this one warms up
                    if while_reading is not None:
                        while_reading()
                    pages, warnings, failed = [], [], 0
                    for more_pages, more_warnings, more_failed in readers.results(deadline):
                        for page in more_pages:
                            pages.append(page)
                            if progress:
                                progress(len(pages), total)
                        warnings += more_warnings
                        failed += more_failed
    except ReviewExtractError:
        raise
    except Exception as exc:
        raise _input_error(path, exc, "failed while reading pages") from None
    if not pages:
        raise CorruptPdfError(f"{path}: the PDF has no pages")
    if failed == len(pages):
        raise CorruptPdfError(f"{path}: damaged PDF, none of its {len(pages)} pages can be read")
    mark_weights(pages)
    scanned = [p.number for p in pages if not p.words and getattr(p, "image_cover", 0.0) > 0.5]
    if scanned and any(p.words for p in pages):
        listed = ", ".join(map(str, scanned[:10])) + (" …" if len(scanned) > 10 else "")
        warnings.append(f"partial result: page(s) {listed} have no text layer (scanned images); "
                        "their content is not extracted (run OCR first)")
        failed_scan = True
    else:
        failed_scan = False
    if not any(p.words for p in pages):
        if any(p.graphics for p in pages):
            raise NoTextLayerError(f"{path}: no text layer (scanned or image-only PDF); run OCR first")
        raise NoTextLayerError(f"{path}: no text on any page (blank or image-only PDF); run OCR first")
    return LoadedDocument(path=path, sha256=sha, metadata=metadata, pages=pages, warnings=warnings,
                          partial=failed > 0 or failed_scan)
