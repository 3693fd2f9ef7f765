"""Batch integrity: per-run staging, complete-output caching, failures never cached, runs killed
mid-write cleaned up, write errors in one line, the flow's final state, version order under
concurrency, and the exports accepted by `frictionless validate` and the README's queries."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.errors import OutputWriteError
from pipeline.outputs import atomic_output_dir, output_complete, remove_stale_temporaries
from pipeline.versioning import VERSIONS_FILE, latest_version, printed_dates
from tests.layouts import small

ROOT = Path(__file__).resolve().parents[1]
V2A_PDF = ROOT / "tests" / "fixtures" / "v2a" / "nasiri2024_car_t_mm_review_v2a.pdf"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def small_pdf(tmp_path_factory) -> Path:
    return small.suspicious_table_pdf(tmp_path_factory.mktemp("small") / "small.pdf")


def _folder(tmp_path: Path, *pdfs: tuple[Path, str]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for i, (src, name) in enumerate(pdfs):
        shutil.copy(src, folder / name)
        os.utime(folder / name, (1_700_000_000 + i, 1_700_000_000 + i))
    return folder


def _run(folder: Path, out: Path, password: str | None = None):
    from flows.batch import batch_extract, run_batch

    results, state = run_batch(batch_extract, str(folder), str(out), password)
    return {Path(r.pdf).name: r for r in results}, state


def test_batch_keeps_other_runs_staging_and_cleans_dead_runs(tmp_path, small_pdf):
    out = tmp_path / "out"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    dead = _dead_pid()
    try:
        other_run = out / ".staging" / f"{live.pid}-other" / "0123456789abcdef"
        other_run.mkdir(parents=True)
        (other_run / "text.jsonl").write_text("half-written\n")
        killed_run = out / ".staging" / f"{dead}-killed" / "fedcba9876543210"
        killed_run.mkdir(parents=True)
        (out / ".staging" / f"{dead}-killed.progress").write_text('{"pdf": "x.pdf", "pages": 1, "of": 2}\n')
        (out / ".staging" / f"{live.pid}-other.progress").write_text('{"pdf": "y.pdf", "pages": 1, "of": 2}\n')
        review = out / "title-some-review"
        (review / f".0123456789abcdef.tmp-{dead}").mkdir(parents=True)
        (review / f".0123456789abcdef.tmp-{live.pid}").mkdir()
        results, state = _run(_folder(tmp_path, (small_pdf, "small.pdf")), out)
        assert results["small.pdf"].status == "extracted" and state == "Completed"
        assert (other_run / "text.jsonl").read_text() == "half-written\n"  # another run's work is left alone
        assert not killed_run.parent.exists()
        assert not (review / f".0123456789abcdef.tmp-{dead}").exists()
        assert (review / f".0123456789abcdef.tmp-{live.pid}").exists()
        assert sorted(p.name for p in (out / ".staging").iterdir()) == [f"{live.pid}-other",
                                                                         f"{live.pid}-other.progress"]
    finally:
        live.kill()
        live.wait()


def test_cache_checks_the_complete_file_set(tmp_path, small_pdf):
    folder = _folder(tmp_path, (small_pdf, "small.pdf"))
    out = tmp_path / "out"
    first, _ = _run(folder, out)
    version = Path(first["small.pdf"].out)
    assert output_complete(version)
    assert _run(folder, out)[0]["small.pdf"].status == "cached"
    (version / "text.jsonl").unlink()
    shutil.rmtree(version / "tables")
    assert not output_complete(version)
    repaired, _ = _run(folder, out)
    assert repaired["small.pdf"].status == "extracted"
    assert output_complete(version) and (version / "tables" / "tables.json").exists()
    with open(version / "dataset" / "trials.jsonl", "a", encoding="utf-8") as handle:
        handle.write("\n")  # a file of the wrong size counts as damaged too
    assert _run(folder, out)[0]["small.pdf"].status == "extracted"


def test_failed_document_is_not_cached_and_fails_the_flow(tmp_path, small_pdf):
    folder = _folder(tmp_path, (small_pdf, "small.pdf"))
    small.encrypt(small_pdf, folder / "locked.pdf", "s3cret")
    out = tmp_path / "out"
    results, state = _run(folder, out)
    assert results["locked.pdf"].status == "failed" and "encrypted" in results["locked.pdf"].message
    assert results["small.pdf"].status == "extracted"  # the others are still processed
    assert state == "Failed"
    again, state = _run(folder, out, password="s3cret")
    assert again["locked.pdf"].status == "extracted", again["locked.pdf"].message
    assert state == "Completed"


def test_run_killed_while_writing_is_cleaned_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from pipeline.outputs import atomic_output_dir
        with atomic_output_dir(Path({str(out)!r})) as tmp:
            (tmp / "text.jsonl").write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.wait() == -signal.SIGKILL
    left = [p.name for p in tmp_path.iterdir()]
    assert left == [f".out.tmp-{proc.pid}"]
    live_tmp = tmp_path / f".out.tmp-{os.getppid()}"  # a running process: never touched
    live_tmp.mkdir()
    with atomic_output_dir(out) as tmp:
        (tmp / "document.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", live_tmp.name])


def test_killed_between_renames_restores_the_previous_output(tmp_path):
    dead = _dead_pid()
    (tmp_path / f".out.old-{dead}").mkdir()
    (tmp_path / f".out.old-{dead}" / "document.json").write_text("{}")
    assert remove_stale_temporaries(tmp_path, "out") == [tmp_path / f".out.old-{dead}"]
    assert (tmp_path / "out" / "document.json").exists()


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOSPC, errno.ENAMETOOLONG])
def test_write_errors_become_one_line(tmp_path, code):
    with pytest.raises(OutputWriteError) as info:
        with atomic_output_dir(tmp_path / "out") as tmp:
            raise OSError(code, os.strerror(code), str(tmp / "tables"))
    message = str(info.value)
    assert "\n" not in message and os.strerror(code) in message
    assert info.value.exit_code == 9
    assert list(tmp_path.iterdir()) == []  # nothing half-written left


def test_extract_cli_write_errors_exit_9_without_traceback(tmp_path, small_pdf, monkeypatch):
    from pipeline.cli import app

    too_long = tmp_path / ("x" * 300)
    result = CliRunner().invoke(app, ["extract", str(small_pdf), "--out", str(too_long), "--no-flow", "--no-report"])
    assert result.exit_code == 9, result.output
    assert "File name too long" in result.output and "Traceback" not in result.output

    import pipeline.outputs

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pipeline.outputs, "write_text_blocks", disk_full)  # the write stage imports it on use
    result = CliRunner().invoke(app, ["extract", str(small_pdf), "--out", str(tmp_path / "o"), "--no-flow",
                                      "--no-report"])
    assert result.exit_code == 9 and "No space left on device" in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_batch_cli_write_errors(tmp_path, small_pdf, monkeypatch):
    from pipeline.cli import app

    folder = _folder(tmp_path, (small_pdf, "small.pdf"))
    result = CliRunner().invoke(app, ["batch", str(folder), "--out", str(tmp_path / ("y" * 300))])
    assert result.exit_code == 9 and "File name too long" in result.output, result.output

    import pipeline.outputs

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(pipeline.outputs, "write_text_blocks", read_only)  # the write stage imports it on use
    result = CliRunner().invoke(app, ["batch", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "Read-only file system" in result.output and "Traceback" not in result.output


def test_printed_publication_dates():
    blocks = [{"page": 22, "type": "footnote", "text": "Received: 4 April 2024 Accepted: 5 August 2024"},
              {"page": 22, "type": "footnote", "text": "Published online: 12 September 2024"},
              {"page": 1, "type": "front_matter", "text": "Revised 3 Oct 2024; Accepted: 5 Aug 2024"},
              {"page": 7, "type": "paragraph", "text": "Updated results were published: 1 June 2025."}]
    assert sorted(printed_dates(blocks)) == ["2024-09-12", "2024-10-03"]


def _fake_version(review: Path, vid: str, printed: str | None, text_rows: int) -> Path:
    from pipeline.outputs import write_manifest

    version = review / vid
    (version / "tables").mkdir(parents=True)
    (version / "document.json").write_text(json.dumps({"metadata": {"ModDate": "D:20240101000000Z"}}))
    lines = [{"id": "b1", "page": 1, "type": "front_matter", "text": f"Published online: {printed}"}] if printed else []
    (version / "text.jsonl").write_text("".join(json.dumps(b) + "\n" for b in lines))
    rows = "".join(f"1,{i},1,NCT0000000{i},{i}\n" for i in range(1, text_rows + 1))
    (version / "tables" / "table1.csv").write_text("table,row,block,nct,orr\n" + rows)
    write_manifest(version)
    return version


def test_version_chain_follows_the_documents_dates_not_publish_order(tmp_path):
    from flows.batch import DocumentResult, publish

    review = tmp_path / "doi-x"
    newer = _fake_version(review, "bbbb", "2 March 2025", 3)
    older = _fake_version(review, "aaaa", "1 March 2024", 2)
    for version, mtime in ((newer, 100.0), (older, 200.0), (newer, 300.0), (older, 400.0)):
        publish(DocumentResult(pdf="x.pdf", status="extracted", out=str(version)), mtime)  # re-runs included
        assert latest_version(review).name == "bbbb"
    chain = json.loads((review / VERSIONS_FILE).read_text())
    assert chain["chain"] == ["aaaa", "bbbb"]
    assert json.loads((older / "published.json").read_text())["previous"] is None
    assert json.loads((newer / "published.json").read_text())["previous"] == "aaaa"
    assert json.loads((newer / "changes.json").read_text())["added"]["table1"] == ["NCT00000003"]
    assert not (older / "changes.json").exists()
    # Without printed dates (equal metadata dates) the order is the order of first appearance.
    review2 = tmp_path / "title-y"
    second = _fake_version(review2, "1111", None, 2)
    first = _fake_version(review2, "2222", None, 2)
    publish(DocumentResult(pdf="b.pdf", status="extracted", out=str(second)), 2000.0)
    publish(DocumentResult(pdf="a.pdf", status="extracted", out=str(first)), 1000.0)
    assert json.loads((review2 / VERSIONS_FILE).read_text())["chain"] == ["2222", "1111"]
    assert latest_version(review2).name == "1111"


def test_two_batches_at_once_build_one_chain(tmp_path, review_pdf):
    """Two batch processes on one folder (the review and its revision), started 2 s apart."""
    folder = _folder(tmp_path, (review_pdf, "a_original.pdf"), (V2A_PDF, "b_revision.pdf"))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "pipeline.cli", "batch", str(folder), "--out", str(out)]
    procs = []
    for _ in range(2):
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        time.sleep(2)
    outputs = [p.communicate(timeout=900) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
        assert "Traceback" not in err, err[-6000:]
        # stderr is no terminal: progress comes as lines, the last one when the batch ends
        progress = [line for line in err.splitlines() if re.match(r"batch: \d+/2 documents, ", line)]
        assert re.match(r"batch: 2/2 documents, (\d+)/\1 pages, ", progress[-1]), progress
    review = out / "doi-10.1186_s40364-024-00634-5"
    versions = sorted(p.name for p in review.iterdir() if not p.name.startswith(".") and p.is_dir()
                      and not p.is_symlink())
    assert len(versions) == 2
    chain = json.loads((review / VERSIONS_FILE).read_text())["chain"]
    previous = {v: json.loads((review / v / "published.json").read_text())["previous"] for v in versions}
    assert previous == {chain[0]: None, chain[1]: chain[0]}  # a chain, no cycle
    latest = latest_version(review)
    assert latest.name == chain[1]
    document = json.loads((latest / "document.json").read_text())
    assert document["source"] == "b_revision.pdf" and document["counts"]["table_rows"] == 160
    for version in versions:
        assert output_complete(review / version)
    assert not (out / ".staging").exists()


def test_frictionless_validates_the_datapackage(extraction_dir):
    from frictionless import validate

    report = validate(str(extraction_dir / "dataset" / "datapackage.json"))
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "message"])[:5]
    checked = {task.name for task in report.tasks if task.type == "table"}
    assert {"trials", "trials-jsonl", "conflicts", "evidence"} <= checked


def _readme_queries() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    block = readme.split("Example questions", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in block.split(";") if s.strip()]
    return ["\n".join(ln for ln in s.splitlines() if not ln.strip().startswith("--")) for s in statements]


def test_readme_duckdb_queries_run(extraction_dir):
    import duckdb

    queries = _readme_queries()
    assert len(queries) == 4
    con = duckdb.connect(str(extraction_dir / "dataset" / "review.duckdb"), read_only=True)
    try:
        results = [con.sql(q).fetchall() for q in queries]
    finally:
        con.close()
    readme = (ROOT / "README.md").read_text("utf-8")
    claimed = readme.split("the first query returns", 1)[1].split("\n\n", 1)[0]
    assert {row[0] for row in results[0]} == set(re.findall(r"NCT\d{8}", claimed))
    assert results[2], "no trial combined with a proteasome inhibitor"
