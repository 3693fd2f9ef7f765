"""The table engine on the development corpus (tests/realworld/), with the benchmark's metric.

- No table is reported on the table-free articles.
- Cell accuracy per subset stays at or above a floor: the value measured when the floor was
  set, minus a small margin. This is a regression guard, not the goal (issue 10 asks for
  92% of ICDAR cells and 95% of the articles' cells): whoever improves the engine raises the
  floors to the newly measured values (``python scripts/benchmark_tables.py --tools
  review-extract``).
- The metric itself, on small hand-made grids.
"""

from __future__ import annotations

import csv
import json

import pytest

from tests.realworld.scoring import (
    Document,
    GoldTable,
    PredictedTable,
    article_documents,
    best_offset,
    corpus_documents,
    header_rows,
    icdar_documents,
    normalise,
    review_extract_tables,
    run_tool,
    score_document,
    totals,
)

# Cell accuracy floors per subset: measured 2026-12-04 with the geometric table finder on the
# whole corpus (ICDAR 83.4%, articles 60.2%; before it: 12.4% and 23.5%), minus about one point.
# ICDAR raised to 92.2% (before side-by-side tables) once wrapped row labels stay in their row, a "(Continued.)"
# chunk under other columns is a table of its own, rules drawn cell by cell (or typed as
# hyphens) are rules, group headings at the row pitch do not merge rows, and a second header
# closed by a rule starts another table.
# Articles lowered to 57.9% measured when five articles from new publishers joined the corpus
# (13 articles, 2292 gold cells): the MDPI table's rows collapse into one row per ruled band
# (4.1% of its cells), the IJBS review's unruled tables reach 37.4%, RSC's (unmapped glyphs) 71.0%.
# Articles raised to 73.4% measured (13 articles) once values stacked in a column are rows of their
# own (MDPI 4.1% -> 46.8%, simianer 35.7% -> 91.4%, lehr 40.1% -> 69.1%); ICDAR 92.1% and articles
# 74.0% once tables set side by side under rules of their own are told apart; articles 76.4% once
# a phrase alone across the white space between columns ("N/A" over two columns) is judged a stray.
# ICDAR 93.7% with both table branches together (articles 76.4%); 94.3% once a paragraph
# between two rules ends a chain of rules (eu-004 Table 6.8 no longer runs to the footnote rule).
# Articles 82.4% once a gutter most rows leave white stays a gutter however many centred headings
# each reach into it, and a bold heading set tight above a row is a row of its own (MDPI 46.8% -> 94.5%);
# a heading centred on the whole table is written in its first column (MDPI 98.2%).
# Articles 87.0% (ICDAR 94.3%) once a note repeating its table's label is the table's footnote, rows
# set a point looser than wrapped lines are rows, and a column set closer than the phrase gap to
# the one before it still starts where its cells start (IJBS review 37.4% -> 92.6%); 88.0% (ICDAR 94.4%)
# once words that touch (split where bold and regular glyphs meet) print as one word in a cell.
# Articles 91.8% (ICDAR 94.4%) once glyphs the text layer leaves unnamed are named from their font
# (PLOS stars from a TeX symbol font), sub/superscripts stay in their word and spacing accents over
# a letter are composed ("FV/FM", "Rpim", "Å": RSC Table 2 23 -> 50 of 55 cells).
# Articles 95.4% (ICDAR 94.7%) once a group label centred over (or reaching across) several
# columns is the group of each, and article headers are scored as their gold writes them
# (group and label joined: "1-best baseline"; Lehr 86.0% -> 92.8%).
# Articles 96.5% (ICDAR 94.7%) with a table ruled only around its header running on below it (RSC),
# notes ruled off under a table being its footnote, a line of labels ruled off under the header
# being the header's (PLOS 88.2% -> 100%), and "=" from a symbol font not splitting a bold word.
# Articles 97.0% (ICDAR 94.9%) once header lines ruled off into the body go back to the header
# (PLOS "F Ratio" under each label, Dinu's labels under "En→It"), and ICDAR headers are scored
# with an ungrouped label that starts level with the group headers in their row.
FLOORS = {"icdar2013": 0.945, "articles": 0.97}


@pytest.fixture(scope="module")
def our_scores():
    return [run_tool(review_extract_tables, doc) for doc in corpus_documents()]


def test_corpus_is_complete():
    docs = icdar_documents()
    assert len(docs) == 67
    assert sum(len(d.alternatives) == 2 for d in docs) == 4
    assert all(d.alternatives[0] and all(g.cells for g in d.alternatives[0]) for d in docs)
    articles = article_documents()
    assert sum(d.subset == "articles" for d in articles) >= 8
    assert sum(d.subset == "negatives" for d in articles) >= 2


def test_article_gold_matches_its_description():
    """Every transcribed table has the shape its tables.json records (catches a bad transcription)."""
    for doc in article_documents():
        assert doc.pdf.exists(), doc.pdf
        if doc.subset != "articles":
            continue
        folder = doc.pdf.parent
        for entry in json.loads((folder / "tables.json").read_text("utf-8")):
            with open(folder / f"table{entry['table']}.csv", newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            assert len(rows) - 1 == entry["n_rows"], (doc.name, entry["table"])
            assert {len(r) for r in rows} == {entry["n_cols"]}, (doc.name, entry["table"])


def test_no_false_tables_on_negatives(our_scores):
    negatives = [s for s in our_scores if s.subset == "negatives"]
    assert negatives
    assert [(s.document, s.false_tables) for s in negatives if s.false_tables] == []


# False tables on the whole corpus (a predicted table outside every ICDAR region, or on an
# article's page without a table): 18 measured 2026-12-04 (chart axes and legends, figure
# panels, a flow diagram, algorithm boxes, an abbreviation list); 0 once a region whose nearest
# caption is a figure's, an algorithm's or a box's is that float's, and abbreviation lists with
# lower-case or qualified terms are glossaries. Never raise it.
MAX_FALSE_TABLES = 0


def test_false_tables_on_the_whole_corpus(our_scores):
    false = [(s.document, s.false_tables) for s in our_scores if s.false_tables]
    assert sum(n for _, n in false) <= MAX_FALSE_TABLES, false


def test_no_document_crashes(our_scores):
    assert [(s.document, s.error) for s in our_scores if s.error] == []


@pytest.mark.parametrize("subset", sorted(FLOORS))
def test_cell_accuracy_floor(our_scores, subset):
    got = totals(s for s in our_scores if s.subset == subset)
    print(f"{subset}: {got.cells_right}/{got.gold_cells} cells = {got.accuracy:.1%}, "
          f"{got.tables_not_found} of {got.gold_tables} tables not found, {got.false_tables} false tables")
    assert got.gold_cells > 0
    assert got.accuracy >= FLOORS[subset]


# ----------------------------------------------------------------------------- the metric


def test_normalise_collapses_whitespace_and_unifies_dashes_and_quotes():
    assert normalise("  a \n b\tc ") == "a b c"
    assert normalise("1\u20132") == normalise("1-2") == normalise("1\u22122")
    assert normalise("\u201cx\u201d \u2019") == "\"x\" '"
    assert normalise("ab") != normalise("a b")
    assert normalise(None) == ""


def test_best_offset_aligns_shifted_grids():
    gold = [["Drug", "n"], ["A", "12"], ["B", "7"]]
    shifted = [["", "", ""], ["", "Drug", "n"], ["", "A", "12"], ["", "B", "7"]]
    assert best_offset(gold, shifted) == (6, (1, 1))
    # One wrong cell costs one cell; the alignment stays.
    wrong = [["Drug", "n"], ["A", "13"], ["B", "7"]]
    assert best_offset(gold, wrong) == (5, (0, 0))
    # A column merged into its neighbour matches nothing of either.
    merged = [["Drug n"], ["A 12"], ["B 7"]]
    assert best_offset(gold, merged) == (0, (0, 0))


def test_best_offset_compares_after_whitespace_collapse():
    gold = [["Rate (95% CI)", "two\nlines"]]
    assert best_offset(gold, [["Rate  (95%\nCI)", "two lines"]])[0] == 2
    assert best_offset(gold, [["Rate", "(95% CI)"]])[0] == 0


def _doc(subset: str, tables: list[GoldTable]) -> Document:
    return Document("x", subset, None, [tables])


def test_score_document_matches_each_gold_table_once_on_its_page():
    a = GoldTable("table 1", 1, [["h1", "h2"], ["1", "2"]], region=(0, 0, 100, 100))
    b = GoldTable("table 2", 1, [["k", "v"], ["x", "y"]], region=(0, 200, 100, 300))
    inside_a = PredictedTable(1, [["h1", "h2"], ["1", "2"]], bbox=(10, 10, 90, 90))
    score = score_document(_doc("icdar2013", [a, b]), [inside_a])
    assert (score.gold_cells, score.cells_right, score.tables_not_found, score.false_tables) == (8, 4, 1, 0)
    # The same table predicted on another page finds nothing there, and is a false table.
    elsewhere = PredictedTable(2, [["h1", "h2"], ["1", "2"]], bbox=(10, 10, 90, 90))
    score = score_document(_doc("icdar2013", [a, b]), [elsewhere])
    assert (score.cells_right, score.tables_not_found, score.false_tables) == (0, 2, 1)
    # A predicted table outside every gold region is false even when a gold table is found.
    stray = PredictedTable(1, [["z"]], bbox=(300, 400, 400, 500))
    score = score_document(_doc("icdar2013", [a, b]), [inside_a, stray])
    assert (score.cells_right, score.false_tables) == (4, 1)


def test_any_table_on_a_negative_is_false_and_articles_judge_by_page():
    table = PredictedTable(3, [["a", "b"]])
    assert score_document(_doc("negatives", []), [table]).false_tables == 1
    gold = GoldTable("table 1", 3, [["a", "b"]])
    assert score_document(_doc("articles", [gold]), [table]).false_tables == 0
    assert score_document(_doc("articles", [gold]), [PredictedTable(4, [["a"]])]).false_tables == 1


def test_alternative_readings_count_the_better_one():
    first = [GoldTable("table 1", 1, [["a", "b"], ["c", "d"]])]
    second = [GoldTable("table 1", 1, [["a", "b"]])]
    doc = Document("x", "icdar2013", None, [first, second])
    score = score_document(doc, [PredictedTable(1, [["a", "b"], ["c", "x"]])])
    assert (score.cells_right, score.gold_cells) == (3, 4)


def test_header_rows_place_group_headers_and_ungrouped_labels_at_their_first_cell():
    labels, groups = ["Study", "Arm: n", "Arm: %", "Notes"], ["", "Arm", "Arm", ""]
    level = [True, False, False, False]  # "Study" starts level with "Arm", "Notes" under it
    assert header_rows(labels, groups, True, level) == [["Study", "Arm", "", ""], ["", "n", "%", "Notes"]]
    assert header_rows(["Study", "n"], ["", ""], stacked=True) == [["Study", "n"]]


def test_header_rows_join_group_and_label_where_the_gold_does():
    labels, groups = ["Study", "Arm: n", "Arm: %"], ["", "Arm", "Arm"]
    assert header_rows(labels, groups, stacked=False) == [["Study", "Arm n", "Arm %"]]


def test_header_rows_do_not_split_a_label_that_holds_a_colon():
    labels = ["Training Scenario", "Transcripts: ASR:", "1-best: baseline"]
    groups = ["", "", "1-best"]
    assert header_rows(labels, groups, stacked=True) == [["", "", "1-best"],
                                                         ["Training Scenario", "Transcripts: ASR:", "baseline"]]
    assert header_rows(labels, groups, stacked=False) == [["Training Scenario", "Transcripts: ASR:", "1-best baseline"]]
