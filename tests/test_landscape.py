"""The landscape across reviews: one record per trial, per-review provenance, cross-review
conflicts in the reviews' own form, the exports, the report page and the CLI."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.landscape import build_landscape, write_landscape
from pipeline.versioning import latest_version, review_key, set_latest
from tests.layouts.mini_review import mini_review_pdf
from tests.layouts.reviews import build_review, review_names

ROOT = Path(__file__).resolve().parents[1]
V2A_PDF = ROOT / "tests" / "fixtures" / "v2a" / "nasiri2024_car_t_mm_review_v2a.pdf"
MINI_TITLE = "Cell therapies in plasma cell neoplasms: a short overview"
# Two trials shared with the bundled review (one with another ORR), two of its own.
MINI_V1 = [["NCT03430011", "BCMA (Orva-cel)", "I/II", "Completed", "165", "80", "USA"],
           ["NCT03338972", "BCMA (FCARH143)", "I", "Completed", "21", "100", "USA"],
           ["NCT09990001", "CD38 (XYZ-101)", "I", "Recruiting", "12", "50", "China"],
           ["NCT09990002", "GPRC5D (XYZ-202)", "I", "Recruiting", "30", "70", "China"]]
MINI_V2 = [r for r in MINI_V1 if r[0] != "NCT09990001"]  # the revision drops a trial


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


EVIDENCE_COLUMNS = ["trial_id", "registry_id", "field", "value", "raw", "source", "extractor", "table", "row",
                    "column", "page", "x0", "top", "x1", "bottom", "block", "sentence", "pooled", "chosen"]


def _output(root: Path, key: str, version: str, trials: list[dict]) -> Path:
    """A review's extraction output as the batch leaves it, with a dataset keyed by trial_id."""
    folder = root / key / version
    (folder / "dataset").mkdir(parents=True)
    (folder / "document.json").write_text(json.dumps({"title": key, "doi": None}))
    (folder / "dataset" / "trials.jsonl").write_text("".join(json.dumps(t) + "\n" for t in trials))
    evidence = [{"trial_id": t["trial_id"], "registry_id": t.get("registry_id") or "", "field": "orr_pct",
                 "value": t["orr_pct"], "raw": f"{t['orr_pct']:g}", "source": "table", "extractor": "table",
                 "table": 1, "row": i, "column": "orr", "page": 2, "x0": 10, "top": 20 + i, "x1": 30, "bottom": 28 + i,
                 "pooled": "false", "chosen": "true"} for i, t in enumerate(trials, 1)]
    _write_csv(folder / "dataset" / "evidence.csv", evidence, EVIDENCE_COLUMNS)
    _write_csv(folder / "dataset" / "conflicts.csv", [], ["conflict_id", "trial_id", "registry_id", "field"])
    set_latest(root / key, version)
    return folder


def _trial(trial_id: str, orr: float, registry_id: str | None = None, registry_ids=(), study=None) -> dict:
    return {"trial_id": trial_id, "registry_id": registry_id, "registry_ids": list(registry_ids),
            "study_name": study, "in_tables": True, "sources": ["T1r1"], "products": ["cilta-cel"],
            "orr_pct": orr, "conflict_fields": [], "unresolved_fields": []}


def test_trials_without_registry_ids_join_by_key_or_registry_id(tmp_path):
    root = tmp_path / "root"
    _output(root, "review-a", "v1", [_trial("NCT03651128", 71.0, "NCT03651128", ["NCT03651128"], "KarMMa-3"),
                                     _trial("study:cartitude-4", 85.0, study="CARTITUDE-4")])
    _output(root, "review-b", "v1", [_trial("study:karmma-3", 71.0, None, ["NCT03651128"], "KarMMa-3"),
                                     _trial("study:cartitude-4", 84.6, study="CARTITUDE-4")])
    _output(root, "review-c", "v1", [_trial("study:KarMMa-3", 71.0, study="KarMMa-3"),  # by acronym alone
                                     _trial("NCT01111111", 40.0, "NCT01111111", ["NCT01111111"], "TWIN"),
                                     _trial("NCT02222222", 45.0, "NCT02222222", ["NCT02222222"], "TWIN"),
                                     _trial("study:TWIN", 42.0, study="TWIN")])
    merged = build_landscape(root)
    trials = merged.frames["trials"].set_index("trial_key")
    # each shared trial once; an acronym naming two registry ids ("TWIN") joins neither
    assert sorted(trials.index) == ["NCT01111111", "NCT02222222", "NCT03651128", "study:TWIN",
                                    "study:cartitude-4"]
    assert any("TWIN" in w and "NCT01111111" in w for w in merged.warnings)
    assert trials.loc["NCT03651128", "n_reviews"] == 3 and trials.loc["NCT03651128", "orr_pct"] == 71.0
    assert trials.loc["study:cartitude-4", "cross_review_conflict_fields"] == ["orr_pct"]
    conflicts = merged.frames["conflicts"]
    cartitude = conflicts[(conflicts["trial_key"] == "study:cartitude-4") & (conflicts["scope"] == "reviews")]
    assert sorted(zip(cartitude["review_key"], cartitude["value"])) == [("review-a", "85"), ("review-b", "84.6")]
    assert set(cartitude["rule"]) == {"unresolved"} and pd_isna(trials.loc["study:cartitude-4", "orr_pct"])
    assert cartitude[["table", "row", "page", "x0", "top", "x1", "bottom"]].notna().all().all()
    reviews = merged.frames["trial_reviews"]
    assert sorted(reviews[reviews["trial_key"] == "NCT03651128"]["review_trial_key"]) == [
        "NCT03651128", "study:KarMMa-3", "study:karmma-3"]


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_a_newer_version_that_drops_a_trial_updates_the_landscape(tmp_path):
    root = tmp_path / "root"
    _output(root, "review-a", "v1", [_trial("study:alpha", 50.0), _trial("study:beta", 60.0)])
    assert sorted(build_landscape(root).frames["trials"]["trial_key"]) == ["study:alpha", "study:beta"]
    _output(root, "review-a", "v2", [_trial("study:beta", 60.0)])
    merged = build_landscape(root)
    assert list(merged.frames["trials"]["trial_key"]) == ["study:beta"]
    assert list(merged.frames["reviews"]["version"]) == ["v2"]


@pytest.fixture(scope="module")
def batch_root(tmp_path_factory, review_pdf) -> Path:
    """A batch over the bundled review, its revision v2a and a second review in two versions."""
    from flows.batch import batch_extract, run_batch

    tmp = tmp_path_factory.mktemp("landscape")
    folder = tmp / "in"
    folder.mkdir()
    shutil.copy(review_pdf, folder / "a_original.pdf")
    shutil.copy(V2A_PDF, folder / "b_revision.pdf")
    mini_review_pdf(folder / "c_mini_v1.pdf", MINI_TITLE, MINI_V1, "1 March 2024")
    mini_review_pdf(folder / "d_mini_v2.pdf", MINI_TITLE, MINI_V2, "2 June 2024")
    # The mini revision's file is the older one: the printed dates, not file times, order it.
    for i, name in enumerate(["a_original.pdf", "b_revision.pdf", "d_mini_v2.pdf", "c_mini_v1.pdf"]):
        os.utime(folder / name, (1_700_000_000 + i, 1_700_000_000 + i))
    for name in review_names():  # the test reviews of other areas (their own columns and layouts)
        build_review(name, folder / f"e_{name}.pdf")
    results, state = run_batch(batch_extract, str(folder), str(tmp / "out"))
    assert state == "Completed", [(r.pdf, r.message) for r in results]
    return tmp / "out"


def _dataset(version_dir: Path) -> list[dict]:
    with open(version_dir / "dataset" / "trials.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_landscape_of_a_batch(batch_root, tmp_path):
    from frictionless import validate

    reviews = {p.name: latest_version(p) for p in batch_root.iterdir() if not p.name.startswith(".")}
    assert len(reviews) == 2 + len(review_names())
    nasiri = reviews["doi-10.1186_s40364-024-00634-5"]
    mini_key = review_key(None, MINI_TITLE)
    assert json.loads((nasiri / "document.json").read_text())["source"] == "b_revision.pdf"  # v2a is latest
    assert json.loads((reviews[mini_key] / "document.json").read_text())["source"] == "d_mini_v2.pdf"

    merged = build_landscape(batch_root)
    trials = merged.frames["trials"].set_index("trial_key")
    records = [t for v in reviews.values() for t in _dataset(v)]
    assert len(trials) <= len(records) and set(trials.index) <= {t.get("registry_id") or t["trial_id"] for t in records}
    assert "NCT09990001" not in trials.index and "NCT09990002" in trials.index  # dropped by the revision
    in_reviews: dict[str, set[str]] = {}
    for key, version in reviews.items():
        for t in _dataset(version):
            for rid in set(t.get("registry_ids") or []) | {t.get("registry_id")} - {None}:
                in_reviews.setdefault(rid, set()).add(key)
    shared = {rid: keys for rid, keys in in_reviews.items() if len(keys) > 1}
    assert {"NCT03430011", "NCT03338972"} <= set(shared)
    assert len(shared) >= 5  # the mini review's two and the myeloma test review's trials
    for rid, keys in shared.items():  # every shared trial once, with each review that reports it
        rows = trials[trials["registry_ids"].map(lambda ids, r=rid: r in ids) | (trials.index == rid)]
        assert len(rows) == 1, rid
        assert set(rows.iloc[0]["reviews"]) == keys and rows.iloc[0]["n_reviews"] == len(keys)
    conflicts = merged.frames["conflicts"]
    orr = conflicts[(conflicts["scope"] == "reviews") & (conflicts["trial_key"] == "NCT03430011")
                    & (conflicts["field"] == "orr_pct")]
    assert {"80", "91"} <= set(orr["value"])  # the mini review's and v2a's (other reviews may add theirs)
    assert {nasiri.parent.name, mini_key} <= set(orr["review_key"])
    assert all(reviews[k].name == v for k, v in zip(orr["review_key"], orr["version"]))  # latest versions
    assert orr[["table", "row", "column", "page", "x0", "top", "x1", "bottom"]].notna().all().all()
    assert "orr_pct" in trials.loc["NCT03430011", "unresolved_fields"]
    agreeing = conflicts[(conflicts["scope"] == "reviews") & (conflicts["trial_key"] == "NCT03338972")]
    assert not {"orr_pct", "enrollment"} & set(agreeing["field"])
    within = conflicts[conflicts["scope"] == "review"]
    assert within["conflict_id"].nunique() == sum(
        len({r["conflict_id"] for r in csv.DictReader(open(v / "dataset" / "conflicts.csv"))}) for v in reviews.values())
    evidence = merged.frames["evidence"]
    assert set(evidence["review_key"]) == set(reviews)

    out = tmp_path / "landscape"
    write_landscape(merged, out)
    report = validate(str(out / "datapackage.json"))
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "message"])[:5]
    import duckdb

    con = duckdb.connect(str(out / "landscape.duckdb"), read_only=True)
    try:
        shared = con.sql("SELECT trial_key FROM trials WHERE n_reviews > 1 ORDER BY trial_key").fetchall()
        parquet = con.sql(f"SELECT count(*) FROM '{out / 'trials.parquet'}'").fetchall()[0][0]
    finally:
        con.close()
    assert [r[0] for r in shared] == sorted(trials.index[trials["n_reviews"] > 1])
    assert parquet == len(trials)


def test_landscape_cli_and_report(batch_root, tmp_path):
    from pipeline.cli import app

    out = tmp_path / "land"
    result = CliRunner().invoke(app, ["landscape", str(batch_root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report" / "index.html").read_text("utf-8")
    assert "NCT03430011" in html and "orr_pct" in html and "unresolved" in html
    assert json.loads((out / "datapackage.json").read_text())["counts"]["shared_trials"] >= 2
    missing = CliRunner().invoke(app, ["landscape", str(tmp_path / "nothing"), "--out", str(out)])
    assert missing.exit_code == 2
