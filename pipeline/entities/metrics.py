"""Outcome metrics in narrative sentences (rules driven by ``models/lexicons/metrics.json``).

A metric mention is a *trigger* (e.g. "ORR", "median PFS", "hazard ratio for PFS", "CRS") paired
with a *value* of the metric's unit in the same sentence:

1. a value right before a trigger ("98% ORR", "a 64% response rate");
2. otherwise the nearest preceding trigger not already taken by rule 1 ("an ORR of 73%",
   "a hazard ratio for PFS of 0.49 ..., and 0.26 ...");
3. otherwise the nearest following trigger in the same clause ("30% of patients ... severe grade 3
   or higher CRS/ICANS").

A value whose unit does not fit its trigger is dropped rather than paired further away ("CRS
typically occurs within 1 to 7 days" gives nothing). Severity words between the trigger and the
value, or after the value in its clause, turn CRS/ICANS into their grade >= 3 metrics. 95% CI
bounds and P values in the bracket right after a value are attached to it; "not (yet) reached" is a
qualifier with an empty value; approximation words become the qualifier "approximately".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"\d+(?:\.\d+)?"
_DASH = r"(?:-|–|—|‒|to)"
_RANGE = rf"(?P<v1>{_NUM})(?:\s*{_DASH}\s*(?P<v2>{_NUM}))?"
_CI = re.compile(
    rf"\b95\s*%\s*(?:CI|confidence interval)\s*[,:=]?\s*(?P<lo>{_NUM})\s*(?:%|months?)?\s*{_DASH}\s*"
    rf"(?P<hi>{_NUM})\s*(?:%|months?)?", re.I)
_P = re.compile(r"(?<![A-Za-z])[Pp]\s*(?P<op><|>|=|≤|≥|<=|>=)\s*(?P<p>0?\.\d+|\d(?:\.\d+)?(?:\s*[x×]\s*10\s*[-−]\s*\d+)?)")


@dataclass(slots=True)
class MetricMention:
    metric: str
    value: str  # "73", "90-100", "" (not reached)
    unit: str  # "%", "months", "ratio", ...
    start: int  # value span, char offsets in the doc
    end: int
    trigger_start: int
    trigger_end: int
    trigger_text: str
    ci_low: str = ""
    ci_high: str = ""
    p_value: str = ""
    qualifier: str = ""
    order: int = 0  # position among the values sharing this trigger ("respectively")


@dataclass(slots=True)
class _Trigger:
    start: int
    end: int
    text: str
    metrics: tuple[str, ...]
    qualifier: str = ""


@dataclass(slots=True)
class _Value:
    start: int
    end: int
    kind: str  # "%", "time", "ratio", "nr"
    value: str
    unit: str


class MetricExtractor:
    """Compiled metric rules; :meth:`extract` works on one sentence of text."""

    def __init__(self, vocab: dict):
        self.vocab = vocab
        self.units = {m["key"]: m["unit"] for m in vocab["metrics"]}
        self.graded = {m["key"]: m["graded"] for m in vocab["metrics"] if m.get("graded")}
        alternatives: list[tuple[str, str, bool]] = []
        for m in vocab["metrics"]:
            sensitive = set(m.get("case_sensitive", ()))
            for trig in m["triggers"]:
                alternatives.append((trig, m["key"], trig in sensitive))
        alternatives.sort(key=lambda a: -len(a[0]))
        self._trigger_keys: dict[str, str] = {}
        parts = []
        for i, (trig, key, sensitive) in enumerate(alternatives):
            body = r"\s+".join(re.escape(w) for w in trig.split())
            if not sensitive:
                body = f"(?i:{body})"
            parts.append(f"(?P<t{i}>{body})")
            self._trigger_keys[f"t{i}"] = key
        self._combined = [(re.compile(c["pattern"]), tuple(c["metrics"]), c.get("qualifier", ""))
                          for c in vocab.get("combined_triggers", ())]
        self._trigger_re = re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w])")
        self._grade3 = re.compile("|".join(vocab["grade3_patterns"]), re.I)
        self._any_grade = re.compile("|".join(vocab.get("any_grade_patterns", ["$^"])), re.I)
        approx = "|".join(re.escape(w) for w in vocab["approximate_words"])
        self._approx = re.compile(rf"(?:{approx})\s*(?:(?:a|an)\s+)?(?:\w+\s+)?$", re.I)
        self._approx_tight = re.compile(rf"(?:{approx})\s*(?:(?:a|an)\s+)?$", re.I)
        self._nr = re.compile("|".join(vocab["not_reached_patterns"]), re.I)
        units = sorted(vocab["time_units"], key=len, reverse=True)
        self.time_units = vocab["time_units"]
        self._pct = re.compile(rf"(?<![\w.]){_RANGE}\s*%")
        self._time = re.compile(rf"(?<![\w.]){_RANGE}\s*(?P<u>{'|'.join(units)})\b", re.I)
        self._ratio = re.compile(r"(?<![\w.,])(?P<v1>\d?\.\d+|\d\.\d+)(?![\w%.]|\s*%)")
        self.max_gap = int(vocab.get("max_gap_chars", 160))
        excl = vocab.get("time_exclusions", {})
        self._time_before = re.compile(excl["before"], re.I) if excl.get("before") else None
        self._time_after = re.compile(excl["after"], re.I) if excl.get("after") else None

    # -- scanning ------------------------------------------------------------------------
    def _triggers(self, text: str) -> list[_Trigger]:
        found: list[_Trigger] = []
        taken: list[tuple[int, int]] = []
        for rx, metrics, qual in self._combined:
            for m in rx.finditer(text):
                found.append(_Trigger(m.start(), m.end(), m.group(), metrics, qual))
                taken.append(m.span())
        for m in self._trigger_re.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            found.append(_Trigger(m.start(), m.end(), m.group(), (self._trigger_keys[m.lastgroup],)))
        found.sort(key=lambda t: t.start)
        return found

    def _values(self, text: str, masked: list[tuple[int, int]]) -> list[_Value]:
        values: list[_Value] = []

        def free(s: int, e: int) -> bool:
            return not any(a < e and s < b for a, b in masked) and not any(
                v.start < e and s < v.end for v in values)

        for m in self._pct.finditer(text):
            if free(m.start(), m.end()):
                values.append(_Value(m.start(), m.end(), "%", _value_text(m), "%"))
        for m in self._time.finditer(text):
            if self._time_before and self._time_before.search(text[max(0, m.start() - 40):m.start()]):
                continue  # a time point ("after 20 months", "within 1 to 7 days"), not an outcome
            if self._time_after and self._time_after.search(text[m.end():m.end() + 30]):
                continue  # follow-up duration
            if free(m.start(), m.end()):
                values.append(_Value(m.start(), m.end(), "time", _value_text(m),
                                     self.time_units[m.group("u").lower()]))
        for m in self._nr.finditer(text):
            if free(m.start(), m.end()):
                values.append(_Value(m.start(), m.end(), "nr", "", ""))
        for m in self._ratio.finditer(text):
            if free(m.start(), m.end()):
                values.append(_Value(m.start(), m.end(), "ratio", m.group("v1"), "ratio"))
        values.sort(key=lambda v: v.start)
        return values

    def extract(self, text: str, offset: int = 0) -> list[MetricMention]:
        """Metric mentions of one sentence; spans are shifted by *offset*."""
        cis = [(m.start(), m.end(), m.group("lo"), m.group("hi")) for m in _CI.finditer(text)]
        ps = [(m.start(), m.end(), f"{m.group('op')} {m.group('p')}") for m in _P.finditer(text)]
        masked = [(s, e) for s, e, *_ in cis] + [(s, e) for s, e, _ in ps]
        triggers = self._triggers(text)
        if not triggers:
            return []
        values = self._values(text, masked)
        mentions: list[MetricMention] = []
        used_after: set[int] = set()
        per_trigger: dict[int, int] = {}
        prev_end = 0
        for v in values:
            trig_idx, position = self._pair(text, v, triggers, used_after)
            if trig_idx is None:
                prev_end = v.end
                continue
            trig = triggers[trig_idx]
            for metric in trig.metrics:
                unit = self.units[metric]
                if not _unit_fits(unit, v):
                    continue
                if metric in self.graded:
                    if position == "before_trigger":
                        context = text[v.end:trig.start]
                    else:
                        lo = max(trig.end, prev_end) if position == "after_trigger" else v.end
                        # the trigger's own modifier ("severe CRS") and the value's clause
                        before = text[max(prev_end, trig.start - 30):trig.start] if position == "after_trigger" else ""
                        context = before + " " + text[lo:v.start] + " " + _clause_after(text, v.end, values)
                    if self._grade3.search(context) and not self._any_grade.search(text[v.end:v.end + 30]):
                        metric = self.graded[metric]
                qualifier = trig.qualifier
                if v.kind == "nr":
                    qualifier = _join("not reached", qualifier)
                elif self._approx_tight.search(text[max(0, v.start - 20):v.start]):
                    qualifier = _join("approximately", qualifier)
                ci_low = ci_high = p_value = ""
                bracket = _bracket_after(text, v.end)
                if bracket:
                    b0, b1 = bracket
                    for s, e, lo, hi in cis:
                        if b0 <= s < b1:
                            ci_low, ci_high = lo, hi
                            break
                    for s, e, p in ps:
                        if b0 <= s < b1:
                            p_value = p
                            break
                order = per_trigger.get(trig_idx, 0)
                mentions.append(MetricMention(
                    metric=metric, value=v.value, unit=unit if v.kind == "nr" else v.unit,
                    start=v.start + offset, end=v.end + offset, trigger_start=trig.start + offset,
                    trigger_end=trig.end + offset, trigger_text=trig.text, ci_low=ci_low, ci_high=ci_high,
                    p_value=p_value, qualifier=qualifier, order=order))
            per_trigger[trig_idx] = per_trigger.get(trig_idx, 0) + 1
            prev_end = v.end
        return mentions

    def _pair(self, text: str, v: _Value, triggers: list[_Trigger],
              used_after: set[int]) -> tuple[int | None, str]:
        # 1. value right before a trigger: "98% ORR", "a 64% response rate"
        for i, t in enumerate(triggers):
            if t.start >= v.end:
                if re.fullmatch(r"\s{0,2}", text[v.end:t.start]):
                    used_after.add(i)
                    return i, "before_trigger"
                break
        # 2. nearest preceding trigger not taken by rule 1
        for i in range(len(triggers) - 1, -1, -1):
            t = triggers[i]
            if t.end <= v.start:
                if i in used_after:
                    break
                if v.start - t.end <= self.max_gap:
                    return i, "after_trigger"
                break
        # 3. nearest following trigger in the same clause
        for i, t in enumerate(triggers):
            if t.start >= v.end:
                between = text[v.end:t.start]
                if len(between) <= 80 and not re.search(r"[;,:]", between):
                    return i, "before_trigger_far"
                break
        return None, ""


def _value_text(m: re.Match) -> str:
    return m.group("v1") + (f"-{m.group('v2')}" if m.group("v2") else "")


def _unit_fits(unit: str, v: _Value) -> bool:
    if v.kind == "nr":
        return unit in ("months", "years", "weeks", "days")
    if unit == "%":
        return v.kind == "%"
    if unit == "ratio":
        return v.kind == "ratio"
    return v.kind == "time"


def _clause_after(text: str, pos: int, values: list[_Value]) -> str:
    nxt = min((v.start for v in values if v.start >= pos), default=len(text))
    m = re.search(r"[,;:.]\s|[,;:.]$", text[pos:nxt])
    return text[pos: pos + m.start()] if m else text[pos:nxt]


def _bracket_after(text: str, pos: int) -> tuple[int, int] | None:
    m = re.match(r"\s*(?:for\s+[^\[\](),;]{1,40}?\s*)?([\[(])", text[pos:])
    if not m:
        return None
    start = pos + m.end(1)
    close = "]" if m.group(1) == "[" else ")"
    end = text.find(close, start)
    return (start, end if end != -1 else len(text))


def _join(a: str, b: str) -> str:
    return "; ".join(x for x in (a, b) if x)
