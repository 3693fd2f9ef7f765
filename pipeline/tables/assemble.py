"""Assemble a table's chunks (one per page) into one :class:`Table` with keyed cells."""

from __future__ import annotations

import re
from collections import defaultdict

from pipeline.records import Cell, Line, Table, TableRow, join_cell_lines
from pipeline.registry_ids import registries
from pipeline.tables.grid import ChunkGrid, match_columns
from pipeline.tables.locate import TableChunk
from pipeline.tables.vocabulary import ColumnSpec, load_vocabulary, map_columns

PARTIAL = "partial result: "  # warnings that mean some content could not be structured
REGISTRY_REF_RE = re.compile(r"^(?P<id>[A-Za-z][A-Za-z]*-?\d[\w-]*?)\s*(?:\[(?P<ref>[^\]]*)\])?\s*$")


def _column_specs(labels: list[str]) -> list[tuple[str, ColumnSpec | None]]:
    """Output key per printed column, each label mapped on its own (unknown labels keep a slug)."""
    return [(key, found.spec) for key, found in map_columns(labels)]


def _chunk_column_map(first: ChunkGrid, grid: ChunkGrid, warnings: list[str], where: str) -> list[int | None]:
    """For each column of a continuation chunk, the index of the table's column it continues."""
    if len(grid.columns) == len(first.columns):
        return list(range(len(grid.columns)))
    matched = match_columns(first.columns, grid.columns)
    if matched is not None and (not any(grid.labels) or all(
            not lbl or lbl == first.labels[j] for lbl, j in zip(grid.labels, matched))):
        return list(matched)  # a column left empty on this page: the others line up
    warnings.append(f"{where}: {len(grid.columns)} columns where the table's first chunk has "
                    f"{len(first.columns)}; columns matched by label and position")
    mapping: list[int | None] = []
    for i, label in enumerate(grid.labels):
        match = next((j for j, lbl in enumerate(first.labels) if label and lbl == label), None)
        if match is None:
            x0 = grid.columns[i][0]
            match = min(range(len(first.columns)), key=lambda j: abs(first.columns[j][0] - x0))
        mapping.append(match)
    return mapping


def printed_text(line: Line) -> str:
    """A cell line's text as printed: words that touch join without a space.

    Words are set apart by a space or a gap of at least 0.15 em; two words closer than
    that were split where bold and regular glyphs meet (a bold "Q246" and its ";").
    """
    out = line.words[0].text
    for a, b in zip(line.words, line.words[1:]):
        out += ("" if b.x0 - a.x1 < 0.1 * max(a.size, b.size) else " ") + b.text
    return out


def table_name(chunk: TableChunk) -> str:
    """How messages name a chunk's table: its printed label, else where it starts."""
    if chunk.caption is not None and chunk.caption.label is not None:
        return f"Table {chunk.caption.label}"
    if chunk.number and not chunk.number.startswith("p"):
        return f"Table {chunk.number}"
    return f"the table without a caption on page {chunk.page}"


def assemble_table(chunks: list[tuple[TableChunk, ChunkGrid]], number: int) -> Table:
    """Merge one table's chunks: shared columns, continuous row numbers, filled spanning cells.

    *number* is the table's position in the document (1-based); its printed label is kept apart.
    """
    first_chunk, first = chunks[0]
    captioned = next((c for c, _ in chunks if c.caption is not None), None)
    warnings: list[str] = []
    labels = [f"{g}: {lbl}" if g else lbl for g, lbl in zip(first.group_labels, first.labels)]
    specs = _column_specs(labels)
    vocab = load_vocabulary()
    columns: list[str] = []
    for key, spec in specs:
        columns.append(key)
        if spec and spec.split == "registry_ref":
            columns.append("ref")
    rows: list[TableRow] = []
    spanning_keys: set[str] = set()
    for block, (chunk, grid) in enumerate(chunks, start=1):
        where = f"{table_name(chunk)}, page {chunk.page}"
        mapping = _chunk_column_map(first, grid, warnings, where)
        spanning_keys |= {specs[mapping[c]][0] for c in grid.spanning_columns if mapping[c] is not None}
        for text in grid.unparsed:
            warnings.append(f"{PARTIAL}{where}: a line printed across several columns cannot be split into "
                            f"cells ({text[:80]!r}); kept whole in one cell")
        for chunk_row in grid.rows:
            cells: dict[str, Cell] = {}
            for col, frag in chunk_row.cells.items():
                target = mapping[col]
                if target is None:
                    continue
                key, spec = specs[target]
                lines = [printed_text(ln) for ln in frag.lines]
                if key in cells:  # two printed columns mapped onto one: keep both texts
                    cells[key].lines += lines
                    continue
                cells[key] = Cell(column=key, lines=lines, page=chunk.page, bbox=frag.bbox)
                if spec and spec.split == "registry_ref":
                    _split_registry_ref(cells, key, warnings, where)
            rows.append(TableRow(table=number, row=len(rows) + 1, block=block, cells=cells,
                                 page=chunk.page, bbox=chunk_row.bbox))
    _fill_down(rows, spanning_keys)
    footnote = " ".join(ln.text for chunk, _ in chunks for ln in chunk.footnote_lines)
    return Table(number=number, label=captioned.caption.label if captioned else None,
                 caption=captioned.caption.title if captioned else "", columns=columns,
                 labels=labels, groups=list(first.group_labels),
                 labels_level_with_groups=list(first.labels_level_with_groups), footnote=footnote,
                 pages=sorted({c.page for c, _ in chunks}), rows=rows,
                 multi_item_columns=[k for k in columns if k in vocab.multi_item], warnings=warnings)


def _split_registry_ref(cells: dict[str, Cell], key: str, warnings: list[str], where: str) -> None:
    """Split "NCT03430011 [29]" into the registry id cell and its citation cell ("ref"); a cell
    that holds more than an id ("KarMMa (NCT03361748)") stays whole."""
    cell = cells[key]
    text = join_cell_lines(cell.lines)
    m = REGISTRY_REF_RE.match(text)
    if not m:
        if not registries().valid_ids(text):
            warnings.append(f"{where}: registry cell {text!r} holds no registry id")
        return
    cell.lines = [m.group("id")]
    ref = (m.group("ref") or "").strip()
    if ref:
        cells["ref"] = Cell(column="ref", lines=[ref], page=cell.page, bbox=cell.bbox, derived_from=f"split:{key}")


def _fill_down(rows: list[TableRow], keys: set[str]) -> None:
    """Give every row under a spanning cell that cell's value (with the spanning cell's box)."""
    last: dict[str, Cell] = {}
    for row in rows:
        for key in keys:
            cell = row.cells.get(key)
            if cell is not None and cell.lines:
                last[key] = cell
            elif key in last:
                src = last[key]
                row.cells[key] = Cell(column=key, lines=list(src.lines), page=src.page, bbox=src.bbox,
                                      derived_from="fill-down")


def cell_text(table: Table, cell: Cell | None) -> str:
    if cell is None:
        return ""
    if cell.column in table.multi_item_columns:
        return "\n".join(cell.lines)
    return join_cell_lines(cell.lines)


def group_chunks(chunks: list[tuple[TableChunk, ChunkGrid]]) -> list[list[tuple[TableChunk, ChunkGrid]]]:
    """Group chunks by table, in page order (a continuation joins its table); tables in the
    order they start in the document."""
    by_table: dict[str, list[tuple[TableChunk, ChunkGrid]]] = defaultdict(list)
    for item in chunks:
        by_table[item[0].number].append(item)
    groups = [sorted(v, key=lambda it: (it[0].page, it[0].table_box[1])) for v in by_table.values()]
    return sorted(groups, key=lambda g: (g[0][0].page, g[0][0].table_box[1]))
