"""Trial registry ids: the one pattern set of ``models/lexicons/registry_ids.json``.

Every part of the pipeline that finds, normalises or validates a registry id (the spaCy
matcher, table cells, reconcile, sanity checks, diffs, the schema) uses :class:`Registries`
built from that file, so a registry added there is recognised everywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REGISTRY_FILE = Path(__file__).resolve().parents[1] / "models" / "lexicons" / "registry_ids.json"


@dataclass(frozen=True, slots=True)
class Registry:
    name: str
    prefix: str
    finder: re.Pattern  # candidates in running text (case-insensitive, a space after the prefix tolerated)
    valid: re.Pattern  # strict full match of the normalised id
    prefix_re: re.Pattern | None  # the printed prefix (None for prefix-less formats such as EU CT numbers)


@dataclass(frozen=True, slots=True)
class IdHit:
    start: int
    end: int
    printed: str
    norm: str
    valid: bool
    registry: str


class Registries:
    """Find, normalise and validate registry ids with the patterns of registry_ids.json."""

    def __init__(self, entries: list[dict]):
        self.entries = list(entries)
        regs = []
        for reg in self.entries:
            finder = re.compile(r"(?<![A-Za-z0-9])(?:" + reg["pattern"] + r")(?![0-9])", re.I)
            prefix = re.compile(r"^\s*" + re.escape(reg["prefix"]), re.I) if reg["prefix"][0].isalpha() else None
            regs.append(Registry(reg["registry"], reg["prefix"], finder, re.compile(reg["valid"]), prefix))
        self.registries = tuple(regs)
        self.full_pattern = "^(?:" + "|".join(f"(?:{r['valid']})" for r in self.entries) + ")$"
        self._full = re.compile(self.full_pattern)

    @staticmethod
    def _norm(reg: Registry, surface: str) -> str:
        rest = surface.strip()
        if reg.prefix_re is not None:
            rest = reg.prefix_re.sub("", rest, count=1)
            rest = re.sub(r"^(?:\s+(?:No\.?|number))?\s*:?\s*", "", rest, flags=re.I)
        return (reg.prefix if reg.prefix_re is not None else "") + re.sub(r"\s+", "", rest).upper()

    def normalize(self, surface: str) -> tuple[str, bool]:
        """(normalised id, passes strict validation) for one candidate string."""
        for reg in self.registries:
            if reg.finder.fullmatch(surface.strip()):
                norm = self._norm(reg, surface)
                return norm, bool(reg.valid.fullmatch(norm))
        return surface.strip(), False

    def find(self, text: str) -> list[IdHit]:
        """Every id-like string in *text* (valid or not), in text order."""
        hits = []
        for reg in self.registries:
            for m in reg.finder.finditer(text):
                norm = self._norm(reg, m.group())
                hits.append(IdHit(m.start(), m.end(), m.group(), norm, bool(reg.valid.fullmatch(norm)), reg.name))
        hits.sort(key=lambda h: (h.start, -h.end))
        out: list[IdHit] = []
        for h in hits:  # overlapping candidates of two registries: the first, longest wins
            if not out or h.start >= out[-1].end:
                out.append(h)
        return out

    def valid_ids(self, text: str) -> list[str]:
        """Normalised valid ids in *text*, in order, without repeats."""
        return list(dict.fromkeys(h.norm for h in self.find(text) if h.valid))

    def is_valid(self, norm: str) -> bool:
        return bool(self._full.fullmatch(norm or ""))

    def looks_like_id(self, text: str) -> bool:
        """The text starts like a registry id (its prefix), valid or not: "NCT0100002" does."""
        text = text.strip()
        return any(reg.prefix_re is not None and reg.prefix_re.match(text) and re.match(r"^\S+$", text)
                   for reg in self.registries) or any(h.start == 0 for h in self.find(text))

    def registry_of(self, norm: str) -> str:
        for reg in self.registries:
            if reg.valid.fullmatch(norm):
                return reg.name
        return "other"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.name for r in self.registries))


def read_registry_entries(path: Path = REGISTRY_FILE) -> list[dict]:
    return json.loads(path.read_text("utf-8"))["registries"]


@lru_cache(maxsize=1)
def registries() -> Registries:
    """The project's registries (models/lexicons/registry_ids.json), loaded once."""
    return Registries(read_registry_entries())
