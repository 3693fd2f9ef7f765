"""The batch index answers an unchanged folder without Prefect, and only when every output is still there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pipeline.batch_index import cache_key, cached_results, find_pdfs, remember
from pipeline.outputs import write_manifest
from pipeline.versioning import file_sha256

ROOT = Path(__file__).resolve().parents[1]


def _done(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A folder with one 'PDF' and an output root where its version was extracted."""
    folder, root = tmp_path / "in", tmp_path / "out"
    folder.mkdir(parents=True)
    pdf = folder / "a.pdf"
    pdf.write_bytes(b"%PDF-1.7 stand-in content")
    version = root / "review-a" / "v1"
    version.mkdir(parents=True)
    (version / "document.json").write_text("{}")
    write_manifest(version, pdf_sha256=file_sha256(pdf))
    result = {"pdf": str(pdf), "status": "extracted", "message": "", "review_key": "review-a", "version": "v1",
              "out": str(version), "tables": 1, "rows": 3, "seconds": 9.0, "changes": "first version"}
    remember([result], {str(pdf): file_sha256(pdf)}, root)
    return folder, root, result


def test_unchanged_folder_is_served_from_the_index(tmp_path):
    folder, root, result = _done(tmp_path)
    cached = cached_results(find_pdfs(folder), root)
    assert [(r["status"], r["out"], r["rows"]) for r in cached] == [("cached", result["out"], 3)]


def test_a_new_or_changed_pdf_or_a_missing_output_needs_the_flow(tmp_path):
    folder, root, result = _done(tmp_path)
    (folder / "b.pdf").write_bytes(b"%PDF-1.7 another")
    assert cached_results(find_pdfs(folder), root) is None
    (folder / "b.pdf").unlink()
    (folder / "a.pdf").write_bytes(b"%PDF-1.7 revised content")
    assert cached_results(find_pdfs(folder), root) is None
    folder, root, result = _done(tmp_path / "again")
    (Path(result["out"]) / "document.json").unlink()
    assert cached_results(find_pdfs(folder), root) is None


def test_report_wanted_but_not_built_needs_the_flow(tmp_path):
    folder, root, result = _done(tmp_path)
    assert cached_results(find_pdfs(folder), root, report=True) is None
    (Path(result["out"]) / "report").mkdir()
    (Path(result["out"]) / "report" / "index.html").write_text("<html></html>")
    write_manifest(Path(result["out"]))
    assert cached_results(find_pdfs(folder), root, report=True)[0]["status"] == "cached"


def test_same_content_twice_is_a_duplicate(tmp_path):
    folder, root, _ = _done(tmp_path)
    twin = folder / "z_copy.pdf"
    twin.write_bytes((folder / "a.pdf").read_bytes())
    os.utime(twin, (2_000_000_000, 2_000_000_000))
    statuses = [r["status"] for r in cached_results(find_pdfs(folder), root)]
    assert statuses == ["cached", "duplicate"]


def test_key_includes_the_output_root(tmp_path):
    sha = "0" * 64
    assert cache_key(sha, tmp_path / "a") != cache_key(sha, tmp_path / "b")


def test_cli_answers_a_cached_folder_without_importing_prefect(tmp_path):
    folder, root, _ = _done(tmp_path)
    script = ("import sys\nfrom typer.testing import CliRunner\nfrom pipeline.cli import app\n"
              f"result = CliRunner().invoke(app, ['batch', {str(folder)!r}, '--out', {str(root)!r}])\n"
              "print(result.exit_code, 'prefect' in sys.modules)\nprint(result.output)")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(tmp_path / "prefect")})
    first, _, output = proc.stdout.partition("\n")
    assert first == "0 False", proc.stdout + proc.stderr
    assert "cached" in output
    assert json.loads((root / ".batch-index.json").read_text())  # the index the flow run left
