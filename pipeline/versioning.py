"""Versioned output folders: <root>/<review-key>/<version-id>/ with an atomic `latest` pointer,
and the order of a review's versions."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

from pipeline import MODELS_DIR, __version__

VERSION_ID_LENGTH = 16


def review_key(doi: str | None, title: str) -> str:
    """Identifies a review across revisions: its DOI when printed, else its normalised title."""
    if doi:
        return "doi-" + re.sub(r"[^a-z0-9.-]+", "_", doi.lower()).strip("_")
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return "title-" + (slug[:80] or "untitled")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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


# --- version order ------------------------------------------------------------------------------
# A review's versions form one chain, ordered by the documents' own evidence: the publication or
# revision date printed in the text, else the PDF's metadata date, else the time the version first
# appeared (its PDF's modification time when first registered). Ties fall back to the next piece
# of evidence, then to the version id, so the order is total and the chain can never loop.

VERSIONS_FILE = "versions.json"
LOCK_FILE = ".publish.lock"
MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                      "nov", "dec"), start=1)}
_MONTH = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_FORMS = (
    re.compile(rf"(?P<day>\d{{1,2}})\s+{_MONTH},?\s+(?P<year>(?:19|20)\d\d)", re.IGNORECASE),
    re.compile(rf"{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>(?:19|20)\d\d)", re.IGNORECASE),
    re.compile(r"(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)"),
)
# Labels of the dates a journal prints for a version of record (not "Received"/"Accepted").
DATE_LABEL_RE = re.compile(r"\b(published(?: online)?|revised|updated|version of record|available online|"
                           r"correction(?: published)?|corrected)\b\s*(?:on\s*)?:?\s*", re.IGNORECASE)
PDF_DATE_RE = re.compile(r"D:(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?")


def _parse_printed_date(text: str) -> str | None:
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            month = m["month"]
            month_number = int(month) if month.isdigit() else MONTHS[month[:3].lower()]
            try:
                return date(int(m["year"]), month_number, int(m["day"])).isoformat()
            except ValueError:
                return None
    return None


def printed_dates(blocks: list[dict]) -> list[str]:
    """ISO dates printed after a publication/revision label ("Published online: 12 September 2024")
    in the front matter, footnotes or anywhere on the first page; narrative paragraphs after page 1
    are left out (they date trials, not the document)."""
    found = []
    for block in blocks:
        if block.get("type") == "paragraph" and block.get("page", 1) > 1:
            continue
        text = block.get("text", "")
        for label in DATE_LABEL_RE.finditer(text):
            if (iso := _parse_printed_date(text[label.end():label.end() + 40])) is not None:
                found.append(iso)
    return found


def pdf_metadata_date(metadata: dict) -> str | None:
    """ModDate, else CreationDate of the PDF's info dictionary, as ISO date-time (UTC offset ignored)."""
    for key in ("ModDate", "CreationDate"):
        m = PDF_DATE_RE.match(str(metadata.get(key) or ""))
        if m:
            parts = [int(p) if p else d for p, d in zip(m.groups(), (0, 1, 1, 0, 0, 0))]
            try:
                return datetime(*parts).isoformat()
            except ValueError:
                continue
    return None


@dataclass(slots=True)
class VersionEvidence:
    """What orders one version among its review's versions."""

    version: str
    printed_date: str | None = None  # latest publication/revision date printed in the document
    metadata_date: str | None = None  # PDF ModDate/CreationDate
    first_seen: str = ""  # when the version first appeared (PDF modification time at first registration)

    def sort_key(self) -> tuple[str, str, str, str]:
        evidence = self.printed_date or self.metadata_date or self.first_seen
        return (evidence, self.metadata_date or "", self.first_seen, self.version)

    def ordered_after(self, other: VersionEvidence) -> str:
        """What places this version after (or before) *other*: the first evidence that differs."""
        labels = (self.ordered_by, "PDF metadata date", "first appearance", "version id")
        return next((label for label, a, b in zip(labels, self.sort_key(), other.sort_key()) if a != b),
                    "version id")

    @property
    def ordered_by(self) -> str:
        if self.printed_date:
            return "printed date"
        return "PDF metadata date" if self.metadata_date else "first appearance"


def version_evidence(version_dir: Path, first_seen: float) -> VersionEvidence:
    """Read the dates of an extraction output (document.json metadata, text.jsonl)."""
    version_dir = Path(version_dir)
    info = json.loads((version_dir / "document.json").read_text("utf-8"))
    blocks = []
    text = version_dir / "text.jsonl"
    if text.exists():
        with open(text, encoding="utf-8") as handle:
            blocks = [json.loads(line) for line in handle if line.strip()]
    dates = printed_dates(blocks)
    return VersionEvidence(version=version_dir.name, printed_date=max(dates) if dates else None,
                           metadata_date=pdf_metadata_date(info.get("metadata") or {}),
                           first_seen=datetime.fromtimestamp(first_seen, tz=timezone.utc).isoformat())


def read_versions(review_dir: Path) -> dict[str, VersionEvidence]:
    path = Path(review_dir) / VERSIONS_FILE
    if not path.exists():
        return {}
    data = json.loads(path.read_text("utf-8"))
    fields = VersionEvidence.__slots__
    return {v["version"]: VersionEvidence(**{k: v.get(k) for k in fields if k in v}) for v in data["versions"]}


def write_versions(review_dir: Path, versions: dict[str, VersionEvidence], chain: list[str]) -> None:
    """versions.json: every registered version (its evidence), and the chain oldest -> newest."""
    path = Path(review_dir) / VERSIONS_FILE
    rows = []
    for i, vid in enumerate(chain):
        rows.append({**asdict(versions[vid]), "previous": chain[i - 1] if i else None,
                     "after_previous_by": versions[vid].ordered_after(versions[chain[i - 1]]) if i else None})
    rows += [asdict(v) for vid, v in versions.items() if vid not in chain]
    tmp = path.with_name(f".{VERSIONS_FILE}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps({"chain": chain, "versions": rows}, indent=1) + "\n", "utf-8")
    os.replace(tmp, path)


def version_chain(versions: dict[str, VersionEvidence], present: set[str]) -> list[str]:
    """The registered versions that are present, oldest first: a chain (each has one previous)."""
    return [v.version for v in sorted(versions.values(), key=VersionEvidence.sort_key) if v.version in present]


def review_lock(review_dir: Path, timeout: float = -1):
    """An inter-process lock per review: publishing (move into place, diff, `latest`) is serialised,
    so concurrent batch runs on one output root never interleave their writes to one review."""
    from filelock import FileLock

    Path(review_dir).mkdir(parents=True, exist_ok=True)
    return FileLock(str(Path(review_dir) / LOCK_FILE), timeout=timeout)
