"""Sanity checks flag suspicious extractions (pipeline/sanity.py) instead of passing them silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.records import Cell, Table, TableRow
from pipeline.sanity import check_tables


def _table(rows: list[dict[str, str]], labels: list[str] | None = None) -> Table:
    keys = list(rows[0])
    out = []
    for i, values in enumerate(rows, start=1):
        cells = {k: Cell(column=k, lines=[v], page=1, bbox=(0, 0, 1, 1)) for k, v in values.items() if v}
        out.append(TableRow(table=1, row=i, block=1, cells=cells, page=1, bbox=(0, 0, 1, 1)))
    return Table(number=1, caption="t", columns=keys, labels=labels or keys, footnote="", pages=[1], rows=out)


ROWS = [
    {"target": "BCMA", "n_patients": "24", "orr": "61", "nct": "NCT01000001"},
    {"target": "CD19", "n_patients": "31", "orr": "58", "nct": "NCT01000002"},
    {"target": "GPRC5D", "n_patients": "18", "orr": "NA", "nct": "NCT01000003"},
    {"target": "SLAMF7", "n_patients": "40", "orr": "72", "nct": "NCT01000004"},
    {"target": "CD38", "n_patients": "2/NA", "orr": "93.1", "nct": "ChiCTR2000031234"},
]


def test_clean_table_has_no_flags():
    assert check_tables([_table(ROWS)]) == []


@pytest.mark.parametrize("change,check,column", [
    ({"nct": "NCT0100001"}, "registry_id", "nct"),
    ({"nct": "NCTO1000001"}, "registry_id", "nct"),
    ({"n_patients": "Recruiting"}, "numeric_text", "n_patients"),
    ({"orr": "112"}, "percent_range", "orr"),
    ({"orr": "103.5%"}, "percent_range", "orr"),
])
def test_suspicious_cell_is_flagged(change, check, column):
    rows = [dict(r) for r in ROWS]
    rows[1].update(change)
    flags = check_tables([_table(rows)])
    assert [(f.check, f.row, f.column) for f in flags] == [(check, 2, column)]
    assert flags[0].message.startswith("Table 1 row 2")


def test_duplicated_row_is_flagged():
    flags = check_tables([_table(ROWS + [dict(ROWS[2])])])
    assert [(f.check, f.row) for f in flags] == [("duplicate_row", 6)]


def test_continuation_chunks_that_disagree_are_flagged():
    class Chunk:
        def __init__(self, page, columns):
            self.number, self.page, self.columns, self.n_columns = 1, page, columns, len(columns)

    first = Chunk(1, [(50, 100), (150, 200), (250, 300), (350, 400)])
    empty_column = Chunk(2, [(50, 90), (150, 190), (350, 400)])  # one column left empty: lines up
    straddling = Chunk(3, [(50, 100), (180, 280)])  # a column across two of the first chunk's
    more = Chunk(4, [(50, 80), (90, 100), (150, 200), (250, 300), (350, 400)])
    flags = check_tables([_table(ROWS)], [first, empty_column, straddling, more])
    assert [(f.check, f.message.split(":")[0]) for f in flags] == [
        ("chunk_columns", "Table 1, page 3"), ("chunk_columns", "Table 1, page 4")]


def test_flags_reach_warnings_json_and_the_cli_summary(tmp_path):
    from pipeline.cli import app
    from tests.layouts import small

    pdf = small.suspicious_table_pdf(tmp_path / "suspicious.pdf")
    result = CliRunner().invoke(app, ["extract", str(pdf), "--out", str(tmp_path / "out"), "--no-flow",
                                      "--no-report"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "warnings.json").read_text())
    checks = {f["check"] for f in data["flags"]}
    assert checks == {"registry_id", "numeric_text", "percent_range", "duplicate_row", "chunk_columns"}
    for flag in data["flags"]:
        assert flag["message"] in data["warnings"]
    assert "'NCT0100002' is not a trial registry id" in result.output
    assert "percentage '112' is over 100" in result.output
    doc = json.loads((tmp_path / "out" / "document.json").read_text())
    assert any("repeats row 5" in w for w in doc["warnings"])
    assert Path(tmp_path / "out" / "tables" / "table1.csv").exists()
