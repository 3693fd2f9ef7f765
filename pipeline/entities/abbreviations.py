"""Document-level abbreviation dictionary.

Three sources, all kept with their provenance:

* the Abbreviations section (blocks of type ``abbreviation``, text ``"TERM\\texpansion"``);
* the tables' footnotes ("B-cell maturation antigen (BCMA), Cluster of differentiation (CD), ...");
* definitions in the narrative found by scispaCy's ``AbbreviationDetector`` (Schwartz & Hearst).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.records import Table, TextBlock


@dataclass(frozen=True, slots=True)
class Abbreviation:
    short: str
    long: str
    source: str  # "abbreviations:<block id>", "table:<N>:footnote", "text:<block id>"
    page: int


def from_abbreviation_blocks(blocks: list[TextBlock]) -> list[Abbreviation]:
    out = []
    for b in blocks:
        if b.type != "abbreviation" or "\t" not in b.text:
            continue
        short, long = (part.strip() for part in b.text.split("\t", 1))
        if short and long:
            out.append(Abbreviation(short, long, f"abbreviations:{b.id}", b.page))
    return out


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    items, depth, current = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return [i.strip() for i in items if i.strip()]


_DEFINITION = re.compile(r"^(?P<long>.+?)\s*\((?P<short>[^()]+)\)(?P<rest>(?:\s+[A-Za-z-]+)?)\s*\.?$")


def parse_footnote(footnote: str) -> list[tuple[str, str]]:
    """("short", "long") pairs of a footnote written as "Long form (SHORT), ..., and Long (SHORT)"."""
    pairs = []
    for item in _split_top_level(footnote):
        item = re.sub(r"^and\s+", "", item)
        m = _DEFINITION.match(item)
        if not m:
            continue
        long = (m.group("long") + m.group("rest")).strip()
        short = m.group("short").strip()
        if short and long and len(short) < len(long):
            pairs.append((short, long))
    return pairs


def from_table_footnotes(tables: list[Table]) -> list[Abbreviation]:
    out = []
    for t in tables:
        page = t.pages[-1] if t.pages else 0
        for short, long in parse_footnote(t.footnote or ""):
            out.append(Abbreviation(short, long, f"table:{t.number}:footnote", page))
    return out


def dictionary(entries: list[Abbreviation]) -> dict[str, list[Abbreviation]]:
    """short form -> its definitions (one per distinct long form, first source kept)."""
    out: dict[str, list[Abbreviation]] = {}
    for e in entries:
        defs = out.setdefault(e.short, [])
        if all(d.long.lower() != e.long.lower() for d in defs):
            defs.append(e)
    return out
