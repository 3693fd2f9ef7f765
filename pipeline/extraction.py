"""One document through every stage: load -> tables -> text -> entities -> reconcile -> write (-> report).

Plain functions, no Prefect: ``flows/extract.py`` runs the same stages as Prefect tasks by
passing a *stage runner*. The heavy stage modules (spaCy, pandas) are imported when the
stage needs them, so a command that never reaches a stage never pays for its imports.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.document import DocumentInfo
from pipeline.errors import Deadline, ReviewExtractError, time_limit

StageCallback = Callable[[str, str], None]  # (stage, "start" | "done")
PageCallback = Callable[[int, int], None]  # (pages read, page count)
# (stage name, stage function, arguments) -> result: how a stage is run (plain call, Prefect task)
StageRunner = Callable[[str, Callable, tuple], object]


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


# ------------------------------------------------------------------------------------ stages

def load_stage(pdf: str, password: str | None, deadline: Deadline | None = None,
               progress: PageCallback | None = None):
    from pipeline.pdf_loader import load_pdf

    # The entity models load in this process while other processes read the pages.
    return load_pdf(pdf, password=password, deadline=deadline, progress=progress, while_reading=warm_up)


def tables_stage(doc):
    from pipeline.tables import extract_tables

    return extract_tables(doc)


def text_stage(doc, chunks):
    from pipeline.document import table_regions
    from pipeline.text_layer import build_text_blocks

    return build_text_blocks(doc.pages, table_regions(chunks))


def entities_stage(blocks, tables):
    from pipeline.entities import extract_entities

    return extract_entities(blocks, tables)


def reconcile_stage(tables, entities, blocks):
    from pipeline.reconcile import reconcile

    return reconcile(tables, entities, blocks=blocks)


def write_stage(out: str, info: DocumentInfo, blocks, tables, entities, dataset, timings: dict[str, float],
                warnings: list[str], counts: dict[str, int], partial: bool = False,
                flags: list[dict] | None = None) -> None:
    from pipeline import __version__
    from pipeline.entities import write_entity_outputs
    from pipeline.outputs import atomic_output_dir, document_json, write_json, write_tables, write_text_blocks
    from pipeline.reconcile import write_dataset

    with atomic_output_dir(Path(out)) as tmp:
        write_text_blocks(tmp / "text.jsonl", blocks)
        write_tables(tmp / "tables", tables)
        write_entity_outputs(entities, tmp)
        write_dataset(dataset, tmp / "dataset")  # validated against its schemas; raises on failure
        write_json(tmp / "document.json", document_json(info, timings, __version__, warnings, counts, partial))
        write_json(tmp / "warnings.json", {"partial": partial, "warnings": warnings, "flags": flags or []})


def report_stage(out: str) -> str:
    from pipeline.report import build_report

    return str(build_report(Path(out)).path)


def warm_up() -> None:
    """Import the later stages and load the entity models (kept for the process)."""
    try:
        from pipeline.entities import load_models
        from pipeline.reconcile import reconcile  # noqa: F401  (pandas, pandera)

        load_models()
    except ReviewExtractError:  # the time limit
        raise
    except Exception:  # noqa: BLE001 - the entity stage loads them again and reports the error there
        pass


# ------------------------------------------------------------------------------------ runner

def call_stage(name: str, fn: Callable, args: tuple):  # noqa: ARG001 - StageRunner signature
    return fn(*args)


def run_extraction(pdf: str, out: str, password: str | None = None, notify: StageCallback | None = None,
                   report: bool = False, timeout: float | None = None,
                   run_stage: StageRunner = call_stage, pages: PageCallback | None = None) -> ExtractionSummary:
    """Extract *pdf* into *out* (written atomically); *report* also builds the curator's report.

    *timeout* (seconds) limits the whole document: ExtractionTimeoutError, nothing written.
    *run_stage* runs each stage (default: a plain call; the Prefect flow passes tasks).
    *notify* hears each stage start and end, *pages* each page read (default with *notify*:
    a line on stderr every 25 pages of a long document).
    """
    deadline = Deadline(timeout, str(pdf))
    if pages is None and notify is not None:
        pages = stderr_page_progress
    with time_limit(deadline):
        return _run_stages(pdf, out, password, notify, report, deadline, run_stage, pages)


def _run_stages(pdf: str, out: str, password: str | None, notify: StageCallback | None, report: bool,
                deadline: Deadline, run_stage: StageRunner, pages: PageCallback | None) -> ExtractionSummary:
    timings: dict[str, float] = {}

    def stage(name: str, fn: Callable, *args):
        if notify:
            notify(name, "start")
        start = time.perf_counter()
        result = run_stage(name, fn, args)
        timings[name] = time.perf_counter() - start
        if notify:
            notify(name, "done")
        return result

    doc = stage("load", load_stage, pdf, password, deadline, pages)
    tables, chunks = stage("tables", tables_stage, doc)
    blocks = stage("text", text_stage, doc, chunks)
    entities = stage("entities", entities_stage, blocks, tables)
    dataset = stage("reconcile", reconcile_stage, tables, entities, blocks)

    from pipeline.document import document_info
    from pipeline.sanity import check_tables
    from pipeline.tables import PARTIAL
    from pipeline.text_layer import narrative_warnings

    info = document_info(doc, blocks)
    flags = check_tables(tables, chunks)  # suspicious cells, rows and chunks (pipeline/sanity.py)
    warnings = (doc.warnings + [w for t in tables for w in t.warnings] + [f.message for f in flags]
                + narrative_warnings(blocks) + entities.warnings + dataset.warnings)
    partial = doc.partial or any(w.startswith(PARTIAL) for t in tables for w in t.warnings)
    counts = {"tables": len(tables), "table_rows": sum(len(t.rows) for t in tables), "text_blocks": len(blocks),
              "entities": len(entities.entities), "text_facts": len(entities.facts),
              "trials": len(dataset.trials), "conflicts": dataset.n_conflicts}
    # document.json records the stages before it; the write itself is timed for the summary.
    stage("write", write_stage, out, info, blocks, tables, entities, dataset, dict(timings), warnings, counts,
          partial, [f.to_dict() for f in flags])
    if report:
        stage("report", report_stage, out)
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
