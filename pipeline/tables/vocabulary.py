"""Column roles: printed column labels -> output column keys, trial fields and cell parsers.

``column_vocabulary.json`` is the only registry of column roles. Each entry says which labels
it matches, which trial fields its cells fill, how its cells are parsed and whether they are
entity-tagged; the tables, entity, reconcile, sanity and report stages all read it here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from rapidfuzz import fuzz, process

REF_KEY = "ref"  # citation split from a "NCT… [ref]" cell: parsed by the vocabulary's "citation" parser


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    key: str
    patterns: tuple[re.Pattern, ...]
    fields: tuple[str, ...] = ()
    parser: str = "text"
    unit: str | None = None
    tagged: bool = False
    multi_item: bool = False
    split: str | None = None
    exclude: re.Pattern | None = None
    examples: tuple[str, ...] = ()
    primary_for: tuple[str, ...] = ()  # fields for which this column wins when tables disagree

    def matches(self, text: str) -> bool:
        if self.exclude is not None and self.exclude.search(text):
            return False
        return any(p.search(text) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class ColumnMatch:
    """How one printed label was read: the spec it maps to (None: unmapped) and how."""

    label: str
    spec: ColumnSpec | None
    method: str  # "label" | "group+label" | "fuzzy" | "unmapped"
    score: float | None = None


@dataclass(frozen=True, slots=True)
class ColumnVocabulary:
    version: str
    columns: tuple[ColumnSpec, ...]
    fuzzy_cutoff: float

    @property
    def multi_item(self) -> frozenset[str]:
        return frozenset(s.key for s in self.columns if s.multi_item)

    def by_key(self, key: str) -> ColumnSpec | None:
        """The spec of an output column key ("ref", split from a registry cell, -> the citation spec)."""
        if key == REF_KEY:
            return next((s for s in self.columns if s.parser == "citation"), None)
        for spec in self.columns:
            if spec.key == key:
                return spec
        return None

    def keys_with(self, *, parser: str | None = None, tagged: bool | None = None) -> tuple[str, ...]:
        return tuple(s.key for s in self.columns
                     if (parser is None or s.parser == parser) and (tagged is None or s.tagged == tagged))

    def match(self, label: str, group: str = "") -> ColumnSpec | None:
        return self.read(label, group).spec

    def read(self, label: str, group: str = "") -> ColumnMatch:
        """Map a printed label (and its group header) to a column spec: patterns on the label,
        then on group + label, then rapidfuzz on the entries' example labels."""
        text = normalise_label(label)
        printed = f"{group}: {label}" if group else label
        attempts = [(text, "label")]
        if group:
            attempts.append((normalise_label(f"{group} {label}"), "group+label"))
        for candidate, method in attempts:
            for spec in self.columns:
                if candidate and spec.matches(candidate):
                    return ColumnMatch(printed, spec, method)
        choices = {(i, j): ex for i, s in enumerate(self.columns) for j, ex in enumerate(s.examples)}
        for candidate, _method in attempts:
            if not candidate:
                continue
            best = process.extractOne(candidate, choices, scorer=fuzz.ratio, score_cutoff=self.fuzzy_cutoff)
            if best is not None:
                spec = self.columns[best[2][0]]
                if spec.exclude is None or not spec.exclude.search(candidate):
                    return ColumnMatch(printed, spec, "fuzzy", round(best[1], 1))
        return ColumnMatch(printed, None, "unmapped")


def normalise_label(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", label.lower()).strip()


def split_label(label: str) -> tuple[str, str]:
    """"Outcomes: ORR%" -> ("Outcomes", "ORR%") (tables write a group header in front of its label)."""
    group, sep, name = label.rpartition(": ")
    return (group, name) if sep else ("", label)


def slugify(label: str) -> str:
    """Column name for a label outside the vocabulary: "Yes (%)" -> "yes"."""
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    return slug or "column"


def map_columns(labels: list[str]) -> list[tuple[str, ColumnMatch]]:
    """Output key and match per printed label ("group: label"), each column on its own.

    A label the vocabulary does not know gets a slug of its text (its values become the
    trial's extras); a second column mapping to a key already taken keeps a slug as well.
    """
    vocab = load_vocabulary()
    out: list[tuple[str, ColumnMatch]] = []
    seen: set[str] = set()
    for label in labels:
        group, name = split_label(label or "")
        found = vocab.read(name, group) if label else ColumnMatch("", None, "unmapped")
        if found.spec is not None and found.spec.key not in seen:
            key = found.spec.key
        else:
            key = slugify(name or "column")
            if found.spec is not None:
                found = ColumnMatch(found.label, None, "unmapped")
        base, n = key, 2
        while key in seen or (found.spec is None and vocab.by_key(key) is not None):
            key, n = f"{base}_{n}", n + 1
        seen.add(key)
        out.append((key, found))
    return out


def column_mapping(labels: list[str], keys: list[str]) -> list[dict]:
    """The per-document mapping table: printed label -> column key -> trial fields (or unmapped)."""
    vocab = load_vocabulary()
    printed = [k for k in keys if k != REF_KEY]
    rows = []
    for label, (key, found) in zip(labels, map_columns(labels)):
        spec = vocab.by_key(key) if key in printed else None
        rows.append({"label": label, "key": key, "fields": list(spec.fields) if spec else [],
                     "parser": spec.parser if spec else None,
                     "method": found.method, "score": found.score})
    return rows


@lru_cache(maxsize=1)
def load_vocabulary() -> ColumnVocabulary:
    raw = json.loads(resources.files("pipeline.tables").joinpath("column_vocabulary.json").read_text("utf-8"))
    specs = tuple(ColumnSpec(
        key=c["key"], patterns=tuple(re.compile(p) for p in c["labels"]), fields=tuple(c.get("fields", ())),
        parser=c.get("parser", "text"), unit=c.get("unit"), tagged=bool(c.get("tagged")),
        multi_item=bool(c.get("multi_item")), split=c.get("split"),
        exclude=re.compile(c["exclude"]) if c.get("exclude") else None,
        examples=tuple(c.get("examples", ())), primary_for=tuple(c.get("primary_for", ()))) for c in raw["columns"])
    return ColumnVocabulary(raw["version"], specs, float(raw.get("fuzzy_cutoff", 88)))
