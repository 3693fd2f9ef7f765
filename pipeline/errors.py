"""Errors the pipeline raises for bad input, each with a distinct CLI exit code.

Expected problems with a user's file are reported as one clear line, never as a
traceback; the exit codes are documented in the README.
"""

from __future__ import annotations


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
