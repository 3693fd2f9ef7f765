"""The loader's own conversion of pdfminer's glyphs gives pdfplumber's char dicts exactly."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from pipeline.pdf_loader import page_objects

ROOT = Path(__file__).resolve().parents[1]
PDFS = [
    ROOT / "data" / "raw" / "nasiri2024_car_t_mm_review.pdf",  # the bundled review: text, tables, figures
    ROOT / "tests" / "realworld" / "icdar2013" / "eu-015.pdf",  # ruled tables, curves, images
    ROOT / "tests" / "realworld" / "icdar2013" / "us-011a.pdf",  # inline images
]


def _assert_same_objects(pdf: Path, pages: int = 4, **options) -> None:
    with pdfplumber.open(pdf, **options) as ours, pdfplumber.open(pdf, **options) as theirs:
        for mine, reference in list(zip(ours.pages, theirs.pages))[:pages]:
            fast, expected = page_objects(mine), reference.objects
            assert fast.keys() == expected.keys()
            assert fast["char"] == expected["char"]  # every key and value of every glyph
            assert [list(c) for c in fast["char"]] == [list(c) for c in expected["char"]]  # key order too
            assert [[type(v) for v in c.values()] for c in fast["char"]] == [
                [type(v) for v in c.values()] for c in expected["char"]]  # int stays int, float float
            for kind in expected.keys() - {"char"}:  # converted by pdfplumber itself
                assert [o["x0"] for o in fast[kind]] == [o["x0"] for o in expected[kind]]


@pytest.mark.parametrize("pdf", PDFS, ids=lambda p: p.stem)
def test_page_objects_match_pdfplumber(pdf: Path) -> None:
    _assert_same_objects(pdf)


def test_page_objects_match_pdfplumber_with_unicode_normalisation() -> None:
    _assert_same_objects(PDFS[0], pages=2, unicode_norm="NFKC")  # the "ﬁ" ligatures become "fi"


def test_page_objects_match_pdfplumber_on_a_media_box_off_the_origin(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(PDFS[0])
    writer = pypdf.PdfWriter()
    page = writer.add_page(reader.pages[0])
    x0, y0, x1, y1 = (float(v) for v in page.mediabox)
    page.mediabox = pypdf.generic.RectangleObject([x0 + 20.5, y0 - 30.25, x1 - 10, y1 - 40])
    shifted = tmp_path / "shifted.pdf"
    writer.write(shifted)
    with pdfplumber.open(shifted) as pdf:
        assert pdf.pages[0].mediabox[0] != 0 and pdf.pages[0].mediabox[1] != 0
    _assert_same_objects(shifted, pages=1)


class _VerticalFont:
    """The few things pdfminer's glyph box reads from a vertical (Identity-V) CID font."""

    fontname = "Vertical-Mincho"

    def __init__(self, displacement):
        self.displacement = displacement

    def to_unichr(self, cid: int) -> str:
        return chr(cid)

    def char_width(self, cid: int) -> float:
        return 0.6  # not square: its width and height differ

    def char_disp(self, cid: int):
        return self.displacement

    def is_vertical(self) -> bool:
        return True

    def get_descent(self) -> float:
        return -0.12


@pytest.mark.parametrize("displacement", [(None, 880), (500, 880)], ids=["default-x", "x"])
def test_a_vertical_glyph_is_boxed_as_pdfminer_boxes_it(displacement) -> None:
    from pdfminer.pdfcolor import PREDEFINED_COLORSPACE
    from pdfminer.pdfinterp import PDFGraphicState
    from pdfplumber.page import PDFPageAggregatorWithMarkedContent

    from pipeline.pdf_loader import _GlyphDictDevice

    with pdfplumber.open(PDFS[0]) as pdf:
        page = pdf.pages[0]
        args = ((0.0, -1.0, 1.0, 0.0, 100.0, 700.0), _VerticalFont(displacement), 10.0, 1.0, 0.0, 0x4E00,
                PREDEFINED_COLORSPACE["DeviceGray"], PDFGraphicState())
        ours = _GlyphDictDevice(page)
        theirs = PDFPageAggregatorWithMarkedContent(pdf.rsrcmgr, pageno=1)
        for device in (ours, theirs):
            device.begin_page(page.page_obj, (1, 0, 0, 1, 0, 0))
            assert device.render_char(*args) == 6.0
        glyph, expected = ours.cur_item._objs[0], page.process_object(theirs.cur_item._objs[0])
        assert glyph == expected and list(glyph) == list(expected)


def test_page_objects_with_layout_analysis_are_pdfplumbers() -> None:
    with pdfplumber.open(PDFS[0], laparams={}) as pdf:
        page = pdf.pages[0]
        assert page_objects(page) is page.objects  # text boxes and lines are objects then


def test_rules_drawn_as_stretched_images_are_rules_and_pictures_stay_art() -> None:
    from pipeline.pdf_loader import _rules_and_fills

    def image(x0, top, x1, bottom):
        return {"x0": x0, "top": top, "x1": x1, "bottom": bottom}

    objects = {"image": [image(336, 272, 515, 272.4),  # a horizontal rule: one pixel row stretched
                         image(336, 272, 336.4, 283),  # a vertical cell border
                         image(100, 400, 300, 550),  # a photograph
                         image(10, 10, 11, 11)]}  # a dot: too short to be a rule
    rules, fills, graphics = _rules_and_fills(objects, None)
    assert sorted((r.horizontal, round(r.x1 - r.x0), round(r.bottom - r.top)) for r in rules) == [
        (False, 0, 11), (True, 179, 0)]
    assert (100, 400, 300, 550) in graphics and (10, 10, 11, 11) in graphics and not fills


def _glyph(text: str, x0: float, top: float, bottom: float, baseline_f: float, font: str = "Times-Roman",
           size: float = 9.0) -> dict:
    """A pdfplumber-like char dict on a 792 pt high page (matrix f = baseline from the bottom)."""
    return {"text": text, "x0": x0, "x1": x0 + 4.0, "top": top, "bottom": bottom, "size": size,
            "fontname": font, "matrix": (1.0, 0.0, 0.0, 1.0, x0, baseline_f), "upright": True}


def test_a_symbol_boxed_off_its_line_is_put_back_on_the_baseline_it_shares() -> None:
    from pipeline.pdf_loader import _align_to_baseline

    # Text on baseline 233.8 (f = 558.2); a CMSY "⊕" with the same baseline but boxed 6.7 pt
    # lower (its font declares a huge descent), and a Type3-like glyph whose matrix is no baseline.
    text = [_glyph(ch, 100 + 5 * i, 226.8, 235.7, 558.2) for i, ch in enumerate("dir")]
    plus = _glyph("\u2295", 120, 233.5, 242.5, 558.2, font="CMSY9")
    odd = _glyph("x", 200, 300.0, 309.0, 100.0)
    chars = text + [plus, odd]
    _align_to_baseline(chars, 0, 612.0, 792.0)
    assert abs(plus["top"] - text[0]["top"]) < 0.5 and abs(plus["bottom"] - text[0]["bottom"]) < 0.5
    assert (odd["top"], odd["bottom"]) == (300.0, 309.0)  # its matrix matches no line: left as boxed


def test_a_math_symbol_between_bold_letters_does_not_split_the_word_by_weight() -> None:
    from pipeline.fonts import style_from_name
    from pipeline.pdf_loader import _split_at_weight_changes

    bold, symbol, regular = "NimbusRomNo9L-Medi", "CMSY10", "Times-Roman"
    fonts = {f: style_from_name(f) for f in (bold, symbol, regular)}

    def word(*glyphs):
        chars = [_glyph(t, 100 + 5 * i, 80, 89, 700, font=f) for i, (t, f) in enumerate(glyphs)]
        return {"text": "".join(c["text"] for c in chars), "x0": chars[0]["x0"], "x1": chars[-1]["x1"],
                "top": 80, "bottom": 89, "chars": chars}

    joined = _split_at_weight_changes([word(("A", bold), ("\u25e6", symbol), ("N", bold))], fonts)
    assert [w["text"] for w in joined] == ["A\u25e6N"]
    split = _split_at_weight_changes([word(("1", bold), ("\u25e6", symbol), ("P", regular))], fonts)
    assert [w["text"] for w in split] == ["1\u25e6", "P"]  # the letters around it still differ
    # An ASCII math sign from a symbol font with no bold ("(n=392)" in a bold header) too.
    equals = _split_at_weight_changes([word(("n", bold), ("=", "SymbolStd"), ("3", bold))], fonts)
    assert [w["text"] for w in equals] == ["n=3"]
