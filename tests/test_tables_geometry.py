"""Table mechanisms on small hand-made pages: captions as labels, tables found by geometry
alone, prose that is not a table, rows told apart without rules, and failures kept local."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.pdf_loader import LoadedDocument
from pipeline.records import PageLayout, Rule, Word
from pipeline.tables import extract_tables
from pipeline.tables.grid import parse_chunk_grid
from pipeline.tables.locate import parse_caption, parse_float_caption
from pipeline.tables.regions import find_regions

SIZE = 9.0
PROSE = ("the patients who were treated in this study had a response that lasted for several months "
         "and most of them were still alive at the end of the follow up period when data were cut").split()


def _line(cells: list[tuple[float, str]], top: float, size: float = SIZE, page: int = 1,
          font: str = "Helvetica") -> list[Word]:
    """Words of one printed line: each (x, text) is a phrase, its words set with normal spaces."""
    out = []
    for x, text in cells:
        for token in text.split():
            width = 0.5 * size * len(token)
            out.append(Word(token, x, top, x + width, top + size, font, size, page))
            x += width + 0.25 * size
    return out


def _prose_line(x0: float, x1: float, top: float, start: int, size: float = SIZE) -> list[Word]:
    words, x, k = [], x0, start
    while True:
        token = PROSE[k % len(PROSE)]
        width = 0.5 * size * len(token)
        if x + width > x1:
            return words
        words.append(Word(token, x, top, x + width, top + size, "Times", size, 1))
        x += width + 0.25 * size
        k += 1


def _page(words: list[Word], rules: list[Rule] | None = None, number: int = 1) -> PageLayout:
    return PageLayout(number=number, width=595.0, height=842.0, rotation=0, words=words, rules=rules or [])


def _numeric_table(top: float, rows: int = 6, page: int = 1) -> list[Word]:
    words = _line([(60, "Country"), (200, "2010"), (280, "2011"), (360, "2012")], top, page=page)
    for i in range(rows):
        y = top + (i + 1) * 11
        words += _line([(60, f"Region {chr(65 + i)}"), (200, f"{10 + i},{100 + i}"), (280, f"{20 + i},{200 + i}"),
                        (360, f"{30 + i},{300 + i}")], y, page=page)
    return words


def _doc(pages: list[PageLayout]) -> LoadedDocument:
    return LoadedDocument(path=Path("synthetic.pdf"), sha256="0", metadata={}, pages=pages)


def _no_caption(_text: str) -> bool:
    return False


@pytest.mark.parametrize("text, label", [
    ("Table 2 Overview of trials", "2"),
    ("Table 6.1 Rates by region", "6.1"),
    ("Table A.3: Sensitivity analysis", "A.3"),
    ("Table ES-3 Summary", "ES-3"),
    ("Table CA7. Cases", "CA7"),
    ("Exhibit 2a Costs", "2a"),
    ("Table: 5 Characteristics", "5"),
    ("Table S1 Search strategy", "S1"),
    ("TABLE IV Results", "IV"),
    ("TABLE. Baseline characteristics", None),
])
def test_caption_labels_are_kept_as_printed(text, label):
    parsed = parse_caption(text)
    assert parsed is not None and parsed[0] == label


@pytest.mark.parametrize("text", ["Table 2 shows the response rates", "Table shows", "Tablet dosing was"])
def test_sentences_are_not_captions(text):
    assert parse_caption(text) is None


def test_uncaptioned_table_is_found_by_its_columns():
    words = _prose_line(60, 530, 100, 0) + _prose_line(60, 530, 112, 9) + _numeric_table(150)
    regions = find_regions(_page(words), [], _no_caption)
    assert len(regions) == 1
    region = regions[0]
    assert region.top == pytest.approx(150) and region.bottom == pytest.approx(150 + 6 * 11 + SIZE)
    assert region.x0 == pytest.approx(60)


def test_two_column_narrative_is_not_a_table():
    words = []
    for i in range(30):
        top = 80 + i * 11
        words += _prose_line(50, 285, top, i * 3) + _prose_line(310, 545, top, i * 5 + 1)
        if i % 7 == 6:  # the short last line of a paragraph beside a full line of the other column
            words = [w for w in words if not (w.top == top and w.x0 < 290 and w.x0 > 120)]
    assert find_regions(_page(words), [], _no_caption) == []


def test_justified_lines_with_wide_spaces_are_not_a_table():
    words = []
    for i in range(12):
        top = 80 + i * 11
        line = _prose_line(50, 545, top, i * 4)
        if i % 2:  # stretch every other line's spaces past an em (justified text)
            line = [Word(w.text, w.x0 + k * 6.5, w.top, w.x1 + k * 6.5, w.bottom, w.fontname, w.size, 1)
                    for k, w in enumerate(line[:-6])]
        words += line
    assert find_regions(_page(words), [], _no_caption) == []


def test_numbered_reference_list_is_not_a_table():
    words = []
    for i in range(10):
        top = 80 + i * 22
        words += _line([(50, f"{i + 1}.")], top) + _prose_line(70, 285, top, i)
        words += _line([(310, f"{i + 11}.")], top) + _prose_line(330, 545, top, i + 3)
        words += _prose_line(70, 200, top + 11, i + 5) + _prose_line(330, 470, top + 11, i + 7)
    assert find_regions(_page(words), [], _no_caption) == []


def test_rows_without_rules_or_space_are_one_row_per_line():
    header = _line([(60, "Pollutant"), (200, "Air"), (280, "Water")], 90)
    body = []
    lines = [
        [(60, "Metals")],  # a group heading: a row of its own, never filled into the rows below
        [(68, "Arsenic"), (200, "20"), (280, "5")],
        [(68, "Chlorine and inorganic"), (200, "10"), (280, "1")],
        [(68, "compounds")],  # the label wraps: it reads on in lower case
        [(68, "Lead"), (200, "200"), (280, "20")],
        [(68, "Zinc"), (200, "200"), (280, "100")],
    ]
    for i, cells in enumerate(lines):
        body += _line(cells, 102 + i * 10.5)
    grid = parse_chunk_grid(header, body, [])
    texts = [[" ".join(ln.text for ln in row.cells[c].lines) if c in row.cells else "" for c in range(3)]
             for row in grid.rows]
    assert texts == [["Metals", "", ""], ["Arsenic", "20", "5"], ["Chlorine and inorganic compounds", "10", "1"],
                     ["Lead", "200", "20"], ["Zinc", "200", "100"]]
    assert grid.labels == ["Pollutant", "Air", "Water"]
    assert not grid.spanning_columns


def test_a_label_wrapped_closer_than_rows_stays_in_its_row():
    """Rows set 12.7 pt apart, a label's second line 9 pt under its first: the wrap, not a row
    (neither lower case nor after an open end); a group heading a row apart stays a row."""
    header = _line([(60, "Group"), (200, "N"), (280, "Rate")], 90)
    body = []
    for top, cells in [(102, [(60, "Hispanic"), (200, "79"), (280, "2.1")]),
                       (114.7, [(60, "American Indian/Alaska"), (200, "41"), (280, "2.3")]),
                       (123.7, [(62, "Native")]),
                       (136.4, [(60, "Female")]),
                       (149.1, [(60, "White"), (200, "34"), (280, "1.0")]),
                       (161.8, [(60, "Black"), (200, "80"), (280, "1.7")])]:
        body += _line(cells, top, size=8.0)
    grid = parse_chunk_grid(header, body, [])
    labels = [" ".join(ln.text for ln in row.cells[0].lines) for row in grid.rows]
    assert labels == ["Hispanic", "American Indian/Alaska Native", "Female", "White", "Black"]


def test_the_header_closes_at_the_rule_that_spans_the_row_labels_too():
    """Rules drawn cell by cell (hairline gaps) are one rule; the rule under a group label
    ("Race") spans every column but the row labels', so it does not close the header."""
    caption = _line([(60, "Table 4 Deaths by race")], 60, size=10.0, font="Helvetica-Bold")
    words = caption + _line([(280, "Race")], 80)
    words += _line([(56, "Age"), (110, "Black"), (290, "White")], 93)
    words += _line([(110, "no."), (170, "Rate"), (290, "no."), (350, "Rate")], 106)
    for i in range(5):
        words += _line([(56, f"{45 + i}"), (110, f"{100 + i}"), (170, f"{2 + i}.5"),
                        (290, f"{200 + i}"), (350, f"{3 + i}.1")], 122 + 11 * i)

    def drawn_by_cell(y: float, x0: float) -> list[Rule]:
        edges = [x0] + [x for x in (70, 160, 280, 340) if x > x0] + [430]
        return [Rule(a + 0.75, y, b - 0.75, y + 0.5) for a, b in zip(edges, edges[1:])]

    rules = drawn_by_cell(76, 55) + drawn_by_cell(90, 70) + drawn_by_cell(118, 55) + drawn_by_cell(178, 55)
    from pipeline.pdf_loader import _join_rules

    tables, _ = extract_tables(_doc([_page(words, _join_rules(rules))]))
    assert len(tables) == 1
    table = tables[0]
    assert table.labels[0] == "Age" and table.labels[2].endswith("Rate") and table.labels[4].endswith("Rate")
    assert [table.rows[i].cells[table.columns[0]].text for i in range(len(table.rows))] == ["45", "46", "47", "48", "49"]


def _texts(grid, n: int) -> list[list[str]]:
    return [[" ".join(ln.text for ln in row.cells[c].lines) if c in row.cells else "" for c in range(n)]
            for row in grid.rows]


def test_group_headings_at_the_row_pitch_do_not_merge_rows():
    """Headings ("Sex", "Race") and rows all at one pitch, only the total set a little apart:
    rows are not set apart by space, so each line is a row (no label column spanning them)."""
    header = _line([(60, "Characteristic"), (200, "No."), (280, "Rate"), (340, "Deaths")], 90)
    body = []
    lines = [[(60, "Sex")], [(66, "Female"), (200, "200"), (280, "10.3"), (340, "82")],
             [(66, "Male"), (200, "224"), (280, "17.6"), (340, "54")], [(60, "Race")],
             [(66, "Black"), (200, "44"), (280, "16.1"), (340, "17")],
             [(66, "White"), (200, "371"), (280, "13.4"), (340, "115")]]
    for i, cells in enumerate(lines):
        body += _line(cells, 102 + i * 10.8)
    body += _line([(60, "Total"), (200, "425"), (280, "13.5"), (340, "137")], 102 + 5 * 10.8 + 15.5)
    grid = parse_chunk_grid(header, body, [])
    assert [row[0] for row in _texts(grid, 4)] == ["Sex", "Female", "Male", "Race", "Black", "White", "Total"]
    assert not grid.spanning_columns


def test_a_row_whose_label_and_text_both_wrap_is_one_row():
    header = _line([(60, "Variable"), (260, "Assumption")], 90)
    body = []
    lines = [[(60, "Population"), (260, "Consistent with Census estimates")],
             [(60, "Disposable income per capita in"), (260, "Changes range between -1.9% and 2.2%")],
             [(60, "constant dollars"), (260, "with an annual growth rate of 1.4%")],
             [(60, "Inflation rate"), (260, "Ranges between 1.0% and 2.0%")]]
    for i, cells in enumerate(lines):
        body += _line(cells, 102 + i * 10.5)
    assert _texts(parse_chunk_grid(header, body, []), 2) == [
        ["Population", "Consistent with Census estimates"],
        ["Disposable income per capita in constant dollars",
         "Changes range between -1.9% and 2.2% with an annual growth rate of 1.4%"],
        ["Inflation rate", "Ranges between 1.0% and 2.0%"]]


def test_a_line_across_the_value_columns_is_a_row_of_its_own():
    header = _line([(60, "Source"), (200, "2008"), (260, "2009"), (320, "2010")], 90)
    body = []
    lines = [[(205, "Enrollment, in thousands")], [(60, "Actual"), (200, "49,293"), (260, "49,266"), (320, "49,373")],
             [(205, "Projected enrollment, in thousands")],
             [(60, "Projection A"), (200, "49,644"), (260, "49,825"), (320, "50,067")],
             [(60, "Projection B"), (200, "49,470"), (260, "49,623"), (320, "49,788")],
             [(60, "Projection C"), (200, "49,311"), (260, "49,265"), (320, "49,312")]]
    for i, cells in enumerate(lines):
        body += _line(cells, 102 + i * 10.5)
    rows = _texts(parse_chunk_grid(header, body, []), 4)
    assert [r[0] for r in rows] == ["", "Actual", "", "Projection A", "Projection B", "Projection C"]
    assert "Projected enrollment, in thousands" in rows[2]
    assert rows[1][1:] == ["49,293", "49,266", "49,373"]


def test_typed_rules_and_a_repeated_header_part_two_tables():
    """A typewriter layout: each header closed by a line of hyphens, the second table right
    under the first after a blank line. The hyphens are rules, and the second header starts a
    second table."""
    words = _line([(60, "Table 1. Sample sizes by design effect")], 60, size=10.0, font="Helvetica-Bold")
    top = 80.0
    for t in range(2):
        words += _line([(60, "Proportion"), (200, f"{t + 1}.0"), (260, f"{t + 1}.1"), (320, f"{t + 1}.2")], top)
        words += _line([(60, "-" * 50)], top + 11)
        for i in range(6):
            words += _line([(60, f"0.{9 - i}0"), (200, f"{(t + 1) * 100 + i}"), (260, f"{(t + 1) * 110 + i}"),
                            (320, f"{(t + 1) * 120 + i}")], top + 22 + 11 * i)
        top += 22 + 11 * 6 + 11
    tables, _ = extract_tables(_doc([_page(words)]))
    assert len(tables) == 2
    assert [len(t.rows) for t in tables] == [6, 6]
    assert not any("-----" in cell.text for t in tables for row in t.rows for cell in row.cells.values())
    assert tables[1].labels[1].endswith("2.0")


def test_uncaptioned_and_dotted_label_tables_come_out_apart():
    caption_6_1 = _line([(60, "Table 6.1 Rates")], 60, size=10.0, font="Helvetica-Bold")
    caption_6_2 = _line([(60, "Table 6.2 Costs")], 400, size=10.0, font="Helvetica-Bold")
    words = caption_6_1 + _numeric_table(80) + caption_6_2 + _numeric_table(420)
    words += _prose_line(60, 530, 250, 0) + _prose_line(60, 530, 262, 3)
    words += _prose_line(60, 530, 520, 5) + _prose_line(60, 530, 532, 7)  # page 1 ends in text
    page2 = _numeric_table(100, page=2)
    tables, chunks = extract_tables(_doc([_page(words), _page(page2, number=2)]))
    assert [t.label for t in tables] == ["6.1", "6.2", None]
    assert [t.number for t in tables] == [1, 2, 3]
    assert all(len(t.rows) == 6 for t in tables)
    assert tables[0].rows[0].cells[tables[0].columns[1]].text == "10,100"


def test_a_table_that_cannot_be_assembled_leaves_the_others(monkeypatch):
    import pipeline.tables as tables_module

    real = tables_module.assemble_table

    def failing(group, number):
        if group[0][0].number == "6.1":
            raise ValueError("min() arg is an empty sequence")
        return real(group, number)

    monkeypatch.setattr(tables_module, "assemble_table", failing)
    caption_6_1 = _line([(60, "Table 6.1 Rates")], 60, size=10.0, font="Helvetica-Bold")
    caption_6_2 = _line([(60, "Table 6.2 Costs")], 400, size=10.0, font="Helvetica-Bold")
    doc = _doc([_page(caption_6_1 + _numeric_table(80) + caption_6_2 + _numeric_table(420))])
    tables, _ = extract_tables(doc)
    assert [t.label for t in tables] == ["6.2"]
    assert doc.partial and any("Table 6.1" in w and "cannot be assembled" in w for w in doc.warnings)


def test_caption_below_the_last_chunk_names_the_whole_table():
    first = _numeric_table(700, rows=8)  # runs to the bottom of page 1, no caption
    second = _line([(60, "Country"), (200, "2010"), (280, "2011"), (360, "2012")], 60, page=2)
    for i in range(4):
        second += _line([(60, f"Region {chr(75 + i)}"), (200, f"{40 + i},{100 + i}"), (280, f"{50 + i},{200 + i}"),
                         (360, f"{60 + i},{300 + i}")], 71 + i * 11, page=2)
    second += _line([(60, "Table 3 Enrolment by region")], 130, size=10.0, page=2, font="Helvetica-Bold")
    tables, _ = extract_tables(_doc([_page(_prose_line(60, 530, 600, 0) + first), _page(second, number=2)]))
    assert len(tables) == 1
    assert tables[0].label == "3" and tables[0].pages == [1, 2] and len(tables[0].rows) == 12


def test_self_check_reports_unreadable_glyphs_and_letter_dashes():
    words = _line([(60, "Group"), (200, "Age"), (280, "Dose")], 100)
    values = [("10–14", "5"), ("15–19", "(cid:3)"), ("20e24", "7"), ("25–29", "8")]
    for i, (age, dose) in enumerate(values):
        words += _line([(60, f"Group {chr(65 + i)}"), (200, age), (280, dose)], 111 + i * 11)
    words = [Word(w.text.replace("–", "\u2013"), w.x0, w.top, w.x1, w.bottom, w.fontname, w.size, w.page)
             for w in words]
    caption = _line([(60, "Table 1 Doses")], 80, size=10.0, font="Helvetica-Bold")
    tables, _ = extract_tables(_doc([_page(caption + words)]))
    warnings = tables[0].warnings
    assert any("(cid:3)" in w and "row 2" in w for w in warnings)
    assert any("20e24" in w and "dash" in w for w in warnings)
    assert not any("10–14" in w for w in warnings)


def test_self_check_reports_a_row_inside_another_table():
    from pipeline.records import Cell, Table, TableRow
    from pipeline.tables.locate import TableChunk
    from pipeline.tables.selfcheck import check_table

    def chunk(box):
        return TableChunk(number="x", continued=False, page=1, caption=None, header_words=[], body_words=[],
                          footnote_lines=[], table_box=box)

    rows = [TableRow(table=1, row=1, block=1, cells={"a": Cell("a", ["1"], 1, (60, 100, 80, 110))}, page=1,
                     bbox=(60, 100, 80, 110)),
            TableRow(table=1, row=2, block=1, cells={"a": Cell("a", ["2"], 1, (60, 300, 80, 310))}, page=1,
                     bbox=(60, 300, 80, 310))]
    table = Table(number=1, caption="", columns=["a"], labels=["A"], footnote="", pages=[1], rows=rows, label="1")
    messages = check_table(table, [chunk((50, 90, 200, 200))], [chunk((50, 280, 200, 400))])
    assert messages == ["Table 1 row 2: lies in another table on page 1"]


def test_dot_leaders_are_not_cell_text():
    from pipeline.tables.grid import drop_leaders

    words = _line([(50, "All ages . . . . ."), (200, "291"), (250, "..."), (300, "0.99 .........."),
                   (400, "Total.....")], 100)
    assert [w.text for w in drop_leaders(words)] == ["All", "ages", "291", "...", "0.99", "Total"]


def test_a_header_with_no_rule_over_it_heads_a_table_that_rules_every_row():
    """A table in the left column of a two-column page: the caption, two header lines in a
    medium face with no rule above or under them, then a rule under every body row (the
    first row included). Running text beside it in the right column stays out."""
    caption = _line([(36, "Table 1 | Baseline characteristics")], 80, size=8.5, font="Meta-Bold")
    words = caption + _line([(170, "Physical"), (250, "Control")], 98, size=7.0, font="Meta-Medium")
    words += _line([(36, "Characteristics"), (170, "group (n=391)"), (250, "group (n=393)")], 107, size=7.0,
                   font="Meta-Medium")
    rules = []
    for i in range(8):
        top = 118 + 10.5 * i
        words += _line([(36, f"Mean (SD) item {i}"), (170, f"{20 + i}.1 ({i}.2)"), (250, f"{30 + i}.3 ({i}.4)")],
                       top, size=7.25, font="Meta-Light")
        rules.append(Rule(34, top + 8.3, 346, top + 8.6))
    for i in range(12):  # the right column's running text, beside the table
        words += _prose_line(360, 560, 80 + 11 * i, 3 * i)
    tables, _ = extract_tables(_doc([_page(words, rules)]))
    assert len(tables) == 1
    table = tables[0]
    assert table.labels == ["Characteristics", "Physical group (n=391)", "Control group (n=393)"]
    assert [r.cells[table.columns[1]].text for r in table.rows] == [f"{20 + i}.1 ({i}.2)" for i in range(8)]
    assert not any(w in r.cells[c].text for r in table.rows for c in r.cells for w in ("patients", "months"))


def _mdpi_like_body(bold_headings: bool) -> tuple[list[Word], list[Word], list[tuple[float, float, float]]]:
    """A gene table: IDs, centred function annotations, three value columns; group headings
    centred over the whole table (in bold when *bold_headings*), each between thin rules, set as
    tight as the rows. Two headings reach past the annotations, over the gutter before the values."""
    header = _line([(60, "Gene"), (200, "Function"), (340, "log2FC"), (400, "p-Value"), (460, "q-Value")], 90)
    # More annotations wider than the headings than a table has widest phrases judged.
    annotations = ["DNA binding protein ddrA", "single stranded DNA binding protein",
                   "repair protein PprA", "transcriptional repressor of DdrO",
                   "ABC transporter permease", "protein transporter", "cation transporting ATPase",
                   "phosphodiester glycosidase protein", "KAP NTPase domain protein",
                   "acetyl xylan esterase", "amidase", "peptidase M23 domain containing"]
    annotations += [f"putative {kind} domain protein" for kind in (
        "oxidoreductase", "aminotransferase", "dehydrogenase", "decarboxylase", "endonuclease", "topoisomerase",
        "phosphatase", "exonuclease", "carboxylesterase", "deacetylase", "nucleotidase", "transposase")]
    headings = ["Nucleoid-associated gene products", "Peptidase and protease activities", "Transporter",
                "Energy production", "Exonuclease", "Biosynthetic pathway"]
    body: list[Word] = []
    separators = []
    top = 102.0
    for i, text in enumerate(annotations):
        if i % 4 == 0:
            heading = headings[i // 4]
            width = len(heading) * 0.5 * SIZE + (len(heading.split()) - 1) * 0.25 * SIZE
            separators.append((top - 2, 55.0, 500.0))
            words = _line([(278 - width / 2, heading)], top)  # the middle of the table (60-496)
            body += [replace(w, bold=bold_headings) for w in words]
            top += 10.5
        width = len(text) * 0.5 * SIZE + (len(text.split()) - 1) * 0.25 * SIZE
        body += _line([(60, f"DR_{100 + i}"), (240 - width / 2, text), (340, f"-{i}.25"),
                       (400, f"{i + 1}.5e-3"), (460, f"{i + 2}.0e-2")], top)
        top += 10.5
    return header, body, separators


def test_centred_headings_that_reach_into_a_gutter_do_not_merge_its_columns():
    """Two spanning headings each cover the white space between the annotations and the values.
    Most rows leave that gutter white: the headings cross it (strays), and the columns stay apart."""
    header, body, separators = _mdpi_like_body(bold_headings=True)
    grid = parse_chunk_grid(header, body, separators)
    assert len(grid.columns) == 5
    rows = _texts(grid, 5)
    assert ["DR_101", "single stranded DNA binding protein", "-1.25", "2.5e-3", "3.0e-2"] in rows
    assert sorted(grid.unparsed) == ["Nucleoid-associated gene products", "Peptidase and protease activities"]


def test_a_heading_centred_on_the_table_is_written_in_its_first_column():
    """A heading row centred on the whole table spans every column: it goes to the first column
    (as spanning cells are placed), whichever column its text happens to start in. A cell that
    lines up with its column's other cells stays in its column."""
    header, body, separators = _mdpi_like_body(bold_headings=True)
    rows = _texts(parse_chunk_grid(header, body, separators), 5)
    headings = [r for r in rows if not r[0].startswith("DR_")]
    assert headings == [[text, "", "", "", ""] for text in
                        ("Nucleoid-associated gene products", "Peptidase and protease activities", "Transporter",
                         "Energy production", "Exonuclease", "Biosynthetic pathway")]
    header = _line([(60, "Site"), (175, "Arm"), (300, "N")], 90)
    body = []
    for i, (site, arm, n) in enumerate([("Lyon", "placebo", "31"), ("Nice", "drug", "28"), ("", "drug", ""),
                                        ("Metz", "placebo", "40")]):
        body += _line([(60, site), (175, arm), (300, n)] if site else [(175, arm)], 102 + 12 * i)
    rows = _texts(parse_chunk_grid(header, body, [113.5, 125.5, 137.5]), 3)
    assert ["", "drug", ""] in rows  # left-aligned with its column, near the table's middle by chance


def test_a_bold_heading_set_tight_above_a_row_is_a_row_of_its_own():
    """A group heading in bold right above a row in regular type, at the row pitch: a cell of its
    own (not the first line of the row's cell, filled down over the rows)."""
    header, body, separators = _mdpi_like_body(bold_headings=True)
    rows = _texts(parse_chunk_grid(header, body, separators), 5)
    assert ["DR_116", "putative endonuclease domain protein", "-16.25", "17.5e-3", "18.0e-2"] in rows
    assert not any("Exonuclease" in cell for r in rows for cell in r if cell != "Exonuclease")
    header, body, separators = _mdpi_like_body(bold_headings=False)
    rows = _texts(parse_chunk_grid(header, body, separators), 5)
    assert any("Exonuclease putative endonuclease domain protein" in cell for r in rows for cell in r)  # same weight: one cell


def _literature_rows(top: float, steps_and_cells: list[tuple[float, list[tuple[float, str]]]],
                     size: float = 7.0) -> list[Word]:
    words, y = [], top
    for step, cells in steps_and_cells:
        y += step
        words += _line(cells, y, size=size)
    return words


# A literature table set tight: rows 9.8 pt apart, a wrapped cell's lines 8.7 pt apart, and the
# PTM column starting 3.3 pt after the gene names (under the phrase gap, over a word space).
_WRAP, _ROW, _PTM = 8.7, 9.8, 80.8
_LITERATURE = [
    (0.0, [(60, "GSDMA"), (_PTM, "Phosphorylation"), (200, "T8(H)"), (280, "Inhibit oligomerization")]),
    (_ROW, [(_PTM, "Palmitoylation"), (200, "Unknown"), (280, "Unknown")]),
    (_ROW, [(60, "GSDMB"), (_PTM, "Ubiquitination"), (200, "K166, K308(H)"), (280, "Proteasomal degradation")]),
    (_ROW, [(200, "K177, K190(H)"), (280, "Inhibit membrane")]),  # a row of its own: its own effect
    (_WRAP, [(280, "translocation")]),
    (_ROW, [(_PTM, "Dephosphorylation"), (200, "Unknown"), (280, "Unknown (303 human")]),
    (_WRAP, [(280, "kinases)")]),
    (_ROW, [(_PTM, "Oxidation"), (200, "C38, C56(H)"), (280, "Promote cleavage")]),
    (_WRAP, [(200, "C39, C57(M)")]),  # stacked at the wrap leading: one cell
    (_ROW, [(200, "C192(M)"), (280, "Promote oligomerization")]),
    (_ROW, [(_PTM, "Itaconation"), (200, "C77(M)"), (280, "Reduce cleavage")]),
]


def test_rows_set_a_point_looser_than_wrapped_lines_are_rows():
    """The leadings part rows from wraps; a cell's item set in bold stays in its cell."""
    header = _line([(60, "Gene"), (_PTM, "PTM"), (200, "Sites"), (280, "Effect")], 90, size=7.0)
    body = [replace(w, bold=w.text in ("C39,", "C57(M)")) for w in _literature_rows(100, _LITERATURE)]
    grid = parse_chunk_grid(header, body, [])
    assert grid.labels == ["Gene", "PTM", "Sites", "Effect"]
    assert _texts(grid, 4) == [
        ["GSDMA", "Phosphorylation", "T8(H)", "Inhibit oligomerization"],
        ["", "Palmitoylation", "Unknown", "Unknown"],
        ["GSDMB", "Ubiquitination", "K166, K308(H)", "Proteasomal degradation"],
        ["", "", "K177, K190(H)", "Inhibit membrane translocation"],
        ["", "Dephosphorylation", "Unknown", "Unknown (303 human kinases)"],
        ["", "Oxidation", "C38, C56(H) C39, C57(M)", "Promote cleavage"],
        ["", "", "C192(M)", "Promote oligomerization"],
        ["", "Itaconation", "C77(M)", "Reduce cleavage"]]


def test_rows_and_wraps_at_one_leading_are_not_told_apart_by_it():
    """The same lines at a single leading: no second leading parts rows from wraps, so the
    row structure comes from the cells (the stacked sites and the effect lines join rows)."""
    flat = [(step and 9.2, cells) for step, cells in _LITERATURE]
    header = _line([(60, "Gene"), (_PTM, "PTM"), (200, "Sites"), (280, "Effect")], 90, size=7.0)
    grid = parse_chunk_grid(header, _literature_rows(100, flat), [])
    assert len(grid.rows) < 8


def test_a_note_that_repeats_the_table_label_ends_the_table():
    """'Table 2: The sites ...' under Table 2 is its note: neither a new caption nor the start
    of a table that takes in the two-column text after it."""
    words = _line([(60, "Table 2: PTMs of the proteins")], 60, size=9.0, font="Helvetica-Bold")
    words += _line([(60, "Gene"), (_PTM, "PTM"), (200, "Sites"), (280, "Effect")], 78, size=7.0)
    words += _literature_rows(90, _LITERATURE)
    bottom = 90 + sum(step for step, _ in _LITERATURE) + 10
    words += _line([(60, "Table 2: The sites of human or murine proteins are indicated in parentheses.")],
                   bottom + 3, size=6.5)
    for i in range(14):  # two columns of justified body text under the table
        words += _prose_line(60, 290, bottom + 25 + 12.4 * i, 3 * i, size=10.0)
        words += _prose_line(305, 535, bottom + 25 + 12.4 * i, 3 * i + 7, size=10.0)
    rules = [Rule(58, 74, 540, 75), Rule(58, 87, 540, 87.3), Rule(58, bottom, 540, bottom + 0.3)]
    tables, chunks = extract_tables(_doc([_page(words, rules)]))
    assert len(tables) == 1 and len(chunks) == 1
    assert len(tables[0].rows) == 8
    assert tables[0].footnote.startswith("Table 2: The sites")
    assert chunks[0].bbox[3] < bottom + 20  # the text under the note is no part of the table


def test_words_that_touch_are_one_word_in_a_cell():
    """A bold "Q246" and the regular ";" after it are read as two words (split where the weight
    changes); set without a gap they print as "Q246;", and a word space still parts words."""
    from pipeline.records import Line
    from pipeline.tables.assemble import printed_text

    words = [Word("(GSDMA:", 60.0, 100, 85.0, 107, "Helvetica-Bold", 7.0, 1, bold=True),
             Word("Q246", 86.7, 100, 103.0, 107, "Helvetica-Bold", 7.0, 1, bold=True),
             Word(";", 103.0, 100, 104.8, 107, "Helvetica", 7.0, 1),
             Word("Unknown)", 106.5, 100, 135.0, 107, "Helvetica", 7.0, 1)]
    assert printed_text(Line(words)) == "(GSDMA: Q246; Unknown)"


def _panel_labels() -> list[Word]:
    """Columns of short labels and numbers, as a figure's panels print them over their plots."""
    words = _line([(60, "WT"), (200, "L90V"), (280, "H95Q"), (360, "S181N")], 300)
    for i in range(6):
        words += _line([(60, f"{i + 1}.0"), (200, f"{10 + i}.5"), (280, f"{20 + i}.5"), (360, f"{30 + i}.5")],
                       311 + 11 * i)
    return words


def test_labels_over_a_figures_art_above_its_caption_are_no_table():
    picture = [(50.0, 290.0, 450.0, 390.0)]  # the panels' art behind their labels
    caption = _line([(60, "Fig. 4 | Key residues in the binding pocket.")], 400, font="Helvetica-Bold")
    page = _page(_panel_labels() + caption)
    page.graphics = picture
    tables, _ = extract_tables(_doc([page]))
    assert tables == []
    # The same columns with no art: a table (nothing says figure).
    tables, _ = extract_tables(_doc([_page(_panel_labels() + caption)]))
    assert len(tables) == 1


def test_a_table_with_running_text_between_it_and_a_figures_caption_stays_a_table():
    text = _prose_line(60, 450, 390, 0) + _prose_line(60, 450, 401, 20)
    caption = _line([(60, "Figure 5. Survival by arm.")], 430, font="Helvetica-Bold")
    page = _page(_panel_labels() + text + caption)
    page.graphics = [(50.0, 290.0, 450.0, 300.0)]  # a logo or icon in the table's first row
    tables, _ = extract_tables(_doc([page]))
    assert len(tables) == 1


@pytest.mark.parametrize("text, label", [
    ("Figure 2: Regularization", "2"),
    ("Fig. 1 Inhibition of currents", "1"),
    ("FIG 3 MIC fold change", "3"),
    ("FIGURE 1. Median household income", "1"),
    ("Figure 15 (data until 7 July 2010)", "15"),
    ("Algorithm 1 SGD: int I, T", "1"),
    ("Box 2. Definitions", "2"),
])
def test_other_floats_captions_are_read(text, label):
    parsed = parse_float_caption(text)
    assert parsed is not None and parsed[0] == label
    assert parse_caption(text) is None


@pytest.mark.parametrize("text", ["Figure 2 shows the response rates", "Figures 15-19 represent", "Boxes were"])
def test_sentences_about_figures_are_not_their_captions(text):
    assert parse_float_caption(text) is None


def test_a_charts_labels_over_its_caption_are_not_a_table():
    """Tick labels and a legend stand in columns; the figure caption under them, with nothing
    but the art between, says they are a figure's."""
    words = _prose_line(60, 530, 60, 0) + _prose_line(60, 530, 72, 4) + _numeric_table(120)
    words += _line([(60, "Figure 3: Cases by region and year")], 260)
    words += _prose_line(60, 530, 300, 2) + _prose_line(60, 530, 312, 6)
    page = _page(words)
    page.graphics = [(90.0, 125.0, 420.0, 200.0)]  # the plot's curves among its labels
    tables, _ = extract_tables(_doc([page]))
    assert tables == []


def test_a_figure_caption_above_the_columns_claims_them():
    words = _line([(60, "FIGURE 1. Median income by region")], 100) + _numeric_table(140)
    words += _prose_line(60, 530, 260, 2) + _prose_line(60, 530, 272, 6)
    page = _page(words)
    page.graphics = [(90.0, 145.0, 420.0, 220.0)]
    tables, _ = extract_tables(_doc([page]))
    assert tables == []


def test_a_figure_caption_beyond_running_text_leaves_the_table():
    """The caption belongs to a figure further down: the paragraph between parts them."""
    words = _numeric_table(100) + _prose_line(60, 530, 200, 0) + _prose_line(60, 530, 212, 4)
    words += _line([(60, "Figure 3: Cases by region and year")], 240)
    tables, _ = extract_tables(_doc([_page(words)]))
    assert len(tables) == 1 and len(tables[0].rows) == 6


def test_a_list_of_abbreviations_is_not_a_table():
    """Two columns of term and spelled-out words: capitals, digits, lower-case terms that are
    the first letters of their words, a term with its qualifier."""
    entries = [("HA", "Haemagglutinin", "IC50", "Concentration producing half-maximal block"),
               ("het", "Heterozygous", "K ATP channel", "ATP-sensitive potassium channel"),
               ("HI", "Hyperinsulinism", "Kir6.2", "Inwardly rectifying potassium channel 6.2"),
               ("hom", "Homozygous", "SUR1", "Sulfonylurea receptor 1")]
    words = _line([(60, "Abbreviations")], 100)
    for i, (a, b, c, d) in enumerate(entries):
        words += _line([(60, a), (120, b), (310, c), (380, d)], 112 + 12 * i)
    assert find_regions(_page(words), [], _no_caption) == []


def test_a_table_nearer_than_the_figure_caption_keeps_its_body():
    """The table's caption and header stand above its body; a figure and its caption follow
    below with nothing but art between: the body is the table's, not the figure's."""
    words = _line([(60, "Table 2 Data collection statistics")], 60, size=10.0, font="Helvetica-Bold")
    words += _line([(200, "Protein A")], 76) + _line([(60, "PDB ID"), (200, "7RY2")], 88)
    words += _numeric_table(150)
    words += _line([(60, "Fig. 3 Crystal structure of the protein")], 500)
    words += _prose_line(60, 530, 540, 2) + _prose_line(60, 530, 552, 6)
    tables, _ = extract_tables(_doc([_page(words)]))
    assert sum(len(t.rows) for t in tables) >= 6


def test_lines_between_a_double_rule_and_a_rule_are_rows_and_a_heading_across_sits_in_its_first_column():
    """Groups of rows set at the line pitch, parted by a rule and a double rule (two lines 2 pt
    apart), under a heading centred across both columns: each line is a row (the double rule
    parts the groups once, so rules are not taken to part every row), and the heading line
    crossing the gutter is written in the column where it starts."""
    header = _line([(60, "Source"), (200, "Target")], 90)
    groups = [[("cravatta (tie)", "nero (black)"), ("velluto (velvet)", "bianco (white)"),
               ("giacca (jacket)", "giallo (yellow)")],
              [("alleanza (alliance)", "indissolubile (this)"), ("legame (bond)", "sacramentale (that)"),
               ("amicizia (friend)", "inscindibile (those)"), ("unione (union)", "perpetua (lasting)")]]
    body, top = [], 102.0
    for a, b in groups[0]:
        body += _line([(60, a), (200, b)], top)
        top += 10.0
    rule_above = top + 1.5
    body += _line([(135, "indissolubly-bound tie")], top + 3.5)  # centred across the gutter
    double = (top + 15.0, top + 17.0)
    top += 19.5
    for a, b in groups[1]:
        body += _line([(60, a), (200, b)], top)
        top += 10.0
    separators = [rule_above, *double]
    rows = _texts(parse_chunk_grid(header, body, separators), 2)
    assert rows == [["cravatta (tie)", "nero (black)"], ["velluto (velvet)", "bianco (white)"],
                    ["giacca (jacket)", "giallo (yellow)"], ["indissolubly-bound tie", ""],
                    ["alleanza (alliance)", "indissolubile (this)"], ["legame (bond)", "sacramentale (that)"],
                    ["amicizia (friend)", "inscindibile (those)"], ["unione (union)", "perpetua (lasting)"]]


def test_a_line_across_columns_goes_to_the_first_column_of_the_run_it_is_centred_on():
    from pipeline.tables.grid import _first_spanned_column
    from pipeline.records import Line

    columns = [(126.0, 181.0), (186.0, 244.0), (262.0, 309.0), (319.0, 360.0)]

    def phrase(x0: float, x1: float) -> Line:
        return Line([Word("x", x0, 100.0, x1, 109.0, "Times", 9.0, 1)])

    assert _first_spanned_column(phrase(178.4, 251.5), columns) == 1  # a wide value reaching into column 0
    assert _first_spanned_column(phrase(150.0, 220.0), columns) == 0  # centred across columns 0 and 1
    assert _first_spanned_column(phrase(200.0, 350.0), columns) == 1  # centred over columns 1 to 3


def _dense_values(top: float, rows: int, tight: bool) -> list[Word]:
    """Rows of "mean ± sd" cells set 1.4 word spaces apart (under the phrase gap): each
    column's cells start flush at its edge, where the other rows' single values start too."""
    space, gap = 0.25 * SIZE, 0.35 * SIZE
    cells = ["500 ± 1", "600 ± 2", "0.2 ± 0.01"]
    edges = [90.0]
    for text in cells[:-1]:
        tokens = text.split()
        edges.append(edges[-1] + sum(0.5 * SIZE * len(t) for t in tokens) + space * (len(tokens) - 1) + gap)
    words = []
    for i in range(rows):
        texts = cells if tight and i % 2 == 0 else [c.split()[0] for c in cells]
        words += _line([(50, f"P{i}")] + list(zip(edges, texts)), top + 11 * i)
    return words


def test_columns_set_a_little_more_than_a_word_space_apart_split_at_their_edges():
    """A dense row whose cells run on to each other at 1.4 word spaces is split where other
    rows' cells start flush: each "x ± y" is a cell of its own column."""
    header = _line([(50, "Protein"), (90, "Ex"), (120.15, "Em"), (150.3, "QY")], 80)
    grid = parse_chunk_grid(header, _dense_values(95, 6, tight=True), [])
    texts = _texts(grid, 4)
    assert texts[0] == ["P0", "500 ± 1", "600 ± 2", "0.2 ± 0.01"]
    assert texts[1] == ["P1", "500", "600", "0.2"]


def test_a_table_ruled_only_around_its_header_runs_on_to_the_white_space_under_it():
    """Rules over and under the header, none at the table's foot (a note ends it): the rows
    under the last rule are the table's body, and the header closes at that rule."""
    caption = _line([(50, "Table 1 Spectral properties")], 60, size=10.0, font="Helvetica-Bold")
    header = _line([(50, "Protein"), (90, "Ex"), (120.15, "Em"), (150.3, "QY")], 80)
    body = _dense_values(97, 6, tight=False)
    note = _line([(50, "a Measured in triplicate for every protein of the table above.")], 172, size=7.0)
    rules = [Rule(48, 76, 240, 76.5), Rule(48, 92, 240, 92.5)]
    tables, _ = extract_tables(_doc([_page(caption + header + body + note, rules)]))
    assert len(tables) == 1
    table = tables[0]
    assert table.labels == ["Protein", "Ex", "Em", "QY"]
    assert [table.rows[i].cells[table.columns[0]].text for i in range(len(table.rows))] == [f"P{i}" for i in range(6)]


def test_notes_ruled_off_under_a_table_that_rules_every_row_are_its_footnote():
    """A rule under every row and under the notes too: the notes (one phrase each, at the
    table's left edge) are the table's footnote, not rows; a row with only a later column
    filled stays a row."""
    caption = _line([(60, "Table 2 Deaths by region")], 60, size=10.0, font="Helvetica-Bold")
    words = caption + _numeric_table(80)
    words += _line([(280, "31,306")], 80 + 7 * 11)  # a row of the 2011 column only
    notes = [(60, "*Significant at P < 0.05"), (60, "** significant at P < 0.01; NS, not significant")]
    for i, (x, text) in enumerate(notes):
        words += _line([(x, text)], 80 + 9 * 11 + 11 * i, size=7.0)
    rules = [Rule(55, 78 + 11 * i, 430, 78.5 + 11 * i) for i in range(9)] + [Rule(55, 124 + 7 * 11, 430, 124.5 + 7 * 11)]
    tables, _ = extract_tables(_doc([_page(words, rules)]))
    assert len(tables) == 1
    table = tables[0]
    assert [{k: cell.text for k, cell in row.cells.items()} for row in table.rows[-2:]] == [
        {"location": "Region F", "2010": "15,105", "2011": "25,205", "2012": "35,305"}, {"2011": "31,306"}]
    assert len(table.rows) == 7
    assert "Significant at P < 0.05" in table.footnote


def test_a_group_label_centred_over_several_columns_is_the_group_of_each():
    """"1-best" centred over four columns, each with its own label under it, is the group of all
    four (not only of the column its middle falls in); a label over one column only
    ("Transcripts:" over "ASR:") is one two-line label; a group wider than its columns
    ("Arm A (n = 12)" over two) covers the columns it reaches across."""
    from pipeline.tables.grid import header_labels

    header = (_line([(60, "Training"), (150, "Transcripts:"), (253.5, "1-best"), (396, "Arm A (n = 12)")], 90)
              + _line([(60, "Scenario"), (150, "ASR:"), (204, "base"), (249, "AM"), (279, "LM"), (307, "AM+LM"),
                       (410, "n"), (445, "%")], 100))
    columns = [(60.0, 110.0), (150.0, 200.0), (206.0, 226.0), (248.0, 264.0), (278.0, 294.0), (310.0, 330.0),
               (405.0, 420.0), (440.0, 455.0)]
    labels, groups, level = header_labels(header, columns)
    assert labels == ["Training Scenario", "Transcripts: ASR:", "base", "AM", "LM", "AM+LM", "n", "%"]
    assert level == [True, True, False, False, False, False, False, False]
    assert groups == ["", "", "1-best", "1-best", "1-best", "1-best", "Arm A (n = 12)", "Arm A (n = 12)"]


def test_a_header_set_over_the_top_rule_of_a_table_captioned_below_is_its_header():
    """A table ruled under its header and under its last row, its caption below and no rule over
    the header: the lines in columns set tight over the first rule, white space over them, are
    its header; the two rows under it, each filling every column, are two rows."""
    words = _line([(140, "Tagging"), (220, "first"), (290, "second")], 60, size=10.0)
    words += _line([(140, "Scheme"), (220, "token"), (290, "rest of it")], 72, size=10.0)
    words += _line([(140, "IO-tags"), (220, "I1"), (290, "I19 I19 I19")], 87, size=10.0)
    words += _line([(140, "BIO-tags"), (220, "B1"), (290, "B19 I19 I19")], 100.5, size=10.0)
    words += _line([(140, "Table 2: Two possible tagsets for labeling.")], 121, size=9.0)
    for i in range(6):
        words += _prose_line(60, 530, 150 + 13 * i, 5 * i, size=10.0)
    rules = [Rule(136, 84.5, 360, 85), Rule(136, 113, 360, 113.5)]
    tables, _ = extract_tables(_doc([_page(words, rules)]))
    assert len(tables) == 1 and tables[0].label == "2"
    assert tables[0].labels == ["Tagging Scheme", "first token", "second rest of it"]
    assert [[c.text for c in r.cells.values()] for r in tables[0].rows] == [
        ["IO-tags", "I1", "I19 I19 I19"], ["BIO-tags", "B1", "B19 I19 I19"]]


@pytest.mark.parametrize("double", [False, True])
def test_the_lines_over_the_first_rule_of_a_table_found_by_its_geometry_are_its_header(double):
    """No rule over the header, a rule (or a double rule) under it, a rule between two groups of
    rows, every line at one pitch: the two lines over the first rule are the header (closed by the double
    rule's lower line, so that line parts no rows), every line under it a row."""
    words = _line([(200, "Source"), (320, "Target")], 100)
    words += _line([(200, "(Italian)"), (320, "(English)")], 111)
    pairs = [("cravatta", "black"), ("velluto", "white"), ("giacca", "yellow"),
             ("alleanza", "alliance"), ("legame", "bond"), ("amicizia", "friendship")]
    tops = [122.5, 133.5, 144.5, 156, 167, 178]  # at the header's pitch, right under the rules
    for (a, b), top in zip(pairs, tops):
        words += _line([(60, f"Pair {a[:3]}"), (200, a), (320, b)], top)
    for i in range(5):
        words += _prose_line(60, 530, 260 + 13 * i, 4 * i, size=10.0)
    rules = [Rule(56, 120.6, 420, 120.8), Rule(56, 154.8, 420, 155.0)]
    if double:
        rules.append(Rule(56, 121.8, 420, 122.0))
    tables, _ = extract_tables(_doc([_page(words, rules)]))
    assert len(tables) == 1
    assert tables[0].labels[1:] == ["Source (Italian)", "Target (English)"]
    assert [r.cells[tables[0].columns[1]].text for r in tables[0].rows] == [a for a, _ in pairs]


def test_a_line_of_labels_ruled_off_under_the_header_is_part_of_it():
    """A rule under every printed line, also between the labels and "F Ratio" under each: that
    line (no row label, a label over every column of values) is the header's, not a row."""
    header = _line([(60, "Factor"), (200, "Chlorophyll"), (280, "Yield"), (360, "Stability")], 80)
    body = _line([(200, "F Ratio"), (280, "F Ratio"), (360, "F Ratio")], 93)
    for i, name in enumerate(("Genotype", "Replication", "Year")):
        body += _line([(60, name), (200, f"13.{i}**"), (280, f"6.{i}"), (360, f"3.{i}*")], 106 + 13 * i)
    grid = parse_chunk_grid(header, body, [(91.0, 55.0, 430.0), (104.0, 55.0, 430.0), (117.0, 55.0, 430.0),
                                            (130.0, 55.0, 430.0)])
    assert list(zip(grid.group_labels, grid.labels)) == [
        ("", "Factor"), ("Chlorophyll", "F Ratio"), ("Yield", "F Ratio"), ("Stability", "F Ratio")]
    assert [row[0] for row in _texts(grid, 4)] == ["Genotype", "Replication", "Year"]


def test_a_heading_over_some_columns_under_the_header_stays_a_row():
    """A heading over some of the value columns ("Development" | "Set", split at a gutter)
    is a row, not a line of labels."""
    header = _line([(60, "Language"), (200, "Catalan"), (280, "Chinese"), (360, "Czech")], 80)
    body = _line([(280, "Development"), (360, "Set")], 93)
    for i, name in enumerate(("LAS", "Semantic", "Macro")):
        body += _line([(60, name), (200, f"8{i}.69"), (280, f"7{i}.77"), (360, f"8{i}.75")], 106 + 13 * i)
    grid = parse_chunk_grid(header, body, [])
    assert grid.labels == ["Language", "Catalan", "Chinese", "Czech"]
    assert _texts(grid, 4)[0] == ["", "", "Development", "Set"]


def _equations(top: float) -> list[Word]:
    """Two aligned, numbered equations: terms in columns, a relation on each line."""
    words = _line([(120, "κρ(r, t)c2"), (200, "="), (230, "2M(r) R2(r, t)"), (480, "(6)")], top)
    words += _line([(120, "R˙2(r, t)"), (200, "="), (230, "2E(r) + 2M(r)/R(r, t),"), (480, "(7)")], top + 16)
    words += _line([(120, "Θ"), (200, "="), (230, "R˙'/R' + 2 R˙/R ."), (480, "(9)")], top + 32)
    return words


def test_aligned_equations_are_no_table():
    """Display math set in columns, with no caption: no table (a numbered relation ends its
    line with the equation's number, which no table row does)."""
    words = _prose_line(60, 530, 80, 0) + _equations(110) + _prose_line(60, 530, 170, 9)
    tables, _ = extract_tables(_doc([_page(words)]))
    assert tables == []


def test_a_table_with_a_column_of_counts_in_parentheses_stays_a_table():
    """Counts printed in parentheses in a column of their own are no equation numbers."""
    words = _line([(60, "Arm"), (200, "Responders"), (300, "(%)"), (380, "Median PFS")], 100)
    for i in range(5):
        words += _line([(60, f"Cohort {i + 1}"), (200, f"{30 + i}"), (300, f"({40 + i})"), (380, f"{8 + i}.5")],
                       112 + 12 * i)
    tables, _ = extract_tables(_doc([_page(words)]))
    assert len(tables) == 1 and len(tables[0].rows) == 5


def test_authors_set_side_by_side_over_their_addresses_are_no_table():
    """Three authors in columns, each over an affiliation and an e-mail address: no table."""
    people = [("Ann Lee", "Stanford University", "ann@cs.stanford.edu"),
              ("Bo Chen", "Yahoo! Inc.", "bo@yahoo-inc.com"),
              ("Cy Diaz", "MIT CSAIL", "cy@mit.edu")]
    words = []
    for row in range(3):
        words += _line([(60 + 170 * i, person[row]) for i, person in enumerate(people)], 100 + 12 * row)
    words += _prose_line(60, 530, 160, 0) + _prose_line(60, 530, 172, 9)
    tables, _ = extract_tables(_doc([_page(words)]))
    assert tables == []


def test_header_lines_ruled_off_into_the_body_go_back_to_the_header():
    """A rule under every printed line parts the header's lines too: the first body line that
    holds no value, one phrase in each column whose rows below hold values ("F Ratio" under
    each label), is the header's lower level; a first row labelled in a stub the header
    already labels ("Weight change:" with "n=74") stays a row."""
    header = _line([(60, "Factor"), (200, "SPAD content"), (300, "FV/FM"), (400, "Membrane stability")], 100)
    body = _line([(200, "F Ratio"), (300, "F Ratio"), (400, "F Ratio")], 112)
    body += _line([(60, "Genotype"), (200, "13.7"), (300, "6.3"), (400, "3.7")], 124)
    body += _line([(60, "Replication"), (200, "4.6"), (300, "2.6"), (400, "3.4")], 136)
    grid = parse_chunk_grid(header, body, [110.5, 122.5, 134.5])
    assert grid.labels == ["Factor", "F Ratio", "F Ratio", "F Ratio"]
    assert grid.group_labels == ["", "SPAD content", "FV/FM", "Membrane stability"]
    assert _texts(grid, 4) == [["Genotype", "13.7", "6.3", "3.7"], ["Replication", "4.6", "2.6", "3.4"]]

    labelled = _line([(60, "Weight change:"), (200, "n=74"), (300, "n=66"), (400, "n=12")], 112) + body[6:]
    grid = parse_chunk_grid(header, labelled, [110.5, 122.5, 134.5])
    assert grid.labels == ["Factor", "SPAD content", "FV/FM", "Membrane stability"]
    assert _texts(grid, 4)[0] == ["Weight change:", "n=74", "n=66", "n=12"]


def test_first_lines_of_labels_set_tight_in_a_row_are_no_group():
    """"Less than $10,000- $15,000-" reads as one phrase across three columns, but it parts at
    the gutters into one piece per column, each flush with the label right under it: the
    first lines of three labels, not a group over them."""
    from pipeline.tables.grid import header_labels

    header = (_line([(60, "Item"), (200, "Less than"), (241.25, "$10,000-"), (280.25, "$15,000-")], 90)
              + _line([(206.75, "$10,000"), (250.25, "14,999"), (289.25, "29,999")], 100))  # flush right
    columns = [(60.0, 120.0), (210.0, 238.0), (255.0, 277.0), (293.0, 316.0)]
    labels, groups, _ = header_labels(header, columns)
    assert groups == ["", "", "", ""]
    assert sorted(" ".join(labels).split()) == sorted(w.text for w in header)  # every word in a label


def test_a_group_label_spans_the_columns_its_own_rule_covers():
    """"Mutations" is set left of the middle of its columns; the short rule drawn under it
    (and under no other label) covers them, and not the "Total" column beside them: it is the
    group of each of them only."""
    caption = _line([(60, "Table 1 Spectral properties")], 60, size=10.0, font="Helvetica-Bold")
    words = caption + _line([(230, "Mutations")], 78)
    words += _line([(60, "Protein"), (140, "Yield"), (220, "T16"), (260, "P63"), (300, "H125"), (340, "W143"),
                    (400, "Total")], 92)
    for i in range(5):
        words += _line([(60, f"mSandy{i}"), (140, f"0.{i + 1}"), (220, "V"), (260, "L"), (300, "R"), (340, "S"),
                        (400, f"{i + 3}")], 108 + 11 * i)
    rules = [Rule(55, 74, 430, 74.5), Rule(215, 88.5, 370, 89), Rule(55, 103, 430, 103.5), Rule(55, 165, 430, 165.5)]
    tables, _ = extract_tables(_doc([_page(words, rules)]))
    assert len(tables) == 1
    assert tables[0].groups == ["", "", "Mutations", "Mutations", "Mutations", "Mutations", ""]


def test_a_value_centred_over_a_header_group_is_written_in_the_groups_first_column():
    """An "unavailable" centred over the four columns of the group "WCN" (reaching into the two middle
    ones, and nearer the group's middle than theirs) spans the group: it is written in the
    group's first column."""
    xs = [200, 240, 280, 320]
    header = _line([(266.75, "WCN")], 88) + _line([(x, t) for x, t in zip(xs, ("base", "AM", "LM", "all"))], 98)
    body = _line([(60, "Baseline"), (248.75, "unavailable")], 110)  # centred on the group, 200..347
    for i, name in enumerate(("MaxEnt", "CRF", "Hybrid")):
        body += _line([(60, name)] + [(x, f"{80 + i}.0{k}") for k, x in enumerate(xs[:3])] + [(320, f"{80 + i}.05%")],
                      121 + 11 * i)
    grid = parse_chunk_grid(header, body, [])
    assert grid.group_labels[1:] == ["WCN"] * 4
    assert _texts(grid, 5)[0] == ["Baseline", "unavailable", "", "", ""]


def test_a_label_broken_at_a_hyphen_goes_on_in_the_cell_under_it():
    """"Un-" over "supervised", each line a row of values: the label spanning those rows
    wrapped there, so the word is joined in the first row and leaves the second."""
    body = []
    for i, (label, method) in enumerate([("Un-", "MaxEnt"), ("supervised", "CRF-IO"), ("", "CRF-BIO"),
                                         ("Hybrid", "MaxEnt"), ("", "CRF-IO")]):
        cells = [(60, label)] if label else []
        body += _line(cells + [(140, method), (220, f"8{i}.1"), (280, f"9{i}.2")], 100 + 11 * i)
    header = _line([(60, "Training"), (140, "Model"), (220, "AM"), (280, "LM")], 88)
    grid = parse_chunk_grid(header, body, [])
    assert [row[0] for row in _texts(grid, 4)] == ["Un- supervised", "", "", "Hybrid", ""]
