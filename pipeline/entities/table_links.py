"""What the printed tables say about trials: products, targets and study names per registry id."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.records import Table
from pipeline.tables.vocabulary import load_vocabulary


def tagged_column(key: str) -> bool:
    """Cells of this column are entity-tagged: the vocabulary says so, or the column is one it
    does not know (an unmapped column may name products, targets or registry ids)."""
    spec = load_vocabulary().by_key(key)
    return spec is None or spec.tagged


def names_products(key: str) -> bool:
    """The column's cells name the trial's products (a product or target/product column)."""
    spec = load_vocabulary().by_key(key)
    return spec is None or "products" in spec.fields


def study_names_of_cell(key: str, text: str) -> list[str]:
    """Study names a cell prints: a phase column's "III (KarMMa-3)", a study column's "KarMMa-3"."""
    spec = load_vocabulary().by_key(key)
    if spec is None or not text.strip():
        return []
    if spec.parser == "phase":
        return study_names(text)
    if spec.parser == "study_name":
        name = re.sub(r"\([^()]*\)|\[[^\]]*\]", " ", text).strip()
        return [" ".join(name.split())] if len(name) >= 4 and any(c.isalpha() for c in name) else []
    return []
_PHASE = re.compile(r"^\s*(?:early\s+)?(?:phase\s+)?(?:NA|I{1,3}[ab]?|IV)(?:\s*/\s*(?:I{1,3}[ab]?|IV))?\b\s*", re.I)


def study_names(phase_study: str) -> list[str]:
    """Study names printed next to the phase: "III (KarMMa-3)" -> ["KarMMa-3"], "I/II CARTITUDE-1" too."""
    text = phase_study.strip()
    names = re.findall(r"\(([^()]+)\)", text)
    if not names:
        rest = _PHASE.sub("", text, count=1).strip()
        if rest and rest != text.strip():
            names = [rest]
    out = []
    for name in names:
        name = name.strip()
        # a cohort note such as "(MM)" is not a study name
        if len(name) >= 4 and any(c.isalpha() for c in name) and not _PHASE.fullmatch(name):
            out.append(name)
    return out


@dataclass(slots=True)
class TableLinks:
    product_trials: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    trial_products: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    study_trials: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _study_re: re.Pattern | None = None

    def add_row(self, nct: str, products: list[str], studies: list[str]) -> None:
        for p in products:
            self.product_trials[p].add(nct)
            self.trial_products[nct].add(p)
        for name in studies:
            self.study_trials[name].add(nct)
        self._study_re = None

    def study_regex(self) -> re.Pattern | None:
        if self._study_re is None and self.study_trials:
            names = sorted(self.study_trials, key=len, reverse=True)
            self._study_re = re.compile(
                r"(?<![\w-])(" + "|".join(r"\s+".join(map(re.escape, n.split())) for n in names) + r")(?![\w-])")
        return self._study_re

    def studies_in(self, text: str) -> list[tuple[int, int, str]]:
        rx = self.study_regex()
        return [(m.start(), m.end(), m.group(1)) for m in rx.finditer(text)] if rx else []

    def trials_of_study(self, name: str) -> set[str]:
        key = " ".join(name.split())
        return self.study_trials.get(key, set())
