"""The batch's record of finished documents, read without Prefect: a re-run of an unchanged folder in a second.

``batch`` caches each document on (PDF sha256, pipeline fingerprint, output root): Prefect's
task cache inside the flow. Prefect itself takes seconds to import and, without a configured
server, to start a temporary one; so the command also keeps ``<out>/.batch-index.json``
(the same key -> the document's result) and answers a folder whose every PDF is in it, with
its output still complete (every file of its manifest), without starting Prefect at all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline.outputs import output_complete
from pipeline.versioning import file_sha256, pipeline_fingerprint

INDEX = ".batch-index.json"
STAGING = ".staging"  # <out>/.staging/<pid>-...: each run's scratch (documents being written, its progress log)


def find_pdfs(folder: Path) -> list[Path]:
    """PDFs of a folder (or one PDF), oldest first so revisions publish in order."""
    if folder.is_file():
        return [folder]
    pdfs = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".pdf"]
    return sorted(pdfs, key=lambda p: (p.stat().st_mtime, p.name))


def cache_key(sha256: str, root: Path) -> str:
    """sha256 of the PDF + pipeline fingerprint + output root."""
    return f"{sha256}-{pipeline_fingerprint()}-{Path(root).resolve()}"


def _read(root: Path) -> dict[str, dict]:
    try:
        return json.loads((Path(root) / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def remember(results: list[dict], shas: dict[str, str], root: Path) -> None:
    """Add the extracted and cached documents of a run (dicts of DocumentResult) to the index."""
    index = _read(root)
    for result in results:
        if result.get("status") in ("extracted", "cached") and result.get("pdf") in shas:
            index[cache_key(shas[result["pdf"]], root)] = {**result, "status": "extracted"}
    tmp = Path(root) / f"{INDEX}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, Path(root) / INDEX)


def _complete(result: dict, report: bool) -> bool:
    out = Path(result.get("out") or "")
    return output_complete(out) and (not report or (out / "report" / "index.html").is_file())


def cached_results(pdfs: list[Path], root: Path, report: bool = False) -> list[dict] | None:
    """Every PDF's result from the index (status cached, or duplicate of an earlier PDF of the
    folder), or None as soon as one PDF is new, changed, or its output (or report) is gone."""
    index = _read(root)
    if not index:
        return None
    results, first_of = [], {}
    for pdf in pdfs:
        sha = file_sha256(pdf)
        known = index.get(cache_key(sha, root))
        if known is None or not _complete(known, report):
            return None
        if sha in first_of:
            results.append({**known, "pdf": str(pdf), "status": "duplicate", "seconds": 0.0,
                            "message": f"same content as {first_of[sha].name}"})
        else:
            first_of[sha] = pdf
            results.append({**known, "pdf": str(pdf), "status": "cached", "seconds": 0.0,
                            "changes": "already published"})
    return results
