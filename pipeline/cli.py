"""`review-extract` command line: run the Prefect flows with progress and a short summary."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table as RichTable

from pipeline.errors import ReviewExtractError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Turn a biomedical review PDF into a traceable dataset of the trials it reports.")
console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """review-extract: PDF -> text blocks + tables -> entities -> trial dataset."""


def _quiet_prefect(verbose: bool) -> None:
    """Prefect's local ephemeral mode is the default; keep its logs and telemetry out of the way."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")


def _print_summary(summary, elapsed: float) -> None:
    grid = RichTable(title=f"review-extract: {summary.info.title}", show_header=False)
    grid.add_row("PDF", f"{summary.pdf} ({summary.info.page_count} pages)")
    grid.add_row("tables / rows", f"{summary.tables} / {summary.rows}")
    grid.add_row("text blocks", str(summary.blocks))
    grid.add_row("warnings", str(len(summary.warnings)))
    grid.add_row("seconds", ", ".join(f"{k} {v:.2f}" for k, v in summary.seconds.items()) + f" (total {elapsed:.1f})")
    grid.add_row("output", summary.out)
    console.print(grid)
    for warning in summary.warnings[:20]:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def extract(
    pdf: Path = typer.Argument(..., help="The review PDF."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (replaced atomically on success)."),
    password: str = typer.Option(None, "--password", help="Password of an encrypted PDF."),
    no_flow: bool = typer.Option(False, "--no-flow", help="Run the stages directly, without Prefect."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's logs."),
) -> None:
    """Extract the text layer and the tables of PDF into OUT."""
    _quiet_prefect(verbose)
    from flows.extract import extract_review, run_extraction, stderr_progress

    start = time.perf_counter()

    try:
        if no_flow:
            summary = run_extraction(str(pdf), str(out), password, notify=stderr_progress)
        else:
            console.print("[dim]starting Prefect flow extract_review (local ephemeral mode unless PREFECT_API_URL is set)[/dim]")
            summary = extract_review(str(pdf), str(out), password)
    except ReviewExtractError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exc.exit_code) from None
    _print_summary(summary, time.perf_counter() - start)


def main() -> None:  # pragma: no cover - entry point
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
