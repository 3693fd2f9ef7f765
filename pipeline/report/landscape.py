"""The landscape's report page: reviews, trials across reviews and their conflicts, one HTML file.

Reads the frames of a :class:`pipeline.landscape.Landscape` (no second merge). Each value in a
conflict names its review, version and place (table/row/column and page, or page and
sentence); the page links open that version's own curator's report when it has one.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}
th{background:#f3f3f3;position:sticky;top:0}
.counts span{display:inline-block;margin-right:1.5em}
.unresolved{background:#fde8e8}.chosen{font-weight:bold}
input{padding:4px;width:22em}
"""
FILTER = """
document.getElementById('q').addEventListener('input', e => {
  const q = e.target.value.toLowerCase();
  for (const tr of document.querySelectorAll('#trials tbody tr'))
    tr.style.display = tr.textContent.toLowerCase().includes(q) ? '' : 'none';
});
"""
TRIAL_COLUMNS = ("trial_key", "n_reviews", "reviews", "study_name", "products", "targets", "phase", "status",
                 "enrollment", "orr_pct", "cross_review_conflict_fields", "unresolved_fields")


def _cell(value) -> str:
    if isinstance(value, list):
        return escape("; ".join(str(v) for v in value))
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    return escape(str(value))


def _table(df: pd.DataFrame, columns, table_id: str = "", row_class=None) -> str:
    columns = [c for c in columns if c in df.columns]
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = []
    for _, row in df.iterrows():
        cls = f' class="{row_class(row)}"' if row_class else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{_cell(row[c])}</td>" for c in columns) + "</tr>")
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _where(row) -> str:
    if row["source"] == "table":
        return f"table {row['table']}, row {row['row']}, {row['column']}, page {row['page']}"
    sentence = row["sentence"] if isinstance(row["sentence"], str) else ""
    return f"page {row['page']}: \u201c{sentence[:160]}\u201d"


def _conflicts(conflicts: pd.DataFrame, reviews: pd.DataFrame) -> str:
    across = conflicts[conflicts["scope"] == "reviews"]
    if across.empty:
        return "<p>The reviews agree on every trial they share.</p>"
    paths = dict(zip(reviews["review_key"], reviews["path"]))
    parts = []
    for cid, rows in across.groupby("conflict_id", sort=True):
        first = rows.iloc[0]
        verdict = (f"kept {escape(str(first['resolution']))} ({escape(first['rule'])})" if first["resolved"]
                   else "unresolved: left empty")
        items = []
        for _, row in rows.iterrows():
            report = Path(paths.get(row["review_key"], "")) / "report" / "index.html"
            link = f' (<a href="{escape(report.as_uri())}">report</a>)' if report.is_file() else ""
            items.append(f"<li class=\"{'chosen' if row['chosen'] else ''}\">{escape(str(row['value']))} "
                         f"\u2014 {escape(row['review_key'])} / {escape(row['version'])}, {escape(_where(row))}"
                         f"{link}; printed \u201c{escape(str(row['raw']))}\u201d</li>")
        parts.append(f"<div class=\"{'' if first['resolved'] else 'unresolved'}\"><h3>{escape(first['trial_key'])}: "
                     f"{escape(first['field'])} \u2014 {verdict}</h3><ul>{''.join(items)}</ul></div>")
    return "".join(parts)


def build_landscape_report(landscape, out_dir: Path) -> Path:
    """Write OUT/report/index.html for a landscape; returns its path."""
    frames = landscape.frames
    counts = landscape.counts
    trials = frames["trials"].sort_values(["n_reviews", "trial_key"], ascending=[False, True])
    body = [
        "<h1>Trial landscape</h1>",
        '<p class="counts">' + "".join(f"<span><b>{v}</b> {escape(k.replace('_', ' '))}</span>"
                                       for k, v in counts.items()) + "</p>",
        "<h2>Reviews (latest version of each)</h2>",
        _table(frames["reviews"], ("review_key", "version", "previous", "title", "doi", "n_trials")),
        "<h2>Conflicts across reviews</h2>", _conflicts(frames["conflicts"], frames["reviews"]),
        "<h2>Trials</h2>", '<input id="q" placeholder="filter trials">',
        _table(trials, TRIAL_COLUMNS, "trials",
               row_class=lambda r: "unresolved" if len(r["cross_review_conflict_fields"]) else ""),
    ]
    if landscape.warnings:
        body += ["<h2>Warnings</h2><ul>"] + [f"<li>{escape(w)}</li>" for w in landscape.warnings] + ["</ul>"]
    html = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Trial landscape</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}"
            f"<script>{FILTER}</script><script type=\"application/json\" id=\"counts\">{json.dumps(counts)}</script>"
            "</body></html>\n")
    path = Path(out_dir) / "report" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, "utf-8")
    return path
