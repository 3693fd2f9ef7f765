"""Document-level facts: title, DOI and the table regions the text layer must skip."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.pdf_loader import LoadedDocument
from pipeline.records import BBox, TextBlock
from pipeline.tables.locate import TableChunk

DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)\]])")


@dataclass(slots=True)
class DocumentInfo:
    title: str
    doi: str | None
    page_count: int
    sha256: str
    source: str
    source_path: str
    metadata: dict = field(default_factory=dict)


def chunk_regions(chunk: TableChunk) -> list[BBox]:
    """The parts of a page a table chunk occupies: the table proper, its caption, its footnote
    lines and the band between caption and table where both overlap (a note set there).

    Not the union of these: a caption in one column beside a table wider than that column
    would otherwise take the other column's running text with it."""
    boxes = [chunk.table_box, *(ln.bbox for ln in chunk.footnote_lines)]
    if chunk.caption is not None and chunk.caption.lines:
        cap, tab = chunk.caption.bbox, chunk.table_box
        boxes.append(cap)
        x0, x1 = max(cap[0], tab[0]), min(cap[2], tab[2])
        top, bottom = (cap[3], tab[1]) if cap[3] <= tab[1] else (tab[3], cap[1])
        if x1 > x0 and bottom > top:
            boxes.append((x0, top, x1, bottom))
    return boxes


def table_regions(chunks: list[TableChunk]) -> dict[int, list[BBox]]:
    """Page -> regions (caption, header, body, footnote, the band between caption and table)
    that belong to tables."""
    regions: dict[int, list[BBox]] = {}
    for chunk in chunks:
        regions.setdefault(chunk.page, []).extend(chunk_regions(chunk))
    return regions


def document_info(doc: LoadedDocument, blocks: list[TextBlock]) -> DocumentInfo:
    """Title from the title block (else the PDF metadata), DOI from the text (else metadata)."""
    title_block = next((b.text for b in blocks if b.type == "title"), "")
    title = title_block or str(doc.metadata.get("Title", "")).strip() or doc.path.stem
    doi = None
    for text in [b.text for b in blocks if b.page == 1] + [str(v) for v in doc.metadata.values()]:
        m = DOI_RE.search(text)
        if m:
            doi = m.group(1)
            break
    return DocumentInfo(title=title, doi=doi, page_count=doc.page_count, sha256=doc.sha256,
                        source=doc.path.name, source_path=str(doc.path.resolve()), metadata=doc.metadata)
