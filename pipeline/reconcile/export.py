"""Write a :class:`TrialDataset`: Parquet, CSV, JSON Lines, DuckDB and datapackage.json.

Every frame is validated against its pandera schema before anything is written; a failure
raises :class:`pipeline.errors.SchemaValidationError` and nothing is written. Parquet files are
written by DuckDB (``COPY ... (FORMAT parquet)``) from the same typed tables as the database,
so the two cannot drift apart and no pyarrow import is needed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.reconcile.model import TrialDataset
from pipeline.reconcile.schema import (
    CONFLICT_FIELDS,
    EVIDENCE_FIELDS,
    TRIAL_FIELDS,
    FieldSpec,
    dataset_frames,
    datapackage,
    schemas_for,
    table_row_columns,
    validate,
)

FILES = {
    "trials_parquet": "trials.parquet",
    "trials_csv": "trials.csv",
    "trials_jsonl": "trials.jsonl",
    "conflicts_csv": "conflicts.csv",
    "evidence_csv": "evidence.csv",
    "duckdb": "review.duckdb",
    "datapackage": "datapackage.json",
}
DUCKDB_TABLES = ("trials", "table_rows", "entities", "text_facts", "conflicts", "evidence")


def write_dataset(dataset: TrialDataset, out_dir: Path, extra: dict[str, pd.DataFrame] | None = None) -> None:
    """Validate and write the dataset into *out_dir* (created if needed).

    *extra*: frames that replace the dataset's own (``entities``, ``text_facts``) or are added
    to the DuckDB database under their key.
    """
    out_dir = Path(out_dir)
    frames = dataset_frames(dataset)
    for name, df in (extra or {}).items():
        frames[name] = df.copy()
    schemas = schemas_for(dataset)
    for name, df in frames.items():
        if name in schemas:
            frames[name] = validate(name, df, schemas[name])

    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(frames["trials"], TRIAL_FIELDS, out_dir / FILES["trials_csv"])
    write_csv(frames["conflicts"], CONFLICT_FIELDS, out_dir / FILES["conflicts_csv"])
    write_csv(frames["evidence"], EVIDENCE_FIELDS, out_dir / FILES["evidence_csv"])
    write_jsonl(frames["trials"], out_dir / FILES["trials_jsonl"])
    tables = write_duckdb(frames, dataset, out_dir / FILES["duckdb"], out_dir / FILES["trials_parquet"])
    package = readable_by_frictionless(datapackage(dataset, FILES, tables))
    (out_dir / FILES["datapackage"]).write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n",
                                                encoding="utf-8")


def readable_by_frictionless(package: dict) -> dict:
    """Describe Parquet resources as files whose table schema is that of the JSON Lines resource.

    Frictionless reads Parquet through pandas, which turns list columns into numpy arrays and
    the nulls of integer and number columns into NaN: its type and range checks then reject
    valid data. The Parquet file carries its own column types; the same rows are described and
    checked field by field in the CSV and JSON Lines resources, so `frictionless validate`
    accepts the package and still checks every constraint.
    """
    by_schema = {json.dumps(r.get("schema"), sort_keys=True): r["name"] for r in package["resources"]
                 if r.get("format") == "jsonl" and "schema" in r}
    for resource in package["resources"]:
        if resource.get("format") != "parquet" or "schema" not in resource:
            continue
        same_as = by_schema.get(json.dumps(resource.pop("schema"), sort_keys=True))
        resource["type"] = "file"
        if same_as:
            resource["description"] = (f"The rows of resource '{same_as}' as Parquet (list fields as LIST "
                                       f"columns); fields, types and constraints as described there.")
    return package


# --- CSV / JSON Lines -------------------------------------------------------------------------

_PLAIN_SCALARS = (str, int, bool, type(None))  # exact types: numpy scalars are converted below


def python_value(value: Any) -> Any:
    """pandas/numpy scalars and containers -> plain Python (NaN/NA -> None)."""
    if type(value) in _PLAIN_SCALARS:  # most cells: nothing to convert
        return value
    if type(value) is float:
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {k: python_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [python_value(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return python_value(value.tolist())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    cols = list(df.columns)
    # Series.tolist gives Python scalars (pd.NA for the nulls of nullable columns), column by column
    values = [[python_value(v) for v in df[c].tolist()] for c in cols]
    return [dict(zip(cols, row)) for row in zip(*values)]


def csv_cell(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.type == "list[object]":
        if spec.name == "combination":
            return "; ".join(f"{x.get('agent') or '?'} ({x.get('drug_class') or '?'})" for x in value)
        if spec.name == "extras":
            return "; ".join(f"{x.get('label')}: {x.get('value')}" for x in value)
        if spec.name == "narrative_mentions":
            return "; ".join(f"p{x.get('page')}/{x.get('block')}" for x in value)
        return json.dumps(value, ensure_ascii=False)
    if spec.type.startswith("list["):
        return "; ".join(str(x) for x in value)
    if spec.type == "boolean":
        return "true" if value else "false"
    return value


def write_csv(df: pd.DataFrame, specs: tuple[FieldSpec, ...], path: Path) -> None:
    """One CSV row per frame row; lists and booleans as :func:`csv_cell` prints them, numbers as
    pandas prints its typed columns (integers without a decimal point, nulls as empty cells)."""
    out = df.copy(deep=False)
    for spec in specs:
        if spec.type.startswith("list[") or spec.type == "boolean":
            out[spec.name] = pd.Series([csv_cell(spec, python_value(v)) for v in df[spec.name].tolist()],
                                       index=df.index, dtype="object")
        elif spec.type == "integer":
            out[spec.name] = pd.array(df[spec.name], dtype="Int64")
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_jsonl(df: pd.DataFrame, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for rec in records(df):
            handle.write(json.dumps(rec, ensure_ascii=False) + "\n")


# --- DuckDB + Parquet -------------------------------------------------------------------------

def _ddl(name: str, columns: list[tuple[str, str]]) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in columns)
    return f'CREATE TABLE "{name}" ({cols})'


def write_duckdb(frames: dict[str, pd.DataFrame], dataset: TrialDataset, path: Path, trials_parquet: Path) -> list[str]:
    typed = {
        "trials": [(s.name, s.duckdb) for s in TRIAL_FIELDS],
        "conflicts": [(s.name, s.duckdb) for s in CONFLICT_FIELDS],
        "evidence": [(s.name, s.duckdb) for s in EVIDENCE_FIELDS],
        "table_rows": table_row_columns(dataset),
    }
    return write_typed_duckdb(frames, typed, path, {"trials": trials_parquet})


def write_typed_duckdb(frames: dict[str, pd.DataFrame], typed: dict[str, list[tuple[str, str]]], path: Path,
                       parquet: dict[str, Path]) -> list[str]:
    """One DuckDB table per frame (typed columns where *typed* names them), then the tables of
    *parquet* copied to Parquet files from the same typed tables. Returns the table names."""
    import duckdb

    if path.exists():
        path.unlink()
    written: list[str] = []
    con = duckdb.connect(str(path))
    try:
        for name, df in frames.items():
            view = f"_frame_{name}"
            con.register(view, df)
            if name in typed:
                con.execute(_ddl(name, typed[name]))
                cols = ", ".join(f'"{c}"' for c, _ in typed[name])
                con.execute(f'INSERT INTO "{name}" SELECT {cols} FROM {view}')
            elif df.empty and len(df.columns) > 0:
                con.execute(_ddl(name, [(c, "VARCHAR") for c in df.columns]))
            else:
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM {view}')
            con.unregister(view)
            written.append(name)
        for name, target in parquet.items():
            con.execute(f"COPY \"{name}\" TO '{_sql_path(target)}' (FORMAT parquet)")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return written


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
