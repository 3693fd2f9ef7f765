"""What the printed tables say about trials: products, targets and study names per registry id."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.records import Table

# Columns whose cells are tagged with entities (besides the registry-id column).
TAG_COLUMNS = ("target_car_t", "strategy", "strategy_source", "mechanism", "regimen")
ID_COLUMNS = ("nct",)
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

    def add_row(self, nct: str, products: list[str], phase_study: str) -> None:
        for p in products:
            self.product_trials[p].add(nct)
            self.trial_products[nct].add(p)
        for name in study_names(phase_study):
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


def table_rows(tables: list[Table]):
    """(table, row, nct or "", cells) for every row; nct from the id column."""
    for t in tables:
        for r in t.rows:
            nct_cell = r.cells.get("nct")
            yield t, r, (nct_cell.text.strip() if nct_cell else "")
