"""Bad input: one clear line and a documented exit code, no traceback, nothing half-written.

Covers a missing file, a non-PDF, an empty file, a truncated and a corrupt PDF, an encrypted
PDF (without, with a wrong and with the right --password), an image-only (scanned) PDF, a
PDF without tables, a long (300-page) PDF with progress, a time limit that runs out, and a
table with a row that cannot be parsed (a warning and "partial": true).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.errors import (
    CorruptPdfError,
    EncryptedPdfError,
    ExtractionTimeoutError,
    InputNotFoundError,
    NotAPdfError,
    NoTextLayerError,
)
from tests.conftest import REVIEW_PDF
from tests.layouts import small

runner = CliRunner()


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "notes.pdf").write_text("these are my notes, not a PDF\n")
    (folder / "empty.pdf").write_bytes(b"")
    data = REVIEW_PDF.read_bytes()
    (folder / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (folder / "corrupt.pdf").write_bytes(data[:1500] + bytes(range(256)) * 200)
    small.encrypt(REVIEW_PDF, folder / "encrypted.pdf", "s3cret")
    small.image_only_pdf(folder / "scanned.pdf")
    small.no_tables_pdf(folder / "no_tables.pdf")
    small.long_pdf(folder / "long.pdf", pages=300)
    small.broken_row_pdf(folder / "broken_row.pdf")
    return folder


def _run(pdf: Path, out: Path, *extra: str):
    result = runner.invoke(__import__("pipeline.cli", fromlist=["app"]).app,
                           ["extract", str(pdf), "--out", str(out), "--no-flow", "--no-report", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _error_line(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize("name,error,needle", [
    ("missing.pdf", InputNotFoundError, "no such file"),
    ("notes.pdf", NotAPdfError, "not a PDF"),
    ("empty.pdf", NotAPdfError, "empty"),
    ("truncated.pdf", CorruptPdfError, "damaged PDF"),
    ("corrupt.pdf", CorruptPdfError, "damaged PDF"),
    ("encrypted.pdf", EncryptedPdfError, "encrypted"),
    ("scanned.pdf", NoTextLayerError, "no text layer"),
])
def test_bad_input_exits_with_its_code_and_leaves_earlier_output(bad, tmp_path, name, error, needle):
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.txt").write_text("an earlier extraction")
    result = _run(bad / name, out)
    assert result.exit_code == error.exit_code, result.output
    assert needle in _error_line(result)
    assert (out / "earlier.txt").read_text() == "an earlier extraction"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no half-written folder left


def test_exit_codes_are_distinct_and_documented():
    from pipeline.errors import EXIT_CODES

    codes = list(EXIT_CODES.values())
    assert len(set(codes)) == len(codes) and 0 not in codes and 1 not in codes
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    for code in codes:
        assert f"{code} " in readme.split("Exit codes:", 1)[1][:1200]


def test_encrypted_pdf_with_wrong_and_right_password(bad, tmp_path):
    wrong = _run(bad / "encrypted.pdf", tmp_path / "wrong", "--password", "guess")
    assert wrong.exit_code == EncryptedPdfError.exit_code
    assert "password is wrong" in _error_line(wrong)
    assert not (tmp_path / "wrong").exists()
    right = _run(bad / "encrypted.pdf", tmp_path / "right", "--password", "s3cret")
    assert right.exit_code == 0, right.output
    assert len(list((tmp_path / "right" / "tables").glob("table*.csv"))) == 4


def test_pdf_without_tables(bad, tmp_path):
    result = _run(bad / "no_tables.pdf", tmp_path / "out")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "document.json").read_text())
    assert doc["counts"]["tables"] == 0 and doc["counts"]["text_blocks"] > 0
    assert doc["partial"] is False


def test_long_pdf_finishes_with_progress(bad, tmp_path):
    result = _run(bad / "long.pdf", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "load: page 150/300" in result.output and "load: page 300/300" in result.output
    doc = json.loads((tmp_path / "out" / "document.json").read_text())
    assert doc["page_count"] == 300


def test_time_limit_stops_the_document(bad, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.txt").write_text("kept")
    result = _run(bad / "long.pdf", out, "--timeout", "0.5")
    assert result.exit_code == ExtractionTimeoutError.exit_code, result.output
    assert "time limit" in _error_line(result)
    assert (out / "earlier.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_unparseable_row_gives_partial_result_with_warning(bad, tmp_path):
    result = _run(bad / "broken_row.pdf", tmp_path / "out")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "document.json").read_text())
    warnings = json.loads((tmp_path / "out" / "warnings.json").read_text())
    assert doc["partial"] is True and warnings["partial"] is True
    assert any("across several columns" in w for w in warnings["warnings"])
    rows = (tmp_path / "out" / "tables" / "table1.csv").read_text().splitlines()
    assert rows[1] == "1,1,1,Alpha Clinic,France,24,61,NCT01000001"
    assert rows[-1] == "1,7,1,Zeta Hospital,Poland,27,55,NCT01000006"
    assert any("interim analysis" in r for r in rows)  # the row's text is kept, not dropped


def test_cli_process_prints_one_line_and_no_traceback(bad, tmp_path):
    """The real entry point, in a process of its own: exit code and stderr as a user sees them."""
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "extract", str(bad / "corrupt.pdf"),
                           "--out", str(tmp_path / "out"), "--no-flow", "--no-report"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == CorruptPdfError.exit_code
    assert "Traceback" not in proc.stderr + proc.stdout
    assert [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert not (tmp_path / "out").exists()


def test_prefect_flow_mode_reports_expected_errors_without_traceback(bad, tmp_path):
    """The Prefect flow mode: Prefect's own failure logs must not show a traceback."""
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "extract", str(bad / "encrypted.pdf"),
                           "--out", str(tmp_path / "out"), "--no-report", "--flow"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == EncryptedPdfError.exit_code, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert [ln for ln in proc.stderr.splitlines() if ln.startswith("error:") and "encrypted" in ln]
    assert not (tmp_path / "out").exists()


def test_scanned_page_inside_a_text_pdf_is_a_partial_result(tmp_path):
    pdf = small.mixed_scan_pdf(tmp_path / "mixed.pdf")
    result = _run(pdf, tmp_path / "out")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "document.json").read_text())
    assert doc["partial"] is True
    assert any("page(s) 2 have no text layer" in w for w in doc["warnings"])


def test_time_limit_interrupts_a_page_that_hangs(bad, tmp_path, monkeypatch):
    """A pathological page stuck inside one call is stopped by the timer, not only between pages."""
    import time as _time

    from flows.extract import run_extraction
    from pipeline import pdf_loader

    def stuck(page, number, *rest):
        _time.sleep(60)

    monkeypatch.setattr(pdf_loader, "_page_layout", stuck)
    start = _time.monotonic()
    with pytest.raises(ExtractionTimeoutError):
        run_extraction(str(bad / "no_tables.pdf"), str(tmp_path / "out"), timeout=1.0)
    assert _time.monotonic() - start < 10
    assert not (tmp_path / "out").exists()
