"""Write an extraction to disk: atomically, so a failed run never leaves half a result."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from pipeline.errors import OutputWriteError
from pipeline.records import Table, TextBlock


TEMPORARY_RE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$")
MANIFEST = "manifest.json"


def pid_alive(pid: int) -> bool:
    """True unless no process *pid* exists on this machine (a PID in use by anyone counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: Path, name: str | None = None) -> list[Path]:
    """Clean up after runs killed while writing (SIGKILL, power loss): `.NAME.tmp-PID` and
    `.NAME.old-PID` siblings whose PID no longer runs. A `.old` folder whose NAME is missing
    is the last complete output (the run died between its two renames): it is put back.

    *name*: only the temporaries of that output folder. Returns the paths removed or restored.
    """
    folder = Path(folder)
    cleaned: list[Path] = []
    if not folder.is_dir():
        return cleaned
    for path in sorted(folder.iterdir()):
        match = TEMPORARY_RE.match(path.name)
        if not match or (name is not None and match["name"] != name) or pid_alive(int(match["pid"])):
            continue
        target = folder / match["name"]
        if match["kind"] == "old" and not target.exists():
            os.replace(path, target)
        elif path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        cleaned.append(path)
    return cleaned


def write_error(path: Path, exc: OSError) -> OutputWriteError:
    """One line for a failed write: read-only, permission denied, disk full, name too long."""
    reason = exc.strerror or type(exc).__name__
    where = exc.filename or path
    return OutputWriteError(f"{where}: cannot write the output ({reason})")


@contextlib.contextmanager
def atomic_output_dir(out: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces *out* in one rename.

    On failure the temporary folder is removed and an earlier *out* is left untouched. A write
    error (OSError) becomes :class:`OutputWriteError`: one line and exit code 9, not a traceback.
    """
    out = Path(out)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out.parent, out.name)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
    except OSError as exc:
        raise write_error(out, exc) from None
    try:
        yield tmp
        move_into_place(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise write_error(out, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def move_into_place(src: Path, out: Path) -> None:
    """Replace *out* by the finished folder *src* (same file system): readers see old or new."""
    out.parent.mkdir(parents=True, exist_ok=True)
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(src, out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def write_manifest(folder: Path, **info) -> None:
    """`manifest.json`: every file of a finished output with its size (plus *info*), so a
    reader can tell a complete output from one whose files went missing or were cut short."""
    folder = Path(folder)
    files = {p.relative_to(folder).as_posix(): p.stat().st_size
             for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}
    write_json(folder / MANIFEST, {**info, "files": files})


def output_complete(folder: Path) -> bool:
    """True when *folder* has its manifest and every file the manifest lists, at its size."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text("utf-8"))
        return all((Path(folder) / name).stat().st_size == size for name, size in manifest["files"].items())
    except (OSError, ValueError, KeyError, AttributeError):
        return False


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
    from pipeline.tables import table_records  # the table parser: not for readers of finished outputs
    from pipeline.tables.vocabulary import column_mapping

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
                "label": table.label,
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
