"""Write an extraction to disk: atomically, so a failed run never leaves half a result."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from pipeline.records import Table, TextBlock
from pipeline.tables import table_records
from pipeline.tables.vocabulary import column_mapping


@contextlib.contextmanager
def atomic_output_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces *out* in one rename.

    On failure the temporary folder is removed and an earlier *out* is left untouched.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    move_into_place(tmp, out)


def move_into_place(src: Path, out: Path) -> None:
    """Replace *out* by the finished folder *src* (same file system): readers see old or new."""
    out.parent.mkdir(parents=True, exist_ok=True)
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(src, out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_text_blocks(path: Path, blocks: list[TextBlock]) -> None:
    write_jsonl(path, (b.to_dict() for b in blocks))


def write_tables(folder: Path, tables: list[Table]) -> None:
    """tables/table{N}.csv, tables/tables.json and tables/provenance.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = []
    with open(folder / "provenance.csv", "w", newline="", encoding="utf-8") as prov_handle:
        prov = csv.writer(prov_handle, lineterminator="\n")
        prov.writerow(["table", "row", "column", "page", "x0", "top", "x1", "bottom", "derived_from"])
        for table in tables:
            fields = ["table", "row", "block"] + table.columns
            with open(folder / f"table{table.number}.csv", "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
                writer.writeheader()
                writer.writerows(table_records(table))
            for row in table.rows:
                for key in table.columns:
                    cell = row.cells.get(key)
                    if cell is None or cell.bbox is None:
                        continue
                    prov.writerow([table.number, row.row, key, cell.page,
                                   *(round(v, 2) for v in cell.bbox), cell.derived_from or ""])
            summary.append({
                "table": table.number,
                "caption": table.caption,
                "columns": table.labels,
                "column_keys": table.columns,
                "column_mapping": column_mapping(table.labels, table.columns),
                "multi_item_columns": table.multi_item_columns,
                "footnote": table.footnote,
                "pages": table.pages,
                "blocks": len({r.block for r in table.rows}),
                "rows": len(table.rows),
                "warnings": table.warnings,
            })
    write_json(folder / "tables.json", summary)


def document_json(info, timings: dict[str, float], tool_version: str, warnings: list[str],
                  counts: dict[str, int], partial: bool = False) -> dict:
    data = asdict(info)
    data.update({
        "tool": "review-extract",
        "tool_version": tool_version,
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "counts": counts,
        "warnings": warnings,
        "partial": partial,
    })
    return data
