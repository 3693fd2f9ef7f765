"""The `batch_extract` flow: every PDF of a folder into versioned, diffed output folders.

Layout: <out>/<review-key>/<version-id>/ (review-key from the DOI, else the title;
version-id from the PDF's sha256) and <out>/<review-key>/latest -> newest version. A
document is one Prefect task, cached on (PDF sha256, pipeline fingerprint, output root):
an unchanged PDF under an unchanged pipeline is not processed again, as long as its output
is complete (every file of its manifest.json). Each run stages its documents in its own
folder (<out>/.staging/<pid>-<token>/). Publishing (the version's place in the review's
chain, the diff against its predecessor, the `latest` pointer) runs in the flow under a
per-review file lock, so concurrent runs on one root never interleave.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from prefect import flow, task
from prefect.futures import as_completed
from prefect.states import Failed
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from flows.extract import run_extraction
from pipeline.batch_index import STAGING, find_pdfs
from pipeline.diff import diff_extractions, write_changes
from pipeline.errors import ReviewExtractError
from pipeline.outputs import (
    MANIFEST,
    move_into_place,
    output_complete,
    pid_alive,
    remove_stale_temporaries,
    write_error,
    write_json,
    write_manifest,
)
from pipeline.parallel import watch_parent
from pipeline.pdf_loader import file_sha256
from pipeline.progress import page_recorder, record_document
from pipeline.versioning import (
    latest_version,
    pipeline_fingerprint,
    read_versions,
    review_key,
    review_lock,
    set_latest,
    version_chain,
    version_evidence,
    version_id,
    write_versions,
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
def extract_document(pdf: str, root: str, staging: str, password: str | None = None,
                     progress: str | None = None) -> dict:
    """Extract one PDF into <root>/<review-key>/<version-id>/ (replacing an older copy).

    *staging*: this batch run's own scratch folder. An expected failure (encrypted, corrupt, a
    write error) is raised, so the task fails and its result is never cached: a re-run (say
    with --password) tries again. *progress*: the batch's progress log (each page read).
    """
    start = time.perf_counter()
    root_path = Path(root)
    sha = file_sha256(Path(pdf))
    vid = version_id(sha)
    staged = Path(staging) / vid
    summary = run_extraction(pdf, str(staged), password, use_tasks=False,
                             pages=page_recorder(progress, pdf) if progress else None)
    try:
        write_manifest(staged, pdf_sha256=sha, pipeline=pipeline_fingerprint())
    except OSError as exc:
        raise write_error(staged, exc) from None
    key = review_key(summary.info.doi, summary.info.title)
    final = root_path / key / vid
    with review_lock(final.parent):
        if output_complete(final) and _manifest(final).get("pipeline") == pipeline_fingerprint():
            shutil.rmtree(staged, ignore_errors=True)  # a concurrent run wrote the same version
        else:
            try:
                move_into_place(staged, final)
            except OSError as exc:
                raise write_error(final, exc) from None
    return asdict(DocumentResult(pdf=pdf, status="extracted", review_key=key, version=vid, out=str(final),
                                 tables=summary.tables, rows=summary.rows,
                                 seconds=round(time.perf_counter() - start, 3)))


def _manifest(version_dir: Path) -> dict:
    return json.loads((version_dir / MANIFEST).read_text("utf-8"))


def _cache_usable(result: dict) -> bool:
    """A cached result counts only for an extraction whose output is still complete (every file
    of its manifest): a version with missing or cut files is extracted again, a failure retried."""
    return result.get("status") == "extracted" and output_complete(Path(result["out"]))


def _describe(changes) -> str:
    n_added = sum(len(v) for v in changes.added.values())
    n_removed = sum(len(v) for v in changes.removed.values())
    return f"{n_added} rows added, {n_removed} removed, {len(changes.changed)} values changed"


def _link(version_dir: Path, previous: str | None) -> str:
    """Record *previous* as the version before *version_dir*, with the diff against it."""
    mark = version_dir / PUBLISHED_MARK
    if mark.exists():
        recorded = json.loads(mark.read_text("utf-8"))
        if recorded.get("previous") == previous:
            return recorded.get("changes", "")
    if previous is None:
        summary = "first version"
        for name in ("changes.json", "changes_detail.json", "changes.md"):
            (version_dir / name).unlink(missing_ok=True)
    else:
        changes = diff_extractions(version_dir.parent / previous, version_dir)
        write_changes(changes, version_dir, previous, version_dir.name)
        summary = f"vs {previous}: {_describe(changes)}"
    write_json(mark, {"previous": previous, "published": time.time(), "changes": summary})
    return summary


def publish(result: DocumentResult, pdf_mtime: float) -> None:
    """Place a version in its review's chain, then point `latest` at the chain's newest version.

    Runs under the review's lock, so concurrent batches publish one at a time. The chain is
    ordered by the documents' own dates (pipeline/versioning.py), not by who publishes last: a
    re-run of an old version never becomes `latest` again. Every version whose predecessor
    changed (a version that belongs earlier arrived) is diffed again against its new one.
    """
    version_dir = Path(result.out)
    review_dir = version_dir.parent
    with review_lock(review_dir):
        versions = read_versions(review_dir)
        if version_dir.name not in versions:
            versions[version_dir.name] = version_evidence(version_dir, pdf_mtime)
        present = {v for v in versions if output_complete(review_dir / v)}
        chain = version_chain(versions, present)
        for i, vid in enumerate(chain):
            summary = _link(review_dir / vid, chain[i - 1] if i else None)
            if vid == version_dir.name:
                result.changes = summary
        write_versions(review_dir, versions, chain)
        newest = chain[-1]
        if newest != version_dir.name:
            reason = versions[newest].ordered_after(versions[version_dir.name])
            result.changes = f"{result.changes}; not latest: {newest} is newer ({reason})"
        current = latest_version(review_dir)
        if current is None or current.name != newest:
            set_latest(review_dir, newest)


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


def clean_stale_runs(root: Path) -> list[Path]:
    """Remove what runs killed mid-write left behind (their PID no longer runs): staging folders
    `.staging/<pid>-<token>` and progress logs `.staging/<pid>-<token>.progress`, and
    `.NAME.tmp-PID`/`.NAME.old-PID` folders next to versions."""
    cleaned: list[Path] = []
    staging = root / STAGING
    if staging.is_dir():
        for run in staging.iterdir():
            pid = run.name.split("-", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                if run.is_dir():
                    shutil.rmtree(run, ignore_errors=True)
                else:  # a progress log
                    run.unlink(missing_ok=True)
                cleaned.append(run)
    for review_dir in root.iterdir():
        if review_dir.is_dir() and not review_dir.name.startswith("."):
            cleaned += remove_stale_temporaries(review_dir)
    return cleaned


def _failure(pdf: Path, value) -> DocumentResult:
    if isinstance(value, ReviewExtractError):  # expected: one line, as the extract command prints it
        return DocumentResult(pdf=str(pdf), status="failed", message=str(value))
    return DocumentResult(pdf=str(pdf), status="failed", message=f"{type(value).__name__}: {value}")


@flow(name="batch_extract", task_runner=ThreadPoolTaskRunner(max_workers=2))
def batch_extract(folder: str, out: str, password: str | None = None, report: bool = False,
                  progress: str | None = None):
    """Extract every PDF in *folder*; one bad PDF never stops the batch.

    *report*: also build each version's curator's report (once; kept across cached runs).
    *progress*: a file to append the batch's progress to (pages read, documents finished:
    pipeline/progress.py), from whichever process does the work.
    Returns the list of :class:`DocumentResult`; when a document failed, the flow run ends
    Failed with that list as its data (``batch_extract(..., return_state=True)`` to read it).
    """
    started = time.perf_counter()
    pdfs = find_pdfs(Path(folder))
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    for path in clean_stale_runs(root):
        print(f"batch: removed {path} (left by a run that no longer runs)", file=sys.stderr, flush=True)
    staging = root / STAGING / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"  # this run's own
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
    if progress:
        for pdf, res in results.items():
            record_document(progress, str(pdf), res.status)
    try:
        futures = {extract_document.submit(str(p), out, str(staging), password, progress): p
                   for p in first_of.values()}
        for done, future in enumerate(as_completed(list(futures)), start=1):
            pdf = futures[future]
            value = future.result(raise_on_failure=False)
            if isinstance(value, dict) and future.state.name == "Cached" and not _cache_usable(value):
                # The cache remembers an output deleted or damaged since, or a failure: extract again.
                state = extract_document.with_options(refresh_cache=True)(str(pdf), out, str(staging), password,
                                                                          progress, return_state=True)
                value = state.result(raise_on_failure=False)
            elif isinstance(value, dict) and future.state.name == "Cached":
                value = {**value, "status": "cached", "seconds": 0.0}
            res = DocumentResult(**value) if isinstance(value, dict) else _failure(pdf, value)
            results[pdf] = res
            if progress:
                record_document(progress, str(pdf), res.status)
            print(f"  [{done}/{len(pdfs)}] {res.status:<9} {pdf.name} {res.message}", file=sys.stderr, flush=True)
        ordered = [results[p] for p in pdfs]
        for pdf, first in twin_of.items():
            res, twin = results[pdf], results[first]
            res.review_key, res.version, res.out, res.rows = twin.review_key, twin.version, twin.out, twin.rows
        for pdf, res in zip(pdfs, ordered):
            if res.status in ("extracted", "cached"):
                try:
                    publish(res, pdf.stat().st_mtime)
                except OSError as exc:
                    res.status, res.message = "failed", str(write_error(Path(res.out), exc))
                    continue
                if report:
                    _ensure_report(res)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            (root / STAGING).rmdir()  # only when no other run is staging
    print(f"batch: pipeline work {time.perf_counter() - started:.2f} s for {len(pdfs)} PDF(s) "
          f"({sum(r.status == 'cached' for r in ordered)} cached)", file=sys.stderr, flush=True)
    failed = [r for r in ordered if r.status == "failed"]
    if failed:
        return Failed(message=f"{len(failed)} of {len(ordered)} document(s) failed: "
                              + "; ".join(f"{Path(r.pdf).name}: {r.message}" for r in failed), data=ordered)
    return ordered


def run_batch(flow_fn, folder: str, out: str, password: str | None = None,
              report: bool = False, progress: str | None = None) -> tuple[list[DocumentResult], str]:
    """Run a batch flow; return its document results and the flow run's final state name."""
    state = flow_fn(folder, out, password, report, progress, return_state=True)
    results = state.result(raise_on_failure=False)
    if isinstance(results, BaseException):  # the flow itself crashed (not a document)
        raise results
    return results, state.name


def batch_runner(workers: int, dask: bool = False, dask_address: str | None = None, processes: bool = False):
    """Task runner for the batch: threads (default), processes, or Dask (a LocalCluster or a scheduler)."""
    if dask or dask_address:
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise ImportError("--dask needs prefect-dask: pip install 'review-extract[dask]'") from None

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    if processes:
        return ProcessPoolTaskRunner(max_workers=workers, initializer=watch_parent)  # workers end with the batch
    return ThreadPoolTaskRunner(max_workers=workers)


def __getattr__(name: str):
    """``batch_extract_dask``: batch_extract on a local Dask cluster, a deployable variant (see
    prefect.yaml), made on first use so the module imports without the optional prefect-dask."""
    if name == "batch_extract_dask":
        return batch_extract.with_options(name="batch_extract_dask", task_runner=batch_runner(2, dask=True))
    raise AttributeError(name)
