"""Versioned output folders: <root>/<review-key>/<version-id>/ with an atomic `latest` pointer."""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

from pipeline import __version__

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
VERSION_ID_LENGTH = 16


def review_key(doi: str | None, title: str) -> str:
    """Identifies a review across revisions: its DOI when printed, else its normalised title."""
    if doi:
        return "doi-" + re.sub(r"[^a-z0-9.-]+", "_", doi.lower()).strip("_")
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return "title-" + (slug[:80] or "untitled")


def version_id(sha256: str) -> str:
    """One version per PDF content."""
    return sha256[:VERSION_ID_LENGTH]


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """Tool version plus a hash of the model and lexicon files the extraction reads.

    Part of the cache key: a new pipeline or model version re-extracts unchanged PDFs.
    """
    digest = hashlib.sha256(__version__.encode())
    if MODELS_DIR.exists():
        for path in sorted(MODELS_DIR.rglob("*")):
            if path.is_file() and path.stat().st_size < 64 << 20:
                digest.update(str(path.relative_to(MODELS_DIR)).encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"{__version__}-{digest.hexdigest()[:12]}"


def latest_version(review_dir: Path) -> Path | None:
    pointer = review_dir / "latest"
    if pointer.is_symlink() or pointer.exists():
        target = pointer.resolve()
        return target if target.is_dir() else None
    return None


def set_latest(review_dir: Path, version: str) -> None:
    """Point `latest` at *version* with one rename, so readers never see a missing pointer."""
    tmp = review_dir / f".latest.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(version, tmp)
    os.replace(tmp, review_dir / "latest")
