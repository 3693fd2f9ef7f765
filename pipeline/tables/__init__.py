"""Table extraction: captions -> chunks -> column grid and rows -> assembled tables."""

from __future__ import annotations

import re
from dataclasses import replace

from pipeline.geometry import dominant_size
from pipeline.pdf_loader import LoadedDocument
from pipeline.records import PageLayout, Rule, Table
from pipeline.tables.assemble import PARTIAL, assemble_table, cell_text, group_chunks, table_name
from pipeline.tables.grid import ChunkGrid, match_columns, parse_chunk_grid
from pipeline.tables.selfcheck import check_table
from pipeline.tables.locate import (
    HEAD_BAND,
    TableChunk,
    continuation_chunk,
    geometric_chunks,
    locate_chunks,
    ran_to_page_bottom,
)

__all__ = ["extract_tables", "table_records", "cell_text", "TableChunk", "PARTIAL"]


_TYPED_RULE_RE = re.compile(r"^(?:-{5,}|_{5,}|={5,}|[\u2013\u2014\u2500]{5,})$")


def _typed_rules_drawn(page: PageLayout) -> PageLayout:
    """The page with rules typed as text ("-------" under a header, as a typewriter or a
    monospaced layout draws them) turned into the rules they stand for."""
    typed = [w for w in page.words if _TYPED_RULE_RE.match(w.text)]
    if not typed:
        return page
    middle = [Rule(w.x0, (w.top + w.bottom) / 2, w.x1, (w.top + w.bottom) / 2 + 0.1) for w in typed]
    return replace(page, words=[w for w in page.words if not _TYPED_RULE_RE.match(w.text)],
                   rules=page.rules + middle)


def _tokens(words) -> set[str]:
    return {t for w in words for t in re.findall(r"[a-z0-9]+", w.text.lower())}


def _same_header(a: TableChunk, b: TableChunk) -> bool:
    """Does chunk *b* repeat the header of chunk *a* (the table's first chunk)?"""
    ta, tb = _tokens(a.header_words), _tokens(b.header_words)
    if not ta or not tb:
        return False
    return len(ta & tb) / len(ta | tb) >= 0.5


def _parse(chunk: TableChunk) -> ChunkGrid:
    grid = parse_chunk_grid(chunk.header_words, chunk.body_words, chunk.row_separators, chunk.header_spanners)
    chunk.n_columns = len(grid.columns)
    chunk.columns = list(grid.columns)
    return grid


def _own_table(first: TableChunk, chunk: TableChunk) -> bool:
    """Is a later chunk under the same label a table of its own ("Table 3 (Continued.)" that
    goes on with other columns under another header)? Its header is closed by a rule and its
    columns do not line up with the first chunk's: its rows cannot go under the first header."""
    if chunk.header_rule is None or not chunk.header_words or not first.columns:
        return False
    columns = parse_chunk_grid(chunk.header_words, chunk.body_words, chunk.row_separators, chunk.header_spanners).columns
    return len(columns) != len(first.columns) and match_columns(first.columns, columns) is None


def _drop_header(chunk: TableChunk) -> None:
    """A continuation chunk that does not repeat the header: its first rows are body rows."""
    chunk.body_words = chunk.header_words + chunk.body_words
    chunk.header_words = []
    if chunk.header_rule is not None:
        chunk.row_separators = sorted(set(chunk.row_separators) | {chunk.header_rule})


def extract_tables(doc: LoadedDocument) -> tuple[list[Table], list[TableChunk]]:
    """Every table of the document, and the chunks (page regions) it was read from.

    A page, chunk or table the geometry cannot make sense of is left out with a warning;
    it never takes the document's other tables down with it.
    """
    body_size = dominant_size(w for p in doc.pages for w in p.words)
    parsed: list[tuple[TableChunk, ChunkGrid]] = []
    failures: list[str] = []
    first_of: dict[str, TableChunk] = {}
    previous: TableChunk | None = None
    previous_page = None
    for page in map(_typed_rules_drawn, doc.pages):
        try:
            page_chunks = locate_chunks(page, body_size)
        except Exception as exc:
            failures.append(f"{PARTIAL}page {page.number}: its tables cannot be located "
                            f"({type(exc).__name__}: {exc}); left out")
            previous = None
            continue
        grids: dict[int, ChunkGrid] = {}
        ran_on = previous is not None and previous_page is not None and ran_to_page_bottom(previous_page, previous)
        if ran_on:
            try:
                _continue_table(page, previous, page_chunks, first_of, grids, body_size)
            except Exception as exc:
                failures.append(f"{PARTIAL}{table_name(previous)}: its continuation on page {page.number} "
                                f"cannot be read ({type(exc).__name__}: {exc}); left out")
        try:
            page_chunks += geometric_chunks(page, body_size, page_chunks)
        except Exception as exc:
            failures.append(f"{PARTIAL}page {page.number}: tables without a caption cannot be located "
                            f"({type(exc).__name__}: {exc}); left out")
        if ran_on and not any(c.number == previous.number for c in page_chunks):
            _join_across_pages(page, previous, page_chunks, first_of, parsed)
        for chunk in page_chunks:
            first = first_of.setdefault(chunk.number, chunk)
            if id(chunk) not in grids:
                if chunk is not first and not _same_header(first, chunk):
                    if _own_table(first, chunk):
                        chunk.number = f"{chunk.number}@p{chunk.page}"
                        first_of[chunk.number] = first = chunk
                    else:
                        _drop_header(chunk)
                try:
                    grids[id(chunk)] = _parse(chunk)
                    if chunk.found_by == "geometry" and chunk.n_columns < 2:
                        del grids[id(chunk)]  # its words do not stand in columns after all: no table
                        if first is chunk:
                            del first_of[chunk.number]
                        continue
                except Exception as exc:  # a chunk the geometry cannot make sense of: skip it, say so
                    failures.append(f"{PARTIAL}{table_name(chunk)}, page {chunk.page}: cannot be parsed "
                                    f"({type(exc).__name__}: {exc}); its rows are left out")
                    if first is chunk:
                        del first_of[chunk.number]
                    continue
            parsed.append((chunk, grids[id(chunk)]))
        kept = [c for c in page_chunks if id(c) in grids]
        if kept:
            previous, previous_page = max(kept, key=lambda c: c.bbox[3]), page
        elif page.words:
            previous = None
    tables = []
    all_chunks = [c for c, _ in parsed]
    for group in group_chunks(parsed):
        try:
            table = assemble_table(group, len(tables) + 1)
        except Exception as exc:
            failures.append(f"{PARTIAL}{table_name(group[0][0])}: cannot be assembled ({type(exc).__name__}: "
                            f"{exc}); left out")
            continue
        own = [c for c, _ in group]
        table.warnings += check_table(table, own, [c for c in all_chunks if all(c is not o for o in own)])
        tables.append(table)
    if failures:
        doc.warnings.extend(failures)
        doc.partial = True
    return tables, [c for c, _ in parsed]


def _join_across_pages(page, previous: TableChunk, page_chunks: list[TableChunk],
                       first_of: dict[str, TableChunk], parsed: list[tuple[TableChunk, ChunkGrid]]) -> None:
    """The table at the top of *page* goes on with the one that ran to the bottom of the last page.

    When the page's top table has no caption, it is the next chunk of the previous table;
    when it has one and the previous table had none, the caption sits under the table's last
    chunk and names the whole table. Either way their columns must line up.
    """
    top = min(page_chunks, key=lambda c: c.table_box[1], default=None)
    if top is None or not _at_page_top(page, top):
        return
    first = first_of.get(previous.number, previous)
    if not first.columns:
        return
    if top.caption is None:
        old, new = top.number, previous.number
    elif previous.caption is None and top.caption.label is not None:
        old, new = previous.number, top.number
    else:
        return
    if top.caption is None and not _same_header(first, top):
        _drop_header(top)
    grid = _parse(top)
    if not grid.rows or match_columns(first.columns, top.columns) is None:
        return
    for chunk in [c for c, _ in parsed] + page_chunks:
        if chunk.number == old:
            chunk.number = new
            chunk.continued = chunk.continued or chunk is top
    if old in first_of:
        first_of.setdefault(new, first_of.pop(old))


def _at_page_top(page, chunk: TableChunk) -> bool:
    """Nothing but the running head above the chunk."""
    band = HEAD_BAND * page.height
    return not any(w.bottom < chunk.bbox[1] - 1 and w.top > band for w in page.words)


def _continue_table(page, previous: TableChunk, page_chunks: list[TableChunk], first_of: dict[str, TableChunk],
                    grids: dict[int, ChunkGrid], body_size: float) -> None:
    """A block at the top of *page* that goes on with the table that ended *previous* page."""
    top_chunk = min(page_chunks, key=lambda c: c.bbox[1], default=None)
    if top_chunk is not None and top_chunk.number == previous.number:
        return
    cont = continuation_chunk(page, previous, body_size)
    if cont is None or (top_chunk is not None and cont.table_box[3] > top_chunk.bbox[1] + 1):
        return
    first = first_of.get(previous.number, previous)
    if not _same_header(first, cont):
        _drop_header(cont)
    grid = _parse(cont)
    if grid.rows and cont.n_columns >= 2 and match_columns(first.columns, cont.columns) is not None:
        page_chunks.insert(0, cont)
        grids[id(cont)] = grid


def table_records(table: Table) -> list[dict[str, str | int]]:
    """Rows as flat dicts in output column order (multi-item cells joined with newlines)."""
    out = []
    for row in table.rows:
        rec: dict[str, str | int] = {"table": table.number, "row": row.row, "block": row.block}
        for key in table.columns:
            rec[key] = cell_text(table, row.cells.get(key))
        out.append(rec)
    return out
