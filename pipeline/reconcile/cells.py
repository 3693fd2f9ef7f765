"""Cell parsers: one printed table cell -> trial field values (value + unit + CI).

The column vocabulary (``pipeline/tables/column_vocabulary.json``) names a parser per column
role; :func:`parse_cell` runs it. Every parser is pure and table-agnostic. A parser returns
:class:`CellValue` items (field, normalised value, extra such as a CI); ``None`` as value means
the cell prints "NA"/"NR"/"—" (no value). A cell a parser cannot read returns ``[]`` and the
caller keeps it as an extra (nothing printed is dropped).

Forms understood: "73", "73%", "73 (65–81)" (value and 95% CI), "45/62 (73%)", "45/62",
"≥3: 5%", "2/4" (a pair under "CRS/ICANS"), "85/9" or "85 (9)" (any grade / grade ≥3),
"8.6", "8.6 mo", "12 wk", "NR" / "not reached" (a median not reached), "NE", "NA", "—".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.entities.lexicon import compact
from pipeline.reconcile import lexicon
from pipeline.reconcile import normalize as nz
from pipeline.registry_ids import registries

NOT_REACHED = ("not reached",)
_NUM = r"\d+(?:[.,·]\d+)?"
# "(65–81)", "(95% CI 3.3–15.0)", "(14.9–NE)": an upper bound not estimable stays None
_CI_RE = re.compile(rf"[(\[]\s*(?:95\s*%\s*CI[:,]?\s*)?({_NUM})\s*(?:-|–|—|to|,)\s*({_NUM}|NE|NR|NA)\s*[)\]]", re.I)
_FRACTION_RE = re.compile(rf"^(\d+)\s*/\s*(\d+)\b")
_PERCENT_IN_RE = re.compile(rf"({_NUM})\s*%")
_LEADING_RE = re.compile(rf"^(?:(?:grade\s*|gr\s*|g)?[≥>]?=?\s*3\s*:|[<>≤≥~≈])?\s*({_NUM})", re.I)
_NOT_ESTIMABLE = {"ne", "nest", "not estimable", "not evaluable", "nyr"}
_TIME_UNITS = (("week", r"\b(?:weeks?|wks?|w)\b"), ("day", r"\b(?:days?|d)\b"), ("year", r"\b(?:years?|yrs?|y)\b"),
               ("month", r"\b(?:months?|mos?|m)\b"))


@dataclass(slots=True)
class CellValue:
    field: str
    value: Any
    extra: dict[str, Any] = field(default_factory=dict)
    derived: bool = False  # implied (a product's known targets), not printed: a printed value wins


@dataclass(slots=True)
class ParsedCell:
    values: list[CellValue] = field(default_factory=list)
    products: list[tuple[str, str]] = field(default_factory=list)  # (canonical, printed)
    notes: list[str] = field(default_factory=list)
    strategies: list[str] = field(default_factory=list)
    combination: list[tuple[str | None, str | None]] = field(default_factory=list)
    citations: list[int] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    registry_ids: list[str] = field(default_factory=list)
    incomplete: bool = False
    unread: bool = False  # printed, but the parser could not read it: kept as an extra

    def add(self, field_name: str, value, **extra) -> None:
        self.values.append(CellValue(field_name, value, {k: v for k, v in extra.items() if v is not None}))


def number(text: str) -> float | None:
    text = text.replace(",", ".").replace("·", ".")
    try:
        return float(text)
    except ValueError:
        return None


def is_missing(text: str) -> bool:
    return nz.is_missing(text) or nz.clean(text).casefold() in _NOT_ESTIMABLE


def _ci(text: str) -> tuple[float | None, float | None]:
    m = _CI_RE.search(text)
    if not m:
        return None, None
    return number(m.group(1)), number(m.group(2))


def read_percent(text: str) -> tuple[float | None, dict]:
    """"73" / "73%" / "73 (65–81)" / "45/62 (73%)" / "45/62" / "≥3: 5%" -> (73.0, {ci_low, ci_high, n, of})."""
    t = nz.clean(text)
    extra: dict = {}
    frac = _FRACTION_RE.match(t)
    if frac:
        n, of = int(frac.group(1)), int(frac.group(2))
        extra.update(n=n, of=of)
        printed = _PERCENT_IN_RE.search(t[frac.end():])
        if printed:
            return number(printed.group(1)), extra
        return (round(100 * n / of, 1) if of else None), extra
    t = re.sub(r"^(?:any\s*(?:grade)?\s*:?)", "", t, flags=re.I).strip()  # "Any: 85"
    m = _LEADING_RE.match(t)
    if not m:
        return None, extra
    rest = t[m.end():]
    low, high = _ci(rest)
    extra.update(ci_low=low, ci_high=high)
    if low is None and re.search(r"[A-Za-z]{3,}", rest):
        return None, extra  # words after the number: not a plain percentage
    return number(m.group(1)), extra


def time_unit(text: str, default: str | None) -> str | None:
    low = text.casefold()
    for unit, pattern in _TIME_UNITS:
        if re.search(pattern, low):
            return unit
    return default


def read_median(text: str, unit: str | None) -> tuple[Any, dict] | None:
    """Median time in months: ("months", 8.6) with CI, NOT_REACHED, or None (missing / unreadable)."""
    t = nz.clean(text)
    if nz.NOT_REACHED_RE.search(t):
        low, high = _ci(t)
        return NOT_REACHED, {"ci_low": low, "ci_high": high}
    m = _LEADING_RE.match(t)
    if not m:
        return None
    rest = t[m.end():]
    unit = time_unit(re.sub(r"\(.*", "", rest), unit) or "month"
    value = nz.to_months(number(m.group(1)), unit)
    low, high = _ci(rest)
    return ("months", value), {"ci_low": nz.to_months(low, unit), "ci_high": nz.to_months(high, unit),
                               "unit_printed": unit}


# --- parsers -----------------------------------------------------------------------------------
# Each takes (ParsedCell, cell text, fields of the column spec, unit of the column) and fills it.

def _text(out: ParsedCell, text: str, fields, unit) -> None:
    out.add(fields[0], nz.clean(text))


def _int(out: ParsedCell, text: str, fields, unit) -> None:
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", nz.clean(text))  # thousands separator: "1,026"
    m = re.match(r"^[~≈]?\s*(\d+)\s*(?:$|\(|;|patients|pts)", t)
    if not m:
        out.unread = True
        return
    out.add(fields[0], int(m.group(1)))


def _median_count(out: ParsedCell, text: str, fields, unit) -> None:
    m = re.match(rf"^[~≈]?\s*({_NUM})\s*(?:$|\()", nz.clean(text))
    if not m:
        out.unread = True
        return
    out.add(fields[0], number(m.group(1)))


def _percent(out: ParsedCell, text: str, fields, unit) -> None:
    value, extra = read_percent(text)
    if value is None or value > 100:  # over 100 %: a misprint the sanity check flags; kept as an extra
        out.unread = True
        return
    out.add(fields[0], value, **extra)


def _pair(text: str) -> tuple[str, str] | None:
    t = nz.clean(text)
    m = re.match(r"^(?:any\s*(?:grade)?\s*:?\s*)?(.+?)\s*(?:;\s*(?:grade\s*)?≥?\s*3\s*:|/)\s*(.+)$", t, re.I)
    if m:
        return m.group(1), m.group(2)
    m = re.match(rf"^({_NUM}\s*%?)\s*\(\s*({_NUM}\s*%?)\s*\)$", t)  # "85 (9)": any grade (grade >= 3)
    if m:
        return m.group(1), m.group(2)
    return None


def _percent_pair(out: ParsedCell, text: str, fields, unit) -> None:
    """"2/4" -> (2, 4); "31/NA" -> (31, None); a single number -> the first field only."""
    pair = _pair(text)
    parts = pair if pair else (text,)
    for name, part in zip(fields, parts):
        if is_missing(part):
            out.add(name, None)
            continue
        value, extra = read_percent(part)
        if value is None or value > 100:
            out.unread = True
            continue
        out.add(name, value, **{k: v for k, v in extra.items() if k in ("ci_low", "ci_high")})


def _ratio(out: ParsedCell, text: str, fields, unit) -> None:
    m = re.match(rf"^({_NUM})", nz.clean(text))
    if not m:
        out.unread = True
        return
    low, high = _ci(nz.clean(text)[m.end():])
    p = re.search(r"\bp\s*([<=>≤]\s*[\d.]+)", text, re.I)
    out.add(fields[0], number(m.group(1)), ci_low=low, ci_high=high, p_value=p.group(1).replace(" ", "") if p else None)


def _median_time(out: ParsedCell, text: str, fields, unit) -> None:
    read = read_median(text, unit)
    if read is None:
        out.unread = True
        return
    value, extra = read
    out.add(fields[0], value, **extra)


def _duration(out: ParsedCell, text: str, fields, unit) -> None:
    """A duration in months ("8.5 mo", "4 weeks", "12"): follow-up."""
    read = read_median(text, unit)
    if read is None or read[0] == NOT_REACHED:
        out.unread = True
        return
    (_, months), extra = read
    out.add(fields[0], months, **{k: v for k, v in extra.items() if k == "unit_printed"})


def _phase(out: ParsedCell, text: str, fields, unit) -> None:
    phase, study = nz.normalize_phase(text)
    if phase is None and study is None:
        out.unread = True
        return
    out.add("phase", phase)
    if study:
        out.add("study_name", study)


def _study_name(out: ParsedCell, text: str, fields, unit) -> None:
    ids = _registry_ids(text)
    out.registry_ids.extend(ids)
    rest = nz.REGISTRY_RE.sub(" ", text)
    rest = re.sub(r"\[[^\]]*\]|\(\s*\)", " ", rest)
    name = nz.study_name_of(rest)
    if name:
        out.add("study_name", name)


def _status(out: ParsedCell, text: str, fields, unit) -> None:
    status = nz.normalize_status(text)
    if status is None:
        out.unread = True
        return
    out.add("status", status)


def _country(out: ParsedCell, text: str, fields, unit) -> None:
    name, _code = nz.normalize_country(text)
    out.add("country", name)


def _registry_ids(text: str) -> list[str]:
    return [rid for rid in (nz.normalize_registry_id(m.group(1)) for m in nz.REGISTRY_RE.finditer(text)) if rid]


def _registry_id(out: ParsedCell, text: str, fields, unit) -> None:
    ids = _registry_ids(text)
    out.registry_ids.extend(ids)
    rest = nz.REGISTRY_RE.sub(" ", text)
    refs = re.findall(r"\[([^\]]*)\]", rest)
    for ref in refs:
        out.citations.extend(int(n) for n in re.findall(r"\d+", ref))
    rest = re.sub(r"\[[^\]]*\]", " ", rest).strip(" ,;/")
    name = nz.study_name_of(rest)
    if name and re.search(r"[A-Za-z]{2}", name) and not registries().looks_like_id(name):
        out.add("study_name", name)  # "KarMMa (NCT03361748)", or a study printed without its id
    elif not ids:
        out.unread = True


def _citation(out: ParsedCell, text: str, fields, unit) -> None:
    numbers = re.findall(r"\d+", text)
    if numbers and re.fullmatch(r"[\[\]\d,;–\- ]+", text.strip()):
        out.citations.extend(int(n) for n in numbers)
    else:
        out.references.append(nz.clean(text))


def _target(out: ParsedCell, text: str, fields, unit) -> None:
    cell = nz.parse_target_cell(text)
    if cell.targets:
        out.add("targets", tuple(cell.targets))
    out.products.extend(cell.products)
    out.notes.extend(cell.notes)
    out.incomplete = cell.incomplete


def _target_product(out: ParsedCell, text: str, fields, unit) -> None:
    cell = nz.parse_target_cell(text)
    if cell.targets:
        out.add("targets", tuple(cell.targets))
    out.products.extend(cell.products)
    out.notes.extend(cell.notes)
    out.incomplete = cell.incomplete
    if cell.cell_source:
        out.add("cell_source", cell.cell_source)


_ITEM_SPLIT_RE = re.compile(r"\s*(?:;|,|\+|\bplus\b|\bwith\b)\s*", re.I)


def _product(out: ParsedCell, text: str, fields, unit) -> None:
    """"Teclistamab (JNJ-64007957)" -> product teclistamab; a product the lexicon knows also
    gives its targets (derived: a printed target column wins)."""
    targets: list[str] = []
    for item in _ITEM_SPLIT_RE.split(nz.clean(text)):
        item = item.strip(" .")
        if not item:
            continue
        head = nz.clean(re.sub(r"\([^()]*\)", " ", item))
        inner = [nz.clean(p) for p in re.findall(r"\(([^()]*)\)", item)]
        canonical = next((lexicon.canonical("product", n) for n in (item, head, *inner)
                          if n and lexicon.canonical("product", n)), None)
        if canonical is None:
            canonical = lexicon.canonical("drug", head) or head
        out.products.append((canonical, item))
        entry = lexicon.shared_lexicon().entry("PRODUCT", canonical)
        for t in (entry.attr("targets") or []) if entry else []:
            if t not in targets:
                targets.append(t)
    if targets:
        out.values.append(CellValue("targets", tuple(targets), derived=True))


def _costimulatory(out: ParsedCell, text: str, fields, unit) -> None:
    known = nz.cell_values()["costimulatory_domains"]
    parts = [p for p in re.split(r"\s*(?:/|,|\+|\band\b)\s*", nz.clean(text)) if p]
    names = [known.get(compact(p).replace("‐", ""), nz.clean(p)) for p in parts]
    out.add(fields[0], "/".join(dict.fromkeys(names)))


def _cell_source(out: ParsedCell, text: str, fields, unit) -> None:
    items = [i for i in re.split(r"\s*(?:,|;|/)\s*", nz.clean(text)) if i]
    source = nz.cell_source_of(items)
    if source is None:
        out.unread = True
        return
    out.add("cell_source", source)


def _strategy_source(out: ParsedCell, text: str, fields, unit) -> None:
    items = nz.strategy_items(text)
    out.strategies.extend(items)
    source = nz.cell_source_of(items)
    if source:
        out.add("cell_source", source)


def _strategy(out: ParsedCell, text: str, fields, unit) -> None:
    out.strategies.extend(nz.strategy_items(text))
    pair = nz.strategy_combination(text)
    if pair:
        out.combination.append(pair)


def _row_level(out: ParsedCell, text: str, fields, unit) -> None:
    """Mechanism / regimen items are paired across the two columns of a row (see merge)."""


PARSERS: dict[str, Callable[[ParsedCell, str, tuple, str | None], None]] = {
    "text": _text, "int": _int, "median_count": _median_count, "percent": _percent,
    "percent_pair": _percent_pair, "any_grade3_pair": _percent_pair, "ratio": _ratio,
    "median_time": _median_time, "duration": _duration, "phase": _phase, "study_name": _study_name, "status": _status,
    "country": _country, "registry_id": _registry_id, "citation": _citation, "target": _target,
    "target_product": _target_product, "product": _product, "costimulatory_domain": _costimulatory,
    "cell_source": _cell_source, "strategy_source": _strategy_source, "strategy": _strategy,
    "combination_class": _row_level, "combination_agent": _row_level,
}


# Parsers whose cells name the trial (ids, products, citations, strategies): a missing cell
# states no field value. Every other parser turns "NA" / "—" / "NE" into a None value.
SET_PARSERS = frozenset({"product", "target", "target_product", "strategy", "strategy_source", "citation",
                         "registry_id", "combination_class", "combination_agent"})
_MEDIAN_ABBREVIATION_RE = re.compile(r"\b(?:median|m(?=[a-z]{2,4}\b))")  # "median", the m of "mPFS", "mOS"


def parse_cell(parser: str, text: str, fields: tuple[str, ...], unit: str | None = None,
               label: str = "") -> ParsedCell:
    """Run a column's parser over one cell. Missing cells ("NA", "—", "NE"; "NR" where a number
    is expected) give a None value for each field; "NR" under a median is "not reached". A time
    unit printed in the label overrides the column's default unit ("PFS, weeks")."""
    out = ParsedCell()
    text = text or ""
    if parser in ("median_time", "duration"):
        unit = time_unit(_MEDIAN_ABBREVIATION_RE.sub(" ", label.casefold()), None) or unit
        if nz.NOT_REACHED_RE.fullmatch(nz.clean(text)):
            PARSERS[parser](out, text, fields, unit)
            return out
    if is_missing(text):
        if parser not in SET_PARSERS:
            for name in fields:
                out.add(name, None)
        return out
    PARSERS[parser](out, text, fields, unit)
    return out
