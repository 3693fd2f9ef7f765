"""One trial landscape across reviews: the latest version of every review under a batch root.

`review-extract batch` leaves <root>/<review-key>/latest -> <version>/dataset/. The landscape
reads each review's latest dataset (trials.jsonl, evidence.csv, conflicts.csv) and merges it:

- one record per trial. A trial is identified by its key in the review's dataset (`trial_id`
  or `trial_key` when the dataset has one, else `registry_id`), by every registry id it
  carries and by its study acronym when that acronym names at most one registry id in all
  the reviews; records sharing any identifier are one trial. The landscape's `trial_key` is
  the trial's registry id when one is known, else the review's own key;
- per-review provenance: `trial_reviews` (the trial in each review: review key, version, its
  key there, table rows, citations) and `evidence` (every value with its review, version,
  table/row/column/page/bbox or page/block/sentence);
- conflicts in the same form as within one review: each review's own conflicts, and across
  reviews the same resolution rules (pipeline/reconcile/merge.py) applied to the value every
  review kept, each with the provenance of the source it came from.

Nothing here names a trial field except the bookkeeping fields below: fields a review's dataset
gains (new columns of the trial schema) flow through, merged by their kind (lists united,
compared fields resolved, other values kept when the reviews agree).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from pipeline.reconcile.merge import resolve_field  # the within-review resolution rules
from pipeline.reconcile.model import Observation, value_text
from pipeline.reconcile.schema import (
    CONFLICT_FIELDS,
    CONFLICTS_SCHEMA,
    EVIDENCE_FIELDS,
    EVIDENCE_SCHEMA,
    TRIAL_FIELD_BY_NAME,
    TRIALS_SCHEMA,
    FieldSpec,
    frame,
    table_schema,
    validate,
)
from pipeline.versioning import latest_version

KEY_COLUMNS = ("trial_id", "trial_key", "registry_id")  # a review's own trial key, first present
REGISTRY_LIST = "registry_ids"
# How the record is identified: taken together from the record that gives the landscape key.
IDENTITY_FIELDS = (*KEY_COLUMNS, "registry", "identified_by")
# Positions inside one review (its table numbers, rows, bibliography, mention counts): kept per
# review in `trial_reviews`, not merged into the landscape record.
REVIEW_POSITION_FIELDS = ("in_tables", "in_text", "tables", "sources", "citations", "narrative_mentions",
                          "n_narrative_mentions", "n_text_facts", "conflict_fields", "unresolved_fields")
REVIEW_FIELDS = (
    FieldSpec("review_key", "string", "VARCHAR", "Review (batch review key: DOI, else normalised title).", required=True),
    FieldSpec("version", "string", "VARCHAR", "Version of the review the value comes from (its latest).", required=True),
)
LANDSCAPE_TRIAL_FIELDS = (
    FieldSpec("trial_key", "string", "VARCHAR", "Landscape key: the trial's registry id when known, else the review's "
              "own trial key (study acronym or product + citation); primary key.", required=True),
    FieldSpec("reviews", "list[string]", "VARCHAR[]", "Reviews (review keys) that report the trial."),
    FieldSpec("n_reviews", "integer", "INTEGER", "Number of reviews that report the trial.", minimum=1, required=True),
    FieldSpec("cross_review_conflict_fields", "list[string]", "VARCHAR[]",
              "Fields on which the reviews disagree (see conflicts, scope 'reviews')."),
    FieldSpec("conflict_fields", "list[string]", "VARCHAR[]",
              "Fields with a conflict within any review or across reviews."),
    FieldSpec("unresolved_fields", "list[string]", "VARCHAR[]",
              "Fields no rule could resolve (left null), within a review or across reviews."),
)
TRIAL_REVIEW_FIELDS = (
    FieldSpec("trial_key", "string", "VARCHAR", "Landscape trial key.", required=True),
    *REVIEW_FIELDS,
    FieldSpec("review_trial_key", "string", "VARCHAR", "The trial's key in that review's dataset.", required=True),
    FieldSpec("in_tables", "boolean", "BOOLEAN", "The review lists the trial in a table."),
    FieldSpec("in_text", "boolean", "BOOLEAN", "The review's text prints the trial's id."),
    FieldSpec("tables", "list[integer]", "INTEGER[]", "Tables of the review that list the trial."),
    FieldSpec("sources", "list[string]", "VARCHAR[]", "Table rows of the review, as T<table>r<row>."),
    FieldSpec("citations", "list[integer]", "INTEGER[]", "Reference numbers in the review's bibliography."),
    FieldSpec("pages", "list[integer]", "INTEGER[]", "Pages of the review with a value of the trial."),
    FieldSpec("n_narrative_mentions", "integer", "INTEGER", "Mentions in the review's text.", minimum=0),
)
REVIEW_LIST_FIELDS = (
    *REVIEW_FIELDS,
    FieldSpec("title", "string", "VARCHAR", "Title of the review."),
    FieldSpec("doi", "string", "VARCHAR", "DOI of the review."),
    FieldSpec("previous", "string", "VARCHAR", "The version before this one in the review's chain."),
    FieldSpec("path", "string", "VARCHAR", "Extraction output folder of the version.", required=True),
    FieldSpec("n_trials", "integer", "INTEGER", "Trials in the version's dataset.", minimum=0, required=True),
)
SCOPE = FieldSpec("scope", "string", "VARCHAR", "'review': a conflict within one review (its own conflicts.csv); "
                  "'reviews': the values the reviews kept disagree.", enum=("review", "reviews"), required=True)
FILES = {"trials_parquet": "trials.parquet", "trials_csv": "trials.csv", "trials_jsonl": "trials.jsonl",
         "trial_reviews_csv": "trial_reviews.csv", "reviews_csv": "reviews.csv", "conflicts_csv": "conflicts.csv",
         "evidence_csv": "evidence.csv", "duckdb": "landscape.duckdb", "datapackage": "datapackage.json"}


class LandscapeError(ValueError):
    """The root holds no review with a dataset."""


@dataclass(slots=True)
class ReviewVersion:
    review_key: str
    version: str
    path: Path
    title: str | None
    doi: str | None
    previous: str | None
    trials: list[dict]
    evidence: list[dict]
    conflicts: list[dict]


@dataclass(slots=True)
class Landscape:
    reviews: list[ReviewVersion]
    frames: dict[str, pd.DataFrame]
    specs: dict[str, tuple[FieldSpec, ...]]
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        trials, conflicts = self.frames["trials"], self.frames["conflicts"]
        across = conflicts[conflicts["scope"] == "reviews"]
        return {"reviews": len(self.reviews), "trials": len(trials),
                "shared_trials": int((trials["n_reviews"] > 1).sum()),
                "conflicts_within_reviews": int(conflicts[conflicts["scope"] == "review"]["conflict_id"].nunique()),
                "conflicts_across_reviews": int(across["conflict_id"].nunique()),
                "unresolved_across_reviews": int(across[~across["resolved"].astype(bool)]["conflict_id"].nunique())}


# --- reading ------------------------------------------------------------------------------------

def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def latest_reviews(root: Path) -> tuple[list[ReviewVersion], list[str]]:
    """The latest version of every review under a batch root that has a trial dataset."""
    reviews, warnings = [], []
    for review_dir in sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith(".")):
        version_dir = latest_version(review_dir)
        if version_dir is None:
            warnings.append(f"{review_dir.name}: no `latest` version, skipped")
            continue
        dataset = version_dir / "dataset"
        if not (dataset / "trials.jsonl").exists():
            warnings.append(f"{review_dir.name}/{version_dir.name}: no trial dataset, skipped")
            continue
        info = json.loads((version_dir / "document.json").read_text("utf-8"))
        published = version_dir / "published.json"
        previous = json.loads(published.read_text("utf-8")).get("previous") if published.exists() else None
        reviews.append(ReviewVersion(
            review_key=review_dir.name, version=version_dir.name, path=version_dir, title=info.get("title"),
            doi=info.get("doi"), previous=previous, trials=_read_jsonl(dataset / "trials.jsonl"),
            evidence=_read_csv(dataset / "evidence.csv"), conflicts=_read_csv(dataset / "conflicts.csv")))
    return reviews, warnings


# --- trial identity -----------------------------------------------------------------------------

def _norm_id(value: str) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().casefold()


def own_key(record: dict) -> str:
    """The trial's key in its review's dataset."""
    return next(str(record[c]) for c in KEY_COLUMNS if record.get(c))


def identifiers(record: dict) -> list[str]:
    ids = [str(record[c]) for c in KEY_COLUMNS if record.get(c)]
    return ids + [str(r) for r in record.get(REGISTRY_LIST) or []]


def study_identifier(record: dict) -> str | None:
    """The study acronym as an identifier, in the form a review gives a trial known only by it."""
    return f"study:{record['study_name']}" if record.get("study_name") else None


def unambiguous_studies(records: list[dict]) -> tuple[set[str], list[str]]:
    """Study acronyms that name at most one registry id across all reviews: only those join a
    trial known by its acronym alone to the registered trial of another review."""
    registry_of: dict[str, set[str]] = defaultdict(set)
    printed: dict[str, str] = {}
    for rec in records:
        if (study := study_identifier(rec)) is not None:
            printed.setdefault(_norm_id(study), rec["study_name"])
            registry_of[_norm_id(study)].update(r for r in [rec.get("registry_id"), *(rec.get(REGISTRY_LIST) or [])] if r)
    usable = {s for s, ids in registry_of.items() if len(ids) <= 1}
    warnings = [f"study {printed[s]}: printed with several registry ids ({', '.join(sorted(ids))}); records named "
                f"only by this acronym are not joined to any of them" for s, ids in sorted(registry_of.items())
                if len(ids) > 1]
    return usable, warnings


def group_trials(reviews: list[ReviewVersion]) -> tuple[list[list[tuple[ReviewVersion, dict]]], dict[str, int], list[str]]:
    """Records that share an identifier (own key, a registry id, or an unambiguous study acronym),
    across reviews, are one trial (union-find). Returns the groups, identifier -> group, warnings."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    records = [(review, rec) for review in reviews for rec in review.trials]
    studies, warnings = unambiguous_studies([rec for _, rec in records])

    def ids_of(rec: dict) -> list[str]:
        ids = [_norm_id(i) for i in identifiers(rec)]
        study = study_identifier(rec)
        return ids + ([_norm_id(study)] if study and _norm_id(study) in studies else [])

    for _, rec in records:
        ids = ids_of(rec)
        for other in ids[1:]:
            parent[find(other)] = find(ids[0])
    groups: dict[str, list[tuple[ReviewVersion, dict]]] = defaultdict(list)
    for review, rec in records:
        groups[find(_norm_id(own_key(rec)))].append((review, rec))
    ordered = list(groups.values())
    index = {}
    for n, group in enumerate(ordered):
        for _, rec in group:
            for ident in ids_of(rec):
                index[ident] = n
    return ordered, index, warnings


def landscape_key(group: list[tuple[ReviewVersion, dict]]) -> str:
    """The registry id most reviews print for the trial, else the first review's own key."""
    registry = Counter(rec["registry_id"] for _, rec in group if rec.get("registry_id"))
    if registry:
        return sorted(registry.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return own_key(group[0][1])


# --- merging ------------------------------------------------------------------------------------

def _is_list(name: str, values: list) -> bool:
    spec = TRIAL_FIELD_BY_NAME.get(name)
    return spec.type.startswith("list") if spec else any(isinstance(v, list) for v in values)


def _observation(key: str, name: str, value, review: ReviewVersion, rec: dict, evidence: dict | None) -> Observation:
    """The value a review kept for a field, as an observation with the provenance of its source."""
    names = {f.name for f in fields(Observation)}
    ev = evidence or {}
    bbox = tuple(_num(ev.get(k)) for k in ("x0", "top", "x1", "bottom"))
    source = ev.get("source") or ("table" if rec.get("in_tables") else "narrative")
    data = {
        "field": name, "value": value, "raw": ev.get("raw") or value_text(value) or "", "source": source,
        "table": _int(ev.get("table")), "row": _int(ev.get("row")), "column": ev.get("column") or None,
        "page": _int(ev.get("page")), "bbox": bbox if all(v is not None for v in bbox) else None,
        "block": ev.get("block") or None, "sentence": ev.get("sentence") or None,
        "pooled": ev.get("pooled") == "true", "extractor": ev.get("extractor") or "table",
        "extra": {"review_key": review.review_key, "version": review.version, "review_trial_key": own_key(rec)},
    }
    key_field = next(n for n in ("trial_id", "registry_id") if n in names)
    return Observation(**{key_field: key}, **{k: v for k, v in data.items() if k in names})


def _int(value) -> int | None:
    return int(float(value)) if value not in (None, "") else None


def _num(value) -> float | None:
    return float(value) if value not in (None, "") else None


def _same_value(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def merge_group(key: str, group, compared: set[str], chosen_evidence: dict) -> tuple[dict, list[tuple]]:
    """One landscape record from a trial's records in several reviews, and its cross-review
    conflicts as (field, value, rule, resolved, observations shown, observations chosen)."""
    columns = [c for c in dict.fromkeys(c for _, rec in group for c in rec) if c not in REVIEW_POSITION_FIELDS]
    record: dict[str, Any] = {"trial_key": key, "reviews": list(dict.fromkeys(r.review_key for r, _ in group)),
                              "n_reviews": len({r.review_key for r, _ in group})}
    conflicts = []
    unresolved: list[str] = []
    key_record = next((rec for _, rec in group if key in (rec.get("registry_id"), own_key(rec))), group[0][1])
    for name in columns:
        stated = [(review, rec.get(name)) for review, rec in group if rec.get(name) not in (None, [], "")]
        if name == REGISTRY_LIST:
            record[name] = _distinct(i for _, v in stated for i in v)
        elif name in IDENTITY_FIELDS:
            record[name] = key_record.get(name)
        elif name in compared:
            if not stated:
                record[name] = None
                continue
            items = [_observation(key, name, v, review, rec, chosen_evidence.get((review.review_key, own_key(rec), name)))
                     for review, rec in group if (v := rec.get(name)) not in (None, [], "")]
            value, chosen, rule, resolved, show = resolve_field(name, items)
            record[name] = value
            if show and len({r.review_key for r, _ in stated}) > 1:
                conflicts.append((name, value, rule, resolved, show, chosen))
                if not resolved:
                    unresolved.append(name)
        elif _is_list(name, [v for _, v in stated]):
            record[name] = _united(stated)
        else:  # a value no review compares (derived or bookkeeping): kept when the reviews agree
            distinct = _distinct(v for _, v in stated)
            record[name] = distinct[0] if len(distinct) == 1 else None
            if len(distinct) > 1:
                unresolved.append(name)
    for name in columns:  # a count of a list field follows the merged list (empty when unresolved)
        base = name[2:]
        if name.startswith("n_") and base in record and (isinstance(record[base], list) or _is_list(base, [])):
            record[name] = len(record[base] or []) or None
    within = [f for _, rec in group for f in rec.get("conflict_fields") or []]
    within_unresolved = [f for _, rec in group for f in rec.get("unresolved_fields") or []]
    record["cross_review_conflict_fields"] = [c[0] for c in conflicts]
    record["conflict_fields"] = list(dict.fromkeys(within + [c[0] for c in conflicts]))
    record["unresolved_fields"] = list(dict.fromkeys(within_unresolved + unresolved))
    return record, conflicts


def _distinct(values) -> list:
    out: list = []
    for value in values:
        if not any(_same_value(value, seen) for seen in out):
            out.append(value)
    return out


def _united(stated: list) -> list:
    """Lists united in order; an object item keeps the review and version it came from."""
    items = []
    for review, value in stated:
        for item in value:
            items.append({**item, "review_key": review.review_key, "version": review.version}
                         if isinstance(item, dict) else item)
    return _distinct(items)


# --- frames -------------------------------------------------------------------------------------

def _typed(rows: list[dict], specs: tuple[FieldSpec, ...]) -> pd.DataFrame:
    """A frame of CSV rows (strings) typed by their field specs."""
    def parse(spec: FieldSpec, value):
        if value in (None, ""):
            return None
        if spec.type == "integer":
            return int(float(value))
        if spec.type == "number":
            return float(value)
        if spec.type == "boolean":
            return str(value).lower() == "true"
        return value
    return frame([{s.name: parse(s, row.get(s.name)) for s in specs} for row in rows], specs)


def _trial_specs(records: list[dict]) -> tuple[FieldSpec, ...]:
    landscape = {s.name: s for s in LANDSCAPE_TRIAL_FIELDS}
    names = list(dict.fromkeys(["trial_key", "reviews", "n_reviews"] + [c for r in records for c in r]))
    specs = []
    for name in names:
        if name in landscape:
            specs.append(landscape[name])
        elif name in TRIAL_FIELD_BY_NAME:
            spec = TRIAL_FIELD_BY_NAME[name]
            if spec.type == "list[object]":  # items carry their review and version here
                spec = FieldSpec(spec.name, spec.type, "JSON", spec.description + " Each item with its review_key "
                                 "and version.", csv_format="JSON")
            specs.append(spec)
        else:  # a field this code does not know: typed by its values
            values = [r.get(name) for r in records if r.get(name) is not None]
            kind = ("list[string]" if values and all(isinstance(v, list) for v in values) else
                    "number" if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
                    else "string")
            specs.append(FieldSpec(name, kind, {"list[string]": "VARCHAR[]", "number": "DOUBLE"}.get(kind, "VARCHAR"),
                                   f"Field {name} of the reviews' trial datasets."))
            if kind == "string":
                for r in records:
                    if r.get(name) is not None and not isinstance(r[name], str):
                        r[name] = json.dumps(r[name], ensure_ascii=False)
    return tuple(specs)


def _key_field(rows: list[dict]) -> str:
    return next((c for c in ("trial_id", "registry_id") if rows and c in rows[0]), "registry_id")


def build_landscape(root: Path) -> Landscape:
    reviews, warnings = latest_reviews(Path(root))
    if not reviews:
        raise LandscapeError(f"{root}: no review with a trial dataset (expected <review-key>/latest/dataset/)")
    groups, index, join_warnings = group_trials(reviews)
    warnings += join_warnings
    keys = [landscape_key(g) for g in groups]
    compared = {row["field"] for review in reviews for row in review.evidence}
    chosen_evidence = {}
    for review in reviews:
        key_field = _key_field(review.evidence)
        for row in review.evidence:
            if row.get("chosen") == "true":
                chosen_evidence.setdefault((review.review_key, row[key_field], row["field"]), row)

    records, trial_reviews, cross = [], [], []
    for key, group in zip(keys, groups):
        record, conflicts = merge_group(key, group, compared, chosen_evidence)
        records.append(record)
        cross += [(key, *c) for c in conflicts]
        for review, rec in group:
            pages = sorted({_int(e.get("page")) for e in review.evidence
                            if e.get(_key_field(review.evidence)) == own_key(rec) and e.get("page")})
            trial_reviews.append({"trial_key": key, "review_key": review.review_key, "version": review.version,
                                  "review_trial_key": own_key(rec), "in_tables": rec.get("in_tables"),
                                  "in_text": rec.get("in_text"), "tables": rec.get("tables") or [],
                                  "sources": rec.get("sources") or [], "citations": rec.get("citations") or [],
                                  "pages": pages, "n_narrative_mentions": rec.get("n_narrative_mentions")})

    def trial_of(review: ReviewVersion, row: dict) -> str:
        return keys[index[_norm_id(row[_key_field([row])])]]

    conflict_specs = (SCOPE, LANDSCAPE_TRIAL_FIELDS[0], *REVIEW_FIELDS, *CONFLICT_FIELDS)
    conflict_rows, next_id = [], 0
    for review in reviews:
        renumber: dict[str, int] = {}
        for row in review.conflicts:
            if row["conflict_id"] not in renumber:
                next_id += 1
                renumber[row["conflict_id"]] = next_id
            conflict_rows.append({**row, "conflict_id": renumber[row["conflict_id"]], "scope": "review",
                                  "trial_id": row[_key_field([row])], "trial_key": trial_of(review, row),
                                  "review_key": review.review_key, "version": review.version})
    for key, name, value, rule, resolved, show, chosen in cross:
        next_id += 1
        for ob in show:
            bbox = [round(v, 2) for v in ob.bbox] if ob.bbox else [None] * 4
            conflict_rows.append({
                "scope": "reviews", "trial_key": key, "review_key": ob.extra["review_key"],
                "version": ob.extra["version"], "conflict_id": next_id, "trial_id": ob.extra["review_trial_key"],
                "registry_id": key if _registry_like(key) else None, "field": name, "value": value_text(ob.value), "raw": ob.raw, "source": ob.source,
                "table": ob.table, "row": ob.row, "column": ob.column, "page": ob.page, "x0": bbox[0],
                "top": bbox[1], "x1": bbox[2], "bottom": bbox[3], "block": ob.block, "sentence": ob.sentence,
                "pooled": ob.pooled, "chosen": any(ob is c for c in chosen), "resolved": resolved, "rule": rule,
                "resolution": value_text(value)})
    evidence_specs = (LANDSCAPE_TRIAL_FIELDS[0], *REVIEW_FIELDS, *EVIDENCE_FIELDS)
    evidence_rows = [{**row, "trial_id": row[_key_field([row])], "trial_key": trial_of(review, row),
                      "review_key": review.review_key, "version": review.version}
                     for review in reviews for row in review.evidence]  # trial_id: the review's own key
    review_rows = [{"review_key": r.review_key, "version": r.version, "title": r.title, "doi": r.doi,
                    "previous": r.previous, "path": str(r.path), "n_trials": len(r.trials)} for r in reviews]
    trial_specs = _trial_specs(records)
    specs = {"trials": trial_specs, "trial_reviews": TRIAL_REVIEW_FIELDS, "reviews": REVIEW_LIST_FIELDS,
             "conflicts": conflict_specs, "evidence": evidence_specs}
    frames = {"trials": frame(records, trial_specs), "trial_reviews": frame(trial_reviews, TRIAL_REVIEW_FIELDS),
              "reviews": frame(review_rows, REVIEW_LIST_FIELDS),
              "conflicts": _typed(conflict_rows, conflict_specs), "evidence": _typed(evidence_rows, evidence_specs)}
    return Landscape(reviews=reviews, frames=frames, specs=specs, warnings=warnings)


def _registry_like(key: str) -> bool:
    spec = TRIAL_FIELD_BY_NAME.get("registry_id")
    return bool(spec and spec.pattern and re.match(spec.pattern, key))


# --- validation ---------------------------------------------------------------------------------

def _columns_from(schema: pa.DataFrameSchema, specs: tuple[FieldSpec, ...], extra: dict[str, pa.Column]) -> dict:
    cols = {}
    for spec in specs:
        if spec.name in extra:
            cols[spec.name] = extra[spec.name]
        elif spec.name in schema.columns:
            cols[spec.name] = schema.columns[spec.name]
        else:
            cols[spec.name] = pa.Column(None, nullable=not spec.required)
    return cols


def _list_column() -> pa.Column:
    return pa.Column(object, pa.Check(lambda s: s.map(lambda v: isinstance(v, list)), name="list"), nullable=False)


def landscape_schemas(landscape: Landscape) -> dict[str, pa.DataFrameSchema]:
    """The review exports' pandera columns for the fields they share, plus the landscape's own."""
    key = pa.Column(None, pa.Check(lambda s: s.map(lambda v: isinstance(v, str) and v.strip() != "")), nullable=False)
    review = {"review_key": key, "version": key, "trial_key": key}
    nullable_registry = {"registry_id": pa.Column(None, nullable=True), "registry": pa.Column(None, nullable=True)}
    trials_extra = {**review, **nullable_registry, "reviews": _list_column(),
                    "cross_review_conflict_fields": _list_column(),
                    "n_reviews": pa.Column("Int64", pa.Check.ge(1), nullable=False)}
    for spec in landscape.specs["trials"]:
        if spec.name not in TRIALS_SCHEMA.columns and spec.name not in trials_extra:
            trials_extra[spec.name] = _list_column() if spec.type.startswith("list") else pa.Column(None, nullable=True)
        elif spec.type == "list[object]":
            trials_extra[spec.name] = _list_column()
    scope = pa.Column(None, pa.Check.isin(["review", "reviews"]), nullable=False)
    conflict_extra = {**review, **nullable_registry, "scope": scope,
                      "field": pa.Column(None, nullable=False)}  # fields of every review's schema
    evidence_extra = {**review, **nullable_registry, "field": pa.Column(None, nullable=False)}
    return {
        "trials": pa.DataFrameSchema(_columns_from(TRIALS_SCHEMA, landscape.specs["trials"], trials_extra),
                                     strict=True, ordered=True, unique=["trial_key"], name="landscape trials"),
        "trial_reviews": pa.DataFrameSchema(_columns_from(pa.DataFrameSchema({}), TRIAL_REVIEW_FIELDS, {
            **review, "review_trial_key": key, "tables": _list_column(), "sources": _list_column(),
            "citations": _list_column(), "pages": _list_column()}), strict=True,
            unique=["trial_key", "review_key"], name="trial_reviews"),
        "reviews": pa.DataFrameSchema(_columns_from(pa.DataFrameSchema({}), REVIEW_LIST_FIELDS, review),
                                      strict=True, unique=["review_key"], name="reviews"),
        "conflicts": pa.DataFrameSchema(_columns_from(CONFLICTS_SCHEMA, landscape.specs["conflicts"], conflict_extra),
                                        checks=list(CONFLICTS_SCHEMA.checks), strict=True, name="landscape conflicts"),
        "evidence": pa.DataFrameSchema(_columns_from(EVIDENCE_SCHEMA, landscape.specs["evidence"], evidence_extra),
                                       checks=list(EVIDENCE_SCHEMA.checks), strict=True, name="landscape evidence"),
    }


# --- writing ------------------------------------------------------------------------------------

def write_landscape(landscape: Landscape, out_dir: Path) -> None:
    """Validate every frame, then write Parquet, CSV, JSON Lines, DuckDB and datapackage.json."""
    from pipeline.reconcile.export import readable_by_frictionless, write_csv, write_jsonl, write_typed_duckdb

    frames = {name: validate(f"landscape {name}", df, schema)
              for (name, schema), df in ((item, landscape.frames[item[0]])
                                         for item in landscape_schemas(landscape).items())}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_frames = {"trials": "trials_csv", "trial_reviews": "trial_reviews_csv", "reviews": "reviews_csv",
                  "conflicts": "conflicts_csv", "evidence": "evidence_csv"}
    for name, file_key in csv_frames.items():
        write_csv(frames[name], landscape.specs[name], out_dir / FILES[file_key])
    write_jsonl(frames["trials"], out_dir / FILES["trials_jsonl"])
    duck_frames = {name: _for_duckdb(frames[name], landscape.specs[name]) for name in frames}
    typed = {name: [(s.name, s.duckdb) for s in specs] for name, specs in landscape.specs.items()}
    tables = write_typed_duckdb(duck_frames, typed, out_dir / FILES["duckdb"],
                                {"trials": out_dir / FILES["trials_parquet"]})
    package = readable_by_frictionless(datapackage(landscape, tables))
    (out_dir / FILES["datapackage"]).write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", "utf-8")


def _for_duckdb(df: pd.DataFrame, specs: tuple[FieldSpec, ...]) -> pd.DataFrame:
    """Lists of objects with review keys are stored as JSON in DuckDB (their items vary by field)."""
    out = df.copy()
    for spec in specs:
        if spec.duckdb == "JSON":
            out[spec.name] = out[spec.name].map(lambda v: json.dumps(v, ensure_ascii=False, default=str))
    return out


def datapackage(landscape: Landscape, duckdb_tables: list[str]) -> dict:
    specs = landscape.specs
    trials_key = ["trial_key"]

    def table(name: str, file_key: str, fmt: str, title: str, csv_: bool, primary=None) -> dict:
        media = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}[fmt]
        resource = {"name": name, "path": FILES[file_key], "type": "table", "format": fmt, "mediatype": media,
                    "title": title, "schema": table_schema(specs[name.split("-")[0]], csv=csv_, primary_key=primary)}
        if fmt != "parquet":
            resource["encoding"] = "utf-8"
        return resource

    resources = [
        table("trials", "trials_csv", "csv", "Trials across reviews (one row per trial)", True, trials_key),
        table("trials-parquet", "trials_parquet", "parquet", "Trials across reviews (Parquet)", False, trials_key),
        table("trials-jsonl", "trials_jsonl", "jsonl", "Trials across reviews (JSON Lines)", False, trials_key),
        table("trial_reviews", "trial_reviews_csv", "csv", "Each trial in each review (version, rows, pages)", True),
        table("reviews", "reviews_csv", "csv", "Reviews and the version used", True),
        table("conflicts", "conflicts_csv", "csv", "Conflicts within each review and across reviews", True),
        table("evidence", "evidence_csv", "csv", "Every value with its review, version and provenance", True),
        {"name": "landscape-duckdb", "path": FILES["duckdb"], "format": "duckdb", "mediatype": "application/vnd.duckdb",
         "title": "DuckDB database", "description": "Tables: " + ", ".join(duckdb_tables) + "."},
    ]
    return {"$schema": "https://datapackage.org/profiles/2.0/datapackage.json", "name": "review-extract-landscape",
            "title": "Clinical trials across reviews", "resources": resources, "counts": landscape.counts,
            "description": "The latest version of every review under a batch output root, merged: one record per "
                           "trial, what every review says about it, and where the reviews disagree."}

