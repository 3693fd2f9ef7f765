"""The `extract_review` flow: the stages of ``pipeline.extraction`` as Prefect tasks."""

from __future__ import annotations

from collections.abc import Callable

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

from pipeline import extraction
from pipeline.extraction import (  # noqa: F401  (the flow module's public names)
    ExtractionSummary,
    PageCallback,
    StageCallback,
    stderr_page_progress,
    stderr_progress,
)

STAGE_TASKS = {name: task(getattr(extraction, f"{name}_stage"), name=name, cache_policy=NO_CACHE)
               for name in ("load", "tables", "text", "entities", "reconcile", "write", "report")}


def run_stage_as_task(name: str, fn: Callable, args: tuple):  # noqa: ARG001 - StageRunner signature
    # quote(): big pipeline records are passed as they are; Prefect would otherwise walk
    # every word of the document looking for futures, which costs seconds.
    return STAGE_TASKS[name](*(quote(a) for a in args))


def run_extraction(pdf: str, out: str, password: str | None = None,
                   notify: StageCallback | None = None, use_tasks: bool = True,
                   report: bool = False, timeout: float | None = None,
                   pages: PageCallback | None = None) -> ExtractionSummary:
    """The flow's body: inside a Prefect flow run its stages are tasks, elsewhere plain calls.

    *use_tasks=False* forces plain calls (the batch flow runs a whole document in one task).
    """
    as_tasks = use_tasks and FlowRunContext.get() is not None
    return extraction.run_extraction(pdf, out, password, notify=notify, report=report, timeout=timeout,
                                     run_stage=run_stage_as_task if as_tasks else extraction.call_stage,
                                     pages=pages)


@flow(name="extract_review")
def extract_review(pdf: str, out: str, password: str | None = None, progress: bool = True,
                   report: bool = True, timeout: float | None = None) -> ExtractionSummary:
    """Extract one review PDF into *out* (written atomically), then build its curator's report."""
    return run_extraction(pdf, out, password, notify=stderr_progress if progress else None, report=report,
                          timeout=timeout)
