"""Layout variations: the gold tables typeset in journal styles must come back cell for cell.

tests/layouts/generate.py sets the four gold tables (and narrative paragraphs) with full
grids, only horizontal rules, no rules with zebra stripes or white space alone, captions
above or below, continuation pages with or without "(continued)" and a repeated header,
A4 and US Letter, one- and two-column text, landscape pages (/Rotate 90/270 or a rotated
text matrix) and several fonts, sizes and column widths. Every style must reproduce 100%
of the gold cells, captions, labels and footnotes, and keep table text out of the narrative.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import GOLD, read_csv
from tests.gold_compare import compare_rows
from tests.layouts import generate

# Gold tests are never skipped: without the fonts the layouts cannot be typeset, so fail.
assert generate.fonts_available(), "DejaVu fonts missing: apt-get install fonts-dejavu-core (as .ci/run does)"

STYLES = sorted(generate.STYLES)
RANDOM_SEED = 7  # random combinations of the style options, fixed
RANDOM_STYLES = {st.name: st for st in generate.random_styles(RANDOM_SEED, 6)}


@pytest.fixture(scope="module")
def layout_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("layouts")


def extract_style(name: str, folder: Path) -> Path:
    from flows.extract import run_extraction

    style = generate.STYLES.get(name) or RANDOM_STYLES[name]
    pdf = generate.build(style, folder / f"{name}.pdf")
    out = folder / name
    run_extraction(str(pdf), str(out))
    return out


def compare_tables(out: Path) -> tuple[int, int, list[str]]:
    """All four tables against the gold, the block column aside (pagination differs by style)."""
    total = equal = 0
    bad: list[str] = []
    for number in (1, 2, 3, 4):
        gold = read_csv(GOLD / f"table{number}.csv")
        path = out / "tables" / f"table{number}.csv"
        got = read_csv(path) if path.exists() else []
        if got and list(got[0]) != list(gold[0]):
            bad.append(f"table {number}: columns {list(got[0])}")
        n, ok, wrong = compare_rows(got, gold, ignore=frozenset({"block"}), where=f"table {number} ")
        total, equal, bad = total + n, equal + ok, bad + wrong
    return total, equal, bad


@pytest.mark.parametrize("name", STYLES)
def test_layout_reproduces_gold(name, layout_dir):
    out = extract_style(name, layout_dir)
    total, equal, bad = compare_tables(out)
    print(f"{name}: {equal}/{total} cells ({equal / max(total, 1):.2%})")
    assert not bad, f"{name}: {equal}/{total} cells\n" + "\n".join(bad[:30])

    gold_meta = json.loads((GOLD / "tables.json").read_text("utf-8"))
    got_meta = json.loads((out / "tables" / "tables.json").read_text("utf-8"))
    assert [t["table"] for t in got_meta] == [1, 2, 3, 4]
    for g, e in zip(gold_meta, got_meta):
        assert e["caption"] == g["caption"], name
        assert e["columns"] == g["columns"], name
        assert e["footnote"] == g["footnote"], name

    blocks = [json.loads(line) for line in (out / "text.jsonl").read_text("utf-8").splitlines()]
    narrative = " ".join(b["text"] for b in blocks if b["type"] in ("paragraph", "front_matter"))
    narrative = " ".join(narrative.split())
    for para in generate.expected_paragraphs():
        assert para in narrative, f"{name}: paragraph lost or altered: {para[:60]}…"
    everything = "\n".join(b["text"] for b in blocks)
    assert not re.search(r"NCT\d{8}", everything), f"{name}: table cells leaked into the text layer"
    assert "Layout Test Journal" not in everything, f"{name}: running head in the text layer"


@pytest.mark.parametrize("name", sorted(RANDOM_STYLES))
def test_random_style_combination_reproduces_gold(name, layout_dir):
    out = extract_style(name, layout_dir)  # the seed is fixed: every combination typesets
    total, equal, bad = compare_tables(out)
    print(f"{name} {RANDOM_STYLES[name]}: {equal}/{total} cells ({equal / max(total, 1):.2%})")
    assert not bad, f"{name} {RANDOM_STYLES[name]}: {equal}/{total} cells\n" + "\n".join(bad[:30])
