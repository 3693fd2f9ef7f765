"""Text-layer tests: running heads gone, ligatures expanded, hyphenation undone, ids placed."""

from __future__ import annotations

import re

import pytest

from pipeline.text_layer import Dehyphenator, join_lines

NARRATIVE_TYPES = {"paragraph", "heading", "caption", "footnote", "reference", "abbreviation", "title",
                   "front_matter", "figure_text"}
ID_RE = re.compile(r"NCT\d{8}|ChiCTR\d+")


def _all_text(blocks):
    return "\n".join(b["text"] for b in blocks)


def test_blocks_have_page_bbox_and_type(text_blocks):
    assert len(text_blocks) > 300
    for b in text_blocks:
        assert b["type"] in NARRATIVE_TYPES
        assert 1 <= b["page"] <= 22
        x0, top, x1, bottom = b["bbox"]
        assert x0 <= x1 and top <= bottom
    types = {b["type"] for b in text_blocks}
    assert {"title", "heading", "paragraph", "caption", "reference", "abbreviation", "footnote"} <= types


def test_no_running_header_or_page_number(text_blocks):
    for b in text_blocks:
        assert "Nasiri et al. Biomarker Research" not in b["text"], b
        assert not re.search(r"Page \d+ of 22", b["text"]), b


def test_no_ligatures_left(text_blocks):
    assert not re.search("[\ufb00-\ufb06]", _all_text(text_blocks))


def test_hyphenated_line_breaks_rejoined(text_blocks):
    text = _all_text(text_blocks)
    assert "autoleucel" in text and "autoleu-cel" not in text
    assert "hematological cancer" in text and "hema-tological" not in text
    for real in ("cilta-cel", "CAR-T", "4-1BB", "P-BCMA-101", "Cas-CLOVER", "IL-6"):
        assert real in text, real
    # Nothing broken at a line end stays broken with a space.
    assert not re.search(r"[a-z]- [a-z]{2,}", text.replace("- and ", "").replace("- or ", ""))


def test_table_cells_stay_out_of_narrative(text_blocks):
    text = _all_text(text_blocks)
    assert "Strategies Under Investigation" not in text
    assert "Not yet reached" not in text


def test_registry_ids_in_text_and_no_table_only_leak(text_blocks, registry_gold):
    found = set(ID_RE.findall(_all_text(text_blocks)))
    in_text = {r["id"] for r in registry_gold if r["in_text"] == "true"}
    table_only = {r["id"] for r in registry_gold if r["in_text"] == "false"}
    assert in_text - found == set()
    assert found & table_only == set()


def test_abbreviation_entries_split_term_and_expansion(text_blocks):
    entries = dict(b["text"].split("\t", 1) for b in text_blocks if b["type"] == "abbreviation")
    assert entries["CB-NK"] == "Cord blood-derived natural killer"
    assert entries["GPRC5D"].startswith("G protein-coupled receptor")


@pytest.mark.parametrize("lines,expected", [
    (["ciltacabtagene autoleu-", "cel is approved"], "ciltacabtagene autoleucel is approved"),
    (["the cilta-", "cel product"], "the cilta-cel product"),
    (["anti-CAR-", "T cells"], "anti-CAR-T cells"),
    (["the IL-", "6 receptor"], "the IL-6 receptor"),
    (["a com-", "mon disease"], "a common disease"),
    (["triple-", "class exposed"], "triple-class exposed"),  # both halves are words, the join is not
    (["smaller-", "sized cells"], "smaller-sized cells"),
    (["develop-", "ing cells"], "developing cells"),
    (["thera-", "pies"], "therapies"),
])
def test_dehyphenator_rules(lines, expected):
    vocab = Dehyphenator(["cilta-cel", "cilta-cel", "autoleucel"])
    assert join_lines(lines, vocab) == expected


def test_no_paragraphs_is_a_warning():
    from pipeline.records import TextBlock
    from pipeline.text_layer import narrative_warnings

    front = [TextBlock(id="b0001", page=1, bbox=(0, 0, 1, 1), type="front_matter", text="x")] * 3
    assert narrative_warnings(front) and "no paragraphs" in narrative_warnings(front)[0]
    assert "3 front_matter" in narrative_warnings(front)[0]
    para = TextBlock(id="b0004", page=1, bbox=(0, 0, 1, 1), type="paragraph", text="y")
    assert narrative_warnings(front + [para]) == []


def test_body_style_measured_on_the_pages():
    """A two-column real article: the body face, its size, line pitch and column width."""
    from pathlib import Path

    from pipeline.pdf_loader import load_pdf
    from pipeline.text_layer import body_style

    doc = load_pdf(Path(__file__).parent / "fixtures" / "realworld" / "bmc_hsr_2014" / "article.pdf")
    body = body_style([w for p in doc.pages for w in p.words])
    assert body.fontname == "AdvTT86d47313" and body.size == 9.8
    assert 11.0 <= body.pitch <= 12.5  # 12 pt leading as printed
    assert 225 <= body.column_width <= 240  # one of two columns on an A4 page
