"""Shared fixtures: one extraction of the bundled review per test session."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

# Prefect runs in local ephemeral mode in tests; keep its logs and telemetry quiet.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The local API may take longer than Prefect's 20 s to start on a busy machine (parallel test runs).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

ROOT = Path(__file__).resolve().parents[1]
REVIEW_PDF = ROOT / "data" / "raw" / "nasiri2024_car_t_mm_review.pdf"
GOLD = Path(__file__).resolve().parent / "gold"


@pytest.fixture(scope="session")
def review_pdf() -> Path:
    assert REVIEW_PDF.exists(), f"bundled review missing: {REVIEW_PDF}"
    return REVIEW_PDF


@pytest.fixture(scope="session")
def extraction_dir(tmp_path_factory, review_pdf) -> Path:
    """Run the extraction stages (without Prefect) once and return the output folder."""
    from flows.extract import run_extraction

    out = tmp_path_factory.mktemp("extraction") / "review"
    run_extraction(str(review_pdf), str(out))
    return out


@pytest.fixture(scope="session")
def text_blocks(extraction_dir) -> list[dict]:
    with open(extraction_dir / "text.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="session")
def registry_gold() -> list[dict]:
    with open(GOLD / "registry_ids.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
