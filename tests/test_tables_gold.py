"""Gold tests: the extracted tables reproduce the printed tables cell for cell."""

from __future__ import annotations

import json

import pytest

from tests.conftest import GOLD, read_csv
from tests.gold_compare import compare_rows


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_table_matches_gold(extraction_dir, number):
    gold = read_csv(GOLD / f"table{number}.csv")
    extracted = read_csv(extraction_dir / "tables" / f"table{number}.csv")
    assert list(extracted[0].keys()) == list(gold[0].keys()), "column names differ from the gold CSV"
    total, equal, mismatches = compare_rows(extracted, gold)
    accuracy = equal / total
    print(f"table {number}: {equal}/{total} cells = {accuracy:.2%}, rows {len(extracted)}/{len(gold)}")
    assert not mismatches, f"table {number}: cell accuracy {accuracy:.2%}\n" + "\n".join(mismatches[:50])


def test_all_157_rows(extraction_dir):
    rows = sum(len(read_csv(extraction_dir / "tables" / f"table{n}.csv")) for n in (1, 2, 3, 4))
    assert rows == 157


def test_table_metadata_matches_gold(extraction_dir):
    gold = json.loads((GOLD / "tables.json").read_text("utf-8"))
    got = json.loads((extraction_dir / "tables" / "tables.json").read_text("utf-8"))
    assert [t["table"] for t in got] == [t["table"] for t in gold]
    for g, e in zip(gold, got):
        assert e["caption"] == g["caption"]
        assert e["columns"] == g["columns"], f"table {g['table']} printed labels"
        assert e["footnote"] == g["footnote"], f"table {g['table']} footnote"
        assert e["blocks"] == g["blocks"] and e["rows"] == g["rows"]


def test_compare_table_detects_a_wrong_cell():
    gold = [{"table": "1", "row": "1", "nct": "NCT01234567"}]
    assert compare_rows([{"table": "1", "row": "1", "nct": "NCT01234568"}], gold)[1] == 2
    assert compare_rows([], gold)[1] == 0


def test_provenance_covers_every_nonempty_cell(extraction_dir):
    prov = read_csv(extraction_dir / "tables" / "provenance.csv")
    located = {(p["table"], p["row"], p["column"]) for p in prov}
    for n in (1, 2, 3, 4):
        for row in read_csv(extraction_dir / "tables" / f"table{n}.csv"):
            for key, value in row.items():
                if key in ("table", "row", "block") or not value:
                    continue
                assert (str(n), row["row"], key) in located, f"no provenance for table {n} row {row['row']} {key}"
    for p in prov:
        assert 1 <= int(p["page"]) <= 22
        assert float(p["x0"]) < float(p["x1"]) and float(p["top"]) < float(p["bottom"])


def test_spanning_cells_are_marked_as_filled_down(extraction_dir):
    prov = read_csv(extraction_dir / "tables" / "provenance.csv")
    filled = [p for p in prov if p["table"] == "2" and p["column"] == "strategy" and p["derived_from"] == "fill-down"]
    printed = [p for p in prov if p["table"] == "2" and p["column"] == "strategy" and not p["derived_from"]]
    assert len(printed) == 6  # six printed strategy cells in Table 2
    assert len(filled) == 62 - 6
