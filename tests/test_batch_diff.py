"""Re-extraction: the synthetic revision v2a, the dataset diff, the batch flow and its cache."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.diff import diff_extractions, write_changes
from pipeline.versioning import latest_version, review_key, set_latest, version_id
from tests.conftest import read_csv
from tests.gold_compare import compare_rows

V2A = Path(__file__).resolve().parent / "fixtures" / "v2a"
V2A_PDF = V2A / "nasiri2024_car_t_mm_review_v2a.pdf"


def _key(change: dict) -> str:
    return json.dumps(change, sort_keys=True)


def assert_same_changes(got: dict, gold: dict) -> None:
    assert set(got) == set(gold)
    assert got["added"] == gold["added"]
    assert got["removed"] == gold["removed"]
    assert sorted(map(_key, got["changed"])) == sorted(map(_key, gold["changed"]))


@pytest.fixture(scope="module")
def v2a_dir(tmp_path_factory) -> Path:
    from flows.extract import run_extraction

    out = tmp_path_factory.mktemp("v2a") / "out"
    run_extraction(str(V2A_PDF), str(out))
    return out


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_v2a_tables_match_gold(v2a_dir, number):
    gold = read_csv(V2A / f"table{number}.csv")
    got = read_csv(v2a_dir / "tables" / f"table{number}.csv")
    total, equal, mismatches = compare_rows(got, gold)
    assert not mismatches, f"v2a table {number}: {equal}/{total}\n" + "\n".join(mismatches[:30])


def test_diff_equals_gold_change_list(extraction_dir, v2a_dir, tmp_path):
    changes = diff_extractions(extraction_dir, v2a_dir)
    gold = json.loads((V2A / "changes.json").read_text("utf-8"))
    assert_same_changes(changes.summary(), gold)
    write_changes(changes, tmp_path, "old", "new")
    assert_same_changes(json.loads((tmp_path / "changes.json").read_text("utf-8")), gold)
    detail = json.loads((tmp_path / "changes_detail.json").read_text("utf-8"))
    for item in detail["changed"]:  # provenance on both sides
        assert item["old_source"]["page"] and item["new_source"]["page"]
        assert len(item["new_source"]["bbox"]) == 4
    # The paragraph added in the revision is reported, and reflowed text is not.
    added = [t["text"] for t in detail["text"]["added"]]
    assert any("NCT06187425" in t for t in added)
    assert not detail["text"]["removed"], detail["text"]["removed"][:3]
    md = (tmp_path / "changes.md").read_text("utf-8")
    assert "NCT05066646" in md and "29.1" in md


def test_diff_of_identical_outputs_is_empty(extraction_dir):
    changes = diff_extractions(extraction_dir, extraction_dir)
    assert changes.empty and not changes.changed


def test_diff_cli(extraction_dir, v2a_dir, tmp_path):
    from pipeline.cli import app

    result = CliRunner().invoke(app, ["diff", str(extraction_dir), str(v2a_dir), "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "changes.md").exists()
    bad = CliRunner().invoke(app, ["diff", str(tmp_path), str(v2a_dir), "--out", str(tmp_path / "e")])
    assert bad.exit_code == 2


def test_review_key_and_latest_pointer(tmp_path):
    assert review_key("10.1186/s40364-024-00634-5", "x") == "doi-10.1186_s40364-024-00634-5"
    assert review_key(None, "Updates on CAR T cell therapy!") == "title-updates-on-car-t-cell-therapy"
    assert version_id("ab" * 32) == "ab" * 8
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    assert latest_version(tmp_path) is None
    set_latest(tmp_path, "v1")
    set_latest(tmp_path, "v2")
    assert latest_version(tmp_path).name == "v2"


def _batch_folder(tmp_path: Path, pdfs: list[tuple[Path, str]]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, (src, name) in enumerate(pdfs):
        dst = folder / name
        shutil.copy(src, dst)
        os.utime(dst, (1_700_000_000 + i, 1_700_000_000 + i))  # oldest first = publish order
    return folder


def test_batch_flow_versions_caches_and_diffs(tmp_path, review_pdf):
    from flows.batch import batch_extract, run_batch

    folder = _batch_folder(tmp_path, [(review_pdf, "a_original.pdf"), (V2A_PDF, "b_revision.pdf")])
    (folder / "c_broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    out = tmp_path / "out"
    first, state = run_batch(batch_extract, str(folder), str(out), report=True)
    assert state == "Failed"  # a document failed; the others were processed
    status = {Path(r.pdf).name: r.status for r in first}
    for r in first:
        if r.status == "extracted":
            assert (Path(r.out) / "report" / "index.html").exists()
    assert status == {"a_original.pdf": "extracted", "b_revision.pdf": "extracted", "c_broken.pdf": "failed"}
    review_dir = out / "doi-10.1186_s40364-024-00634-5"
    revision = next(r for r in first if r.pdf.endswith("b_revision.pdf"))
    assert latest_version(review_dir).name == revision.version
    gold = json.loads((V2A / "changes.json").read_text("utf-8"))
    assert_same_changes(json.loads((review_dir / revision.version / "changes.json").read_text("utf-8")), gold)
    assert not (out / ".staging").exists()

    second, _ = run_batch(batch_extract, str(folder), str(out))
    assert {Path(r.pdf).name: r.status for r in second}["a_original.pdf"] == "cached"
    assert {Path(r.pdf).name: r.status for r in second}["b_revision.pdf"] == "cached"
    assert latest_version(review_dir).name == revision.version  # a cached old version never becomes latest

    original = next(r for r in first if r.pdf.endswith("a_original.pdf"))
    shutil.rmtree(original.out)  # a deleted output is extracted again, not served from the cache
    third, _ = run_batch(batch_extract, str(folder), str(out))
    assert {Path(r.pdf).name: r.status for r in third}["a_original.pdf"] == "extracted"
    assert (Path(original.out) / "tables" / "table1.csv").exists()


def test_batch_on_local_dask_cluster(tmp_path, review_pdf):
    from flows.batch import batch_extract, batch_runner, run_batch

    folder = _batch_folder(tmp_path, [(review_pdf, "r1.pdf"), (V2A_PDF, "r2.pdf"),
                                      (review_pdf, "r3.pdf"), (V2A_PDF, "r4.pdf")])
    (folder / "r5.pdf").write_bytes(V2A_PDF.read_bytes()[:200_000])  # truncated: a distinct 3rd content
    (folder / "r6.pdf").write_bytes(review_pdf.read_bytes()[:100_000])  # truncated: a distinct 4th content
    runner = batch_runner(workers=2, dask=True)
    results, state = run_batch(batch_extract.with_options(task_runner=runner), str(folder), str(tmp_path / "out"))
    assert state == "Failed"
    status = {Path(r.pdf).name: r.status for r in results}
    assert status == {"r1.pdf": "extracted", "r2.pdf": "extracted", "r3.pdf": "duplicate", "r4.pdf": "duplicate",
                      "r5.pdf": "failed", "r6.pdf": "failed"}
    assert {r.rows for r in results if r.status != "failed"} == {157, 160}


def _table_output(folder: Path, rows: list[list[str]]) -> Path:
    (folder / "tables").mkdir(parents=True)
    lines = ["table,row,block,nct,cohort,orr"] + [",".join(["1", str(i), "1", *r]) for i, r in enumerate(rows, 1)]
    (folder / "tables" / "table1.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return folder


def test_diff_keeps_two_rows_of_one_trial_apart(tmp_path):
    """Two cohorts of one trial are two rows: a change in one cohort's ORR is reported."""
    old = _table_output(tmp_path / "old", [["NCT01234567", "Cohort A", "50"], ["NCT01234567", "Cohort B", "60"],
                                           ["NCT07654321", "", "40"]])
    new = _table_output(tmp_path / "new", [["NCT01234567", "Cohort A", "55"], ["NCT01234567", "Cohort B", "60"],
                                           ["NCT01234567", "Cohort C", "70"], ["NCT07654321", "", "45"]])
    changes = diff_extractions(old, new)
    assert sorted((c["nct"], c["field"], c["old"], c["new"]) for c in changes.changed) == [
        ("NCT01234567 | cohort=Cohort A", "orr", "50", "55"), ("NCT07654321", "orr", "40", "45")]
    assert changes.added == {"table1": ["NCT01234567 | cohort=Cohort C; orr=70"]}
    assert changes.removed == {"table1": []}
    back = diff_extractions(new, old)
    assert back.removed == {"table1": ["NCT01234567 | cohort=Cohort C; orr=70"]}
