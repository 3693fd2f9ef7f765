"""Read an extraction folder for the report: whatever exists, nothing required beyond document.json.

The report reads files only (it never re-runs the extraction). Optional inputs:

- ``tables/`` (tables.json, table{N}.csv, provenance.csv): the printed tables and every cell's box;
- ``text.jsonl``: text blocks (used to find narrative sentences on their page);
- ``entities.jsonl``: named entities;
- ``text_facts.csv``: numeric facts from the narrative;
- ``dataset/trials.jsonl`` (or ``trials.csv``) and ``dataset/conflicts.csv``: reconciled trials.

Trials, their facets and conflicts come only from the reconciled dataset (the report never
reconciles again); without ``dataset/`` the trial list is empty and a warning says so. Which
table column holds which trial field comes from the column vocabulary
(``pipeline/tables/column_vocabulary.json``), never from column-key literals.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.reconcile.normalize import PHASES
from pipeline.tables.vocabulary import load_vocabulary

MISSING = {"", "na", "n/a", "nr", "none", "null", "nan", "-", "–", "—", "not reported"}

BBox = tuple[float, float, float, float]
PHASE_ORDER = [*PHASES, "Not reported"]  # the dataset's phase vocabulary, for the phase chart


# --------------------------------------------------------------------------------------------
# records the report is built from


@dataclass(slots=True)
class Source:
    """Where one value was printed: a table cell (table/row/column) or a sentence on a page."""

    page: int | None
    boxes: list[BBox] = field(default_factory=list)  # highlight rectangles, PDF points
    table: int | None = None
    row: int | None = None
    column: str | None = None
    sentence: str | None = None
    derived_from: str | None = None
    label: str = ""
    column_label: str = ""

    def describe(self) -> str:
        if self.label:
            return self.label
        parts = []
        if self.table is not None:
            parts.append(f"Table {self.table}")
            if self.row is not None:
                parts.append(f"row {self.row}")
            if self.column_label or self.column:
                parts.append(self.column_label or self.column)
        elif self.sentence:
            parts.append("narrative")
        if self.page:
            parts.append(f"p. {self.page}")
        if self.derived_from:
            parts.append(f"({self.derived_from})")
        return ", ".join(parts)


@dataclass(slots=True)
class Value:
    """A displayed value with the sources it came from (possibly none)."""

    text: str
    sources: list[Source] = field(default_factory=list)
    sort: float | str | None = None
    tag: str = ""  # e.g. "kept" for the value a conflict resolution chose
    kind: str = ""  # "table" | "narrative" when known


@dataclass(slots=True)
class Trial:
    registry_id: str
    fields: dict[str, Value]
    facets: dict[str, list[str]]  # target / phase / status / country -> normalised values
    enrollment: float | None = None
    orr: float | None = None


@dataclass(slots=True)
class Conflict:
    registry_id: str
    field: str
    values: list[Value]
    note: str = ""


@dataclass(slots=True)
class Fact:
    registry_ids: str
    subject: str
    metric: str
    value: str
    unit: str
    ci: str
    p_value: str
    qualifier: str
    page: int | None
    sentence: str
    source: Source | None = None


@dataclass(slots=True)
class ReportData:
    out_dir: Path
    document: dict
    tables: list[dict]  # tables.json entries + "records" (csv rows) + "cells" {(row, col): Source}
    blocks: list[dict]
    entities: list[dict]
    facts: list[Fact]
    trials: list[Trial]
    trial_columns: list[tuple[str, str]]  # (key, label)
    conflicts: list[Conflict]
    provisional: bool  # trials/conflicts derived from the tables (no dataset/)
    inputs: dict[str, bool]
    warnings: list[str]

    @property
    def table_rows(self) -> int:
        return sum(len(t["records"]) for t in self.tables)


# --------------------------------------------------------------------------------------------
# small readers


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def _num(text) -> float | None:
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    m = re.search(r"-?\d+(?:\.\d+)?", str(text).replace(",", ""))
    if not m or str(text).strip().lower() in MISSING:
        return None
    return float(m.group(0))


def _missing(text) -> bool:
    return text is None or str(text).strip().lower() in MISSING


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        out = []
        for v in value:
            out.extend(_as_list(v))
        return out
    if isinstance(value, dict):
        for key in ("norm", "name", "value", "text"):
            if key in value:
                return _as_list(value[key])
        return []
    text = str(value).strip()
    if not text or text.lower() in MISSING:
        return []
    if text.startswith("[") and text.endswith("]"):
        try:
            return _as_list(json.loads(text))
        except ValueError:
            pass
    return [p.strip() for p in re.split(r"\s*[;|]\s*", text) if p.strip()]


# --------------------------------------------------------------------------------------------
# tables


def load_tables(out_dir: Path, warnings: list[str]) -> list[dict]:
    folder = out_dir / "tables"
    meta_path = folder / "tables.json"
    if not meta_path.exists():
        warnings.append("tables/tables.json missing: no tables in the report")
        return []
    tables = json.loads(meta_path.read_text(encoding="utf-8"))
    prov: dict[tuple[int, int, str], Source] = {}
    if (folder / "provenance.csv").exists():
        for r in _read_csv(folder / "provenance.csv"):
            try:
                key = (int(r["table"]), int(r["row"]), r["column"])
                box = tuple(float(r[k]) for k in ("x0", "top", "x1", "bottom"))
                prov[key] = Source(page=int(r["page"]), boxes=[box], table=key[0], row=key[1],
                                   column=key[2], derived_from=r.get("derived_from") or None)
            except (KeyError, ValueError):
                continue
    else:
        warnings.append("tables/provenance.csv missing: table values have no page crops")
    for table in tables:
        n = table["table"]
        path = folder / f"table{n}.csv"
        table["records"] = _read_csv(path) if path.exists() else []
        table["cells"] = {(int(r["row"]), key): prov[(n, int(r["row"]), key)]
                          for r in table["records"] for key in table.get("column_keys", [])
                          if (n, int(r["row"]), key) in prov}
        for (_row, key), src in table["cells"].items():
            src.column_label = table_column_label(table, key)
    return tables


def table_column_label(table: dict, key: str) -> str:
    keys = table.get("column_keys", [])
    labels = table.get("columns", [])
    if key in keys and keys.index(key) < len(labels):
        return labels[keys.index(key)]
    return {"ref": "Ref."}.get(key, key)


def _finish_trial(rid: str, fields: dict[str, Value], facets: dict[str, list[str]]) -> Trial:
    enrollment = _num(fields["enrollment"].text) if "enrollment" in fields else None
    orr = _num(fields["orr_pct"].text) if "orr_pct" in fields else None
    if "enrollment" in fields:
        fields["enrollment"].sort = enrollment
    if "orr_pct" in fields:
        fields["orr_pct"].sort = orr
    return Trial(rid, fields, facets, enrollment, orr)


# --------------------------------------------------------------------------------------------
# the reconciled dataset (dataset/trials.jsonl | trials.csv, evidence, conflicts.csv)
# Field names follow pipeline/reconcile/model.py: TrialRecord, Observation, ConflictEntry.

DATASET_COLUMNS = [
    ("registry_id", "Registry ID"),
    ("study_name", "Study"),
    ("products", "Product"),
    ("targets", "Target"),
    ("disease", "Disease"),
    ("phase", "Phase"),
    ("status", "Status"),
    ("enrollment", "Enrollment"),
    ("orr_pct", "ORR %"),
    ("country", "Country"),
    ("sources", "Sources"),
    ("narrative", "Text mentions"),
]
TABLE_REF_RE = re.compile(r"(?:table\s*|\bT)(\d+)\s*[:,/ -]?\s*(?:row\s*|r)?(\d+)?", re.I)
PAGE_REF_RE = re.compile(r"(?:\bp(?:age)?\.?\s*:?\s*)(\d+)(?:\s*/\s*([\w.-]+))?", re.I)


def pretty_code(text: str) -> str:
    """ACTIVE_NOT_RECRUITING -> "Active, not recruiting"; other text unchanged."""
    if re.fullmatch(r"[A-Z][A-Z_]+", text or ""):
        words = text.lower().replace("_", " ")
        words = words.replace("active not", "active, not")
        return words[:1].upper() + words[1:]
    return text


def _field_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(t for t in (_field_text(v) for v in value) if t)
    if isinstance(value, dict):
        for key in ("value", "norm", "text", "name", "agent"):
            if key in value:
                return _field_text(value[key])
        return json.dumps(value, ensure_ascii=False)
    text = str(value).strip()
    if text[:1] in "[{" and text[-1:] in "]}":
        try:
            return _field_text(json.loads(text))
        except ValueError:
            pass
    if re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return "" if text.lower() in MISSING else text


def _int(value) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _bbox_of(ref: dict) -> BBox | None:
    bbox = ref.get("bbox")
    if isinstance(bbox, str) and bbox.strip():
        try:
            bbox = json.loads(bbox)
        except ValueError:
            bbox = [v for v in re.split(r"[,\s]+", bbox.strip("[]() ")) if v]
    if not bbox and all(ref.get(k) not in (None, "") for k in ("x0", "top", "x1", "bottom")):
        bbox = [ref["x0"], ref["top"], ref["x1"], ref["bottom"]]
    try:
        return tuple(float(v) for v in bbox)[:4] if bbox and len(bbox) >= 4 else None
    except (TypeError, ValueError):
        return None


def _hint_columns(field_key: str | None) -> list[str]:
    """Table columns whose cells fill a trial field (the column vocabulary's roles)."""
    if not field_key:
        return []
    return [spec.key for spec in load_vocabulary().columns if field_key in spec.fields]


def parse_source_ref(ref, tables_by_no: dict[int, dict], column_hint: str | None = None) -> list[Source]:
    """Turn one provenance reference into Sources with boxes.

    Understands dicts (Observation / ConflictEntry rows: table/row/column, page + bbox or
    x0/top/x1/bottom, sentence) and strings like "T2r5", "table2:row5", "Table 2 row 5", "p7/b123".
    """
    out: list[Source] = []
    if ref is None:
        return out
    if isinstance(ref, (list, tuple)):
        for r in ref:
            out.extend(parse_source_ref(r, tables_by_no, column_hint))
        return out
    if isinstance(ref, str):
        text = ref.strip()
        if text[:1] in "[{":
            try:
                return parse_source_ref(json.loads(text), tables_by_no, column_hint)
            except ValueError:
                pass
        pieces = [p for p in re.split(r"\s*[;|]\s*", text) if p]
        if len(pieces) > 1:
            for p in pieces:
                out.extend(parse_source_ref(p, tables_by_no, column_hint))
            return out
        m = TABLE_REF_RE.fullmatch(text) or TABLE_REF_RE.match(text)
        pm = PAGE_REF_RE.search(text)
        if m and m.group(2):
            ref = {"table": int(m.group(1)), "row": int(m.group(2))}
        elif pm:
            ref = {"page": int(pm.group(1))}
        else:
            return out
    if not isinstance(ref, dict):
        return out
    table_no = ref.get("table")
    if isinstance(table_no, str):
        table_no = re.sub(r"(?i)table|t", "", table_no).strip()
    table_no, row_no, page = _int(table_no), _int(ref.get("row")), _int(ref.get("page"))
    column = ref.get("column") or ref.get("col") or None
    if table_no is not None and row_no is not None and table_no in tables_by_no:
        table = tables_by_no[table_no]
        for col in [column] * bool(column) + _hint_columns(column_hint):
            src = table["cells"].get((row_no, col))
            if src:
                return [src]
        row_cells = [s for (r, _c), s in table["cells"].items() if r == row_no and s.boxes]
        if row_cells:
            first_page = row_cells[0].page
            union = _union_boxes([s.boxes[0] for s in row_cells if s.page == first_page])
            return [Source(page=first_page, boxes=[union], table=table_no, row=row_no, label=f"Table {table_no}, row {row_no}, p. {first_page}")]
    if page is not None:
        box = _bbox_of(ref)
        sentence = ref.get("sentence") or None
        out.append(Source(page=page, boxes=[box] if box else [], table=table_no, row=row_no, column=column,
                          sentence=sentence if isinstance(sentence, str) else None))
    return out


def _union_boxes(boxes: list[BBox]) -> BBox:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _describe_sources(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            try:
                return _describe_sources(json.loads(text))
            except ValueError:
                pass
        return text
    if isinstance(value, dict):
        if value.get("table") not in (None, ""):
            return f"Table {value['table']}" + (f" row {value['row']}" if value.get("row") not in (None, "") else "")
        if value.get("page") not in (None, ""):
            return f"text p. {value['page']}"
        return ", ".join(f"{k}: {_describe_sources(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(dict.fromkeys(d for d in (_describe_sources(v) for v in value) if d))
    return str(value)


def _dedupe(sources: list[Source]) -> list[Source]:
    seen, out = set(), []
    for s in sources:
        key = (s.page, tuple(s.boxes), s.table, s.row, s.column, s.sentence)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _read_records(folder: Path, stem: str) -> list[dict] | None:
    for suffix, reader in ((".jsonl", _read_jsonl), (".csv", _read_csv)):
        if (folder / f"{stem}{suffix}").exists():
            return reader(folder / f"{stem}{suffix}")
    return None


def _json_field(value):
    if isinstance(value, str) and value.strip()[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes", "y", "t"}


def load_dataset(out_dir: Path, tables: list[dict], warnings: list[str], blocks: list[dict] | None = None):
    folder = out_dir / "dataset"
    blocks_by_id = {b.get("id"): b for b in blocks or []}
    rows = _read_records(folder, "trials")
    if rows is None:
        return None
    tables_by_no = {t["table"]: t for t in tables}
    evidence: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for obs in _read_records(folder, "evidence") or []:
        evidence[(str(obs.get("trial_id") or obs.get("registry_id") or ""), str(obs.get("field", "")))].append(obs)
    trials = []
    for rec in rows:
        rid = _field_text(rec.get("trial_id") or rec.get("registry_id"))
        if not rid:
            continue
        fields: dict[str, Value] = {}
        raw_values: dict[str, object] = {}
        row_sources = _json_field(rec.get("sources"))
        for key, _label in DATASET_COLUMNS:
            if key == "narrative":
                continue
            raw = (_field_text(rec.get("registry_id")) or rid) if key == "registry_id" else _json_field(rec.get(key))
            raw_values[key] = raw
            text = _describe_sources(row_sources) if key == "sources" else _field_text(raw)
            if key == "status":
                text = pretty_code(text)
            srcs: list[Source] = []
            obs_list = evidence.get((rid, key), [])
            if obs_list:
                informative = [o for o in obs_list if not _missing(o.get("value"))] or obs_list
                for o in informative:
                    srcs.extend(parse_source_ref(o, tables_by_no, key))
            elif key == "registry_id":
                srcs = parse_source_ref(row_sources, tables_by_no, key)
            elif key == "sources":
                srcs = parse_source_ref(row_sources, tables_by_no, None)
            elif key != "sources" and row_sources is not None and text:
                srcs = [s for s in parse_source_ref(row_sources, tables_by_no, key) if s.table is not None]
            fields[key] = Value(text, _dedupe(srcs), text)
        mentions = _json_field(rec.get("narrative_mentions")) or []
        if isinstance(mentions, str):  # trials.csv: "p2/b0033; p12/b0136" -> the blocks
            mentions = [{"page": int(pg), "block": blk, "bbox": blocks_by_id.get(blk, {}).get("bbox")}
                        for pg, blk in re.findall(r"p(\d+)/([\w.-]+)", mentions)]
            msrc = [Source(page=m["page"], boxes=[tuple(m["bbox"])] if m["bbox"] else [],
                           label=f"narrative block {m['block']}, p. {m['page']}") for m in mentions]
            fields["narrative"] = Value(str(len(mentions)) if mentions else "", _dedupe(msrc), len(mentions))
        elif isinstance(mentions, list) and mentions:
            msrc = [Source(page=_int(m.get("page")), sentence=m.get("sentence"), label=f"narrative, p. {m.get('page')}")
                    for m in mentions if isinstance(m, dict) and _int(m.get("page"))]
            fields["narrative"] = Value(str(len(mentions)), _dedupe(msrc), len(mentions))
        else:
            n = _int(rec.get("n_narrative_mentions"))
            fields["narrative"] = Value(str(n) if n else "", [], n or 0)
        facets = {
            "target": _as_list(raw_values.get("targets")),
            "phase": [_field_text(raw_values.get("phase")) or "Not reported"],
            "status": [pretty_code(_field_text(raw_values.get("status"))) or "Not reported"],
            "country": _as_list(raw_values.get("country")) or [],
        }
        trials.append(_finish_trial(rid, fields, facets))
    conflicts = []
    if (folder / "conflicts.csv").exists():
        conflicts = _read_conflicts(folder / "conflicts.csv", tables_by_no)
    else:
        warnings.append("dataset/conflicts.csv missing: no conflicts listed")
    return trials, conflicts


def _read_conflicts(path: Path, tables_by_no: dict[int, dict]) -> list[Conflict]:
    """conflicts.csv, one row per disagreeing source value (ConflictEntry), grouped per conflict.

    Also accepts one row per conflict with a JSON ``values`` column ([{value, provenance}...]).
    """
    grouped: dict[tuple, Conflict] = {}
    for rec in _read_csv(path):
        rid = _field_text(rec.get("trial_id") or rec.get("registry_id") or "")
        fld = _field_text(rec.get("field") or "")
        key = ("id", rec["conflict_id"]) if rec.get("conflict_id") not in (None, "") else (rid, fld)
        conflict = grouped.get(key)
        if conflict is None:
            conflict = grouped[key] = Conflict(rid, fld, [])
        resolution = _field_text(rec.get("resolution"))
        if "resolved" in rec:
            rule = _field_text(rec.get("rule"))
            conflict.note = (f"resolved: {resolution}" + (f" ({rule})" if rule else "")) if _truthy(rec.get("resolved")) \
                else "unresolved" + (f" ({rule})" if rule else "")
        parsed = _json_field(rec.get("values"))
        if isinstance(parsed, list):
            for item in parsed:
                if isinstance(item, dict):
                    text = _field_text(item.get("value", item.get("raw", item.get("text", ""))))
                    ref = item.get("provenance", item.get("source", item))
                else:
                    text, ref = _field_text(item), None
                conflict.values.append(Value(text, _dedupe(parse_source_ref(ref, tables_by_no, fld))))
            continue
        raw = _field_text(rec.get("raw"))
        norm = _field_text(rec.get("value"))
        text = raw or norm or "(not printed)"
        if raw and norm and norm.lower() != raw.lower():
            text = f"{raw} → {norm}"
        ref: object = rec
        if not any(rec.get(k) not in (None, "") for k in ("table", "page")):
            ref = rec.get("provenance") or rec.get("sources") or rec.get("source")
        value = Value(text, _dedupe(parse_source_ref(ref, tables_by_no, fld)))
        src_kind = _field_text(rec.get("source"))
        if _truthy(rec.get("chosen")):
            value.tag = "kept"
        if _truthy(rec.get("pooled")):
            value.tag = (value.tag + ", pooled statement").strip(", ")
        value.kind = src_kind
        conflict.values.append(value)
    return list(grouped.values())


# --------------------------------------------------------------------------------------------
# narrative facts and entities


def load_facts(out_dir: Path) -> list[Fact]:
    path = out_dir / "text_facts.csv"
    if not path.exists():
        return []
    facts = []
    for r in _read_csv(path):
        lo, hi = r.get("ci_low") or "", r.get("ci_high") or ""
        try:
            page = int(float(r.get("page") or ""))
        except ValueError:
            page = None
        facts.append(Fact(
            registry_ids=_field_text(r.get("registry_ids") or ""),
            subject=r.get("subject") or "", metric=r.get("metric") or "",
            value=r.get("value") or "", unit=r.get("unit") or "",
            ci=f"{lo}–{hi}" if lo or hi else "", p_value=r.get("p_value") or "",
            qualifier=r.get("qualifier") or "", page=page, sentence=r.get("sentence") or "",
        ))
    return facts


def load(out_dir: Path) -> ReportData:
    out_dir = Path(out_dir)
    doc_path = out_dir / "document.json"
    if not doc_path.exists():
        raise FileNotFoundError(f"{doc_path} not found: run `review-extract extract` first")
    document = json.loads(doc_path.read_text(encoding="utf-8"))
    warnings: list[str] = []
    tables = load_tables(out_dir, warnings)
    blocks = _read_jsonl(out_dir / "text.jsonl") if (out_dir / "text.jsonl").exists() else []
    entities = _read_jsonl(out_dir / "entities.jsonl") if (out_dir / "entities.jsonl").exists() else []
    facts = load_facts(out_dir)
    inputs = {
        "tables": bool(tables), "text.jsonl": bool(blocks),
        "entities.jsonl": (out_dir / "entities.jsonl").exists(),
        "text_facts.csv": (out_dir / "text_facts.csv").exists(),
        "dataset": (out_dir / "dataset" / "trials.jsonl").exists() or (out_dir / "dataset" / "trials.csv").exists(),
    }
    loaded = load_dataset(out_dir, tables, warnings, blocks)
    provisional = loaded is None
    if provisional:
        trials, conflicts = [], []
        warnings.append("dataset/ missing: no trial list (the report shows the reconciled dataset; "
                        "run `review-extract extract` to build it)")
    else:
        trials, conflicts = loaded
    for name in ("entities.jsonl", "text_facts.csv"):
        if not inputs[name]:
            warnings.append(f"{name} missing")
    columns = [(key, label) for key, label in DATASET_COLUMNS
               if key == "registry_id" or any(t.fields.get(key) and t.fields[key].text for t in trials)]
    return ReportData(out_dir=out_dir, document=document, tables=tables, blocks=blocks, entities=entities,
                      facts=facts, trials=trials, trial_columns=columns, conflicts=conflicts,
                      provisional=provisional, inputs=inputs, warnings=warnings)
