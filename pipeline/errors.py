"""Errors the pipeline raises for bad input, each with a distinct CLI exit code.

Expected problems with a user's file are reported as one clear line, never as a
traceback; the exit codes are documented in the README:

====  =========================  ==================================================
code  error                      meaning
====  =========================  ==================================================
2     InputNotFoundError         the file does not exist
3     NotAPdfError               not a PDF (no %PDF- header), an empty file, a folder
4     CorruptPdfError            damaged or truncated PDF that cannot be parsed
5     EncryptedPdfError          encrypted PDF: no password or a wrong one
6     NoTextLayerError           no text layer (scanned/image-only PDF): run OCR
7     ExtractionTimeoutError     the per-document time limit (--timeout) ran out
8     SchemaValidationError      an output failed its schema validation
9     OutputWriteError           the output cannot be written (read-only, permission, disk full, name too long)
10    WorkerDiedError            a worker process died (killed, out of memory) before its work was done
====  =========================  ==================================================
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator


class ReviewExtractError(Exception):
    """Base class: an expected, explainable failure on one input document."""

    exit_code = 1


class InputNotFoundError(ReviewExtractError):
    exit_code = 2


class NotAPdfError(ReviewExtractError):
    exit_code = 3


class CorruptPdfError(ReviewExtractError):
    exit_code = 4


class EncryptedPdfError(ReviewExtractError):
    exit_code = 5


class NoTextLayerError(ReviewExtractError):
    exit_code = 6


class ExtractionTimeoutError(ReviewExtractError):
    exit_code = 7


class SchemaValidationError(ReviewExtractError):
    exit_code = 8


class OutputWriteError(ReviewExtractError):
    exit_code = 9


class WorkerDiedError(ReviewExtractError):
    exit_code = 10


EXIT_CODES = {cls.__name__: cls.exit_code for cls in (
    InputNotFoundError, NotAPdfError, CorruptPdfError, EncryptedPdfError, NoTextLayerError,
    ExtractionTimeoutError, SchemaValidationError, OutputWriteError, WorkerDiedError)}


class Deadline:
    """A per-document time limit.

    Stages call :meth:`check` at safe points (after each page); :func:`time_limit` also
    arms a timer that interrupts a stage stuck inside one call (a pathological page), when
    it runs in the main thread.
    """

    def __init__(self, seconds: float | None, what: str = "document"):
        self.seconds = seconds if seconds and seconds > 0 else None
        self.what = what
        self.start = time.monotonic()
        self.expired = False

    @property
    def remaining(self) -> float | None:
        if self.seconds is None:
            return None
        return self.seconds - (time.monotonic() - self.start)

    def error(self, where: str = "") -> ExtractionTimeoutError:
        place = f" ({where})" if where else ""
        return ExtractionTimeoutError(f"{self.what}: time limit of {self.seconds:g} s exceeded{place}; "
                                      "raise it with --timeout")

    def check(self, where: str = "") -> None:
        if self.seconds is None:
            return
        if self.expired or time.monotonic() - self.start > self.seconds:
            self.expired = True
            raise self.error(where)


@contextlib.contextmanager
def time_limit(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Arm SIGALRM for the deadline's remaining time (main thread only); disarm on exit."""
    remaining = deadline.remaining if deadline is not None else None
    usable = (remaining is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield deadline
        return

    def _expire(signum, frame):  # noqa: ARG001 - signal handler signature
        deadline.expired = True
        raise deadline.error()

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, max(remaining, 0.001))
    try:
        yield deadline
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
