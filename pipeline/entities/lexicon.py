"""Curated lexicons (``models/lexicons/*.json``) and the name normaliser.

Every alias is indexed by a *compact key*: lower case, Unicode-normalised, with spaces, hyphens
and dashes removed. Comparing compact keys makes matching insensitive to the layout artefacts of
PDF text ("Mafo-dotin", "UCA RTCS1A", "Orva-cel" / "orva cel") without any guessing.

Typos ("Fludaurine", "NIK2D", "MCRH171") are handled by :meth:`Lexicon.fuzzy`, which uses
rapidfuzz's normalised InDel similarity on compact keys behind guards that keep it from
"correcting" a word into an unrelated name: a stop list, a minimum length, the same first
character, a bounded length ratio, identical digit sequences, a high score threshold and a margin
over the best competing name.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from pipeline import MODELS_DIR

LEXICON_DIR = MODELS_DIR / "lexicons"
LEXICON_FILES = {
    "TARGET": "targets.json",
    "PRODUCT": "products.json",
    "DRUG": "drugs.json",
    "DRUG_CLASS": "drug_classes.json",
}
# When two entries share a compact key, the more specific type wins.
TYPE_PRIORITY = {"PRODUCT": 0, "DRUG": 1, "DRUG_CLASS": 2, "TARGET": 3}

_REMOVE = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212_]+")
_DIGITS = re.compile(r"\d+")


def compact(text: str) -> str:
    """Lower-case, NFKC-normalised text without spaces, hyphens and dashes."""
    return _REMOVE.sub("", unicodedata.normalize("NFKC", text)).lower()


def compact_cased(text: str) -> str:
    """Like :func:`compact` but keeping the case (for case-sensitive aliases)."""
    return _REMOVE.sub("", unicodedata.normalize("NFKC", text))


def digit_signature(text: str) -> tuple[str, ...]:
    return tuple(_DIGITS.findall(text))


@dataclass(frozen=True, slots=True)
class LexEntry:
    type: str
    norm: str
    aliases: tuple[str, ...]
    case_sensitive: frozenset[str] = frozenset()
    fuzzy: bool = True
    attrs: tuple[tuple[str, object], ...] = ()

    def attr(self, name: str, default=None):
        return dict(self.attrs).get(name, default)


@dataclass(frozen=True, slots=True)
class Match:
    type: str
    norm: str
    alias: str  # the lexicon form that matched
    score: float  # 0-100: similarity of the surface form to that alias
    method: str  # "exact", "compact" (layout-tolerant exact) or "fuzzy"


@dataclass(slots=True)
class Lexicon:
    """All curated entries, indexed by compact key, plus the fuzzy-matching settings."""

    entries: list[LexEntry]
    never_fuzzy: frozenset[str] = frozenset()
    english_suffixes: tuple[str, ...] = ()
    threshold: float = 85.0
    threshold_lowercase: float = 90.0
    threshold_with_digits: float = 80.0
    min_length: int = 5
    min_length_ratio: float = 0.75
    margin: float = 3.0
    index: dict[str, list[tuple[LexEntry, str]]] = field(default_factory=dict)
    _fuzzy_keys: list[str] = field(default_factory=list)
    _fuzzy_targets: list[list[tuple[LexEntry, str]]] = field(default_factory=list)
    _cache: dict[str, Match | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {}
        for entry in self.entries:
            for alias in (entry.norm, *entry.aliases):
                key = compact(alias)
                if not key:
                    continue
                bucket = self.index.setdefault(key, [])
                if (entry, alias) not in bucket:
                    bucket.append((entry, alias))
        for bucket in self.index.values():
            bucket.sort(key=lambda item: TYPE_PRIORITY.get(item[0].type, 9))
        fuzzy_index: dict[str, list[tuple[LexEntry, str]]] = {}
        for key, bucket in self.index.items():
            usable = [(e, a) for e, a in bucket if e.fuzzy and a not in e.case_sensitive]
            if usable and len(key) >= self.min_length - 1:
                fuzzy_index[key] = usable
        self._fuzzy_keys = list(fuzzy_index)
        self._fuzzy_targets = [fuzzy_index[k] for k in self._fuzzy_keys]
        self._cache = {}

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def from_data(cls, data: dict, **settings) -> "Lexicon":
        """Build from the serialisable form written by :meth:`to_data`."""
        entries = [
            LexEntry(
                type=e["type"], norm=e["norm"], aliases=tuple(e.get("aliases", ())),
                case_sensitive=frozenset(e.get("case_sensitive", ())), fuzzy=e.get("fuzzy", True),
                attrs=tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in e.items()
                                   if k not in {"type", "norm", "aliases", "case_sensitive", "fuzzy"})),
            )
            for e in data["entries"]
        ]
        return cls(entries=entries, never_fuzzy=frozenset(w.lower() for w in data.get("never_fuzzy", ())),
                   english_suffixes=tuple(data.get("english_suffixes", ())), **settings)

    def to_data(self) -> dict:
        out = []
        for e in self.entries:
            item = {"type": e.type, "norm": e.norm, "aliases": list(e.aliases)}
            if e.case_sensitive:
                item["case_sensitive"] = sorted(e.case_sensitive)
            if not e.fuzzy:
                item["fuzzy"] = False
            for k, v in e.attrs:
                item[k] = list(v) if isinstance(v, tuple) else v
            out.append(item)
        return {"entries": out, "never_fuzzy": sorted(self.never_fuzzy),
                "english_suffixes": list(self.english_suffixes)}

    # -- lookups ---------------------------------------------------------------------------
    def exact(self, surface: str, types: frozenset[str] | None = None) -> Match | None:
        """Layout-tolerant exact lookup of a surface form (compact keys must be equal)."""
        bucket = self.index.get(compact(surface))
        if not bucket:
            return None
        cased = compact_cased(surface)
        lowered = surface.lower()
        best: tuple[float, LexEntry, str] | None = None
        for entry, alias in bucket:  # sorted by type priority
            if types is not None and entry.type not in types:
                continue
            if alias in entry.case_sensitive and cased != compact_cased(alias):
                continue
            if best is not None and entry is not best[1]:
                break  # a lower-priority entry: the first admissible entry wins
            score = 100.0 if lowered == alias.lower() else round(fuzz.ratio(lowered, alias.lower()), 1)
            if best is None or score > best[0]:
                best = (score, entry, alias)
        if best is None:
            return None
        score, entry, alias = best
        return Match(entry.type, entry.norm, alias, score, "exact" if score == 100.0 else "compact")

    def fuzzy(self, surface: str) -> Match | None:
        """Typo-tolerant lookup with guards; None when no name is close *and* safe enough."""
        key = compact(surface)
        if key in self._cache:
            return self._cache[key]
        result = self._fuzzy(surface, key)
        self._cache[key] = result
        return result

    def _fuzzy(self, surface: str, key: str) -> Match | None:
        if (len(key) < self.min_length or key in self.never_fuzzy or surface.lower() in self.never_fuzzy
                or not any(c.isalpha() for c in key)):
            return None
        digits = digit_signature(key)
        cutoff = self.threshold_with_digits if digits else self.threshold
        plain_word = surface.isalpha() and surface.islower()
        if plain_word:  # lower-case words are English first: stricter, and no derivations
            cutoff = max(cutoff, self.threshold_lowercase)
        candidates = process.extract(key, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=8)
        best: tuple[float, LexEntry, str] | None = None
        rival = 0.0
        for cand_key, score, idx in candidates:
            if cand_key[0] != key[0] or digit_signature(cand_key) != digits:
                continue
            ratio = min(len(key), len(cand_key)) / max(len(key), len(cand_key))
            if ratio < self.min_length_ratio:
                continue
            entry, alias = self._fuzzy_targets[idx][0]
            if plain_word and any(key.endswith(sfx) and not cand_key.endswith(sfx) for sfx in self.english_suffixes):
                continue
            if best is None:
                best = (score, entry, alias)
            elif entry.norm != best[1].norm:
                rival = max(rival, score)
        if best is None or best[0] - rival < self.margin:
            return None
        score, entry, alias = best
        return Match(entry.type, entry.norm, alias, round(score, 1), "fuzzy")

    def normalize(self, surface: str) -> Match | None:
        """Exact (layout-tolerant) lookup first, then guarded fuzzy lookup."""
        return self.exact(surface) or self.fuzzy(surface)

    def entry(self, type_: str, norm: str) -> LexEntry | None:
        for e in self.entries:
            if e.type == type_ and e.norm == norm:
                return e
        return None


def read_lexicon_files(directory: Path = LEXICON_DIR) -> dict:
    """Read the curated JSON files into the serialisable form used by :class:`Lexicon`."""
    entries: list[dict] = []
    versions: dict[str, str] = {}
    for type_, name in LEXICON_FILES.items():
        data = json.loads((directory / name).read_text(encoding="utf-8"))
        versions[name] = data.get("version", "")
        for e in data["entries"]:
            item = dict(e)
            item["type"] = type_
            entries.append(item)
    stop = json.loads((directory / "stoplist.json").read_text(encoding="utf-8"))
    versions["stoplist.json"] = stop.get("version", "")
    return {"entries": entries, "never_fuzzy": stop.get("never_fuzzy", []),
            "english_suffixes": stop.get("english_suffixes", []),
            "drug_dictionary_exclude": stop.get("drug_dictionary_exclude", []), "versions": versions}


def load_lexicon(directory: Path = LEXICON_DIR, **settings) -> Lexicon:
    return Lexicon.from_data(read_lexicon_files(directory), **settings)
