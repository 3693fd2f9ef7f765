"""Read a PDF once into :class:`PageLayout` records (words, rules, fills, graphics).

Every page's characters are parsed exactly once here; the text layer and the table
parser both work from the records this module returns.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pdfplumber
from pdfplumber.utils import extract_words

from pipeline.errors import (
    CorruptPdfError,
    EncryptedPdfError,
    InputNotFoundError,
    NoTextLayerError,
    NotAPdfError,
)
from pipeline.records import Fill, PageLayout, Rule, Word

# A drawn object thinner than this (pt) is a rule, not a box.
RULE_THICKNESS = 2.0
# Ligatures and compatibility characters that are always safe to expand.
_SAFE_COMPAT = {"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st",
                "\u00ad": "", "\u00a0": " ", "\u2009": " ", "\u202f": " "}


def normalise_text(text: str) -> str:
    """Expand ligatures and drop soft hyphens; keep Greek letters, ≥, ™ and dashes as printed."""
    for src, dst in _SAFE_COMPAT.items():
        if src in text:
            text = text.replace(src, dst)
    return unicodedata.normalize("NFC", text)


@dataclass(slots=True)
class LoadedDocument:
    path: Path
    sha256: str
    metadata: dict
    pages: list[PageLayout]
    warnings: list[str] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        return len(self.pages)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_is_pdf(path: Path) -> None:
    if not path.exists():
        raise InputNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise NotAPdfError(f"{path}: is a folder, not a PDF file")
    size = path.stat().st_size
    if size == 0:
        raise NotAPdfError(f"{path}: the file is empty")
    with open(path, "rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        raise NotAPdfError(f"{path}: not a PDF (no %PDF- header in its first 1 KiB)")


def _rules_and_fills(page) -> tuple[list[Rule], list[Fill], list[tuple]]:
    rules: list[Rule] = []
    fills: list[Fill] = []
    for line in page.lines:
        rules.append(Rule(line["x0"], line["top"], line["x1"], line["bottom"]))
    for rect in page.rects:
        w, h = rect["x1"] - rect["x0"], rect["bottom"] - rect["top"]
        if min(w, h) <= RULE_THICKNESS and max(w, h) > 3 * RULE_THICKNESS:
            rules.append(Rule(rect["x0"], rect["top"], rect["x1"], rect["bottom"]))
        elif w > RULE_THICKNESS and h > RULE_THICKNESS:
            fills.append(Fill(rect["x0"], rect["top"], rect["x1"], rect["bottom"],
                              stroked=bool(rect.get("stroke")), filled=bool(rect.get("fill"))))
    graphics = [(c["x0"], c["top"], c["x1"], c["bottom"]) for c in page.curves]
    graphics += [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in page.images]
    return rules, fills, graphics


def _page_words(chars: list[dict], page_number: int) -> list[Word]:
    # Split words at font changes too, so a bold "Table 1" stays apart from its caption.
    raw = extract_words(chars, x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False,
                        use_text_flow=False, extra_attrs=["fontname", "size"])
    words = []
    for w in raw:
        text = normalise_text(w["text"])
        if not text.strip():
            continue
        words.append(Word(text=text, x0=w["x0"], top=w["top"], x1=w["x1"], bottom=w["bottom"],
                          fontname=w["fontname"].split("+")[-1], size=round(w["size"], 2),
                          page=page_number))
    return words


def load_pdf(path: str | Path, password: str | None = None,
             progress: Callable[[int, int], None] | None = None) -> LoadedDocument:
    """Open *path* and read every page's words, rules and fills once.

    Raises a :class:`~pipeline.errors.ReviewExtractError` subclass with a one-line
    message for input that is not a readable PDF with a text layer.
    """
    path = Path(path)
    _check_is_pdf(path)
    sha = file_sha256(path)
    try:
        pdf = pdfplumber.open(path, password=password or "")
    except Exception as exc:  # pdfminer raises many unrelated types for broken files
        name = type(exc).__name__
        if "Password" in name or "Encrypt" in name:
            hint = "wrong password" if password else "use --password"
            raise EncryptedPdfError(f"{path}: the PDF is encrypted ({hint})") from None
        raise CorruptPdfError(f"{path}: cannot be parsed as a PDF ({name}: {exc})") from None
    pages: list[PageLayout] = []
    try:
        with pdf:
            metadata = {k: (v.decode("latin-1") if isinstance(v, bytes) else v)
                        for k, v in (pdf.metadata or {}).items() if isinstance(v, (str, bytes))}
            total = len(pdf.pages)
            for index, page in enumerate(pdf.pages):
                rules, fills, graphics = _rules_and_fills(page)
                pages.append(PageLayout(number=index + 1, width=float(page.width),
                                        height=float(page.height), rotation=int(page.rotation or 0),
                                        words=_page_words(page.chars, index + 1), rules=rules,
                                        fills=fills, graphics=graphics))
                page.close()  # free pdfminer's layout cache: each page is read once
                if progress:
                    progress(index + 1, total)
    except Exception as exc:
        name = type(exc).__name__
        if "Password" in name or "Encrypt" in name:
            raise EncryptedPdfError(f"{path}: the PDF is encrypted (use --password)") from None
        raise CorruptPdfError(f"{path}: damaged PDF, failed while reading pages ({name}: {exc})") from None
    if not pages:
        raise CorruptPdfError(f"{path}: the PDF has no pages")
    if not any(p.words for p in pages):
        raise NoTextLayerError(f"{path}: no text layer (scanned or image-only PDF); run OCR first")
    return LoadedDocument(path=path, sha256=sha, metadata=metadata, pages=pages)
