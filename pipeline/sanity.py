"""Sanity checks over extracted tables: flag what looks wrong instead of passing it silently.

:func:`check_tables` is a pure function over the assembled tables (and, optionally, the
chunks they were read from). It never changes a value; each :class:`Flag` names the table,
row and column it concerns and says why it looks suspicious:

- ``registry_id``: a cell of a registry column (the vocabulary's registry-id role, or a column whose
  cells mostly start like registry ids) that is not a valid id (models/lexicons/registry_ids.json);
- ``numeric_text``: text in a column whose other cells are numbers (``n_patients``, ``orr``);
- ``percent_range``: a percentage above 100 (a ``%`` column, a column whose parser reads
  percentages, or a value printed with ``%``);
- ``duplicate_row``: a row whose every cell repeats an earlier row of the same table;
- ``chunk_columns``: a continuation chunk whose columns disagree with the first chunk's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from pipeline.records import Table
from pipeline.registry_ids import registries
from pipeline.tables.vocabulary import load_vocabulary

# A numeric cell: a number, a ratio or list of numbers ("2/4", "6.5/1.6", "1, 2"), a range, or NA-like.
_NUM = r"[<>≤≥~]?\s*\d+(?:[.,]\d+)?\s*%?"
_CI = rf"(?:\s*\(\s*{_NUM}\s*(?:-|–|to|,)\s*(?:{_NUM}|NE|NR|NA)\s*\))?"  # "18.4 (14.9–NE)"
NUMBER_RE = re.compile(rf"^{_NUM}(?:\s*(?:/|-|–|,|to)\s*(?:{_NUM}|NA|NR|N/A))*{_CI}$|^(?:NA|NR)(?:\s*/\s*{_NUM})+$",
                       re.IGNORECASE)
MISSING = {"", "na", "n/a", "nr", "nd", "-", "–", "—", "not reported", "not available", "not yet reached", "ne"}
PERCENT_NUMBER_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%")
NUMBER_IN_CELL_RE = re.compile(r"\d+(?:\.\d+)?")
NUMERIC_SHARE = 0.6  # a column is numeric when this share of its non-missing cells are numbers
MIN_NUMERIC_CELLS = 4


@dataclass(frozen=True, slots=True)
class Flag:
    check: str
    table: int
    row: int | None
    column: str | None
    value: str | None
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def _cell(table: Table, row, key: str) -> str:
    cell = row.cells.get(key)
    return " ".join(cell.lines).strip() if cell is not None else ""


def _is_number(text: str) -> bool:
    return bool(NUMBER_RE.match(text.strip()))


def _label(table: Table, key: str) -> str:
    try:
        return table.labels[[k for k in table.columns if k != "ref"].index(key)]
    except (ValueError, IndexError):
        return key


def _is_registry_column(table: Table, key: str) -> bool:
    """A registry column by its role, or by its cells (most of them start like registry ids)."""
    spec = load_vocabulary().by_key(key)
    if spec is not None and spec.parser == "registry_id":
        return True
    values = [_cell(table, row, key) for row in table.rows]
    values = [v for v in values if v]
    hits = sum(1 for v in values if registries().looks_like_id(v))
    return len(values) >= 3 and hits >= 0.6 * len(values)


def _percent_column(table: Table, key: str) -> bool:
    label = _label(table, key).lower()
    spec = load_vocabulary().by_key(key)
    return "%" in label or "percent" in label or (spec is not None and spec.unit == "%" and spec.parser == "percent")


def check_tables(tables: Iterable[Table], chunks: Iterable | None = None) -> list[Flag]:
    """Flags for suspicious cells, rows and chunks; the tables are left as they are."""
    tables = list(tables)
    flags: list[Flag] = []
    for table in tables:
        where = f"Table {table.number}"
        # Registry ids.
        registry_keys = {key for key in table.columns if _is_registry_column(table, key)}
        for key in registry_keys:
            for row in table.rows:
                value = _cell(table, row, key)
                if value and not registries().valid_ids(value):
                    flags.append(Flag("registry_id", table.number, row.row, key, value,
                                      f"{where} row {row.row} {key}: {value!r} is not a trial registry id"))
        # Text in a numeric column; percentages over 100.
        for key in table.columns:
            if key in registry_keys or key == "ref" or key in table.multi_item_columns:
                continue
            values = [(row, _cell(table, row, key)) for row in table.rows]
            present = [(r, v) for r, v in values if v.lower() not in MISSING]
            numeric = [(r, v) for r, v in present if _is_number(v)]
            if len(numeric) >= MIN_NUMERIC_CELLS and len(numeric) >= NUMERIC_SHARE * len(present):
                for row, value in present:
                    if not _is_number(value):
                        flags.append(Flag("numeric_text", table.number, row.row, key, value,
                                          f"{where} row {row.row} {key}: text {value!r} in a numeric column"))
            percent_col = _percent_column(table, key)
            for row, value in present:
                numbers = [float(n) for n in PERCENT_NUMBER_RE.findall(value)]
                if percent_col and _is_number(value) and "/" not in value:
                    numbers += [float(n) for n in NUMBER_IN_CELL_RE.findall(value)]
                if any(n > 100 for n in numbers):
                    flags.append(Flag("percent_range", table.number, row.row, key, value,
                                      f"{where} row {row.row} {key}: percentage {value!r} is over 100"))
        # Duplicated rows.
        seen: dict[tuple, int] = {}
        for row in table.rows:
            signature = tuple(_cell(table, row, key) for key in table.columns)
            if not any(signature):
                continue
            if signature in seen:
                flags.append(Flag("duplicate_row", table.number, row.row, None, None,
                                  f"{where} row {row.row} repeats row {seen[signature]} cell for cell"))
            else:
                seen[signature] = row.row
    # Continuation chunks whose columns disagree with the table's first chunk.
    if chunks is not None:
        from pipeline.tables.grid import match_columns

        first: dict[int, object] = {}
        for chunk in chunks:
            ref = first.setdefault(chunk.number, chunk)
            if chunk is ref or not getattr(chunk, "n_columns", 0):
                continue
            if chunk.n_columns == ref.n_columns:
                continue
            consistent = chunk.n_columns < ref.n_columns and match_columns(ref.columns, chunk.columns) is not None
            if not consistent:
                flags.append(Flag("chunk_columns", chunk.number, None, None, None,
                                  f"Table {chunk.number}, page {chunk.page}: {chunk.n_columns} columns where the "
                                  f"first chunk (page {ref.page}) has {ref.n_columns}; they do not line up"))
    return flags
