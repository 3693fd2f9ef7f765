"""Text-layer tests: running heads gone, ligatures expanded, hyphenation undone, ids placed."""

from __future__ import annotations

import json
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
    assert join_lines(lines, vocab)[0] == expected


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


# Synthetic pages: each line is placed word by word (half an em per character, a space between
# words), so a test states the page's layout and nothing else.
def _words(text, x0, top, size, page=1, bold=False):
    from pipeline.records import Word

    out, x = [], x0
    for token in text.split():
        width = 0.5 * size * len(token)
        out.append(Word(token, x, top, x + width, top + size, "Body-Bold" if bold else "Body", size, page,
                        bold=bold))
        x += width + 0.3 * size
    return out


PROSE = ("the measured body style starts here and runs on over full lines of lower case words "
         "so a reader sees running text set in the body face of the journal as printed")


def _prose(x0, top, size, lines, page=1, pitch=None):
    words = []
    for i in range(lines):
        words += _words(PROSE[: 84], x0, top + i * (pitch or 1.2 * size), size, page)
    return words


def _blocks(*pages_words, width=600.0, height=800.0):
    from pipeline.records import PageLayout
    from pipeline.text_layer import build_text_blocks

    pages = [PageLayout(number=i, width=width, height=height, rotation=0, words=ws)
             for i, ws in enumerate(pages_words, start=1)]
    return build_text_blocks(pages, {})


def _type_of(blocks, start):
    return next(b.type for b in blocks if b.text.startswith(start))


def test_title_is_the_largest_text_that_reads_as_one_and_what_stands_above_it_is_front_matter():
    page = (_words("Chemical Science", 40, 60, 22) + _words("ARTICLE", 40, 100, 12, bold=True)
            + _words("Generation of bright red proteins", 40, 130, 16)
            + _words("Ann Author and Bob Author", 40, 160, 10)
            + _prose(40, 200, 9, 12))
    blocks = _blocks(page)
    assert _type_of(blocks, "Chemical") == "front_matter"  # larger, but two words: a masthead
    assert _type_of(blocks, "ARTICLE") == "front_matter"  # a bold banner above the title is no heading
    assert _type_of(blocks, "Generation") == "title"
    assert _type_of(blocks, "Ann") == "front_matter"
    assert _type_of(blocks, "the measured") == "paragraph"


def test_side_column_of_notes_is_read_after_the_main_column_not_between_its_lines():
    main = _words("A study of things", 40, 40, 16) + _prose(170, 100, 10, 20)
    notes = []
    for i, note in enumerate(["Citation: Author A", "Academic Editor: B", "Received: 1 May",
                              "Accepted: 2 June", "Published: 3 July", "Copyright: the authors"]):
        notes += _words(note, 30, 103 + 24 * i, 7)
    blocks = _blocks(main + notes)
    body = [b for b in blocks if b.type == "paragraph"]
    assert len(body) == 1 and body[0].text.count("measured") == 20  # one paragraph, not cut by the notes
    side = [b for b in blocks if b.text.startswith(("Citation", "Received", "Copyright"))]
    assert len(side) == 3 and all(b.type == "front_matter" for b in side)
    assert blocks.index(body[0]) < blocks.index(side[0])


def test_caption_goes_on_over_a_page_break_in_lower_case():
    page1 = (_words("A study of things", 40, 40, 16) + _prose(40, 100, 10, 10)
             + _words("Figure 1. Cells of the ovary and", 40, 400, 10, bold=True))
    page2 = _words("their markers in two colours", 40, 60, 10) + _prose(40, 100, 10, 10, page=2)
    for w in page2:
        object.__setattr__(w, "page", 2)
    blocks = _blocks(page1, page2)
    assert _type_of(blocks, "Figure 1.") == "caption"
    assert _type_of(blocks, "their markers") == "caption"
    assert [b.type for b in blocks if b.page == 2][1] == "paragraph"


def test_labels_beside_a_captioned_plot_are_figure_text_and_text_beside_a_logo_is_not():
    from pipeline.records import PageLayout, Rule
    from pipeline.text_layer import build_text_blocks

    axis = ([Rule(200, 300, 340, 300.5)] + [Rule(x, 300, x + 0.5, 303) for x in range(200, 341, 30)]
            + [Rule(250, 265, 330, 265.5), Rule(250, 290, 330, 290.5), Rule(250, 265, 250.5, 290),
               Rule(330, 265, 330.5, 290)])  # a box of a boxplot over its axis
    logo = [Rule(420, 600 + 3 * i, 440, 600.5 + 3 * i) for i in range(12)]  # taller than a framed line
    words = (_words("A study of things", 40, 40, 16) + _prose(40, 100, 10, 12)
             + _words("BLEU[%]", 168, 298, 8) + _words("23.0 25.0 27.0", 200, 306, 8)
             + _words("Figure 4: Boxplot of BLEU scores for one hundred runs of the tuner.", 40, 340, 10)
             + _words("Check for updates", 445, 605, 8))
    page = PageLayout(number=1, width=600.0, height=800.0, rotation=0, words=words, rules=axis + logo)
    blocks = build_text_blocks([page], {})
    assert _type_of(blocks, "BLEU") == "figure_text"
    assert "23.0" in next(b.text for b in blocks if b.text.startswith("BLEU"))
    assert _type_of(blocks, "Figure 4") == "caption"
    assert _type_of(blocks, "Check for") != "figure_text"  # no caption near the logo


def test_text_a_form_draws_outside_its_bbox_is_not_printed_and_not_loaded(tmp_path):
    """A page embedded as a figure (a form XObject) is cut to its BBox: what lies outside is clipped."""
    from reportlab.pdfgen import canvas

    from pipeline.pdf_loader import load_pdf

    pdf = tmp_path / "form.pdf"
    c = canvas.Canvas(str(pdf), pagesize=(600, 800))
    c.beginForm("embedded", 100, 100, 300, 200)  # prints only within x 100-300, y 100-200
    c.drawString(120, 150, "Inside the figure")
    c.drawString(120, 500, "Clipped source text")
    c.endForm()
    c.doForm("embedded")
    c.drawString(50, 700, "Page text")
    c.save()
    words = {w.text for w in load_pdf(pdf).pages[0].words}
    assert {"Inside", "Page"} <= words
    assert "Clipped" not in words


def test_a_ruled_algorithm_float_is_figure_text_under_its_caption_and_text_around_it_is_narrative():
    from pipeline.records import PageLayout, Rule
    from pipeline.text_layer import build_text_blocks

    # rule, "Algorithm 1: MIRA", rule, four lines of pseudo-code, closing rule (algorithm2e "ruled")
    rules = [Rule(40, 296, 300, 296.5), Rule(40, 311, 300, 311.5), Rule(40, 380, 300, 380.5)]
    code = []
    for i, text in enumerate(["for n = 1 to N", "for x = 1 to X", "w = update w", "end for"]):
        code += _words(text, 50 + 6 * (i % 2), 318 + 14 * i, 9)
    words = (_words("A study of things", 40, 40, 16) + _prose(40, 100, 10, 14)
             + _words("Algorithm 1: MIRA", 40, 299, 10, bold=True) + code + _prose(40, 400, 10, 6))
    page = PageLayout(number=1, width=600.0, height=800.0, rotation=0, words=words, rules=rules)
    blocks = build_text_blocks([page], {})
    assert _type_of(blocks, "Algorithm 1") == "caption"
    assert _type_of(blocks, "for n") == "figure_text"
    assert all(b.type == "paragraph" for b in blocks if b.text.startswith("the measured"))
    assert not any("for n" in b.text for b in blocks if b.type == "paragraph")


def test_an_unruled_algorithm_caption_makes_no_float():
    from pipeline.records import PageLayout, Rule
    from pipeline.text_layer import build_text_blocks

    # No rule under the caption: nothing marks where the float's body begins.
    rules = [Rule(40, 296, 300, 296.5), Rule(40, 380, 300, 380.5)]
    words = (_words("A study of things", 40, 40, 16) + _prose(40, 100, 10, 14)
             + _words("Algorithm 1: MIRA", 40, 299, 10, bold=True) + _prose(40, 318, 10, 4))
    page = PageLayout(number=1, width=600.0, height=800.0, rotation=0, words=words, rules=rules)
    assert not any(b.type == "figure_text" for b in build_text_blocks([page], {}))


def test_notes_under_a_column_foot_rule_end_an_abbreviation_list():
    """Under the short rule at the foot of a column stand the correspondence and affiliation
    notes, not more entries of the abbreviation list above it."""
    from pipeline.records import PageLayout, Rule
    from pipeline.text_layer import build_text_blocks

    words = (_words("A study of things", 40, 40, 16) + _prose(40, 100, 10, 12)
             + _words("Abbreviations", 40, 300, 10, bold=True))
    for i, (term, spelled) in enumerate([("HA", "Haemagglutinin"), ("het", "Heterozygous"), ("HI", "Hyperinsulinism")]):
        words += _words(term, 40, 314 + 12 * i, 10) + _words(spelled, 100, 314 + 12 * i, 10)
    words += _words("1 Department of Physiology, University of Oxford", 40, 560, 8)
    words += _words("2 Department of Medicine, University of Chicago", 40, 590, 8)
    rules = [Rule(40, 540, 280, 540.5)]
    page = PageLayout(number=1, width=600.0, height=800.0, rotation=0, words=words, rules=rules)
    blocks = build_text_blocks([page], {})
    assert _type_of(blocks, "HA") == "abbreviation"
    assert _type_of(blocks, "1 Department") == "footnote"
    assert _type_of(blocks, "2 Department") == "footnote"


COLUMN_PROSE = "the measured style runs on over a full line"  # about 200 pt wide in 9 pt


def test_a_side_column_beside_an_off_centre_gutter_is_read_apart_from_the_columns_it_flanks():
    """Affiliations in a narrow column left of an abstract column: the main columns meet
    right of the page's centre, and a note's line that shares a baseline with the abstract's
    stays out of it."""
    words = _words("A study of things set in a large face", 135, 40, 16)
    for i in range(12):  # the abstract column (135-335) and the right column (352-552)
        words += _words(COLUMN_PROSE, 135, 100 + 11 * i, 9)
    for i in range(8):  # the right column ends higher: nothing stands beside the abstract's last lines
        words += _words(COLUMN_PROSE, 352, 100 + 11 * i, 9)
    notes = ["1 Institute of Health", "University of Oxford", "Oxford, UK", "2 School of Things",
             "University of Leeds", "Leeds, UK", "Correspondence to: A Author"]
    for i, note in enumerate(notes):
        words += _words(note, 30, 100 + 8.5 * i, 7)  # the first note shares the abstract's first baseline
    blocks = _blocks(words)
    abstract = next(b for b in blocks if b.type == "paragraph" and b.bbox[0] == 135)
    assert abstract.text.split().count("measured") == 12 and "Institute" not in abstract.text
    right = next(b for b in blocks if b.type == "paragraph" and b.bbox[0] == 352)
    assert right.text.split().count("measured") == 8
    assert blocks.index(abstract) < blocks.index(right)
    notes_blocks = [b for b in blocks if b.bbox[2] < 130]
    assert " ".join(b.text for b in notes_blocks).split() == " ".join(notes).split()
    assert all(b.type == "front_matter" for b in notes_blocks)


def _set_in(words, fontname):
    from dataclasses import replace

    return [replace(w, fontname=fontname) for w in words]


def test_labels_in_a_heavier_face_than_their_text_head_a_structured_abstract():
    """A structured abstract whose labels are set in a medium face over text in a regular one
    (neither bold against the serif body font): each label is a heading, each text a paragraph,
    from the abstract's heading on; an upright body line over a line of italics runs on."""
    from pipeline.fonts import FontStyle
    from pipeline.pdf_loader import LoadedPage
    from pipeline.text_layer import build_text_blocks

    def style(stem, italic=False):
        return FontStyle(stem=stem, declared_bold=False, stem_v=stem, name_bold=False, italic=italic)

    fonts = {"Sans-Medium": style(115), "Sans": style(80), "Body": style(92), "Body-Italic": style(60, True)}
    words = _words("A study of things set in a large face", 40, 40, 16) + _words("Ann Author", 40, 70, 10)
    words += _words("Abstract", 40, 100, 10, bold=True)
    top = 114
    for label, text, lines in [("Objective", "To measure things.", 1), ("Design", "A trial of things.", 1),
                               ("Results", None, 4)]:
        words += _set_in(_words(label, 40, top, 9), "Sans-Medium")
        top += 11
        for i in range(lines):
            words += _set_in(_words(text or COLUMN_PROSE, 40, top, 9), "Sans")
            top += 11
        top += 4
    for i in range(20):  # the body face: most characters; its last line in italics
        words += _set_in(_words(COLUMN_PROSE, 40, 300 + 11 * i, 9), "Body-Italic" if i == 19 else "Body")
    page = LoadedPage(number=1, width=600.0, height=800.0, rotation=0, words=words, fonts=fonts)
    blocks = build_text_blocks([page], {})
    for label in ("Abstract", "Objective", "Design", "Results"):
        assert _type_of(blocks, label) == "heading", label
    assert _type_of(blocks, "To measure") == "paragraph"
    assert _type_of(blocks, "A trial") == "paragraph"
    assert _type_of(blocks, "Ann Author") == "front_matter"
    assert [b.text.split().count("measured") for b in blocks if b.bbox[1] >= 300] == [20]


def test_a_label_over_text_that_is_no_sentence_stays_front_matter():
    """Past a label to running text only through a structured section's sentences: a
    correspondence label over an address is front matter, though an abstract follows."""
    words = (_words("A study of things set in a large face", 40, 40, 16)
             + _words("Correspondence", 40, 80, 10, bold=True) + _words("jane@uni.edu", 40, 94, 10)
             + _words("Abstract", 40, 120, 10, bold=True) + _prose(40, 134, 10, 8))
    blocks = _blocks(words)
    assert _type_of(blocks, "Correspondence") == "front_matter"
    assert _type_of(blocks, "jane@") == "front_matter"
    assert _type_of(blocks, "Abstract") == "heading"
    assert _type_of(blocks, "the measured") == "paragraph"


def test_a_line_that_runs_out_of_a_logo_stays_one_narrative_block():
    from pipeline.records import PageLayout, Rule
    from pipeline.text_layer import build_text_blocks

    logo = [Rule(420, 600 + 3 * i, 440, 600.5 + 3 * i) for i in range(12)]  # taller than a framed line
    words = (_words("A study of things", 40, 40, 16) + _prose(40, 100, 10, 12)
             + _words("Open access article", 425, 604, 8))  # "Open" stands on the logo's box
    page = PageLayout(number=1, width=600.0, height=800.0, rotation=0, words=words, rules=logo)
    blocks = build_text_blocks([page], {})
    assert _type_of(blocks, "Open access article") != "figure_text"
    assert not any(b.type == "figure_text" for b in blocks)


def test_join_lines_says_where_each_line_starts():
    vocab = Dehyphenator(["therapies"])
    text, starts = join_lines(["new thera-", "pies for  ", "myeloma"], vocab)
    assert text == "new therapies for myeloma"
    # the second line starts inside the mended word, the third after a space
    assert [text[s:] for s in starts] == [text, "pies for myeloma", "myeloma"]


def test_text_blocks_keep_their_printed_lines(extraction_dir):
    """Every block of the bundled review lists its lines: offsets rising from 0 inside its text,
    boxes inside the block's box (a paragraph continued from another column may lose its first
    word to the block it continues, so its first line can start at 0 too)."""
    blocks = [json.loads(line) for line in (extraction_dir / "text.jsonl").read_text().splitlines()]
    assert blocks and all(b["lines"] for b in blocks)
    for b in blocks:
        starts = [ln[0] for ln in b["lines"]]
        assert starts[0] == 0 and starts == sorted(starts) and starts[-1] <= len(b["text"]), b["id"]
        x0, top, x1, bottom = b["bbox"]
        assert all(x0 - 0.01 <= ln[1] and ln[3] <= x1 + 0.01 and top - 0.01 <= ln[2] and ln[4] <= bottom + 0.01
                   for ln in b["lines"]), b["id"]
    multi = [b for b in blocks if b["type"] == "paragraph" and len(b["lines"]) > 3]
    assert multi
