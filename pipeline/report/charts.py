"""Vega-Lite charts (built with Altair) and the Vega JavaScript bundle, inlined once in the page.

The bundle (Vega + Vega-Lite + Vega-Embed, about 0.9 MB) comes from vl-convert, which ships it
inside its wheel: no CDN, no download at build time.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections import Counter
from pathlib import Path

import altair as alt

from pipeline.report.data import PHASE_ORDER, Trial

WIDTH = 340


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
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar(color="#3b6ea8", cursor="pointer")
        .encode(
            x=alt.X("trials:Q", title="Trials (n)", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("value:N", title=axis, sort=sort, axis=alt.Axis(labelLimit=160)),
            tooltip=[alt.Tooltip("value:N", title=axis), alt.Tooltip("trials:Q", title="Trials")],
        )
    )
    text = chart.mark_text(align="left", dx=3, color="#333").encode(text="trials:Q")
    layered = alt.layer(chart, text).properties(
        title=alt.Title(title, subtitle=subtitle, anchor="start"), width=WIDTH, height=height)
    return layered.to_dict()


def _scatter(trials: list[Trial]) -> dict:
    rows = [{"registry_id": t.registry_id, "enrollment": t.enrollment, "orr": t.orr,
             "target": ", ".join(t.facets.get("target") or []) or "Not reported",
             "phase": ", ".join(t.facets.get("phase") or [])}
            for t in trials if t.enrollment and t.orr is not None]
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_circle(size=70, opacity=0.75, cursor="pointer")
        .encode(
            x=alt.X("enrollment:Q", title="Enrollment (patients, log scale)", scale=alt.Scale(type="log")),
            y=alt.Y("orr:Q", title="Reported ORR (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("target:N", title="Target", legend=alt.Legend(orient="right", labelLimit=140)),
            tooltip=[alt.Tooltip("registry_id:N", title="Trial"), alt.Tooltip("target:N", title="Target"),
                     alt.Tooltip("phase:N", title="Phase"), alt.Tooltip("enrollment:Q", title="Enrollment"),
                     alt.Tooltip("orr:Q", title="ORR %")],
        )
        .properties(title=alt.Title("Reported ORR against enrollment",
                                    subtitle=f"{len(rows)} of {len(trials)} trials report both; click a point to show the trial",
                                    anchor="start"), width=WIDTH + 120, height=260)
    )
    return chart.to_dict()


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
    """Vega, Vega-Lite and Vega-Embed as one script, matching Altair's Vega-Lite version.

    Bundling takes vl-convert a second or more, so the result is cached in memory and on disk
    ($XDG_CACHE_HOME or ~/.cache, review-extract/), keyed by the vl-convert and Vega-Lite versions.
    """
    import vl_convert as vlc

    version = re.match(r"v?(\d+\.\d+)", alt.SCHEMA_VERSION).group(1)
    available = vlc.get_vegalite_versions()
    version = version if version in available else available[-1]
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "review-extract"
    cached = cache_dir / f"vega-bundle-vlc{getattr(vlc, '__version__', 'x')}-vl{version}.js"
    try:
        if cached.is_file() and cached.stat().st_size > 100_000:
            return cached.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = vlc.javascript_bundle(vl_version=version).replace("</script", "<\\/script")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(bundle, encoding="utf-8")
        os.replace(tmp, cached)
    except OSError:
        pass
    return bundle


def specs_json(specs: list[dict]) -> str:
    return json.dumps(specs, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
