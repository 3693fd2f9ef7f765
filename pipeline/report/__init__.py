"""The curator's report: an extraction folder as one self-contained web page.

``build_report(out_dir)`` reads whatever the extraction folder holds (document.json, text.jsonl,
tables/, entities.jsonl, text_facts.csv, dataset/) and writes ``out_dir/report/index.html`` plus
page crops under ``out_dir/report/img/``. The page opens from disk with no network: styles,
scripts (the Vega bundle for the charts) and chart data are inline; images are local files.
Every table value and narrative fact links to the crop of the page where it was printed, with the
cell or sentence highlighted.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.report.crops import DEFAULT_DPI, CropBook, Link
from pipeline.report.data import ReportData, Source, Value, load

__all__ = ["build_report", "ReportStats"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
NUMERIC = {"enrollment", "orr_pct"}
FACETS = [("target", "Target"), ("phase", "Phase"), ("status", "Status"), ("country", "Country")]
PEEK_W, PEEK_H = 560, 170


@dataclass(slots=True)
class ReportStats:
    path: Path
    seconds: float
    bytes: int
    files: int
    crops: int
    trials: int
    provisional: bool
    warnings: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class _Shown:
    """A value prepared for the template: text and resolved links."""

    text: str
    links: list[Link]
    sort: object = None
    filled: bool = False
    tag: str = ""
    kind: str = ""


def _peek(link: Link, vh: int = PEEK_H) -> dict:
    """Static viewport onto a shared crop, the highlights centred horizontally whatever the
    viewport's width (CSS calc from 50 %), vertically within *vh* pixels."""
    crop = link.crop
    w, h = crop.width, crop.height
    vh = min(vh, h)
    px = [(l * w / 100, t * h / 100, bw * w / 100, bh * h / 100) for l, t, bw, bh in link.boxes]
    if px:  # centre the union of the highlights; when it does not fit, show its start
        ux0, uy0 = min(b[0] for b in px), min(b[1] for b in px)
        ux1, uy1 = max(b[0] + b[2] for b in px), max(b[1] + b[3] for b in px)
        cx = (ux0 + ux1) / 2 if ux1 - ux0 <= PEEK_W else ux0 + PEEK_W / 2 - 12
        cy = (uy0 + uy1) / 2 if uy1 - uy0 <= vh else uy0 + vh / 2 - 12
    else:
        cx, cy = w / 2, vh / 2
    top = int(min(max(0, cy - vh / 2), max(0, h - vh)))
    cx = round(cx, 1)
    band = None
    if link.band:
        l, t, bw, bh = link.band
        band = (round(cx - l * w / 100, 1), round(t * h / 100 - top, 1), round(bw * w / 100, 1), round(bh * h / 100, 1))
    return {"vh": vh, "cx": cx, "top": top, "band": band,
            "boxes": [(round(cx - x, 1), round(y - top, 1), round(bw, 1), round(bh, 1)) for x, y, bw, bh in px]}


def build_report(out_dir: Path, *, pdf: Path | None = None, dpi: int = DEFAULT_DPI) -> ReportStats:
    """Write ``out_dir/report/index.html`` (and ``report/img/``) for an extraction folder.

    *pdf* overrides ``document.json``'s ``source_path`` (the PDF the crops are cut from). The
    report folder is replaced atomically. Returns what was built (``.path``: ``index.html``).
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from pipeline.report.charts import chart_specs, specs_json, vega_bundle

    start = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    data: ReportData = load(out_dir)
    stages = {"read": time.perf_counter() - start}
    doc = data.document
    pdf_path = Path(pdf) if pdf else (Path(doc["source_path"]) if doc.get("source_path") else None)
    if pdf_path is None and doc.get("source"):
        pdf_path = out_dir / doc["source"]

    final = out_dir / "report"
    tmp = out_dir / f".report.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        book = CropBook(pdf_path, tmp / "img", dpi=dpi)
        warnings = list(doc.get("warnings") or []) + data.warnings + book.warnings
        regions = book.table_regions(data) if book.available else {}

        def links_for(sources: list[Source]) -> list[Link]:
            out = []
            for src in sources:
                link = None
                if src.table is not None and src.boxes:
                    link = book.link_table_source(src, regions)
                if link is None and src.page:
                    link = book.link_text_source(src, data.blocks)
                if link is not None:
                    out.append(link)
            return out

        def shown(value: Value) -> _Shown:
            return _Shown(value.text, links_for(value.sources), value.sort, tag=value.tag, kind=value.kind)

        # ---- trials
        trials = []
        for t in data.trials:
            trials.append({"registry_id": t.registry_id, "facets": t.facets,
                           "fields": {k: shown(v) for k, v in t.fields.items()}})
        facets = []
        for key, label in FACETS:
            counter: Counter[str] = Counter()
            for t in data.trials:
                counter.update(list(dict.fromkeys(t.facets.get(key, []))))
            options = [{"value": v, "n": n} for v, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
            facets.append({"key": key, "label": label, "options": options})

        # ---- narrative facts
        facts = []
        located = 0
        for f in data.facts:
            src = Source(page=f.page, sentence=f.sentence) if f.page else None
            links = links_for([src]) if src else []
            if src and src.boxes:
                located += 1
            f.source = src
            facts.append({**{k: getattr(f, k) for k in ("registry_ids", "subject", "metric", "value", "unit",
                                                        "ci", "p_value", "qualifier", "page")},
                          "display": _Shown(f.sentence, links)})

        # ---- conflicts
        conflicts = []
        for c in data.conflicts:
            values = [shown(v) for v in c.values]
            conflicts.append({"registry_id": c.registry_id, "field": c.field, "note": c.note, "values": values})

        # ---- tables as extracted
        tables = []
        for table in data.tables:
            keys = table.get("column_keys", [])
            labels = []
            for i, key in enumerate(keys):
                printed = table.get("columns", [])
                labels.append((key, printed[i] if i < len(printed) else ("Ref." if key == "ref" else key)))
            rows = []
            for rec in table["records"]:
                row_no = int(rec["row"])
                cells = []
                page = None
                for key in keys:
                    src = table["cells"].get((row_no, key))
                    page = page or (src.page if src else None)
                    cell = _Shown(rec.get(key, ""), links_for([src]) if src else [])
                    cell.filled = bool(src and src.derived_from == "fill-down")
                    cells.append(cell)
                rows.append({"row": row_no, "page": page, "cells": cells})
            crops = [book.crops[k] for k in book.crops if k[0] == "table" and k[1] == table["table"]]
            tables.append({"number": table["table"], "label": table.get("label") or table["table"], "caption": _strip_caption(table.get("caption", ""), table["table"]),
                           "columns": labels, "rows": rows, "footnote": table.get("footnote", ""),
                           "mapping": table.get("column_mapping", []),
                           "crops": sorted(crops, key=lambda c: c.page)})

        stages["locate"] = time.perf_counter() - start - sum(stages.values())
        book.render(tmp)
        book.close()
        stages["render"] = time.perf_counter() - start - sum(stages.values())
        for t in tables:  # crops are rendered now: keep only those with a file
            t["crops"] = [c for c in t["crops"] if c.src]
        for c in conflicts:  # static viewports need the crops' pixel sizes
            for v in c["values"]:
                v.links = [link for link in v.links if link.crop.src]
                for link in v.links:
                    link.peek = _peek(link)

        # ---- entities
        entity_groups = []
        if data.entities:
            by_type: dict[str, Counter] = {}
            for e in data.entities:
                name = str(e.get("norm") or e.get("text") or "").strip()
                by_type.setdefault(str(e.get("type", "?")), Counter())[name] += 1
            for etype, counter in sorted(by_type.items(), key=lambda kv: -sum(kv[1].values())):
                entity_groups.append({"type": etype, "n": sum(counter.values()), "top": counter.most_common(12)})

        seconds = doc.get("seconds") or {}
        counts = {
            "tables": len(data.tables), "rows": data.table_rows, "trials": len(data.trials),
            "entities": len(data.entities) if data.inputs["entities.jsonl"] else None,
            "facts": len(data.facts) if data.inputs["text_facts.csv"] else None,
            "conflicts": len(data.conflicts), "warnings": len(warnings),
        }
        specs = chart_specs(data.trials)
        env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                          trim_blocks=False, lstrip_blocks=False)
        html = env.get_template("report.html.j2").render(
            doc={"title": doc.get("title") or doc.get("source") or out_dir.name, "doi": doc.get("doi"),
                 "source": doc.get("source") or "", "page_count": doc.get("page_count") or "?"},
            tool_version=doc.get("tool_version", ""),
            extraction_seconds=float(sum(v for v in seconds.values() if isinstance(v, (int, float)))),
            stage_seconds=", ".join(f"{k} {v:.2f}" for k, v in seconds.items() if isinstance(v, (int, float))),
            built_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            counts=counts, provisional=data.provisional, inputs=data.inputs,
            charts=specs, chart_json=specs_json(specs), vega_js=vega_bundle(),
            css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
            report_js=(TEMPLATES / "report.js").read_text(encoding="utf-8").replace("</", "<\\/"),
            facets=facets, trials=trials, trial_columns=data.trial_columns, numeric_columns=NUMERIC,
            facts=facts, facts_located=located, conflicts=conflicts, tables=tables,
            entity_groups=entity_groups, warnings=warnings,
            crop_count=sum(1 for c in book.crops.values() if c.src), dpi=dpi,
            build_seconds=time.perf_counter() - start,
        )
        (tmp / "index.html").write_text(html, encoding="utf-8")
        stages["html"] = time.perf_counter() - start - sum(stages.values())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out_dir / f".report.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)

    files = [p for p in final.rglob("*") if p.is_file()]
    return ReportStats(
        path=final / "index.html", seconds=time.perf_counter() - start,
        bytes=sum(p.stat().st_size for p in files), files=len(files),
        crops=sum(1 for c in book.crops.values() if c.src), trials=len(data.trials),
        provisional=data.provisional, warnings=warnings, stages={k: round(v, 2) for k, v in stages.items()})


def _strip_caption(caption: str, number: int) -> str:
    import re

    return re.sub(rf"^\s*Table\s*{number}\s*[.:]?\s*", "", caption or "").strip()
