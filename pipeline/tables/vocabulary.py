"""Map printed column labels to output column keys (configuration in column_vocabulary.json)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    key: str
    pattern: re.Pattern
    split: str | None = None


@dataclass(frozen=True, slots=True)
class ColumnVocabulary:
    columns: tuple[ColumnSpec, ...]
    multi_item: frozenset[str]

    def match(self, label: str) -> ColumnSpec | None:
        text = normalise_label(label)
        for spec in self.columns:
            if spec.pattern.search(text):
                return spec
        return None


def normalise_label(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", label.lower()).strip()


def slugify(label: str) -> str:
    """Column name for a label outside the vocabulary: "Yes (%)" -> "yes"."""
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")
    return slug or "column"


@lru_cache(maxsize=1)
def load_vocabulary() -> ColumnVocabulary:
    raw = json.loads(resources.files("pipeline.tables").joinpath("column_vocabulary.json").read_text("utf-8"))
    specs = tuple(ColumnSpec(c["key"], re.compile(c["pattern"]), c.get("split")) for c in raw["columns"])
    return ColumnVocabulary(specs, frozenset(raw.get("multi_item", [])))
