"""Vega-Lite chart specs (plain dicts) and the Vega JavaScript bundle, inlined once in the page.

The bundle (Vega 6.2, Vega-Lite 6.4, Vega-Embed; about 0.9 MB, BSD-3-Clause) is
``templates/vega.bundle.js``, made once with vl-convert's ``javascript_bundle()`` (see
``templates/README.md``): no CDN, no download and no chart library at run time.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

from pipeline.report.data import PHASE_ORDER, Trial

WIDTH = 340
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
BUNDLE = Path(__file__).resolve().parent / "templates" / "vega.bundle.js"


def _field(name: str, kind: str, title: str | None = None, **extra) -> dict:
    spec = {"field": name, "type": kind, **extra}
    if title is not None:
        spec["title"] = title
    return spec


def _title(text: str, subtitle: str) -> dict:
    return {"text": text, "anchor": "start", "subtitle": subtitle}


def _counts(trials: list[Trial], facet: str) -> list[dict]:
    counter: Counter[str] = Counter()
    for trial in trials:
        values = trial.facets.get(facet) or ["Not reported"]
        counter.update(list(dict.fromkeys(values)))
    return [{"value": k, "trials": v} for k, v in counter.items()]


def _bar(trials: list[Trial], facet: str, title: str, axis: str, subtitle: str, order=None) -> dict:
    rows = _counts(trials, facet)
    sort = order if order else "-x"
    if order:
        known = [r["value"] for r in rows]
        sort = [o for o in order if o in known] + sorted(v for v in known if v not in order)
    height = max(120, 18 * len(rows))
    encoding = {
        "x": _field("trials", "quantitative", "Trials (n)", axis={"tickMinStep": 1, "format": "d"}),
        "y": _field("value", "nominal", axis, sort=sort, axis={"labelLimit": 160}),
        "tooltip": [_field("value", "nominal", axis), _field("trials", "quantitative", "Trials")],
    }
    return {
        "$schema": SCHEMA, "data": {"values": rows},
        "layer": [{"mark": {"type": "bar", "color": "#3b6ea8", "cursor": "pointer"}, "encoding": encoding},
                  {"mark": {"type": "text", "align": "left", "dx": 3, "color": "#333"},
                   "encoding": {**encoding, "text": _field("trials", "quantitative")}}],
        "title": _title(title, subtitle), "width": WIDTH, "height": height,
    }


def _scatter(trials: list[Trial]) -> dict:
    rows = [{"registry_id": t.registry_id, "enrollment": t.enrollment, "orr": t.orr,
             "target": ", ".join(t.facets.get("target") or []) or "Not reported",
             "phase": ", ".join(t.facets.get("phase") or [])}
            for t in trials if t.enrollment and t.orr is not None]
    return {
        "$schema": SCHEMA, "data": {"values": rows},
        "mark": {"type": "circle", "size": 70, "opacity": 0.75, "cursor": "pointer"},
        "encoding": {
            "x": _field("enrollment", "quantitative", "Enrollment (patients, log scale)", scale={"type": "log"}),
            "y": _field("orr", "quantitative", "Reported ORR (%)", scale={"domain": [0, 100]}),
            "color": _field("target", "nominal", "Target", legend={"orient": "right", "labelLimit": 140}),
            "tooltip": [_field("registry_id", "nominal", "Trial"), _field("target", "nominal", "Target"),
                        _field("phase", "nominal", "Phase"), _field("enrollment", "quantitative", "Enrollment"),
                        _field("orr", "quantitative", "ORR %")],
        },
        "title": _title("Reported ORR against enrollment",
                        f"{len(rows)} of {len(trials)} trials report both; click a point to show the trial"),
        "width": WIDTH + 120, "height": 260,
    }


def chart_specs(trials: list[Trial]) -> list[dict]:
    """[{id, facet, spec}] — facet is the trial-table filter a click on a bar sets."""
    n = len(trials)
    return [
        {"id": "chart-target", "facet": "target",
         "spec": _bar(trials, "target", "Trials by target antigen", "Target antigen",
                      f"{n} trials; a multi-target trial counts once per antigen; click a bar to filter")},
        {"id": "chart-phase", "facet": "phase",
         "spec": _bar(trials, "phase", "Trials by phase", "Phase", f"{n} trials; click a bar to filter",
                      order=PHASE_ORDER)},
        {"id": "chart-status", "facet": "status",
         "spec": _bar(trials, "status", "Trials by recruitment status", "Status", f"{n} trials; click a bar to filter")},
        {"id": "chart-country", "facet": "country",
         "spec": _bar(trials, "country", "Trials by country", "Country",
                      f"{n} trials; a multi-country trial counts once per country; click a bar to filter")},
        {"id": "chart-orr", "facet": "registry_id", "spec": _scatter(trials)},
    ]


@functools.lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script (safe inside a <script> element)."""
    return BUNDLE.read_text(encoding="utf-8").replace("</script", "<\\/script")


def specs_json(specs: list[dict]) -> str:
    return json.dumps(specs, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
