"""The `extract_review` flow: load -> tables -> text -> entities -> reconcile -> write (-> report)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

from pipeline import __version__
from pipeline.document import DocumentInfo, document_info, table_regions
from pipeline.entities import EntityResult, extract_entities, write_entity_outputs
from pipeline.errors import Deadline, time_limit
from pipeline.outputs import (
    atomic_output_dir,
    document_json,
    write_json,
    write_tables,
    write_text_blocks,
)
from pipeline.pdf_loader import LoadedDocument, load_pdf
from pipeline.reconcile import TrialDataset, reconcile, write_dataset
from pipeline.records import Table, TextBlock
from pipeline.sanity import check_tables
from pipeline.tables import PARTIAL, TableChunk, extract_tables
from pipeline.text_layer import build_text_blocks, narrative_warnings

StageCallback = Callable[[str, str], None]  # (stage, "start" | "done")


@dataclass(slots=True)
class ExtractionSummary:
    pdf: str
    out: str
    info: DocumentInfo
    tables: int
    rows: int
    blocks: int
    warnings: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    partial: bool = False  # some page or table row could not be read: see warnings


def _timed(timings: dict[str, float], name: str, notify: StageCallback | None, as_task: bool, fn,
           *args, **kwargs):
    """Run a stage as a Prefect task (inside a flow run) or as a plain function."""
    if notify:
        notify(name, "start")
    start = time.perf_counter()
    if as_task:
        # quote(): big pipeline records are passed as they are; Prefect would otherwise walk
        # every word of the document looking for futures, which costs seconds.
        result = fn(*(quote(a) for a in args), **kwargs)
    else:
        result = fn.fn(*args, **kwargs)
    timings[name] = time.perf_counter() - start
    if notify:
        notify(name, "done")
    return result


@task(name="load", cache_policy=NO_CACHE)
def load_task(pdf: str, password: str | None, deadline: Deadline | None = None,
              progress: Callable[[int, int], None] | None = None) -> LoadedDocument:
    return load_pdf(pdf, password=password, deadline=deadline, progress=progress)


@task(name="tables", cache_policy=NO_CACHE)
def tables_task(doc: LoadedDocument) -> tuple[list[Table], list[TableChunk]]:
    return extract_tables(doc)


@task(name="text", cache_policy=NO_CACHE)
def text_task(doc: LoadedDocument, chunks: list[TableChunk]) -> list[TextBlock]:
    return build_text_blocks(doc.pages, table_regions(chunks))


@task(name="entities", cache_policy=NO_CACHE)
def entities_task(blocks: list[TextBlock], tables: list[Table]) -> EntityResult:
    return extract_entities(blocks, tables)


@task(name="reconcile", cache_policy=NO_CACHE)
def reconcile_task(tables: list[Table], entities: EntityResult, blocks: list[TextBlock]) -> TrialDataset:
    return reconcile(tables, entities, blocks=blocks)


@task(name="write", cache_policy=NO_CACHE)
def write_task(out: str, info: DocumentInfo, blocks: list[TextBlock], tables: list[Table],
               entities: EntityResult, dataset: TrialDataset, timings: dict[str, float],
               warnings: list[str], counts: dict[str, int], partial: bool = False,
               flags: list[dict] | None = None) -> None:
    with atomic_output_dir(Path(out)) as tmp:
        write_text_blocks(tmp / "text.jsonl", blocks)
        write_tables(tmp / "tables", tables)
        write_entity_outputs(entities, tmp)
        write_dataset(dataset, tmp / "dataset")  # validated against its schemas; raises on failure
        write_json(tmp / "document.json", document_json(info, timings, __version__, warnings, counts, partial))
        write_json(tmp / "warnings.json", {"partial": partial, "warnings": warnings, "flags": flags or []})


@task(name="report", cache_policy=NO_CACHE)
def report_task(out: str) -> str:
    from pipeline.report import build_report

    return str(build_report(Path(out)))


def run_extraction(pdf: str, out: str, password: str | None = None,
                   notify: StageCallback | None = None, use_tasks: bool = True,
                   report: bool = False, timeout: float | None = None) -> ExtractionSummary:
    """The flow's body: inside a Prefect flow run its stages are tasks, elsewhere plain calls.

    *use_tasks=False* forces plain calls (the batch flow runs a whole document in one task).
    *timeout* (seconds) limits the whole document: ExtractionTimeoutError, nothing written.
    """
    deadline = Deadline(timeout, str(pdf))
    with time_limit(deadline):
        return _run_stages(pdf, out, password, notify, use_tasks, report, deadline)


def _run_stages(pdf: str, out: str, password: str | None, notify: StageCallback | None, use_tasks: bool,
                report: bool, deadline: Deadline) -> ExtractionSummary:
    timings: dict[str, float] = {}
    as_tasks = use_tasks and FlowRunContext.get() is not None
    doc = _timed(timings, "load", notify, as_tasks, load_task, pdf, password, deadline,
                 stderr_page_progress if notify else None)
    tables, chunks = _timed(timings, "tables", notify, as_tasks, tables_task, doc)
    blocks = _timed(timings, "text", notify, as_tasks, text_task, doc, chunks)
    entities = _timed(timings, "entities", notify, as_tasks, entities_task, blocks, tables)
    dataset = _timed(timings, "reconcile", notify, as_tasks, reconcile_task, tables, entities, blocks)
    info = document_info(doc, blocks)
    flags = check_tables(tables, chunks)  # suspicious cells, rows and chunks (pipeline/sanity.py)
    warnings = (doc.warnings + [w for t in tables for w in t.warnings] + [f.message for f in flags]
                + narrative_warnings(blocks) + entities.warnings + dataset.warnings)
    partial = doc.partial or any(w.startswith(PARTIAL) for t in tables for w in t.warnings)
    counts = {"tables": len(tables), "table_rows": sum(len(t.rows) for t in tables), "text_blocks": len(blocks),
              "entities": len(entities.entities), "text_facts": len(entities.facts),
              "trials": len(dataset.trials), "conflicts": dataset.n_conflicts}
    # document.json records the stages before it; the write itself is timed for the summary.
    _timed(timings, "write", notify, as_tasks, write_task, out, info, blocks, tables, entities, dataset,
           dict(timings), warnings, counts, partial, [f.to_dict() for f in flags])
    if report:
        _timed(timings, "report", notify, as_tasks, report_task, out)
    return ExtractionSummary(pdf=str(pdf), out=str(out), info=info, tables=len(tables),
                             rows=sum(len(t.rows) for t in tables), blocks=len(blocks),
                             warnings=warnings, seconds=timings, counts=counts, partial=partial)


def stderr_page_progress(done: int, total: int) -> None:
    """Page progress of the load stage on long documents (every 25 pages, and the last)."""
    if total >= 50 and (done % 25 == 0 or done == total):
        print(f"     load: page {done}/{total}", file=sys.stderr, flush=True)


def stderr_progress(stage: str, event: str) -> None:
    """Per-stage progress lines on stderr (stdout stays free for data)."""
    print(f"  {'->' if event == 'start' else 'ok'} {stage}", file=sys.stderr, flush=True)


@flow(name="extract_review")
def extract_review(pdf: str, out: str, password: str | None = None, progress: bool = True,
                   report: bool = True, timeout: float | None = None) -> ExtractionSummary:
    """Extract one review PDF into *out* (written atomically), then build its curator's report."""
    return run_extraction(pdf, out, password, notify=stderr_progress if progress else None, report=report,
                          timeout=timeout)
