"""Progress of a batch, shared through a file: documents and pages done, whichever process does them.

A batch runs its documents in threads, in worker processes or on Dask workers; each one appends
a JSON line to the batch's progress log (a page read, a document finished), and the command that
shows the progress reads the log as it grows. A file works across all of them without any
channel to set up, and a line written with one ``write`` on a file opened for appending is never
interleaved with another's.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path


def _append(log: Path | str, record: dict) -> None:
    # Progress is advisory: a log that cannot be written (a remote worker without the folder)
    # never stops an extraction.
    try:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        return
    try:
        os.write(fd, (json.dumps(record) + "\n").encode())
    except OSError:
        pass
    finally:
        os.close(fd)


def page_recorder(log: Path | str, pdf: str) -> Callable[[int, int], None]:
    """A page callback for :func:`pipeline.extraction.run_extraction`: each page read of *pdf*."""
    def record(done: int, total: int) -> None:
        _append(log, {"pdf": pdf, "pages": done, "of": total})

    return record


def record_document(log: Path | str, pdf: str, status: str) -> None:
    """*pdf* is finished (extracted, cached, duplicate or failed)."""
    _append(log, {"pdf": pdf, "status": status})


def page_count(pdf: Path) -> int | None:
    """The page count in the PDF's page tree (no page is parsed); None when it cannot be read."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    try:
        with open(pdf, "rb") as handle:
            count = resolve1(PDFDocument(PDFParser(handle)).catalog["Pages"])["Count"]
    except Exception:  # noqa: BLE001 - encrypted, damaged: the document reports its count when read
        return None
    return count if isinstance(count, int) and count >= 0 else None


@dataclass
class _Document:
    pages_done: int = 0
    pages_total: int | None = None
    finished: bool = False


@dataclass
class BatchProgress:
    """What the progress log says so far, for the documents of one batch."""

    log: Path
    pdfs: list[str]
    started: float = field(default_factory=time.monotonic)
    _documents: dict[str, _Document] = field(default_factory=dict)
    _offset: int = 0
    _pages_read: int = 0

    def __post_init__(self) -> None:
        self._documents = {pdf: _Document() for pdf in self.pdfs}

    def count_pages(self, counter: Callable[[Path], int | None] = page_count) -> None:
        """Page totals before the documents are read (a document read later reports its own)."""
        for pdf, doc in self._documents.items():
            if doc.pages_total is None:
                doc.pages_total = counter(Path(pdf))

    def update(self) -> None:
        """Read the lines appended since the last call."""
        try:
            with open(self.log, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return
        complete = chunk.rfind(b"\n") + 1  # a line still being written waits for the next call
        self._offset += complete
        self._apply(json.loads(line) for line in chunk[:complete].splitlines() if line.strip())

    def _apply(self, records: Iterable[dict]) -> None:
        for record in records:
            doc = self._documents.setdefault(record.get("pdf", ""), _Document())
            if "pages" in record:
                self._pages_read += max(0, record["pages"] - doc.pages_done)
                doc.pages_done, doc.pages_total = record["pages"], record["of"]
            if "status" in record:
                doc.finished = True

    @property
    def documents(self) -> tuple[int, int]:
        """(documents finished, documents in the batch)."""
        return sum(d.finished for d in self._documents.values()), len(self._documents)

    @property
    def pages(self) -> tuple[int, int]:
        """(pages done, pages in the batch): a finished document counts all its pages, read or
        not (cached, failed); a document whose count is still unknown counts the pages read."""
        done = total = 0
        for doc in self._documents.values():
            size = doc.pages_total if doc.pages_total is not None else doc.pages_done
            done += size if doc.finished else doc.pages_done
            total += size
        return done, total

    @property
    def pages_per_second(self) -> float:
        """Pages actually read (cached documents are not) per second since the batch started."""
        return self._pages_read / max(time.monotonic() - self.started, 1e-6)

    def line(self) -> str:
        """One line for a log: documents, pages, pages per second, seconds."""
        (docs, n_docs), (pages, n_pages) = self.documents, self.pages
        return (f"batch: {docs}/{n_docs} documents, {pages}/{n_pages} pages, "
                f"{self.pages_per_second:.1f} pages/s, {time.monotonic() - self.started:.0f} s")
