"""`review-extract` command line: run the Prefect flows with progress and a short summary."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from pipeline.errors import ReviewExtractError
from pipeline.parallel import settle_process

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Turn a biomedical review PDF into a traceable dataset of the trials it reports.")
console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """review-extract: PDF -> text blocks + tables -> entities -> trial dataset."""
    settle_process()


@contextlib.contextmanager
def _prefect_runs(verbose: bool) -> Iterator[None]:
    """Prefect's settings before it is imported; then, without a configured server, the
    temporary server for this command's flow runs (it ends with the command, however it ends)."""
    _quiet_prefect(verbose)
    if prefect_server_configured():
        yield
        return
    from flows.temporary_server import temporary_server

    with temporary_server():
        yield


def _quiet_prefect(verbose: bool) -> None:
    """Prefect's local ephemeral mode is the default; keep its logs and telemetry out of the way."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Two runs starting together on a busy machine (concurrent batches) each start a local API;
    # Prefect's default 20 s wait for it is then too short and the run dies before its first PDF.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")


def prefect_server_configured() -> bool:
    """Whether Prefect is pointed at a server (PREFECT_API_URL in the environment, the active
    profile, ./prefect.toml or ./pyproject.toml), read without importing Prefect (a second).

    Then runs are Prefect flow runs, visible in its UI. Otherwise Prefect would start a
    temporary server for every command (seconds), so the stages run as plain calls.
    """
    import tomllib

    if os.environ.get("PREFECT_API_URL"):
        return True
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    profiles_path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    sources = []
    try:
        profiles = tomllib.loads(profiles_path.read_text(encoding="utf-8"))
        active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
        sources.append(profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))
    except (OSError, tomllib.TOMLDecodeError):
        pass
    for name, table in (("prefect.toml", ()), ("pyproject.toml", ("tool", "prefect"))):
        try:
            settings = tomllib.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        for key in table:
            settings = settings.get(key, {})
        sources.append(settings.get("api", {}).get("url"))
    return any(sources)


class _ExpectedErrorFilter(logging.Filter):
    """Prefect logs a failed task or flow with its traceback; an expected error (bad input, time
    limit) is reported by the CLI in one line instead, so those log records are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ReviewExtractError):
            return False
        message = record.getMessage()
        return not any(f"{cls.__name__}(" in message or f"{cls.__name__}:" in message
                       for cls in _expected_errors())


def _expected_errors() -> list[type]:
    classes, todo = [], [ReviewExtractError]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo += cls.__subclasses__()
    return classes


def _hide_expected_error_logs() -> None:
    flt = _ExpectedErrorFilter()
    for logger in (logging.getLogger(), logging.getLogger("prefect"), logging.getLogger("prefect.task_runs"),
                   logging.getLogger("prefect.flow_runs")):
        for handler in logger.handlers:
            if not any(isinstance(f, _ExpectedErrorFilter) for f in handler.filters):
                handler.addFilter(flt)


class _ProgressBar:
    """On a terminal: pages read (with pages per second), then the stage running."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console)
        self.task = self.progress.add_task("load", total=None, rate="")
        self.started = time.perf_counter()

    def __enter__(self) -> _ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def stage(self, name: str, event: str) -> None:
        if event == "start":
            self.progress.update(self.task, description=name)

    def pages(self, done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - self.started, 1e-6)
        self.progress.update(self.task, completed=done, total=total, rate=f"pages, {rate:.1f} pages/s")


class _BatchProgressView:
    """A batch's progress log while the flow runs: documents and pages bars on a terminal, else a
    line on stderr every *interval* seconds and when the batch ends (logs stay readable)."""

    def __init__(self, progress, interval: float) -> None:
        self.state = progress
        self.interval = interval if not console.is_terminal else 0.25
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True, name="batch-progress")
        self.bars = None
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bars = Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console)
            self.documents = self.bars.add_task("documents", total=len(progress.pdfs), rate="")
            self.pages = self.bars.add_task("pages", total=None, rate="")

    def __enter__(self) -> _BatchProgressView:
        if self.bars is not None:
            self.bars.start()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()
        self.state.update()
        self._show()
        if self.bars is not None:
            self.bars.stop()

    def _watch(self) -> None:
        self.state.count_pages()
        while not self.stopped.wait(self.interval):
            self.state.update()
            self._show()

    def _show(self) -> None:
        if self.bars is None:
            print(self.state.line(), file=sys.stderr, flush=True)
            return
        (docs, n_docs), (pages, n_pages) = self.state.documents, self.state.pages
        self.bars.update(self.documents, completed=docs, total=n_docs)
        self.bars.update(self.pages, completed=pages, total=n_pages or None,
                         rate=f"{self.state.pages_per_second:.1f} pages/s")


def _print_summary(summary, elapsed: float) -> None:
    grid = RichTable(title=f"review-extract: {summary.info.title}", show_header=False)
    grid.add_row("PDF", f"{summary.pdf} ({summary.info.page_count} pages)")
    grid.add_row("tables / rows", f"{summary.tables} / {summary.rows}")
    grid.add_row("text blocks", str(summary.blocks))
    for key in ("entities", "text_facts", "trials", "conflicts"):
        if key in summary.counts:
            grid.add_row(key.replace("_", " "), str(summary.counts[key]))
    grid.add_row("warnings", str(len(summary.warnings)) + (" (see warnings.json)" if summary.warnings else ""))
    if getattr(summary, "partial", False):
        grid.add_row("partial", "yes: some content could not be read or structured (see warnings)")
    grid.add_row("seconds", ", ".join(f"{k} {v:.2f}" for k, v in summary.seconds.items()) + f" (total {elapsed:.1f})")
    grid.add_row("output", summary.out)
    console.print(grid)
    for warning in summary.warnings[:20]:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)


@app.command()
def extract(
    pdf: Path = typer.Argument(..., help="The review PDF."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (replaced atomically on success)."),
    password: str = typer.Option(None, "--password", help="Password of an encrypted PDF."),
    flow: bool = typer.Option(None, "--flow/--no-flow", show_default=False,
                              help="Run as a Prefect flow run (default: when a Prefect server is configured, "
                                   "PREFECT_API_URL; --flow without one starts a temporary local server)."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip the curator's HTML report."),
    timeout: float = typer.Option(600.0, "--timeout", min=0, help="Time limit per document in seconds (0: none)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's logs."),
) -> None:
    """Extract text, tables, entities and the trial dataset of PDF into OUT (+ the HTML report)."""
    start = time.perf_counter()
    as_flow = prefect_server_configured() if flow is None else flow
    try:
        if as_flow:
            with _prefect_runs(verbose):
                from flows.extract import extract_review

                console.print("[dim]Prefect flow run extract_review[/dim]")
                _hide_expected_error_logs()
                summary = extract_review(str(pdf), str(out), password, report=not no_report,
                                         timeout=timeout or None)
        else:
            from pipeline.extraction import run_extraction, stderr_progress

            if console.is_terminal:
                with _ProgressBar() as bar:
                    summary = run_extraction(str(pdf), str(out), password, notify=bar.stage, pages=bar.pages,
                                             report=not no_report, timeout=timeout or None)
            else:
                summary = run_extraction(str(pdf), str(out), password, notify=stderr_progress,
                                         report=not no_report, timeout=timeout or None)
    except ReviewExtractError as exc:
        # One line, never wrapped, the message not read as markup ("[29]" stays as it is).
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:  # a write after the output was placed (the report): still one line
        from pipeline.outputs import write_error

        error = write_error(out, exc)
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(error.exit_code) from None
    _print_summary(summary, time.perf_counter() - start)


@app.command()
def batch(
    folder: Path = typer.Argument(..., help="Folder of PDFs (or one PDF)."),
    out: Path = typer.Option(Path("data/extracted"), "--out", "-o", help="Root of the versioned outputs."),
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Documents processed at once."),
    processes: bool = typer.Option(False, "--processes", help="Run documents in worker processes, not threads."),
    dask: bool = typer.Option(False, "--dask", help="Run documents on a local Dask cluster (extra: dask)."),
    dask_address: str = typer.Option(None, "--dask-address", help="Address of an existing Dask scheduler."),
    password: str = typer.Option(None, "--password", help="Password for encrypted PDFs."),
    report: bool = typer.Option(False, "--report", help="Also build each version's curator's report."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Prefect's logs."),
    progress_interval: float = typer.Option(10.0, "--progress-interval", min=0.1,
                                            help="Seconds between progress lines when stderr is not a terminal."),
) -> None:
    """Extract every PDF of FOLDER into OUT/<review-key>/<version-id>/, diffing new revisions."""
    from pipeline.batch_index import STAGING, cached_results, find_pdfs, remember
    from pipeline.outputs import write_error

    if not folder.exists():
        console.print(f"[red]error:[/red] {folder}: no such file or folder")
        raise typer.Exit(2)
    pdfs = find_pdfs(folder)
    if not pdfs:
        console.print(f"[red]error:[/red] {folder}: no PDF files found")
        raise typer.Exit(2)

    def make_folder(path: Path) -> None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            error = write_error(out, exc)
            console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
            raise typer.Exit(error.exit_code) from None

    make_folder(out)
    start = time.perf_counter()
    # Without a Prefect server, a folder whose every PDF is already done is answered from the
    # batch index; with a server the flow runs anyway, so the run shows in Prefect's UI.
    results = None if prefect_server_configured() else cached_results(pdfs, out, report)
    if results is None:
        from dataclasses import asdict

        from pipeline.progress import BatchProgress
        from pipeline.versioning import file_sha256

        # The progress log lives in the run's scratch folder: a run killed before removing it
        # leaves it to the next run's clean-up, as it does its staged documents.
        log = out / STAGING / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.progress"
        make_folder(log.parent)
        try:
            with _BatchProgressView(BatchProgress(log, [str(p) for p in pdfs]), progress_interval), \
                    _prefect_runs(verbose):
                from flows.batch import batch_extract, batch_runner, run_batch

                runner = batch_runner(workers, dask, dask_address, processes)
                _hide_expected_error_logs()
                flow_results, _ = run_batch(batch_extract.with_options(task_runner=runner), str(folder), str(out),
                                            password, report, str(log))
        finally:
            log.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                log.parent.rmdir()  # only when no other run is staging
        results = [asdict(r) for r in flow_results]
        remember(results, {str(p): file_sha256(p) for p in pdfs}, out)
    grid = RichTable(title=f"review-extract batch: {len(results)} document(s)")
    for column in ("PDF", "status", "review / version", "rows", "seconds", "changes / message"):
        grid.add_column(column)
    for r in results:
        grid.add_row(Path(r["pdf"]).name, r["status"], f"{r['review_key']}/{r['version']}" if r["version"] else "",
                     str(r["rows"] or ""), f"{r['seconds']:.2f}", r["changes"] or r["message"])
    console.print(grid)
    failed = [r for r in results if r["status"] == "failed"]
    console.print(f"{len(results) - len(failed)} ok, {len(failed)} failed in {time.perf_counter() - start:.1f} s; "
                  f"outputs under {out}")
    if failed:
        raise typer.Exit(1)


@app.command()
def diff(
    old: Path = typer.Argument(..., help="Older extraction output folder."),
    new: Path = typer.Argument(..., help="Newer extraction output folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write changes.json and changes.md."),
) -> None:
    """Write the changes between two extraction outputs (rows, values, trials, narrative)."""
    from pipeline.diff import diff_extractions, write_changes

    for folder in (old, new):
        if not (folder / "tables").is_dir():
            console.print(f"[red]error:[/red] {folder}: not an extraction output (no tables/ folder)")
            raise typer.Exit(2)
    changes = diff_extractions(old, new)
    write_changes(changes, out, str(old), str(new))
    console.print(f"{sum(map(len, changes.added.values()))} rows added, {sum(map(len, changes.removed.values()))} "
                  f"removed, {len(changes.changed)} values changed -> {out}/changes.json, changes.md")


@app.command()
def landscape(
    root: Path = typer.Argument(..., help="Root of a batch output (<review-key>/latest/ per review)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (replaced atomically on success)."),
) -> None:
    """Merge the latest version of every review under ROOT into one trial dataset (+ report page)."""
    from pipeline.landscape import LandscapeError, build_landscape, write_landscape
    from pipeline.outputs import atomic_output_dir
    from pipeline.report.landscape import build_landscape_report

    if not root.is_dir():
        console.print(f"[red]error:[/red] {escape(str(root))}: no such folder")
        raise typer.Exit(2)
    try:
        merged = build_landscape(root)
        with atomic_output_dir(out) as tmp:
            write_landscape(merged, tmp)
            build_landscape_report(merged, tmp)
    except LandscapeError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    except ReviewExtractError as exc:  # schema validation (8), write errors (9)
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    for warning in merged.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in merged.counts.items())
    console.print(f"landscape: {counts} -> {out}")


@app.command()
def report(
    folder: Path = typer.Argument(..., help="Extraction output folder (has document.json)."),
    pdf: Path = typer.Option(None, "--pdf", help="The source PDF, if it moved since the extraction."),
) -> None:
    """Write FOLDER/report/index.html: the dataset as a web page, every value linked to its page crop."""
    from pipeline.report import build_report

    if not (folder / "document.json").is_file():
        console.print(f"[red]error:[/red] {folder}: not an extraction output (no document.json)")
        raise typer.Exit(2)
    stats = build_report(folder, pdf=pdf)
    console.print(f"report: {stats.path} ({stats.bytes / 1e6:.1f} MB in {stats.files} files, {stats.crops} page crops, "
                  f"{stats.trials} trials{' (provisional)' if stats.provisional else ''}, {stats.seconds:.1f} s)")
    for warning in stats.warnings[:20]:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def inspect(
    pdf: Path = typer.Argument(..., help="The PDF to look at."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the page images (page-NNN.png)."),
    pages: str = typer.Option(None, "--pages", "-p", help="Pages to draw, e.g. 3,4 or 2-5 (default: all)."),
    password: str = typer.Option(None, "--password", help="Password of an encrypted PDF."),
    resolution: int = typer.Option(100, "--resolution", min=36, max=600, help="Image resolution in dpi."),
) -> None:
    """Draw what the table engine found (regions, captions, headers, column and row separators) over PAGES."""
    from pipeline.inspect_tables import inspect_pages

    def progress(message: str) -> None:
        console.print(f"[dim]{escape(message)}[/dim]", soft_wrap=True)

    try:
        results = inspect_pages(pdf, pages, out, password=password, resolution=resolution, progress=progress)
    except ReviewExtractError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except ValueError as exc:  # a bad --pages list
        raise typer.BadParameter(str(exc), param_hint="--pages") from None
    drawn = sum(r.chunks for r in results)
    console.print(f"{len(results)} page image(s), {drawn} table chunk(s) drawn -> {out}")


def main() -> None:  # pragma: no cover - entry point
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
