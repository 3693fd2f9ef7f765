"""The `batch_extract` flow: every PDF of a folder into versioned, diffed output folders.

Layout: <out>/<review-key>/<version-id>/ (review-key from the DOI, else the title;
version-id from the PDF's sha256) and <out>/<review-key>/latest -> newest version. A
document is one Prefect task, cached on (PDF sha256, pipeline fingerprint, output root):
an unchanged PDF under an unchanged pipeline is not processed again. Publishing (the diff
against the previous latest version, then the `latest` pointer) runs in the flow, one
document at a time, in file-modification order, after the document's output is complete.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from prefect import flow, task
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from flows.extract import run_extraction
from pipeline.diff import diff_extractions, write_changes
from pipeline.errors import ReviewExtractError
from pipeline.outputs import move_into_place
from pipeline.pdf_loader import file_sha256
from pipeline.versioning import (
    latest_version,
    pipeline_fingerprint,
    review_key,
    set_latest,
    version_id,
)

PUBLISHED_MARK = "published.json"


@dataclass(slots=True)
class DocumentResult:
    pdf: str
    status: str  # "extracted", "cached", "duplicate" (same content as another PDF of the batch) or "failed"
    message: str = ""
    review_key: str = ""
    version: str = ""
    out: str = ""
    tables: int = 0
    rows: int = 0
    seconds: float = 0.0
    changes: str = ""  # "first version", "no changes" or a short count of changes


def _cache_key(context, parameters) -> str:
    """sha256 of the PDF + pipeline fingerprint + output root."""
    pdf, root = Path(parameters["pdf"]), Path(parameters["root"]).resolve()
    return f"{file_sha256(pdf)}-{pipeline_fingerprint()}-{root}"


@task(name="extract-document", cache_key_fn=_cache_key, persist_result=True,
      task_run_name="extract {pdf}")
def extract_document(pdf: str, root: str, password: str | None = None) -> dict:
    """Extract one PDF into <root>/<review-key>/<version-id>/ (replacing an older copy)."""
    start = time.perf_counter()
    root_path = Path(root)
    sha = file_sha256(Path(pdf))
    vid = version_id(sha)
    staging = root_path / ".staging" / vid
    try:
        summary = run_extraction(pdf, str(staging), password, use_tasks=False)
    except ReviewExtractError as exc:  # expected: reported in the batch summary, never cached
        return asdict(DocumentResult(pdf=pdf, status="failed", message=str(exc)))
    key = review_key(summary.info.doi, summary.info.title)
    final = root_path / key / vid
    move_into_place(staging, final)
    return asdict(DocumentResult(pdf=pdf, status="extracted", review_key=key, version=vid, out=str(final),
                                 tables=summary.tables, rows=summary.rows,
                                 seconds=round(time.perf_counter() - start, 3)))


def _output_present(result: dict) -> bool:
    return not result.get("out") or (Path(result["out"]) / "document.json").exists()


def publish(result: DocumentResult) -> None:
    """Diff a newly extracted version against the review's latest one, then make it latest."""
    version_dir = Path(result.out)
    review_dir = version_dir.parent
    if (version_dir / PUBLISHED_MARK).exists():
        result.changes = "already published"
        return
    previous = latest_version(review_dir)
    if previous is not None and previous.name != version_dir.name:
        changes = diff_extractions(previous, version_dir)
        write_changes(changes, version_dir, previous.name, version_dir.name)
        n_added = sum(len(v) for v in changes.added.values())
        n_removed = sum(len(v) for v in changes.removed.values())
        result.changes = (f"vs {previous.name}: {n_added} rows added, {n_removed} removed, "
                          f"{len(changes.changed)} values changed")
    else:
        result.changes = "first version"
    (version_dir / PUBLISHED_MARK).write_text(json.dumps({"previous": previous.name if previous else None,
                                                          "published": time.time()}) + "\n")
    set_latest(review_dir, version_dir.name)


def _ensure_report(result: DocumentResult) -> None:
    """Build the version's report unless it has one; a failed report is noted, not fatal."""
    from pipeline.report import build_report

    version_dir = Path(result.out)
    if (version_dir / "report" / "index.html").exists():
        return
    try:
        build_report(version_dir)
    except Exception as exc:  # the extraction itself is complete and published
        result.message = f"report not built ({type(exc).__name__}: {exc})"


def find_pdfs(folder: Path) -> list[Path]:
    """PDFs of a folder (or one PDF), oldest first so revisions publish in order."""
    if folder.is_file():
        return [folder]
    pdfs = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".pdf"]
    return sorted(pdfs, key=lambda p: (p.stat().st_mtime, p.name))


@flow(name="batch_extract", task_runner=ThreadPoolTaskRunner(max_workers=2))
def batch_extract(folder: str, out: str, password: str | None = None, report: bool = False) -> list[DocumentResult]:
    """Extract every PDF in *folder*; one bad PDF never stops the batch.

    *report*: also build each version's curator's report (once; kept across cached runs).
    """
    started = time.perf_counter()
    pdfs = find_pdfs(Path(folder))
    Path(out).mkdir(parents=True, exist_ok=True)
    print(f"batch: {len(pdfs)} PDF(s) from {folder} -> {out}", file=sys.stderr, flush=True)
    first_of: dict[str, Path] = {}  # sha256 -> first PDF with that content
    twin_of: dict[Path, Path] = {}  # a duplicate PDF -> the PDF extracted in its place
    results: dict[Path, DocumentResult] = {}
    for pdf in pdfs:
        try:
            sha = file_sha256(pdf)
        except OSError as exc:
            results[pdf] = DocumentResult(pdf=str(pdf), status="failed", message=f"{pdf}: cannot be read ({exc})")
            continue
        if sha in first_of:  # the same content twice in one batch is extracted once
            twin_of[pdf] = first_of[sha]
            results[pdf] = DocumentResult(pdf=str(pdf), status="duplicate",
                                          message=f"same content as {first_of[sha].name}")
        else:
            first_of[sha] = pdf
    futures = {extract_document.submit(str(p), out, password): p for p in first_of.values()}
    for done, future in enumerate(as_completed(list(futures)), start=1):
        pdf = futures[future]
        value = future.result(raise_on_failure=False)
        if isinstance(value, dict) and future.state.name == "Cached" and not _output_present(value):
            # The cache remembers an output someone deleted since: extract again.
            value = extract_document.with_options(refresh_cache=True)(str(pdf), out, password)
        elif isinstance(value, dict) and future.state.name == "Cached" and value["status"] == "extracted":
            value = {**value, "status": "cached", "seconds": 0.0}
        if isinstance(value, dict):
            res = DocumentResult(**value)
        else:  # an unexpected error: the task failed and Prefect logged its traceback
            res = DocumentResult(pdf=str(pdf), status="failed", message=f"{type(value).__name__}: {value}")
        results[pdf] = res
        print(f"  [{done}/{len(pdfs)}] {res.status:<9} {pdf.name} {res.message}", file=sys.stderr, flush=True)
    ordered = [results[p] for p in pdfs]
    for pdf, first in twin_of.items():
        res, twin = results[pdf], results[first]
        res.review_key, res.version, res.out, res.rows = twin.review_key, twin.version, twin.out, twin.rows
    for res in ordered:
        if res.status in ("extracted", "cached"):
            publish(res)
            if report:
                _ensure_report(res)
    shutil.rmtree(Path(out) / ".staging", ignore_errors=True)
    print(f"batch: pipeline work {time.perf_counter() - started:.2f} s for {len(pdfs)} PDF(s) "
          f"({sum(r.status == 'cached' for r in ordered)} cached)", file=sys.stderr, flush=True)
    return ordered


def batch_runner(workers: int, dask: bool = False, dask_address: str | None = None):
    """Task runner for the batch: threads (default) or Dask (a LocalCluster or a scheduler)."""
    if dask or dask_address:
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    return ThreadPoolTaskRunner(max_workers=workers)


def _dask_batch_flow():
    """batch_extract on a local Dask cluster: a deployable variant (see prefect.yaml)."""
    return batch_extract.with_options(name="batch_extract_dask", task_runner=batch_runner(2, dask=True))


batch_extract_dask = _dask_batch_flow()
