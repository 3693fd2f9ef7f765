"""Batch progress: pages and documents from every worker process, shown as lines when stderr is no terminal."""

from __future__ import annotations

import multiprocessing
import re
import time
from pathlib import Path

from typer.testing import CliRunner

from pipeline.progress import BatchProgress, page_count, page_recorder, record_document


def _read_pages(log: str, pdf: str, total: int) -> None:
    record = page_recorder(log, pdf)
    for page in range(1, total + 1):
        record(page, total)
    record_document(log, pdf, "extracted")


def test_pages_and_documents_from_several_processes(tmp_path):
    log = tmp_path / "run.progress"
    pdfs = [str(tmp_path / f"{name}.pdf") for name in "abc"]
    progress = BatchProgress(log, pdfs)
    progress.count_pages(lambda pdf: {"a": 30, "b": 40}.get(pdf.stem))  # c: its count is unknown up front
    assert progress.documents == (0, 3) and progress.pages == (0, 70)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_read_pages, args=(str(log), pdf, n)) for pdf, n in zip(pdfs, (30, 40, 25))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    progress.update()
    assert progress.documents == (3, 3)
    assert progress.pages == (95, 95)  # c's 25 pages came with its first page read
    assert re.fullmatch(r"batch: 3/3 documents, 95/95 pages, [\d.]+ pages/s, \d+ s", progress.line())


def test_a_finished_document_counts_all_its_pages_and_a_half_written_line_waits(tmp_path):
    log = tmp_path / "run.progress"
    progress = BatchProgress(log, ["a.pdf", "b.pdf", "c.pdf"])
    progress.count_pages(lambda pdf: 10)
    record_document(log, "a.pdf", "cached")  # no page read
    page_recorder(log, "b.pdf")(4, 12)  # the document's own count wins over the one made up front
    with open(log, "a") as handle:
        handle.write('{"pdf": "c.pdf", "pa')
    progress.update()
    assert progress.documents == (1, 3) and progress.pages == (14, 32)
    with open(log, "a") as handle:
        handle.write('ges": 2, "of": 10}\n')
    progress.update()
    assert progress.pages == (16, 32)


def test_page_count_reads_the_page_tree(review_pdf, tmp_path):
    import pdfplumber

    with pdfplumber.open(review_pdf) as pdf:
        assert page_count(review_pdf) == len(pdf.pages)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    assert page_count(tmp_path / "broken.pdf") is None


def test_batch_prints_progress_lines_when_stderr_is_not_a_terminal(tmp_path, monkeypatch):
    """The flow's workers write the progress log; the command prints a line every interval and at the end."""
    import flows.batch
    import pipeline.cli

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.pdf", "b.pdf"):
        (folder / name).write_bytes(b"%PDF-1.4 stand-in")  # the page counts come from the log

    def fake_run_batch(flow_fn, folder, out, password, report, progress):
        for pdf in sorted(Path(folder).iterdir()):
            for page in range(1, 4):
                page_recorder(progress, str(pdf))(page, 3)
                time.sleep(0.15)
            record_document(progress, str(pdf), "extracted")
        return [], "Completed"

    monkeypatch.setattr(pipeline.cli, "prefect_server_configured", lambda: True)  # no temporary server
    monkeypatch.setattr(flows.batch, "run_batch", fake_run_batch)
    result = CliRunner().invoke(pipeline.cli.app, ["batch", str(folder), "--out", str(tmp_path / "out"),
                                                   "--progress-interval", "0.1"])
    assert result.exit_code == 0, result.output
    lines = [m.groups() for m in re.finditer(r"batch: (\d+)/2 documents, (\d+)/(\d+) pages", result.output)]
    assert len(lines) >= 3, result.output
    assert lines[-1] == ("2", "6", "6")
    done = [(int(d), int(p)) for d, p, _ in lines]
    assert done == sorted(done) and done[0] < done[-1]  # counts only grow, from the start to the end
    assert not (tmp_path / "out" / ".staging").exists()  # the progress log is removed with its folder
