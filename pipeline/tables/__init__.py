"""Table extraction: captions -> chunks -> column grid and rows -> assembled tables."""

from __future__ import annotations

import re

from pipeline.geometry import dominant_size
from pipeline.pdf_loader import LoadedDocument
from pipeline.records import Table
from pipeline.tables.assemble import PARTIAL, assemble_table, cell_text, group_chunks
from pipeline.tables.grid import ChunkGrid, match_columns, parse_chunk_grid
from pipeline.tables.locate import (
    TableChunk,
    continuation_chunk,
    locate_chunks,
    ran_to_page_bottom,
)

__all__ = ["extract_tables", "table_records", "cell_text", "TableChunk", "PARTIAL"]


def _tokens(words) -> set[str]:
    return {t for w in words for t in re.findall(r"[a-z0-9]+", w.text.lower())}


def _same_header(a: TableChunk, b: TableChunk) -> bool:
    """Does chunk *b* repeat the header of chunk *a* (the table's first chunk)?"""
    ta, tb = _tokens(a.header_words), _tokens(b.header_words)
    if not ta or not tb:
        return False
    return len(ta & tb) / len(ta | tb) >= 0.5


def _parse(chunk: TableChunk) -> ChunkGrid:
    grid = parse_chunk_grid(chunk.header_words, chunk.body_words, chunk.row_separators)
    chunk.n_columns = len(grid.columns)
    chunk.columns = list(grid.columns)
    return grid


def _drop_header(chunk: TableChunk) -> None:
    """A continuation chunk that does not repeat the header: its first rows are body rows."""
    chunk.body_words = chunk.header_words + chunk.body_words
    chunk.header_words = []
    if chunk.header_rule is not None:
        chunk.row_separators = sorted(set(chunk.row_separators) | {chunk.header_rule})


def extract_tables(doc: LoadedDocument) -> tuple[list[Table], list[TableChunk]]:
    """Every table of the document, and the chunks (page regions) it was read from."""
    body_size = dominant_size(w for p in doc.pages for w in p.words)
    parsed: list[tuple[TableChunk, ChunkGrid]] = []
    failures: list[str] = []
    first_of: dict[int, TableChunk] = {}
    previous: TableChunk | None = None
    previous_page = None
    for page in doc.pages:
        page_chunks = locate_chunks(page, body_size)
        grids: dict[int, ChunkGrid] = {}
        if previous is not None and previous_page is not None and ran_to_page_bottom(previous_page, previous):
            top_chunk = min(page_chunks, key=lambda c: c.bbox[1], default=None)
            if top_chunk is None or top_chunk.number != previous.number:
                cont = continuation_chunk(page, previous, body_size)
                if cont is not None and (top_chunk is None or cont.table_box[3] <= top_chunk.bbox[1] + 1):
                    first = first_of.get(previous.number, previous)
                    if not _same_header(first, cont):
                        _drop_header(cont)
                    grid = _parse(cont)
                    if grid.rows and cont.n_columns >= 2 and match_columns(first.columns, cont.columns) is not None:
                        page_chunks.insert(0, cont)
                        grids[id(cont)] = grid
        for chunk in page_chunks:
            first = first_of.setdefault(chunk.number, chunk)
            if id(chunk) not in grids:
                if chunk is not first and not _same_header(first, chunk):
                    _drop_header(chunk)
                try:
                    grids[id(chunk)] = _parse(chunk)
                except Exception as exc:  # a chunk the geometry cannot make sense of: skip it, say so
                    failures.append(f"{PARTIAL}Table {chunk.number}, page {chunk.page}: cannot be parsed "
                                    f"({type(exc).__name__}: {exc}); its rows are left out")
                    if first is chunk:
                        del first_of[chunk.number]
                    continue
            parsed.append((chunk, grids[id(chunk)]))
        if page_chunks:
            previous, previous_page = max(page_chunks, key=lambda c: c.bbox[3]), page
        elif page.words:
            previous = None
    tables = []
    for group in group_chunks(parsed):
        try:
            tables.append(assemble_table(group))
        except Exception as exc:
            failures.append(f"{PARTIAL}Table {group[0][0].number}: cannot be assembled ({type(exc).__name__}: "
                            f"{exc}); left out")
    if failures:
        doc.warnings.extend(failures)
        doc.partial = True
    return tables, [c for c, _ in parsed]


def table_records(table: Table) -> list[dict[str, str | int]]:
    """Rows as flat dicts in output column order (multi-item cells joined with newlines)."""
    out = []
    for row in table.rows:
        rec: dict[str, str | int] = {"table": table.number, "row": row.row, "block": row.block}
        for key in table.columns:
            rec[key] = cell_text(table, row.cells.get(key))
        out.append(rec)
    return out
