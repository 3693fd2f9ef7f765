"""Narrative block types against hand-labelled pages of real articles (tests/realworld/block_labels).

Each label file names a PDF, the pages labelled and, for every visual block of those pages,
a text prefix and the type a reader gives it. A label is matched to the extracted block of
its page that starts with (else contains) its text; the block's type must be the label's.

The target is 98% of the labelled blocks of every article. Where an article is not there
yet, its label file records the floor measured when it was labelled ("floor"): the test
fails if typing falls below it, and prints every miss. `python -m pytest -s` shows the
accuracy per article.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

LABELS = Path(__file__).resolve().parent / "realworld" / "block_labels"
LABEL_FILES = sorted(LABELS.glob("*.json"))
MIN_ACCURACY = 0.98


def _norm(text: str) -> str:
    # Letters and digits only: a spaceless text layer or a rejoined hyphen does not hide a match.
    return re.sub(r"[\W_]+", "", text.lower())


def score_labels(labels: dict, blocks: list[dict]) -> tuple[int, int, list[str]]:
    """(labelled blocks, typed right, one line per miss)."""
    right, misses = 0, []
    for label in labels["blocks"]:
        key = _norm(label["text"])
        page = [b for b in blocks if b["page"] == label["page"]]
        # The block that starts with the label's text, else the one that holds it (a block
        # merged with the one above it is still typed, and judged, as a whole).
        block = (next((b for b in page if _norm(b["text"]).startswith(key)), None)
                 or next((b for b in page if key in _norm(b["text"])), None))
        if block is None:
            misses.append(f"p{label['page']} {label['type']:<12} not found: {label['text'][:50]!r}")
        elif block["type"] != label["type"]:
            misses.append(f"p{label['page']} {label['type']:<12} typed {block['type']}: {label['text'][:50]!r}")
        else:
            right += 1
    return len(labels["blocks"]), right, misses


def extract_blocks(pdf: Path) -> list[dict]:
    from pipeline.document import table_regions
    from pipeline.pdf_loader import load_pdf
    from pipeline.tables import extract_tables
    from pipeline.text_layer import build_text_blocks

    doc = load_pdf(pdf)
    _, chunks = extract_tables(doc)
    return [b.to_dict() for b in build_text_blocks(doc.pages, table_regions(chunks))]


def test_label_files_exist():
    assert LABEL_FILES, f"no label files in {LABELS}"


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_labelled_blocks_typed_right(path):
    labels = json.loads(path.read_text("utf-8"))
    pdf = (path.parent / labels["pdf"]).resolve()
    blocks = extract_blocks(pdf)
    total, right, misses = score_labels(labels, blocks)
    print(f"{path.stem}: {right}/{total} labelled blocks typed right ({right / total:.1%}) on pages {labels['pages']}")
    for miss in misses:
        print("  miss:", miss)
    assert {b["page"] for b in labels["blocks"]} == set(labels["pages"])
    floor = min(MIN_ACCURACY, labels.get("floor", MIN_ACCURACY))
    assert right >= floor * total, "\n".join(misses)
