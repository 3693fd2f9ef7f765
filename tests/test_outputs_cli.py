"""Output contract, atomic writes and the CLI running the Prefect flow."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.outputs import atomic_output_dir


def test_output_contract(extraction_dir):
    doc = json.loads((extraction_dir / "document.json").read_text("utf-8"))
    assert doc["title"] == "Updates on CAR T cell therapy in multiple myeloma"
    assert doc["doi"] == "10.1186/s40364-024-00634-5"
    assert doc["page_count"] == 22
    assert len(doc["sha256"]) == 64
    assert doc["tool_version"]
    assert {"load", "tables", "text"} <= set(doc["seconds"])
    for name in ("text.jsonl", "tables/tables.json", "tables/provenance.csv", "entities.jsonl",
                 "text_facts.csv", "dataset/trials.csv"):
        assert (extraction_dir / name).exists(), name


def test_failed_write_leaves_earlier_output_untouched(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("earlier run")
    with pytest.raises(RuntimeError):
        with atomic_output_dir(out) as tmp:
            (tmp / "half.txt").write_text("half written")
            raise RuntimeError("stage failed")
    assert (out / "marker.txt").read_text() == "earlier run"
    assert not (out / "half.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left behind


def test_successful_write_replaces_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with atomic_output_dir(out) as tmp:
        (tmp / "new.txt").write_text("new")
    assert (out / "new.txt").exists() and not (out / "old.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_cli_extract_runs_the_prefect_flow(tmp_path, review_pdf):
    out = tmp_path / "review"
    result = CliRunner().invoke(app, ["extract", str(review_pdf), "--out", str(out), "--no-report", "--flow"])
    assert result.exit_code == 0, result.output
    assert "157" in result.output  # table rows in the summary
    assert len((out / "tables" / "table2.csv").read_text("utf-8").splitlines()) > 62


def test_cli_reports_bad_input_without_traceback(tmp_path):
    bogus = tmp_path / "notes.pdf"
    bogus.write_text("plain text, not a PDF")
    result = CliRunner().invoke(app, ["extract", str(bogus), "--out", str(tmp_path / "o"), "--no-flow"])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_parallel_page_reading_equals_sequential(review_pdf, monkeypatch):
    from pipeline.pdf_loader import load_pdf

    monkeypatch.setenv("REVIEW_EXTRACT_PROCESSES", "1")
    sequential = load_pdf(review_pdf)
    monkeypatch.setenv("REVIEW_EXTRACT_PROCESSES", "2")
    seen = []
    parallel = load_pdf(review_pdf, progress=lambda done, total: seen.append((done, total)))
    assert [p.number for p in parallel.pages] == list(range(1, 23))
    assert [p.words for p in parallel.pages] == [p.words for p in sequential.pages]
    assert [p.rules for p in parallel.pages] == [p.rules for p in sequential.pages]
    assert seen[-1] == (22, 22)
