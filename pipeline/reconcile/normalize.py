"""Normalisers for the values printed in trial tables and narrative.

Every function takes the printed string and returns the normalised value (``None`` for "NA",
empty or unparseable text). They are pure and table-agnostic: the same rules apply to a value
whether it came from Table 1, Table 4 or a sentence.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.entities.lexicon import compact
from pipeline.reconcile import lexicon
from pipeline.registry_ids import registries

REGISTRY_RE = re.compile(
    r"(?<![A-Za-z0-9])(" + "|".join(f"(?:{r['pattern']})" for r in registries().entries) + r")(?![0-9])",
    re.IGNORECASE)
"""Registry id candidates in narrative text (models/lexicons/registry_ids.json; validate with
:func:`normalize_registry_id`)."""

VALUES_FILE = Path(__file__).resolve().parents[2] / "models" / "trial_schema" / "values.json"


@lru_cache(maxsize=1)
def cell_values() -> dict:
    """The cell vocabulary of models/trial_schema/values.json (descriptors, cell sources, marks)."""
    return json.loads(VALUES_FILE.read_text("utf-8"))


MISSING = {"", "na", "n/a", "nr", "nd", "-", "–", "—", "not available", "not reported"}


def unique(items) -> list:
    """Items in first-seen order, without repeats (items may be unhashable)."""
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def is_missing(raw: str | None) -> bool:
    return raw is None or raw.strip().casefold() in MISSING


def clean(raw: str | None) -> str:
    """NFKC, single spaces, trimmed."""
    if raw is None:
        return ""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", raw)).strip()


# --- registry ids ----------------------------------------------------------------------------

def normalize_registry_id(raw: str | None) -> str | None:
    """"nct03287804" -> "NCT03287804"; "chictr2100047061" -> "ChiCTR2100047061"; None unless valid."""
    text = clean(raw)
    if not text:
        return None
    norm, valid = registries().normalize(text)
    return norm if valid else None


def registry_name(registry_id: str) -> str:
    return registries().registry_of(registry_id)


# --- phase and study name --------------------------------------------------------------------

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_NUM = r"(?:iv|i{1,3}|[1-4])"
PHASE_RE = re.compile(
    rf"^\s*(?P<early>early\s+)?(?:phase\s*)?(?P<a>{_NUM})(?P<asub>[ab])?"
    rf"(?:\s*(?:/|-|–|and)\s*(?:phase\s*)?(?P<b>{_NUM})(?P<bsub>[ab])?)?(?![a-z0-9])\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
# Parenthesised words after the phase that are not a study name.
NOT_STUDY_NAMES = {"mm", "rrmm", "r/r mm"}

PHASES = ("Early Phase 1", "Phase 1", "Phase 1/2", "Phase 2", "Phase 2/3", "Phase 3", "Phase 4")


def phase_label(a: int, b: int | None = None, early: bool = False) -> str:
    """ClinicalTrials.gov phase vocabulary. "Early I" -> Early Phase 1; "Early II" -> Phase 2
    (the registry has no early phase 2); "Ia/Ib" -> Phase 1; "I/II" -> Phase 1/2."""
    if b is None or b == a:
        if early and a == 1:
            return "Early Phase 1"
        return f"Phase {a}"
    lo, hi = sorted((a, b))
    if hi - lo == 1 and lo in (1, 2):
        return f"Phase {lo}/{hi}"
    return f"Phase {lo}/{hi}"


def normalize_phase(raw: str | None) -> tuple[str | None, str | None]:
    """"I/II (EVOLVE)" -> ("Phase 1/2", "EVOLVE"); "I/II CARTITUDE-1" -> ("Phase 1/2", "CARTITUDE-1");
    "Early I" -> ("Early Phase 1", None); "III (KarMMa-3)" -> ("Phase 3", "KarMMa-3"); "NA" -> (None, None)."""
    text = clean(raw)
    if is_missing(text):
        return None, None
    m = PHASE_RE.match(text)
    if not m:
        return None, study_name_of(text)
    a = _ROMAN[m.group("a").lower()]
    b = _ROMAN[m.group("b").lower()] if m.group("b") else None
    return phase_label(a, b, early=bool(m.group("early"))), study_name_of(m.group("rest"))


def study_name_of(rest: str | None) -> str | None:
    text = clean(rest).strip("()[] ,;")
    text = clean(text)
    if not text or text.casefold() in NOT_STUDY_NAMES:
        return None
    return text


# --- status ----------------------------------------------------------------------------------

STATUSES = (
    "RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "ENROLLING_BY_INVITATION",
    "COMPLETED", "TERMINATED", "SUSPENDED", "WITHDRAWN", "UNKNOWN",
)
_STATUS_MAP = {
    "recruiting": "RECRUITING",
    "not yet recruiting": "NOT_YET_RECRUITING",
    "not recruiting": "ACTIVE_NOT_RECRUITING",
    "active not recruiting": "ACTIVE_NOT_RECRUITING",
    "active, not recruiting": "ACTIVE_NOT_RECRUITING",
    "enrolling by invitation": "ENROLLING_BY_INVITATION",
    "completed": "COMPLETED",
    "terminated": "TERMINATED",
    "suspended": "SUSPENDED",
    "withdrawn": "WITHDRAWN",
    "unknown": "UNKNOWN",
    "unknown status": "UNKNOWN",
}


def normalize_status(raw: str | None) -> str | None:
    """Printed status -> ClinicalTrials.gov overall-status code ("Not recruiting" -> ACTIVE_NOT_RECRUITING)."""
    text = clean(raw).casefold().replace("_", " ")
    if is_missing(text):
        return None
    text = re.sub(r"\s+", " ", text)
    if text in _STATUS_MAP:
        return _STATUS_MAP[text]
    return _STATUS_MAP.get(text.replace(",", ""))


# --- country ---------------------------------------------------------------------------------

_COUNTRIES = {
    "us": ("United States", "US"), "usa": ("United States", "US"), "u.s.": ("United States", "US"),
    "u.s.a.": ("United States", "US"), "united states": ("United States", "US"),
    "united states of america": ("United States", "US"),
    "china": ("China", "CN"), "prc": ("China", "CN"),
    "uk": ("United Kingdom", "GB"), "u.k.": ("United Kingdom", "GB"),
    "united kingdom": ("United Kingdom", "GB"), "england": ("United Kingdom", "GB"),
    "germany": ("Germany", "DE"), "italy": ("Italy", "IT"), "japan": ("Japan", "JP"),
    "france": ("France", "FR"), "spain": ("Spain", "ES"), "canada": ("Canada", "CA"),
    "australia": ("Australia", "AU"), "israel": ("Israel", "IL"), "korea": ("South Korea", "KR"),
    "south korea": ("South Korea", "KR"), "netherlands": ("Netherlands", "NL"),
    "belgium": ("Belgium", "BE"), "switzerland": ("Switzerland", "CH"), "sweden": ("Sweden", "SE"),
    "denmark": ("Denmark", "DK"), "taiwan": ("Taiwan", "TW"), "singapore": ("Singapore", "SG"),
    "iran": ("Iran", "IR"), "india": ("India", "IN"),
}
COUNTRY_WORD_RE = re.compile(
    r"\b(United States|USA|US|U\.S\.|China|United Kingdom|UK|Germany|Italy|Japan|France|Spain|"
    r"Canada|Australia|Israel|South Korea|Korea|Netherlands|Belgium|Switzerland|Sweden)\b")


def normalize_country(raw: str | None) -> tuple[str | None, str | None]:
    """"USA"/"US" -> ("United States", "US"); "UK" -> ("United Kingdom", "GB"); unknown -> (printed, None)."""
    text = clean(raw)
    if is_missing(text):
        return None, None
    return _COUNTRIES.get(text.casefold(), (text, None))


# --- numbers ---------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^[<>≤≥~≈]?\s*(\d+(?:\.\d+)?)\s*%?$")
NOT_REACHED_RE = re.compile(r"not\s+(?:yet\s+)?reached|\bNR\b|\bNYR\b", re.IGNORECASE)


def parse_number(raw: str | None) -> float | None:
    text = clean(raw).replace(",", ".") if raw is not None else ""
    if is_missing(text):
        return None
    m = _NUMBER_RE.match(text)
    return float(m.group(1)) if m else None


def parse_int(raw: str | None) -> int | None:
    value = parse_number(clean(raw).replace(",", "") if raw else raw)
    if value is None or value != int(value):
        return None
    return int(value)


def split_grade3(raw: str | None) -> tuple[float | None, float | None]:
    """Grade >= 3 "CRS/ICANS" cell: "2/4" -> (2.0, 4.0); "31/NA" -> (31.0, None); "NA" -> (None, None)."""
    text = clean(raw)
    if is_missing(text):
        return None, None
    parts = [p.strip() for p in text.split("/")]
    if len(parts) == 1:
        return parse_number(parts[0]), None
    if len(parts) != 2:
        return None, None
    return parse_number(parts[0]), parse_number(parts[1])


def parse_median(raw: str | None) -> tuple[float | None, bool | None]:
    """Median-time cell in months: "38" -> (38.0, False); "Not yet reached" -> (None, True); "NA" -> (None, None)."""
    text = clean(raw)
    if is_missing(text):
        return None, None
    if NOT_REACHED_RE.search(text):
        return None, True
    value = parse_number(text)
    return (value, False) if value is not None else (None, None)


def to_months(value: float | None, unit: str | None) -> float | None:
    if value is None:
        return None
    u = (unit or "months").casefold().strip()
    if u.startswith("week") or u in {"wk", "wks", "w"}:
        return round(value * 12 / 52.1775, 2)
    if u.startswith("day") or u == "d":
        return round(value * 12 / 365.25, 2)
    if u.startswith("year") or u in {"yr", "yrs", "y"}:
        return round(value * 12, 2)
    return value


# --- target / product cell --------------------------------------------------------------------

@dataclass(slots=True)
class TargetCell:
    targets: list[str] = field(default_factory=list)
    products: list[tuple[str, str]] = field(default_factory=list)  # (canonical, as printed)
    cell_source: str | None = None
    notes: list[str] = field(default_factory=list)
    incomplete: bool = False  # "BCMA, CD19, CD138, more"
    unknown_targets: list[str] = field(default_factory=list)


def canonical_target(name: str) -> str | None:
    """Canonical antigen name, or None when the lexicon does not know it."""
    return lexicon.canonical("target", clean(name))


def canonical_product(name: str) -> str:
    """Canonical product name (the printed name, tidied, when the lexicon does not know it)."""
    text = clean(name)
    return lexicon.canonical("product", text) or text


def known_product(name: str) -> bool:
    return lexicon.canonical("product", clean(name)) is not None


def canonical_agent(name: str) -> str:
    text = clean(name)
    return lexicon.canonical("drug", text) or text


def canonical_class(name: str) -> str:
    text = clean(name)
    found = lexicon.canonical("drug_class", text)
    if found:
        return found
    return text[:1].upper() + text[1:] if text else text


_TARGET_SPLIT_RE = re.compile(r"\s*(?:/|,|\+|\band/or\b|\band\b|\bor\b)\s*", re.IGNORECASE)


def parse_target_cell(raw: str | None) -> TargetCell:
    """"BCMA (Orvace; JCARH125)" -> targets [BCMA], products [orvacabtagene autoleucel x2];
    "BCMA/CD19 (Cocktail)" -> targets [BCMA, CD19], notes [Cocktail]; "BCMA (CAR-NK)" -> cell_source NK."""
    out = TargetCell()
    text = clean(raw)
    if is_missing(text):
        return out
    head, parens = _split_parens(text)
    for part in _TARGET_SPLIT_RE.split(head):
        part = part.strip(" .;")
        if not part:
            continue
        if part.casefold() == "more":
            out.incomplete = True
            continue
        target = canonical_target(part)
        if target is None:
            # "Kappa-light chain" style names with a hyphen the splitter keeps together
            out.unknown_targets.append(part)
            target = part
        _add(out.targets, target)
    for inner in parens:
        for item in re.split(r"\s*[;,]\s*|\s+/\s*|(?<=\w)/(?=[A-Z])", inner):
            item = item.strip()
            if not item:
                continue
            descriptor = cell_values()["product_descriptors"].get(compact(item))
            if descriptor is not None:
                kind, value = descriptor
                if kind == "product":
                    out.products.append((value, item))
                    continue
                if kind == "cell_source":
                    out.cell_source = value
                else:
                    _add(out.notes, value)
                if not known_product(item):
                    continue
            out.products.append((canonical_product(item), item))
    return out


def _split_parens(text: str) -> tuple[str, list[str]]:
    parens = re.findall(r"\(([^()]*)\)", text)
    head = re.sub(r"\([^()]*\)", " ", text)
    return clean(head), [clean(p) for p in parens if clean(p)]


def _add(items: list, value) -> None:
    if value not in items:
        items.append(value)


# --- strategies and cell source --------------------------------------------------------------

def strategy_items(raw: str | None) -> list[str]:
    """Table 1 "Strategy/Source": comma-separated items ("Transposon, Tscm, Cas-CLOVER, Allogeneic");
    "T-Charge TM" -> "T-Charge". A Table 2 strategy sentence is kept whole."""
    text = clean(raw)
    if is_missing(text):
        return []
    marks = "|".join(re.escape(m) if not m.isalpha() else rf"\b{m}\b" for m in cell_values()["trademark_marks"])
    text = re.sub(rf"\s*(?:{marks})", "", text)
    if len(text) > 60 or " " in text and "," not in text and len(text.split()) > 4:
        return [text]
    return [item.strip() for item in text.split(",") if item.strip()]


def cell_source_of(items: list[str]) -> str | None:
    """Cell source from strategy/source or cell-source items, only where they state it
    (rules in models/trial_schema/values.json)."""
    table = cell_values()["cell_source_items"]
    keys = {compact(i) for i in items}
    joined = " ".join(i.casefold() for i in items)
    present = {name for name, aliases in table["aliases"].items()
               if keys & set(aliases) or any(k.startswith(a) for k in keys for a in aliases if len(a) >= 4)}
    if "nk cell" in joined:
        present.add("nk")
    for rule in table["rules"]:
        if all(name in present for name in rule["all"]):
            return rule["source"]
    return None


CELL_SOURCES = ("autologous", "allogeneic", "NK", "allogeneic NK", "cord blood NK", "NK-92 cell line",
                "iPSC-derived NK", "iPSC-derived")

# Table 2 strategies that name a combination agent: "Immune checkpoint inhibitor (Pembrolizumab)".
def strategy_combination(strategy: str) -> tuple[str, str] | None:
    m = re.match(r"^(?P<cls>.+?)\s*\((?P<agent>[^()]+)\)\s*$", clean(strategy))
    if not m:
        return None
    agent = lexicon.canonical("drug", m.group("agent"))
    if agent is None:
        return None
    return agent, canonical_class(m.group("cls"))


# --- mechanism / regimen pairing (Tables 3 and 4) ---------------------------------------------

# Table 3 stacks the CAR's binding domain into its mechanism/regimen cells (compact keys).
BINDING_ORIGINS = {"human": "human", "humanized": "humanized", "humanised": "humanized",
                   "nanobody": "nanobody", "peptide": "peptide", "murine": "murine"}
BINDING_FORMATS = {"scfv": "scFv", "vh": "VH", "vhh": "VHH"}

@dataclass(slots=True)
class Pairing:
    combination: list[tuple[str | None, str | None]] = field(default_factory=list)  # (agent, class)
    binding_origin: str | None = None
    binding_format: str | None = None
    method: str = "line"  # "line" (counts equal) or "aligned" (counts differ)


def pair_items(mechanisms: list[str], regimens: list[str]) -> Pairing:
    """Pair a Table 3/4 row's stacked mechanism and regimen items.

    Binding-domain items (Human/Humanized/Nanobody/Peptide with scFv/VH/VHH) are taken out
    first. With equal counts the remaining items pair by printed line. With unequal counts
    (4 rows of Table 4) they are aligned in order using the agents' known classes, and any item
    left over keeps a null partner (nothing is guessed).
    """
    out = Pairing()
    mech = [clean(m) for m in mechanisms if clean(m)]
    regs = [clean(r) for r in regimens if clean(r)]
    origins = [m for m in mech if compact(m) in BINDING_ORIGINS]
    formats = [r for r in regs if compact(r) in BINDING_FORMATS]
    if origins:
        out.binding_origin = BINDING_ORIGINS[compact(origins[0])]
    if formats:
        out.binding_format = BINDING_FORMATS[compact(formats[0])]
    mech = [m for m in mech if compact(m) not in BINDING_ORIGINS]
    regs = [r for r in regs if compact(r) not in BINDING_FORMATS]
    classes = [canonical_class(m) for m in mech]
    agents = [canonical_agent(r) for r in regs]
    if len(classes) == len(agents):
        out.combination = list(zip(agents, classes))
        return out
    out.method = "aligned"
    out.combination = _align(agents, classes)
    return out


def _align(agents: list[str], classes: list[str]) -> list[tuple[str | None, str | None]]:
    """Order-preserving alignment maximising class agreement; unmatched items get None."""
    n, m = len(agents), len(classes)

    def score(i: int, j: int) -> int | None:
        known = lexicon.agent_class(agents[i])
        if known is None:
            return 1
        return 2 if known == classes[j] else None

    best = [[0] * (m + 1) for _ in range(n + 1)]
    move = [[""] * (m + 1) for _ in range(n + 1)]
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            if i == n and j == m:
                continue
            options = []
            if i < n and j < m and score(i, j) is not None:
                options.append((best[i + 1][j + 1] + score(i, j), "pair"))
            if i < n:
                options.append((best[i + 1][j], "skip_agent"))
            if j < m:
                options.append((best[i][j + 1], "skip_class"))
            best[i][j], move[i][j] = max(options, key=lambda o: o[0])  # first max wins ties
    out: list[tuple[str | None, str | None]] = []
    i = j = 0
    while i < n or j < m:
        step = move[i][j]
        if step == "pair":
            out.append((agents[i], classes[j]))
            i, j = i + 1, j + 1
        elif step == "skip_agent":
            out.append((agents[i], None))
            i += 1
        else:
            out.append((None, classes[j]))
            j += 1
    return out
