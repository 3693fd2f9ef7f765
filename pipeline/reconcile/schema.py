"""Field catalogue, pandas frames, pandera schemas and the Frictionless descriptor of the exports.

:data:`TRIAL_FIELDS` is the single description of the trial dataset (version
:data:`TRIAL_SCHEMA_VERSION`, documented field by field in ``models/trial_schema/README.md``):
the pandera schema, the DuckDB column types, the CSV serialisation and datapackage.json are all
derived from it. Bump the version when a field is added, renamed or changes meaning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pa

from pipeline.errors import SchemaValidationError
from pipeline.reconcile.model import TRIAL_COLUMNS, TrialDataset, plain, record_dict, value_text
from pipeline.reconcile.normalize import (
    BINDING_FORMATS,
    BINDING_ORIGINS,
    CELL_SOURCES,
    PHASES,
    STATUSES,
)
from pipeline.registry_ids import registries

TRIAL_SCHEMA_VERSION = "2.0.0"
REGISTRY_ID_PATTERN = registries().full_pattern
REGISTRY_NAMES = sorted({*registries().names, "other"})
IDENTIFIED_BY = ("registry_id", "study_name", "product+citation")
RULES = ("table-over-narrative", "stated-over-NA", "primary-table", "narrative-tie-break",
         "trial-specific-over-pooled", "unresolved")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str  # string | integer | number | boolean | list[string] | list[integer] | list[object]
    duckdb: str
    description: str
    unit: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    required: bool = False
    csv_format: str | None = None  # how a list of objects is written in CSV


_COMBINATION = "STRUCT(agent VARCHAR, drug_class VARCHAR)[]"
_EXTRAS = ("STRUCT(label VARCHAR, \"column\" VARCHAR, value VARCHAR, \"table\" INTEGER, \"row\" INTEGER, "
           "page INTEGER, x0 DOUBLE, top DOUBLE, x1 DOUBLE, bottom DOUBLE, reason VARCHAR)[]")
_MENTIONS = "STRUCT(block VARCHAR, page INTEGER, block_type VARCHAR, start INTEGER, \"end\" INTEGER, sentence VARCHAR)[]"


def _ci(prefix: str, what: str, unit: str) -> tuple[FieldSpec, FieldSpec]:
    return (FieldSpec(f"{prefix}_ci_low", "number", "DOUBLE", f"Lower bound of the {what}'s 95% CI.", unit=unit, minimum=0),
            FieldSpec(f"{prefix}_ci_high", "number", "DOUBLE", f"Upper bound of the {what}'s 95% CI.", unit=unit, minimum=0))


def _pct(name: str, description: str) -> FieldSpec:
    return FieldSpec(name, "number", "DOUBLE", description, unit="percent of treated patients", minimum=0, maximum=100)


TRIAL_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("trial_id", "string", "VARCHAR", "Primary key: the registry id; for a trial printed without one, "
              "'study:<acronym>' or 'product:<product>|ref:<citation>'.", required=True),
    FieldSpec("registry_id", "string", "VARCHAR", "Trial registry id as registered (NCT########, ChiCTR…; models/lexicons/registry_ids.json).",
              pattern=REGISTRY_ID_PATTERN),
    FieldSpec("registry", "string", "VARCHAR", "Registry the id belongs to.", enum=tuple(REGISTRY_NAMES)),
    FieldSpec("registry_ids", "list[string]", "VARCHAR[]", "Every registry id the sources give the trial (the first is registry_id)."),
    FieldSpec("identified_by", "string", "VARCHAR", "What identifies the trial: its registry id, its study acronym, or product + citation.",
              enum=IDENTIFIED_BY, required=True),
    FieldSpec("in_tables", "boolean", "BOOLEAN", "The trial is listed in at least one table of the review.", required=True),
    FieldSpec("in_text", "boolean", "BOOLEAN", "The id is printed in the review's text (narrative, legends or references).", required=True),
    FieldSpec("tables", "list[integer]", "INTEGER[]", "Numbers of the tables that list the trial."),
    FieldSpec("sources", "list[string]", "VARCHAR[]", "Table rows the record was merged from, as T<table>r<row> (e.g. T1r11)."),
    FieldSpec("products", "list[string]", "VARCHAR[]", "CAR-T products, canonical names (INN where one exists, else the code name)."),
    FieldSpec("product_aliases_seen", "list[string]", "VARCHAR[]", "Product names exactly as the review prints them (typos included)."),
    FieldSpec("targets", "list[string]", "VARCHAR[]", "Target antigens, canonical symbols (e.g. BCMA, CD19, SLAMF7), in printed order."),
    FieldSpec("n_targets", "integer", "INTEGER", "Number of target antigens (null when no target is stated).", minimum=1),
    FieldSpec("targets_incomplete", "boolean", "BOOLEAN", "The target list is open-ended as printed (\"BCMA, CD19, CD138, more\")."),
    FieldSpec("construct_notes", "list[string]", "VARCHAR[]", "Other words printed with the target/product name (Cocktail, UPenn, BCMA+PD1)."),
    FieldSpec("cell_source", "string", "VARCHAR", "Effector cell source where the review states it.", enum=CELL_SOURCES),
    FieldSpec("costimulatory_domain", "string", "VARCHAR", "CAR costimulatory domain(s) (4-1BB, CD28, ...; joined with '/')."),
    FieldSpec("binding_domain", "string", "VARCHAR", "Antigen-binding domain as printed (e.g. FMC63 scFv)."),
    FieldSpec("strategies", "list[string]", "VARCHAR[]", "Manufacturing/design strategy items (Table 1 Strategy/Source) and strategy under investigation (Table 2)."),
    FieldSpec("combination", "list[object]", _COMBINATION,
              "Combined agents or interventions as {agent, drug_class} pairs from the mechanism/regimen cells, paired by printed line; "
              "an item without a counterpart keeps a null partner.",
              csv_format="'agent (drug_class)' items joined with '; '; a null partner is printed as '?'"),
    FieldSpec("binding_domain_origin", "string", "VARCHAR", "Origin of the CAR's antigen-binding domain where stated (Table 3).",
              enum=tuple(sorted(set(BINDING_ORIGINS.values())))),
    FieldSpec("binding_domain_format", "string", "VARCHAR", "Format of the CAR's antigen-binding domain where stated (Table 3).",
              enum=tuple(sorted(set(BINDING_FORMATS.values())))),
    FieldSpec("phase", "string", "VARCHAR", "Trial phase, ClinicalTrials.gov vocabulary (\"Early I\" -> Early Phase 1, \"I/II\" -> Phase 1/2).", enum=PHASES),
    FieldSpec("study_name", "string", "VARCHAR", "Study acronym printed with the phase or in the text (EVOLVE, KarMMa-3, CARTITUDE-1)."),
    FieldSpec("status", "string", "VARCHAR", "Recruitment status, ClinicalTrials.gov overall-status codes (\"Not recruiting\" -> ACTIVE_NOT_RECRUITING).", enum=STATUSES),
    FieldSpec("disease", "string", "VARCHAR", "Disease or indication as printed (LBCL, R/R MM, ...)."),
    FieldSpec("setting", "string", "VARCHAR", "Treatment setting as printed (e.g. relapsed/refractory, first relapse)."),
    FieldSpec("line_of_therapy", "string", "VARCHAR", "Line of therapy as printed (2L, >=3L, ...)."),
    FieldSpec("prior_lines_median", "number", "DOUBLE", "Median number of prior lines of therapy.", unit="lines", minimum=0),
    FieldSpec("enrollment", "integer", "INTEGER", "Number of patients enrolled / treated (\"No. of Patient\", \"Patients, n\").", unit="patients", minimum=0),
    FieldSpec("evaluable", "integer", "INTEGER", "Number of patients evaluable for efficacy.", unit="patients", minimum=0),
    FieldSpec("dose", "string", "VARCHAR", "Dose or dose level as printed."),
    _pct("crs_grade3_pct", "Grade >= 3 cytokine release syndrome (a grade >= 3 column, or the first value of a grade >= 3 \"CRS/ICANS\" pair)."),
    _pct("icans_grade3_pct", "Grade >= 3 ICANS / neurotoxicity (a grade >= 3 column, or the second value of a grade >= 3 \"CRS/ICANS\" pair)."),
    _pct("orr_pct", "Overall response rate."),
    FieldSpec("median_pfs_months", "number", "DOUBLE", "Median progression-free survival (null when not reached or not available).", unit="months", minimum=0),
    FieldSpec("pfs_not_reached", "boolean", "BOOLEAN", "Median PFS not yet reached (true), a number is given (false), not available (null)."),
    *_ci("median_pfs", "median PFS", "months"),
    _pct("cr_rate_pct", "Complete response rate (CR, CR/sCR, CR/CRi as printed)."),
    _pct("vgpr_pct", "Very good partial response or better."),
    _pct("mrd_neg_pct", "Minimal residual disease negativity rate."),
    FieldSpec("median_os_months", "number", "DOUBLE", "Median overall survival (null when not reached or not available).", unit="months", minimum=0),
    FieldSpec("os_not_reached", "boolean", "BOOLEAN", "Median OS not yet reached (true), a number is given (false), not available (null)."),
    *_ci("median_os", "median OS", "months"),
    FieldSpec("median_dor_months", "number", "DOUBLE", "Median duration of response (null when not reached or not available).", unit="months", minimum=0),
    FieldSpec("dor_not_reached", "boolean", "BOOLEAN", "Median DOR not yet reached (true), a number is given (false), not available (null)."),
    *_ci("median_dor", "median DOR", "months"),
    FieldSpec("pfs_hr", "number", "DOUBLE", "Hazard ratio for progression-free survival vs control (narrative).", unit="ratio", minimum=0),
    FieldSpec("pfs_hr_ci_low", "number", "DOUBLE", "Lower bound of the PFS hazard ratio's 95% CI.", unit="ratio", minimum=0),
    FieldSpec("pfs_hr_ci_high", "number", "DOUBLE", "Upper bound of the PFS hazard ratio's 95% CI.", unit="ratio", minimum=0),
    FieldSpec("os_hr", "number", "DOUBLE", "Hazard ratio for overall survival vs control (narrative).", unit="ratio", minimum=0),
    FieldSpec("os_hr_ci_low", "number", "DOUBLE", "Lower bound of the OS hazard ratio's 95% CI.", unit="ratio", minimum=0),
    FieldSpec("os_hr_ci_high", "number", "DOUBLE", "Upper bound of the OS hazard ratio's 95% CI.", unit="ratio", minimum=0),
    _pct("crs_any_pct", "Cytokine release syndrome of any grade."),
    _pct("icans_any_pct", "ICANS / neurotoxicity of any grade."),
    FieldSpec("follow_up_months", "number", "DOUBLE", "Median follow-up.", unit="months", minimum=0),
    FieldSpec("country", "string", "VARCHAR", "Trial location as printed, normalised to an English country name (\"USA\" = \"US\" = United States)."),
    FieldSpec("country_code", "string", "VARCHAR", "ISO 3166-1 alpha-2 code of the country.", pattern=r"^[A-Z]{2}$"),
    FieldSpec("sponsor", "string", "VARCHAR", "Sponsor or developer as printed."),
    FieldSpec("citations", "list[integer]", "INTEGER[]", "Reference numbers the tables cite for the trial (the review's bibliography)."),
    FieldSpec("references", "list[string]", "VARCHAR[]", "Citations printed as text (\"Neelapu 2017\") rather than reference numbers."),
    FieldSpec("extras", "list[object]", _EXTRAS,
              "Printed cells no trial field takes (unmapped columns, unreadable cells): {label, column, value, table, row, page, "
              "x0, top, x1, bottom, reason}; nothing printed is dropped.",
              csv_format="'label: value' items joined with '; '"),
    FieldSpec("narrative_mentions", "list[object]", _MENTIONS,
              "Every place the text prints the id: {block, page, block_type, start, end, sentence} (offsets inside the text block).",
              csv_format="'p<page>/<block>' items joined with '; '"),
    FieldSpec("n_narrative_mentions", "integer", "INTEGER", "Number of narrative mentions.", minimum=0, required=True),
    FieldSpec("n_text_facts", "integer", "INTEGER", "Number of narrative facts (entity helper) linked to the trial.", minimum=0, required=True),
    FieldSpec("conflict_fields", "list[string]", "VARCHAR[]", "Fields on which the sources disagree (see conflicts)."),
    FieldSpec("unresolved_fields", "list[string]", "VARCHAR[]", "Conflicting fields no rule could resolve (left null)."),
)
assert [f.name for f in TRIAL_FIELDS] == TRIAL_COLUMNS, "TRIAL_FIELDS and TrialRecord disagree"
TRIAL_FIELD_BY_NAME = {f.name: f for f in TRIAL_FIELDS}
PUBLIC_FIELDS = tuple(f.name for f in TRIAL_FIELDS)

# Where one source value was printed: a table cell (table, row, column, page, box) or a
# sentence (page, block, sentence). Shared by conflicts and evidence.
SOURCE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("table", "integer", "INTEGER", "Table number (table sources).", minimum=1),
    FieldSpec("row", "integer", "INTEGER", "Row number within the table, 1-based (table sources).", minimum=1),
    FieldSpec("column", "string", "VARCHAR", "Table column key (table sources)."),
    FieldSpec("page", "integer", "INTEGER", "PDF page, 1-based.", minimum=1),
    FieldSpec("x0", "number", "DOUBLE", "Cell box left (table sources).", unit="PDF points"),
    FieldSpec("top", "number", "DOUBLE", "Cell box top, from the page's top edge.", unit="PDF points"),
    FieldSpec("x1", "number", "DOUBLE", "Cell box right.", unit="PDF points"),
    FieldSpec("bottom", "number", "DOUBLE", "Cell box bottom.", unit="PDF points"),
    FieldSpec("block", "string", "VARCHAR", "Text block id (narrative sources)."),
    FieldSpec("sentence", "string", "VARCHAR", "Sentence stating the value (narrative sources)."),
    FieldSpec("pooled", "boolean", "BOOLEAN", "Narrative statement about several trials at once.", required=True),
)

CONFLICT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("conflict_id", "integer", "INTEGER", "Conflict number (one per trial and field).", minimum=1, required=True),
    FieldSpec("trial_id", "string", "VARCHAR", "Trial id (trials.trial_id).", required=True),
    FieldSpec("registry_id", "string", "VARCHAR", "Trial registry id.", pattern=REGISTRY_ID_PATTERN),
    FieldSpec("field", "string", "VARCHAR", "Trial field the sources disagree on.", enum=PUBLIC_FIELDS, required=True),
    FieldSpec("value", "string", "VARCHAR", "This source's value after normalisation (null: the source prints NA)."),
    FieldSpec("raw", "string", "VARCHAR", "This source's value as printed."),
    FieldSpec("source", "string", "VARCHAR", "table or narrative.", enum=("table", "narrative"), required=True),
    *SOURCE_FIELDS,
    FieldSpec("chosen", "boolean", "BOOLEAN", "This source's value is the one kept in the trial record.", required=True),
    FieldSpec("resolved", "boolean", "BOOLEAN", "A rule resolved the conflict.", required=True),
    FieldSpec("rule", "string", "VARCHAR", "Resolution rule applied (see pipeline/reconcile/merge.py).", enum=RULES, required=True),
    FieldSpec("resolution", "string", "VARCHAR", "Value kept in the trial record (null when unresolved)."),
)

EVIDENCE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("trial_id", "string", "VARCHAR", "Trial id (trials.trial_id).", required=True),
    FieldSpec("registry_id", "string", "VARCHAR", "Trial registry id.", pattern=REGISTRY_ID_PATTERN),
    FieldSpec("field", "string", "VARCHAR", "Trial field.", enum=PUBLIC_FIELDS, required=True),
    FieldSpec("value", "string", "VARCHAR", "Normalised value as text (null: printed NA)."),
    FieldSpec("raw", "string", "VARCHAR", "Value as printed."),
    FieldSpec("source", "string", "VARCHAR", "table or narrative.", enum=("table", "narrative"), required=True),
    FieldSpec("extractor", "string", "VARCHAR", "table cell, sentence rule (phase/study/cell source/targets/country) or fact (entity helper).",
              enum=("table", "sentence", "fact"), required=True),
    *SOURCE_FIELDS,
    FieldSpec("chosen", "boolean", "BOOLEAN", "The trial record kept this value.", required=True),
)


# --- frames ----------------------------------------------------------------------------------

def dataset_frames(ds: TrialDataset) -> dict[str, pd.DataFrame]:
    registry = {t.trial_id: t.registry_id for t in ds.trials}
    trials = frame([t.to_dict() for t in ds.trials], TRIAL_FIELDS)
    conflicts = frame([record_dict(c) for c in ds.conflicts], CONFLICT_FIELDS)
    evidence_rows = []
    for ob in ds.evidence:
        bbox = tuple(round(v, 2) for v in ob.bbox) if ob.bbox else (None, None, None, None)
        evidence_rows.append({
            "trial_id": ob.trial_id, "registry_id": registry.get(ob.trial_id), "field": ob.field,
            "value": value_text(ob.value), "raw": ob.raw, "source": ob.source, "extractor": ob.extractor,
            "table": ob.table, "row": ob.row, "column": ob.column, "page": ob.page,
            "x0": bbox[0], "top": bbox[1], "x1": bbox[2], "bottom": bbox[3], "block": ob.block,
            "sentence": ob.sentence, "pooled": ob.pooled, "chosen": ob.chosen})
    evidence = frame(evidence_rows, EVIDENCE_FIELDS)
    return {
        "trials": trials,
        "conflicts": conflicts,
        "evidence": evidence,
        "table_rows": table_rows_frame(ds),
        "entities": records_frame(ds.entities, ENTITY_COLUMNS),
        "text_facts": text_facts_frame(ds),
    }


_PANDAS_DTYPES = {"string": "object", "integer": "Int64", "number": "float64", "boolean": "boolean"}


def frame(rows: list[dict], specs: tuple[FieldSpec, ...]) -> pd.DataFrame:
    data = {}
    for spec in specs:
        values = [row.get(spec.name) for row in rows]
        if spec.type.startswith("list"):
            data[spec.name] = pd.Series([list(v) if v is not None else [] for v in values], dtype="object")
        elif spec.type == "integer":
            data[spec.name] = pd.array(values, dtype="Int64")
        elif spec.type == "number":
            data[spec.name] = pd.Series([float(v) if v is not None else math.nan for v in values], dtype="float64")
        elif spec.type == "boolean":
            data[spec.name] = pd.array(values, dtype="boolean")
        else:
            data[spec.name] = pd.Series(values, dtype="object")
    return pd.DataFrame(data, columns=[s.name for s in specs])


def table_row_columns(ds: TrialDataset) -> list[tuple[str, str]]:
    """(column, duckdb type) of table_rows: position, registry id, then every printed column."""
    base = [("table", "INTEGER"), ("row", "INTEGER"), ("block", "INTEGER"), ("page", "INTEGER"),
            ("x0", "DOUBLE"), ("top", "DOUBLE"), ("x1", "DOUBLE"), ("bottom", "DOUBLE"), ("registry_id", "VARCHAR"),
            ("trial_id", "VARCHAR")]
    names = [n for n, _ in base]
    extra: list[tuple[str, str]] = []
    for row in ds.table_rows:
        for k, v in row.items():
            if k not in names:
                names.append(k)
                extra.append((k, "VARCHAR[]" if isinstance(v, list) else "VARCHAR"))
    return base + extra


def table_rows_frame(ds: TrialDataset) -> pd.DataFrame:
    cols = table_row_columns(ds)
    data = {}
    for name, dtype in cols:
        values = [row.get(name) for row in ds.table_rows]
        if dtype == "INTEGER":
            data[name] = pd.array(values, dtype="Int64")
        elif dtype == "DOUBLE":
            data[name] = pd.Series([float(v) if v is not None else math.nan for v in values], dtype="float64")
        elif dtype.endswith("[]"):
            data[name] = pd.Series([list(v) if v is not None else [] for v in values], dtype="object")
        else:
            data[name] = pd.Series(values, dtype="object")
    return pd.DataFrame(data, columns=[n for n, _ in cols])


ENTITY_COLUMNS = ("type", "text", "norm", "score", "page", "start", "end", "source")
TEXT_FACT_COLUMNS = ("registry_ids", "subject", "metric", "value", "unit", "ci_low", "ci_high", "p_value",
                     "qualifier", "page", "sentence", "block_id")


def records_frame(items: list[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    rows = [_jsonable(plain(item)) for item in items]
    names = list(columns)
    for row in rows:
        for k in row:
            if k not in names:
                names.append(k)
    return pd.DataFrame([{k: row.get(k) for k in names} for row in rows], columns=names).astype(
        {k: "object" for k in names} if not rows else {})


def text_facts_frame(ds: TrialDataset) -> pd.DataFrame:
    df = records_frame(ds.facts, TEXT_FACT_COLUMNS)
    df["linked_registry_ids"] = pd.Series(ds.fact_links or [[] for _ in range(len(df))], dtype="object")
    df["link_method"] = pd.Series(ds.fact_link_methods or [None] * len(df), dtype="object")
    return df


def _jsonable(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, tuple):
            v = list(v)
        if isinstance(v, dict) or (isinstance(v, list) and any(isinstance(x, (dict, list, tuple)) for x in v)):
            import json

            v = json.dumps(v, ensure_ascii=False, default=str)
        out[k] = v
    return out


# --- pandera ---------------------------------------------------------------------------------

def _is_list_of(kind):
    def check(series: pd.Series) -> pd.Series:
        return series.map(lambda v: isinstance(v, list) and all(kind(x) for x in v))
    return check


def _column(spec: FieldSpec) -> pa.Column:
    checks = []
    nullable = not spec.required
    if spec.type == "list[string]":
        checks.append(pa.Check(_is_list_of(lambda x: isinstance(x, str) and x.strip() != ""),
                               name="list of non-empty strings"))
        return pa.Column(object, checks=checks, nullable=False)
    if spec.type == "list[integer]":
        lo = spec.minimum if spec.minimum is not None else 1
        checks.append(pa.Check(_is_list_of(lambda x: isinstance(x, int) and not isinstance(x, bool) and x >= lo),
                               name="list of positive integers"))
        return pa.Column(object, checks=checks, nullable=False)
    if spec.type == "list[object]":
        checks.append(pa.Check(_is_list_of(lambda x: isinstance(x, dict)), name="list of objects"))
        return pa.Column(object, checks=checks, nullable=False)
    if spec.enum is not None:
        checks.append(pa.Check.isin(list(spec.enum)))
    if spec.pattern is not None:
        checks.append(pa.Check.str_matches(spec.pattern))
    if spec.minimum is not None:
        checks.append(pa.Check.ge(spec.minimum))
    if spec.maximum is not None:
        checks.append(pa.Check.le(spec.maximum))
    # strings: no dtype pinned (pandas 3 infers "str", older pandas "object"); elements are checked
    dtype = {"string": None, "integer": "Int64", "number": "float64", "boolean": "boolean"}[spec.type]
    if spec.type == "string":
        checks.append(pa.Check(lambda s: s.map(lambda v: isinstance(v, str) and v.strip() != ""),
                               element_wise=False, name="non-empty string", ignore_na=True))
    return pa.Column(dtype, checks=checks, nullable=nullable)


def _schema(name: str, specs: tuple[FieldSpec, ...], checks=(), unique=None) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({s.name: _column(s) for s in specs}, checks=list(checks), strict=True,
                              ordered=True, unique=unique, name=name)


def _combination_ok(series: pd.Series) -> pd.Series:
    def ok(items):
        return all(set(x) == {"agent", "drug_class"} and (x["agent"] or x["drug_class"]) for x in items)
    return series.map(ok)


def _trial_checks():
    return [
        pa.Check(lambda df: df["n_targets"].fillna(0).astype(int) == df["targets"].map(len),
                 name="n_targets == len(targets)"),
        pa.Check(lambda df: ~(df["median_pfs_months"].notna() & (df["pfs_not_reached"] == True)),  # noqa: E712
                 name="no median PFS when not reached"),
        pa.Check(lambda df: df["n_narrative_mentions"] == df["narrative_mentions"].map(len),
                 name="n_narrative_mentions == len(narrative_mentions)"),
        pa.Check(lambda df: df["in_tables"] == (df["sources"].map(len) > 0), name="in_tables == bool(sources)"),
        pa.Check(lambda df: _combination_ok(df["combination"]), name="combination items {agent, drug_class}"),
        pa.Check(lambda df: df["unresolved_fields"].map(set) <= df["conflict_fields"].map(set),
                 name="unresolved fields are conflict fields"),
        pa.Check(lambda df: df["in_tables"] | df["in_text"] | (df["n_text_facts"] > 0),
                 name="every trial has a source"),
    ]


def _provenance_check(df: pd.DataFrame) -> pd.Series:
    table = df["source"] == "table"
    has_cell = df[["table", "row", "column", "page", "x0", "top", "x1", "bottom"]].notna().all(axis=1)
    has_text = df["sentence"].notna() | df["block"].notna()
    return (table & has_cell) | (~table & has_text)


TRIALS_SCHEMA = _schema("trials", TRIAL_FIELDS, _trial_checks(), unique=["trial_id"])
CONFLICTS_SCHEMA = _schema("conflicts", CONFLICT_FIELDS, [
    pa.Check(_provenance_check, name="every value has its provenance"),
    pa.Check(lambda df: df.groupby("conflict_id")["conflict_id"].transform("size") >= 2,
             name="a conflict lists at least two sources"),
    pa.Check(lambda df: df["resolved"] == df["resolution"].notna(), name="resolved conflicts keep a value"),
])
EVIDENCE_SCHEMA = _schema("evidence", EVIDENCE_FIELDS, [pa.Check(_provenance_check, name="every value has its provenance")])


def table_rows_schema(ds: TrialDataset) -> pa.DataFrameSchema:
    cols: dict[str, pa.Column] = {}
    for name, dtype in table_row_columns(ds):
        if name in {"table", "row", "block", "page"}:
            cols[name] = pa.Column("Int64", pa.Check.ge(1), nullable=False)
        elif dtype == "DOUBLE":
            cols[name] = pa.Column("float64", pa.Check.ge(0), nullable=False)
        elif name == "registry_id":
            cols[name] = pa.Column(None, pa.Check.str_matches(REGISTRY_ID_PATTERN), nullable=True)
        elif dtype.endswith("[]"):
            cols[name] = pa.Column(object, pa.Check(_is_list_of(lambda x: isinstance(x, str))), nullable=False)
        else:
            cols[name] = pa.Column(None, nullable=True)
    return pa.DataFrameSchema(cols, strict=True, ordered=True, unique=["table", "row"], name="table_rows")


ENTITIES_SCHEMA = pa.DataFrameSchema({
    "type": pa.Column(None, pa.Check(lambda s: s.map(lambda v: isinstance(v, str) and v != "")), nullable=False),
    "text": pa.Column(None, nullable=False),
    "page": pa.Column(nullable=True, required=False, checks=pa.Check(lambda s: pd.to_numeric(s, errors="coerce").ge(1), ignore_na=True)),
}, strict=False, name="entities")
TEXT_FACTS_SCHEMA = pa.DataFrameSchema({
    "metric": pa.Column(None, pa.Check(lambda s: s.map(lambda v: isinstance(v, str) and v != "")), nullable=False),
    "page": pa.Column(nullable=True, required=False, checks=pa.Check(lambda s: pd.to_numeric(s, errors="coerce").ge(1), ignore_na=True)),
}, strict=False, name="text_facts")


def schemas_for(ds: TrialDataset) -> dict[str, pa.DataFrameSchema]:
    return {"trials": TRIALS_SCHEMA, "conflicts": CONFLICTS_SCHEMA, "evidence": EVIDENCE_SCHEMA,
            "table_rows": table_rows_schema(ds), "entities": ENTITIES_SCHEMA, "text_facts": TEXT_FACTS_SCHEMA}


def validate(name: str, df: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Validate one export; any failure raises :class:`SchemaValidationError` (CLI exit code 8)."""
    try:
        return schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        lines = []
        for _, case in cases.head(5).iterrows():
            lines.append(f"{case.get('column')}: {case.get('check')} (failure case {case.get('failure_case')!r}, index {case.get('index')})")
        more = f" (+{len(cases) - 5} more)" if len(cases) > 5 else ""
        raise SchemaValidationError(f"{name}: {len(cases)} schema failure(s): " + "; ".join(lines) + more) from None
    except pa.errors.SchemaError as exc:
        raise SchemaValidationError(f"{name}: schema failure: {exc}") from None


# --- Frictionless Data Package -----------------------------------------------------------------

def _frictionless_field(spec: FieldSpec, csv: bool) -> dict:
    out: dict[str, Any] = {"name": spec.name}
    if spec.type.startswith("list[") and spec.type != "list[object]":
        item = spec.type[5:-1]
        out.update({"type": "list", "delimiter": "; ", "itemType": item} if csv else {"type": "array"})
    elif spec.type == "list[object]":
        out["type"] = "string" if csv else "array"
    else:
        out["type"] = spec.type
    desc = spec.description
    if csv and spec.csv_format:
        desc += f" CSV: {spec.csv_format}."
    out["description"] = desc
    if spec.unit:
        out["unit"] = spec.unit
    constraints: dict[str, Any] = {}
    if spec.required:
        constraints["required"] = True
    if spec.enum is not None:
        constraints["enum"] = list(spec.enum)
    if spec.pattern is not None:
        constraints["pattern"] = spec.pattern.strip("^$")
    if spec.minimum is not None:
        constraints["minimum"] = spec.minimum
    if spec.maximum is not None:
        constraints["maximum"] = spec.maximum
    if constraints:
        out["constraints"] = constraints
    return out


def table_schema(specs: tuple[FieldSpec, ...], csv: bool, primary_key: list[str] | None = None) -> dict:
    schema: dict[str, Any] = {
        "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
        "fields": [_frictionless_field(s, csv) for s in specs],
        "missingValues": [""],
    }
    if primary_key:
        schema["primaryKey"] = primary_key
    return schema


def datapackage(ds: TrialDataset, files: dict[str, str], duckdb_tables: list[str], source: dict | None = None) -> dict:
    trials_csv = table_schema(TRIAL_FIELDS, csv=True, primary_key=["trial_id"])
    trials_json = table_schema(TRIAL_FIELDS, csv=False, primary_key=["trial_id"])
    resources = [
        {"name": "trials", "path": files["trials_csv"], "type": "table", "format": "csv", "mediatype": "text/csv",
         "encoding": "utf-8", "title": "Trials (one row per trial)",
         "description": "Clinical trials reported by the review, merged over its tables and narrative. "
                        "List fields are joined with '; '.",
         "schema": trials_csv},
        {"name": "trials-parquet", "path": files["trials_parquet"], "type": "table", "format": "parquet",
         "mediatype": "application/vnd.apache.parquet", "title": "Trials (Parquet, list fields as lists)",
         "schema": trials_json},
        {"name": "trials-jsonl", "path": files["trials_jsonl"], "type": "table", "format": "jsonl",
         "mediatype": "application/jsonl", "encoding": "utf-8", "title": "Trials (JSON Lines, list fields as arrays)",
         "schema": trials_json},
        {"name": "conflicts", "path": files["conflicts_csv"], "type": "table", "format": "csv", "mediatype": "text/csv",
         "encoding": "utf-8", "title": "Conflicts between sources",
         "description": "One row per source value of a trial field the sources disagree on, with its provenance, "
                        "the rule applied and whether it resolved the conflict.",
         "schema": table_schema(CONFLICT_FIELDS, csv=True)},
        {"name": "evidence", "path": files["evidence_csv"], "type": "table", "format": "csv", "mediatype": "text/csv",
         "encoding": "utf-8", "title": "Evidence: every value of every compared trial field with its provenance",
         "schema": table_schema(EVIDENCE_FIELDS, csv=True)},
        {"name": "review-duckdb", "path": files["duckdb"], "format": "duckdb", "mediatype": "application/vnd.duckdb",
         "title": "DuckDB database", "description": "Tables: " + ", ".join(duckdb_tables) + "."},
    ]
    package: dict[str, Any] = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "review-extract-trials",
        "version": TRIAL_SCHEMA_VERSION,
        "title": "Clinical trials reported in a review article",
        "description": "Structured dataset produced by review-extract: trials, conflicts between the review's tables "
                       "and narrative, and the evidence for every value.",
        "resources": resources,
        "counts": {"trials": len(ds.trials), "conflicts": ds.n_conflicts,
                   "unresolved_conflicts": len({c.conflict_id for c in ds.conflicts if not c.resolved})},
    }
    if source:
        package["sources"] = [source]
    return package
