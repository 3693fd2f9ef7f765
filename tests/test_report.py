"""Curator's report (pipeline/report): fast checks without a browser.

The report is built once per session from the shared extraction (a copy of it, so other tests'
folder stays untouched). tests/test_report_browser.py opens the same report in headless Chromium.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

NCT_RE = re.compile(r"NCT\d{8}")
MAX_BYTES = 20 * 1024 * 1024


def build_once(extraction_dir: Path) -> Path:
    """Copy the session's extraction and build its report once (both report test files share it)."""
    from pipeline.report import build_report

    folder = extraction_dir.parent / "report-review"
    index = folder / "report" / "index.html"
    if not index.exists():
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(extraction_dir, folder, ignore=shutil.ignore_patterns("report"))
        start = time.perf_counter()
        build_report(folder)
        (folder / "build_seconds.txt").write_text(f"{time.perf_counter() - start:.2f}")
    return index


def expected_trials(folder: Path) -> dict[str, str]:
    """trial id -> target text, from dataset/ (the report never reconciles on its own)."""
    dataset = folder / "dataset"
    if (dataset / "trials.jsonl").exists():
        rows = [json.loads(line) for line in (dataset / "trials.jsonl").read_text().splitlines() if line.strip()]
        return {r.get("trial_id") or r["registry_id"]: json.dumps(r.get("targets")) for r in rows}
    if (dataset / "trials.csv").exists():
        with open(dataset / "trials.csv", newline="", encoding="utf-8") as handle:
            return {r.get("trial_id") or r["registry_id"]: r.get("targets", "") for r in csv.DictReader(handle)}
    return {}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    return html[start:html.index("</section>", start)]


@pytest.fixture(scope="session")
def report_index(extraction_dir) -> Path:
    return build_once(extraction_dir)


@pytest.fixture(scope="session")
def report_html(report_index) -> str:
    return report_index.read_text(encoding="utf-8")


def test_report_is_self_contained(report_index, report_html):
    tags = _tags(report_html)
    for tag, attrs in tags:
        for key in ("src", "href", "data", "poster", "srcset"):
            value = attrs.get(key) or ""
            assert not re.match(r"^\s*(https?:)?//", value), (tag, key, value)
        if tag == "link":
            assert attrs.get("rel") not in ("stylesheet", "preload", "modulepreload"), attrs
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", _style_text(report_html))
    scripts = [a for t, a in tags if t == "script"]
    assert scripts and all("src" not in a for a in scripts), "scripts must be inline"


def _style_text(html: str) -> str:
    return "".join(re.findall(r"<style>(.*?)</style>", html, re.S))


def test_every_provenance_link_and_image_is_a_local_file(report_index, report_html):
    folder = report_index.parent
    links = [a for t, a in _tags(report_html) if t == "a" and ("prov" in (a.get("class") or "").split()
                                                                or "peek" in (a.get("class") or "").split())]
    images = [a["src"] for t, a in _tags(report_html) if t == "img" and a.get("src")]
    assert len(links) > 1000
    for a in links:
        assert (folder / a["href"]).is_file(), a["href"]
        for box in filter(None, a.get("data-hl", "").split(";")):
            left, top, width, height = map(float, box.split(","))
            assert -1 <= left <= 100 and -1 <= top <= 100 and width > 0 and height > 0, a
    for src in images:
        assert (folder / src).is_file(), src
    crops = {p.name for p in (folder / "img").iterdir()}
    used = {Path(a["href"]).name for a in links} | {Path(s).name for s in images}
    assert crops <= used, f"unused crops: {sorted(crops - used)}"


def test_every_table_value_links_to_its_page(report_index, report_html):
    folder = report_index.parent.parent
    with open(folder / "tables" / "provenance.csv", newline="", encoding="utf-8") as handle:
        prov = {(r["table"], r["row"], r["column"]) for r in csv.DictReader(handle)}
    printed = 0
    for path in sorted((folder / "tables").glob("table*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for rec in csv.DictReader(handle):
                for key, value in rec.items():
                    if key not in ("table", "row", "block") and value.strip() and (rec["table"], rec["row"], key) in prov:
                        printed += 1
    tables = _section(report_html, "tables")
    linked = [a for t, a in _tags(tables) if t == "a" and (a.get("class") or "").split() == ["prov"]]
    assert printed > 1000
    assert len(linked) == printed


def test_trial_table_has_one_row_per_trial(report_index, report_html):
    expected = expected_trials(report_index.parent.parent)
    rows = [a for t, a in _tags(_section(report_html, "trials")) if t == "tr" and "data-id" in a]
    assert sorted(r["data-id"] for r in rows) == sorted(expected)
    assert f'data-total="{len(expected)}"' in report_html


def test_header_counts_and_charts(report_index, report_html):
    folder = report_index.parent.parent
    doc = json.loads((folder / "document.json").read_text())
    header = report_html[:report_html.index("</header>")]
    assert doc["title"] in header and doc["doi"] in header
    counts = dict(re.findall(r'data-count="(\w+)"><b>([^<]*)</b>', header))
    assert counts["tables"] == str(doc["counts"]["tables"])
    assert counts["rows"] == str(doc["counts"]["table_rows"])
    assert counts["trials"] == str(len(expected_trials(folder)))
    assert set(counts) == {"tables", "rows", "trials", "entities", "facts", "conflicts", "warnings"}
    specs = json.loads(re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>',
                                 report_html, re.S).group(1).replace("<\\/", "</"))
    assert [s["id"] for s in specs] == ["chart-target", "chart-phase", "chart-status", "chart-country", "chart-orr"]
    for s in specs:
        spec = s["spec"]
        assert spec["title"]["text"], s["id"]
        layers = spec.get("layer", [spec])
        enc = layers[0]["encoding"]
        assert enc["x"]["title"] and enc["y"]["title"], s["id"]


def test_report_size(report_index):
    folder = report_index.parent
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    seconds = float((folder.parent / "build_seconds.txt").read_text())
    print(f"report: {size / 1e6:.2f} MB, built in {seconds:.1f} s (speed: scripts/benchmark.py)")
    assert size < MAX_BYTES


# ------------------------------------------------------------------------------- degraded inputs


def test_report_without_pdf_still_builds(extraction_dir, tmp_path):
    from pipeline.report import build_report

    folder = tmp_path / "nopdf"
    shutil.copytree(extraction_dir, folder, ignore=shutil.ignore_patterns("report"))
    doc = json.loads((folder / "document.json").read_text())
    doc["source_path"] = str(tmp_path / "moved-away.pdf")
    (folder / "document.json").write_text(json.dumps(doc))
    html = build_report(folder).path.read_text(encoding="utf-8")
    assert "source PDF not found" in html
    assert '<a class="prov' not in html
    assert not (folder / "report" / "img").exists()


def test_report_without_dataset_lists_no_trials(extraction_dir, tmp_path):
    """No dataset/: the report does not reconcile on its own; it says the dataset is missing."""
    from pipeline.report import build_report

    folder = tmp_path / "nodataset"
    shutil.copytree(extraction_dir, folder, ignore=shutil.ignore_patterns("report", "dataset"))
    html = build_report(folder).path.read_text(encoding="utf-8")
    header = html[:html.index("</header>")]
    assert 'data-count="trials"><b>0</b>trials' in header
    assert "dataset/ missing" in html
    assert not [a for t, a in _tags(_section(html, "trials")) if t == "tr" and "data-id" in a]


def test_report_without_tables_or_text(tmp_path, extraction_dir):
    from pipeline.report import build_report

    folder = tmp_path / "bare"
    folder.mkdir()
    shutil.copy(extraction_dir / "document.json", folder / "document.json")
    html = build_report(folder).path.read_text(encoding="utf-8")
    assert 'data-count="trials"><b>0</b>' in html
    assert "tables/tables.json missing" in html


def test_cli_report_command(extraction_dir, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    folder = tmp_path / "cli"
    shutil.copytree(extraction_dir, folder, ignore=shutil.ignore_patterns("report"))
    result = CliRunner().invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "report" / "index.html").is_file()
    missing = CliRunner().invoke(app, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2


# ------------------------------------------------------------------------------- full inputs


def _synthetic_inputs(folder: Path) -> dict:
    """dataset/ (reconcile's TrialRecord / Observation / ConflictEntry fields), text_facts.csv and
    entities.jsonl made from the extraction itself, for the report's reading of the full layout."""
    blocks = [json.loads(line) for line in (folder / "text.jsonl").read_text().splitlines() if line.strip()]
    with open(folder / "tables" / "provenance.csv", newline="", encoding="utf-8") as handle:
        prov = {(int(r["table"]), int(r["row"]), r["column"]): r for r in csv.DictReader(handle)}
    sentences = []
    for b in blocks:
        if b["type"] != "paragraph":
            continue
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", b["text"]):
            if re.search(r"\d+(\.\d+)?\s?%", s) and 60 < len(s) < 400:
                sentences.append((b, s))
    facts = sentences[:12]
    (folder / "dataset").mkdir()
    trials = [
        {"registry_id": "NCT03430011", "registry": "ClinicalTrials.gov", "tables": [1, 3], "sources": ["T1r1", "T3r11"],
         "products": ["orvacabtagene autoleucel"], "targets": ["BCMA"], "phase": "Phase 1/2", "status": "COMPLETED",
         "enrollment": 165, "orr_pct": 91.0, "country": "US",
         "narrative_mentions": [{"block": facts[0][0]["id"], "page": facts[0][0]["page"], "block_type": "paragraph",
                                 "start": 0, "end": 10, "sentence": facts[0][1]}]},
        {"registry_id": "NCT04674813", "registry": "ClinicalTrials.gov", "tables": [], "sources": ["T2r5"],
         "products": [], "targets": ["GPRC5D"], "phase": "Phase 1", "status": "ACTIVE_NOT_RECRUITING",
         "enrollment": None, "orr_pct": None, "country": None, "narrative_mentions": []},
    ]
    with open(folder / "dataset" / "trials.jsonl", "w", encoding="utf-8") as handle:
        for t in trials:
            handle.write(json.dumps(t) + "\n")
    ev_fields = ["registry_id", "field", "value", "raw", "source", "table", "row", "column", "page", "bbox", "block", "sentence"]
    p = prov[(1, 1, "orr")]
    with open(folder / "dataset" / "evidence.csv", "w", newline="", encoding="utf-8") as handle:
        w = csv.DictWriter(handle, fieldnames=ev_fields)
        w.writeheader()
        w.writerow({"registry_id": "NCT03430011", "field": "orr_pct", "value": "91.0", "raw": "91", "source": "table",
                    "table": 1, "row": 1, "column": "orr", "page": p["page"],
                    "bbox": json.dumps([float(p[k]) for k in ("x0", "top", "x1", "bottom")])})
    c_fields = ["conflict_id", "registry_id", "field", "value", "raw", "source", "table", "row", "column", "page",
                "x0", "top", "x1", "bottom", "block", "sentence", "pooled", "chosen", "resolved", "rule", "resolution"]
    with open(folder / "dataset" / "conflicts.csv", "w", newline="", encoding="utf-8") as handle:
        w = csv.DictWriter(handle, fieldnames=c_fields)
        w.writeheader()
        for table, row, chosen in ((1, 1, True), (3, 11, False)):
            c = prov[(table, row, "target_car_t")]
            w.writerow({"conflict_id": 1, "registry_id": "NCT03430011", "field": "products", "value": "orva-cel",
                        "raw": "x", "source": "table", "table": table, "row": row, "column": "target_car_t",
                        "page": c["page"], "x0": c["x0"], "top": c["top"], "x1": c["x1"], "bottom": c["bottom"],
                        "pooled": False, "chosen": chosen, "resolved": True, "rule": "first table", "resolution": "orva-cel"})
        b, s = facts[1]
        w.writerow({"conflict_id": 2, "registry_id": "NCT03430011", "field": "orr_pct", "value": "90", "raw": "90%",
                    "source": "narrative", "page": b["page"], "block": b["id"], "sentence": s, "pooled": False,
                    "chosen": False, "resolved": False, "rule": "", "resolution": ""})
    with open(folder / "text_facts.csv", "w", newline="", encoding="utf-8") as handle:
        w = csv.DictWriter(handle, fieldnames=["registry_ids", "subject", "metric", "value", "unit", "ci_low", "ci_high",
                                               "p_value", "qualifier", "page", "sentence"])
        w.writeheader()
        for b, s in facts:
            value = re.search(r"(\d+(?:\.\d+)?)\s?%", s).group(1)
            w.writerow({"registry_ids": ";".join(NCT_RE.findall(s)), "subject": "", "metric": "percent", "value": value,
                        "unit": "%", "page": b["page"], "sentence": s})
    with open(folder / "entities.jsonl", "w", encoding="utf-8") as handle:
        for i, (etype, text) in enumerate([("TARGET", "BCMA"), ("TARGET", "GPRC5D"), ("PRODUCT", "cilta-cel")]):
            handle.write(json.dumps({"type": etype, "text": text, "norm": text, "score": 1.0, "page": 2,
                                     "start": i, "end": i + 4, "source": "lexicon"}) + "\n")
    return {"facts": len(facts), "trials": len(trials)}


def test_report_reads_dataset_facts_and_entities(extraction_dir, tmp_path):
    from pipeline.report import build_report

    folder = tmp_path / "full"
    shutil.copytree(extraction_dir, folder, ignore=shutil.ignore_patterns("report", "dataset"))
    made = _synthetic_inputs(folder)
    index = build_report(folder).path
    html = index.read_text(encoding="utf-8")
    header = html[:html.index("</header>")]
    counts = dict(re.findall(r'data-count="(\w+)"><b>([^<]*)</b>', header))
    assert counts["trials"] == "2" and counts["facts"] == str(made["facts"])
    assert counts["entities"] == "3" and counts["conflicts"] == "2"
    assert "provisional" not in header
    # every narrative fact is found on its page: a link with a highlight box
    facts = _section(html, "facts")
    fact_links = [a for t, a in _tags(facts) if t == "a" and "prov" in (a.get("class") or "")]
    assert len(fact_links) == made["facts"]
    assert all(a.get("data-hl") for a in fact_links), "sentence not located"
    # the ORR of the first trial links to the table cell given by evidence.csv
    trials = _section(html, "trials")
    row = trials[trials.index('data-id="NCT03430011"'):]
    row = row[:row.index("</tr>")]
    assert re.search(r'title="Table 1, row 1, Outcomes: ORR%, p\. 4"', row), row[:2000]
    assert "Active, not recruiting" in trials
    conflicts = _section(html, "conflicts")
    assert conflicts.count('class="peek"') == 3 and "kept" in conflicts and "unresolved" in conflicts
    for t, a in _tags(html):
        if t == "a" and "href" in a and a["href"].startswith("img/"):
            assert (index.parent / a["href"]).is_file()


def test_tables_show_their_column_roles(report_html):
    """Per table, printed label -> column -> trial field(s) (or unmapped), as in tables.json."""
    tables = _section(report_html, "tables")
    assert tables.count('class="mapping"') == 4
    assert "<td>NCT</td><td>nct</td><td>registry_id</td>" in tables
    assert "<td>Adverse effect: Grade ≥3 CRS/ICANS%</td><td>crs_icans</td><td>crs_grade3_pct, icans_grade3_pct</td>" in tables


def _two_line_block(review_pdf_path, lines=True) -> list[dict]:
    block = {"id": "b1", "page": 3, "bbox": [50.0, 100.0, 300.0, 124.0], "type": "paragraph",
             "text": "First sentence here. A second one runs on to the next line. Last."}
    if lines:
        at = block["text"].index("to the next")
        block["lines"] = [[0, 50.0, 100.0, 300.0, 110.0], [at, 50.0, 114.0, 300.0, 124.0]]
    return [block]


def test_a_sentence_is_traced_to_the_lines_it_was_printed_on(review_pdf, tmp_path):
    from pipeline.report.crops import CropBook

    book = CropBook(review_pdf, tmp_path / "img")
    boxes = book.locate_sentence(3, "A second one runs on to the next line.", _two_line_block(review_pdf))
    book.close()
    assert len(boxes) == 2
    first, last = boxes
    assert first[1] == 100.0 and last[1] == 114.0  # one box per printed line
    # cut where the sentence starts on its first line and ends on its last
    assert 50.0 + 250.0 * 0.4 < first[0] < 50.0 + 250.0 * 0.6 and first[2] == 300.0  # 21 of 44 characters
    assert last[0] == 50.0 and 50.0 < last[2] < 300.0


def test_a_sentence_on_one_line_is_cut_at_both_ends(review_pdf, tmp_path):
    from pipeline.report.crops import CropBook

    book = CropBook(review_pdf, tmp_path / "img")
    blocks = _two_line_block(review_pdf)
    text = blocks[0]["text"]
    (box,) = book.locate_sentence(3, "Last.", blocks)
    book.close()
    at, end = text.index("Last"), len(text)
    line_start = blocks[0]["lines"][1][0]
    share = (at - line_start) / (end - line_start)
    assert box[1] == 114.0 and abs(box[0] - (50.0 + 250.0 * share)) < 1e-6
    assert box[2] == pytest.approx(300.0 - 250.0 / (end - line_start))  # to its last letter, not the full stop


def test_a_folder_without_printed_lines_highlights_the_block(review_pdf, tmp_path):
    """Text blocks written before they kept their lines: the sentence is found in the block,
    highlighted on the block's box (cut at the sentence's share of its characters)."""
    from pipeline.report.crops import CropBook

    book = CropBook(review_pdf, tmp_path / "img")
    boxes = book.locate_sentence(3, "A second one runs on to the next line.", _two_line_block(review_pdf, False))
    assert book.locate_sentence(3, "Nothing like this is printed anywhere.", _two_line_block(review_pdf, False)) == []
    book.close()
    assert len(boxes) == 1 and boxes[0][1] == 100.0 and boxes[0][3] == 124.0
