"""Records of the reconcile step: one :class:`TrialRecord` per registry id, the evidence
(:class:`Observation`) every field value was read from, and the conflicts between sources."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache
from typing import Any

from pipeline.records import BBox


@dataclass(slots=True)
class TrialRecord:
    """One clinical trial as the review reports it, merged over tables and narrative.

    Field meanings, types and units are listed in :data:`pipeline.reconcile.schema.TRIAL_FIELDS`
    (and exported to datapackage.json).
    """

    trial_id: str
    registry_id: str | None = None
    registry: str | None = None
    registry_ids: list[str] = field(default_factory=list)
    identified_by: str = "registry_id"  # registry_id | study_name | product+citation
    in_tables: bool = False
    in_text: bool = False
    tables: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    product_aliases_seen: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    n_targets: int | None = None
    targets_incomplete: bool = False
    construct_notes: list[str] = field(default_factory=list)
    cell_source: str | None = None
    costimulatory_domain: str | None = None
    binding_domain: str | None = None
    strategies: list[str] = field(default_factory=list)
    combination: list[dict[str, str | None]] = field(default_factory=list)  # {agent, drug_class}
    binding_domain_origin: str | None = None
    binding_domain_format: str | None = None
    phase: str | None = None
    study_name: str | None = None
    status: str | None = None
    disease: str | None = None
    setting: str | None = None
    line_of_therapy: str | None = None
    prior_lines_median: float | None = None
    enrollment: int | None = None
    evaluable: int | None = None
    dose: str | None = None
    crs_grade3_pct: float | None = None
    icans_grade3_pct: float | None = None
    orr_pct: float | None = None
    median_pfs_months: float | None = None
    pfs_not_reached: bool | None = None
    median_pfs_ci_low: float | None = None
    median_pfs_ci_high: float | None = None
    cr_rate_pct: float | None = None
    vgpr_pct: float | None = None
    mrd_neg_pct: float | None = None
    median_os_months: float | None = None
    os_not_reached: bool | None = None
    median_os_ci_low: float | None = None
    median_os_ci_high: float | None = None
    median_dor_months: float | None = None
    dor_not_reached: bool | None = None
    median_dor_ci_low: float | None = None
    median_dor_ci_high: float | None = None
    pfs_hr: float | None = None
    pfs_hr_ci_low: float | None = None
    pfs_hr_ci_high: float | None = None
    os_hr: float | None = None
    os_hr_ci_low: float | None = None
    os_hr_ci_high: float | None = None
    crs_any_pct: float | None = None
    icans_any_pct: float | None = None
    follow_up_months: float | None = None
    country: str | None = None
    country_code: str | None = None
    sponsor: str | None = None
    citations: list[int] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    # printed cells no field takes: {label, column, value, table, row, page, x0, top, x1, bottom, reason}
    extras: list[dict[str, Any]] = field(default_factory=list)
    narrative_mentions: list[dict[str, Any]] = field(default_factory=list)  # {block, page, block_type, start, end, sentence}
    n_narrative_mentions: int = 0
    n_text_facts: int = 0
    conflict_fields: list[str] = field(default_factory=list)
    unresolved_fields: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return record_dict(self)


TRIAL_COLUMNS = [f.name for f in fields(TrialRecord)]


@dataclass(slots=True)
class Observation:
    """One value of one field of one trial, as one source printed it."""

    trial_id: str
    field: str
    value: Any  # normalised (None: the source prints "NA")
    raw: str  # as printed
    source: str  # "table" | "narrative"
    table: int | None = None
    row: int | None = None
    column: str | None = None
    page: int | None = None
    bbox: BBox | None = None
    block: str | None = None
    sentence: str | None = None
    pooled: bool = False  # a narrative statement about several trials at once
    extractor: str = "table"  # "table" | "sentence" (phase/study/cell source) | "fact" (entity helper)
    extra: dict[str, Any] = field(default_factory=dict)
    chosen: bool = False  # the value the trial record kept

    @property
    def missing(self) -> bool:
        return self.value is None

    @property
    def where(self) -> str:
        if self.source == "table":
            return f"T{self.table}r{self.row}"
        return f"p{self.page}/{self.block}"


@dataclass(slots=True)
class ConflictEntry:
    """One source value of a field on which the sources disagree (one row of conflicts.csv)."""

    conflict_id: int
    trial_id: str
    registry_id: str | None
    field: str
    value: str | None  # normalised value as text
    raw: str
    source: str
    table: int | None
    row: int | None
    column: str | None
    page: int | None
    x0: float | None
    top: float | None
    x1: float | None
    bottom: float | None
    block: str | None
    sentence: str | None
    pooled: bool
    chosen: bool
    resolved: bool
    rule: str
    resolution: str | None  # the value kept in the trial record (None when unresolved)


@dataclass(slots=True)
class TrialDataset:
    trials: list[TrialRecord]
    conflicts: list[ConflictEntry] = field(default_factory=list)
    evidence: list[Observation] = field(default_factory=list)
    table_rows: list[dict[str, Any]] = field(default_factory=list)
    table_columns: dict[str, str] = field(default_factory=dict)  # column key -> printed label
    # per printed column: {table, label, key, fields, parser, method, score} (fields [] = unmapped)
    column_mappings: list[dict[str, Any]] = field(default_factory=list)
    entities: list[Any] = field(default_factory=list)
    facts: list[Any] = field(default_factory=list)
    fact_links: list[list[str]] = field(default_factory=list)  # per fact: linked registry ids
    fact_link_methods: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def trial(self, trial_id: str) -> TrialRecord | None:
        """The record of a trial id (or of any registry id it carries)."""
        return next((t for t in self.trials if t.trial_id == trial_id or trial_id in t.registry_ids), None)

    def conflicts_for(self, registry_id: str, field_name: str | None = None) -> list[ConflictEntry]:
        trial = self.trial(registry_id)
        key = trial.trial_id if trial else registry_id
        return [c for c in self.conflicts if c.trial_id == key
                and (field_name is None or c.field == field_name)]

    @property
    def n_conflicts(self) -> int:
        return len({c.conflict_id for c in self.conflicts})


def value_text(value) -> str | None:
    """A normalised value as text (medians: the months, or "not reached")."""
    if value is None:
        return None
    if isinstance(value, tuple):
        if value and value[0] == "not reached":
            return "not reached"
        if len(value) == 2 and value[0] == "months":
            return _num(value[1])
        return "/".join(str(v) for v in value)
    if isinstance(value, float):
        return _num(value)
    return str(value)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def record_dict(obj: Any) -> dict[str, Any]:
    """``dataclasses.asdict(obj)``, the same dict, without asdict's recursive deep copy of every
    scalar field: the write stage turns thousands of records into frames, most fields scalars."""
    return {name: _copied(getattr(obj, name)) for name in _field_names(type(obj))}


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _copied(value: Any) -> Any:
    """A field value as asdict copies it: nested dataclasses as dicts, containers rebuilt."""
    if type(value) in _SCALAR_TYPES:  # immutable: asdict's deep copy returns them unchanged
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return record_dict(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # named tuple
        return type(value)(*[_copied(v) for v in value])
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_copied(k), _copied(v)) for k, v in value.items())
    return copy.deepcopy(value)


def plain(obj: Any) -> dict[str, Any]:
    """A duck-typed record (dataclass, pydantic model, namedtuple, plain object or dict) as a dict."""
    if isinstance(obj, dict):
        return dict(obj)
    if is_dataclass(obj):
        return record_dict(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    if hasattr(obj, "_asdict"):
        return obj._asdict()
    if hasattr(obj, "__dict__"):
        return {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    if hasattr(obj, "__slots__"):
        return {k: getattr(obj, k) for k in obj.__slots__ if hasattr(obj, k)}
    return {"value": obj}
