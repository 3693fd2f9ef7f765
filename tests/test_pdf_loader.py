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


@pytest.mark.parametrize("pdf", PDFS, ids=lambda p: p.stem)
def test_page_objects_match_pdfplumber(pdf: Path) -> None:
    with pdfplumber.open(pdf) as ours, pdfplumber.open(pdf) as theirs:
        for mine, reference in list(zip(ours.pages, theirs.pages))[:4]:
            fast, expected = page_objects(mine), reference.objects
            assert fast.keys() == expected.keys()
            assert fast["char"] == expected["char"]  # every key and value of every glyph
            assert [list(c) for c in fast["char"]] == [list(c) for c in expected["char"]]  # key order too
            for kind in expected.keys() - {"char"}:  # converted by pdfplumber itself
                assert [o["x0"] for o in fast[kind]] == [o["x0"] for o in expected[kind]]


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
