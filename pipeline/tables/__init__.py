"""Table extraction: captions -> chunks -> column grid and rows -> assembled tables."""

from __future__ import annotations

from pipeline.geometry import dominant_size
from pipeline.pdf_loader import LoadedDocument
from pipeline.records import Table
from pipeline.tables.assemble import assemble_table, cell_text, group_chunks
from pipeline.tables.grid import parse_chunk_grid
from pipeline.tables.locate import TableChunk, locate_chunks

__all__ = ["extract_tables", "table_records", "cell_text", "TableChunk"]


def extract_tables(doc: LoadedDocument) -> tuple[list[Table], list[TableChunk]]:
    """Every captioned table of the document, and the chunks (page regions) it was read from."""
    body_size = dominant_size(w for p in doc.pages for w in p.words)
    chunks = [chunk for page in doc.pages for chunk in locate_chunks(page, body_size)]
    parsed = [(c, parse_chunk_grid(c.header_words, c.body_words, c.row_separators)) for c in chunks]
    tables = [assemble_table(group) for group in group_chunks(parsed)]
    return tables, chunks


def table_records(table: Table) -> list[dict[str, str | int]]:
    """Rows as flat dicts in output column order (multi-item cells joined with newlines)."""
    out = []
    for row in table.rows:
        rec: dict[str, str | int] = {"table": table.number, "row": row.row, "block": row.block}
        for key in table.columns:
            rec[key] = cell_text(table, row.cells.get(key))
        out.append(rec)
    return out
