"""Glyphs the text layer leaves unnamed: recovered from their font, or left flagged."""

from pathlib import Path

import pdfplumber
from pdfminer.psparser import LIT

from pipeline.glyph_recovery import FontRecovery, GlyphRecovery, page_fonts, unnamed
from pipeline.glyph_shapes import GRID, GlyphShape, name_by_shape, shape_of
from pipeline.pdf_loader import load_pdf
from pipeline.tables.selfcheck import UNREADABLE_RE

ARTICLES = Path(__file__).parent / "realworld" / "articles"
PLOS = ARTICLES / "plos_one_2018_wheat" / "article.pdf"  # stars from a TeX symbol font, no ToUnicode
RSC = ARTICLES / "rsc_chemsci_2022" / "article.pdf"  # a symbol font with glyphs named C0, C2, C6, C14


def _box(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def test_unnamed_texts():
    assert unnamed("(cid:3)") and unnamed("\ue103") and unnamed("\ufffd")
    assert not unnamed("*") and not unnamed("±") and not unnamed("fi")


def test_shape_of_a_bar_and_a_square():
    bar = shape_of([_box(100, 240, 700, 280)], 1000.0)
    assert bar.bits == (1 << GRID * GRID) - 1  # stretched to its ink box: all ink
    assert bar.size == 0.6 and abs(bar.centre - 0.26) < 1e-9 and bar.aspect > 2
    ring = shape_of([_box(0, 0, 500, 500), list(reversed(_box(100, 100, 400, 400)))], 1000.0)
    assert ring.bits != bar.bits and ring.distance(ring) == 0.0
    assert ring.distance(bar) > 0.5


def test_a_minus_is_named_by_its_outline_and_nothing_is_named_from_a_blot():
    minus = shape_of([_box(80, 230, 680, 270)], 1000.0)
    char, distance = name_by_shape(minus)
    assert char in "−–-" and distance < 0.3
    blot = GlyphShape(bits=0b1011 << 40 | 1 << 300 | 1 << 777, aspect=0.3, size=0.2, centre=0.9)
    assert name_by_shape(blot) is None


def test_a_differences_glyph_name_is_read_by_the_adobe_glyph_list():
    spec = {"Subtype": LIT("Type1"), "Encoding": {"Differences": [3, LIT("asteriskmath"), LIT("uni00B1")]}}
    font = FontRecovery("NoToUnicode", spec)
    assert font.recover("(cid:3)") == ("\u2217", "glyph name 'asteriskmath'", 3)
    assert font.recover("(cid:4)")[0] == "±"
    assert font.recover("(cid:9)") is None  # no name, no program: left as it is


def test_stars_of_a_tex_symbol_font_are_read_from_their_outlines():
    doc = load_pdf(PLOS)
    page15 = next(p for p in doc.pages if p.number == 15)
    text = " ".join(w.text for w in page15.words)
    assert "(cid:" not in text
    assert "-0.55***" in text
    assert any("TeX_CM_Maths_Symbols" in w and "read as '*'" in w and "outline of glyph 'C3'" in w
               for w in doc.warnings)


def test_a_glyph_no_reference_resembles_stays_unnamed_and_flagged():
    with pdfplumber.open(RSC) as pdf:
        page = pdf.pages[1]
        spec = page_fonts(page)["OOADJJ+AdvP4C4E74"]
        font = FontRecovery("OOADJJ+AdvP4C4E74", spec)
        assert font.glyph_name(4) == "C6"  # a plus-minus drawn with its stem down to the bar
        assert font.recover("(cid:4)") is None
        chars = [c for c in page.chars if c["text"] == "(cid:4)"]
        GlyphRecovery().fix_page(page, chars)
        assert chars and all(UNREADABLE_RE.search(c["text"]) for c in chars)


def _glyph(text: str, x0: float, width: float = 5.0, top: float = 100.0, size: float = 10.0) -> dict:
    return {"text": text, "x0": x0, "x1": x0 + width, "top": top, "bottom": top + size, "size": size,
            "fontname": "F", "upright": True, "doctop": top, "matrix": (size, 0, 0, size, x0, 700 - top)}


def test_a_lone_unnamed_glyph_is_a_bullet_only_where_it_opens_its_line():
    from pipeline.pdf_loader import _words_from_chars

    bullet_line = [_glyph("(cid:7)", 50), *(_glyph(c, 62 + 5 * i) for i, c in enumerate("Item"))]
    between = [_glyph("5", 50), _glyph("9", 55), _glyph("(cid:4)", 63), _glyph("2", 71)]
    assert [w.text for w in _words_from_chars(bullet_line, 1, {})] == ["\u2022", "Item"]
    assert [w.text for w in _words_from_chars(between, 1, {})] == ["59", "(cid:4)", "2"]


def test_a_subscript_stays_in_the_word_it_follows():
    from pipeline.pdf_loader import _words_from_chars

    f_v = [_glyph("F", 100, 4.4, top=86.2, size=8.0), _glyph("V", 104.4, 4.2, top=89.7, size=5.3),
           _glyph("/", 108.6, 2.6, top=86.2, size=8.0), _glyph("F", 111.2, 4.4, top=86.2, size=8.0),
           _glyph("M", 115.6, 5.3, top=89.7, size=5.3)]
    for g in f_v:
        g["bottom"] = g["top"] + g["size"]
    assert [w.text for w in _words_from_chars(f_v, 1, {})] == ["FV/FM"]
    # A smaller glyph set apart from the word before it is a word of its own.
    apart = [_glyph("F", 100, 4.4, top=86.2, size=8.0), _glyph("V", 110, 4.2, top=89.7, size=5.3)]
    assert [w.text for w in _words_from_chars(apart, 1, {})] == ["F", "V"]


def test_a_spacing_accent_drawn_over_a_letter_is_composed_with_it():
    from pipeline.pdf_loader import _words_from_chars

    ring_first = [_glyph("(", 80, 2.5), _glyph("˚", 84.5, 4.3, top=99.0), _glyph("A", 83.0, 7.0),
                  _glyph(")", 90.0, 2.5)]
    assert [w.text for w in _words_from_chars(ring_first, 1, {})] == ["(Å)"]
    # An accent beside a letter, not over it, is left as printed.
    beside = [_glyph("A", 80, 7.0), _glyph("˚", 87.5, 4.3)]
    assert [w.text for w in _words_from_chars(beside, 1, {})] == ["A˚"]
