"""Bold decided once, from the font actually used: measured stems, then the descriptor, then the name."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from pipeline.fonts import FontStyle, base_font_name, differ_in_weight, is_bold, page_font_styles
from pipeline.pdf_loader import load_pdf

ROOT = Path(__file__).resolve().parent
BMC = ROOT / "fixtures" / "realworld" / "bmc_hsr_2014" / "article.pdf"
REVIEW = ROOT.parent / "data" / "raw" / "nasiri2024_car_t_mm_review.pdf"


@pytest.fixture(scope="module")
def bmc_styles():
    styles = {}
    with pdfplumber.open(BMC) as pdf:
        for page in pdf.pages:
            styles.update(page_font_styles(page))
    return styles


def test_measured_stems_agree_with_declared_stemv():
    """Where a descriptor declares StemV, the stem measured on the outlines is close to it."""
    checked = 0
    for pdf_path in (BMC, REVIEW):
        with pdfplumber.open(pdf_path) as pdf:
            styles = {}
            for page in pdf.pages:
                styles.update(page_font_styles(page))
        for name, style in styles.items():
            if style.stem and style.stem_v:
                # Producers round StemV (LibreOffice writes 165 for every bold face): 25% apart at most.
                assert abs(style.stem - style.stem_v) <= 0.25 * style.stem_v, (name, style)
                checked += 1
    assert checked >= 6


def test_obfuscated_font_names_judged_by_their_outlines():
    """BMC's fonts are named AdvTT<hash>: the heading face, and a bold face whose name says
    nothing at all, are bold; the body face and the light table face are not."""
    doc = load_pdf(BMC)
    by_font: dict[str, set[bool]] = {}
    words = {}
    for page in doc.pages:
        for w in page.words:
            by_font.setdefault(w.fontname, set()).add(w.bold)
            words.setdefault(w.text, w)
    assert words["Background"].bold and "bold" not in words["Background"].fontname.lower()
    assert by_font["AdvTT99c4c969"] == {True}  # no hint in the name
    assert by_font["AdvTT86d47313"] == {False}  # the body face
    assert by_font["AdvTTb5929f4c"] == {False}  # the light face of the tables
    # A font's name keeps everything but its subset tag.
    assert "AdvTT86d47313+20" in by_font and "20" not in by_font


def test_bold_relative_to_body_font():
    body = FontStyle(stem=84.0, declared_bold=None, stem_v=None, name_bold=False, italic=False)
    heavy = FontStyle(stem=123.0, declared_bold=None, stem_v=None, name_bold=False, italic=False)
    sans = FontStyle(stem=94.0, declared_bold=False, stem_v=94.0, name_bold=False, italic=False)
    misnamed = FontStyle(stem=80.0, declared_bold=None, stem_v=None, name_bold=True, italic=False)
    assert is_bold(heavy, body)
    assert not is_bold(sans, body)  # another family of the same weight
    assert not is_bold(misnamed, body)  # the outlines overrule a name that says "Bold"
    assert differ_in_weight(heavy, body) and not differ_in_weight(sans, body)
    # Nothing measured: the descriptor, then the name.
    unmeasured = FontStyle(stem=None, declared_bold=True, stem_v=None, name_bold=False, italic=False)
    named = FontStyle(stem=None, declared_bold=None, stem_v=None, name_bold=True, italic=False)
    assert is_bold(unmeasured, body) and is_bold(named, body)


@pytest.mark.parametrize("name, base", [("HBENGH+AdvTT86d47313", "AdvTT86d47313"),
                                        ("HBENGI+AdvTT86d47313+20", "AdvTT86d47313+20"),
                                        ("Helvetica-Bold", "Helvetica-Bold")])
def test_subset_tag_stripped(name, base):
    assert base_font_name(name) == base
