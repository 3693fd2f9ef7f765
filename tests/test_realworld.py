"""A real publisher PDF (BMC Health Services Research 2014, 14:1; CC BY): spaceless text
layer, partial rules, a landscape table on /Rotate 90 pages continued with "(Continued)".

Every cell of both printed tables must equal the gold CSV (first row = printed labels), and
the narrative must come out with correct word spacing.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.gold_compare import compare_rows

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "realworld" / "bmc_hsr_2014"


@pytest.fixture(scope="module")
def bmc_dir(tmp_path_factory) -> Path:
    from flows.extract import run_extraction

    out = tmp_path_factory.mktemp("bmc") / "out"
    run_extraction(str(FIXTURE / "article.pdf"), str(out))
    return out


def _gold(number: int) -> tuple[list[str], list[list[str]]]:
    with open(FIXTURE / f"table{number}.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _extracted(folder: Path, number: int) -> tuple[list[str], list[list[str]]]:
    with open(folder / "tables" / f"table{number}.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["table", "row", "block"]
    return rows[0][3:], [r[3:] for r in rows[1:]]


@pytest.mark.parametrize("number", [1, 2])
def test_bmc_table_cells_match_gold(bmc_dir, number):
    from pipeline.tables.vocabulary import slugify

    labels, want = _gold(number)
    keys, got = _extracted(bmc_dir, number)
    assert keys == [slugify(lbl) for lbl in labels]
    total, equal, bad = compare_rows([dict(enumerate(r)) for r in got], [dict(enumerate(r)) for r in want])
    print(f"BMC table {number}: {equal}/{total} cells, rows {len(got)}/{len(want)}")
    assert not bad, f"{equal}/{total} cells\n" + "\n".join(bad[:40])


def test_bmc_tables_json(bmc_dir):
    gold = json.loads((FIXTURE / "tables.json").read_text("utf-8"))
    got = json.loads((bmc_dir / "tables" / "tables.json").read_text("utf-8"))
    assert [t["table"] for t in got] == [1, 2]
    for g, e in zip(gold, got):
        labels, _ = _gold(g["table"])
        assert e["columns"] == labels
        assert "Table %d %s" % (g["table"], e["caption"]) == g["caption"]
        assert e["pages"] == g["pages"]
        assert e["rows"] == g["n_rows"]
        assert e["footnote"] == g["footnote"]


def test_bmc_narrative_word_spacing(bmc_dir):
    blocks = [json.loads(line) for line in (bmc_dir / "text.jsonl").read_text("utf-8").splitlines()]
    text = "\n".join(b["text"] for b in blocks)
    for sentence in (
        "Knowledge regarding the best approaches to improving the quality of healthcare and their "
        "implementation is lacking in many resource-limited settings.",
        "Poor communication among staff and between staff and patients was reported in the interviews "
        "and observed to affect the quality of care in the Medical Department.",
        "Such comments included, ‘illegible and or incomplete notes in patient files’",
        "Patient flow information, as depicted in Figure 1, is a summary of processes described by the "
        "Medical Department staff and confirmed by the researcher’s onsite observation.",
    ):
        assert sentence in text, sentence
    # Table cells stay out of the narrative; the sideways running head of the landscape pages too.
    assert "Opportunity to ask questions" not in text
    assert "Existence of treatment protocols" not in text
    assert "Agyeman-Duah et al. BMC Health Services Research" not in text
