"""`review-extract inspect`: page images with the table engine's findings drawn where they lie."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

from pipeline.inspect_tables import TABLE, inspect_pages, parse_pages

BMC = Path(__file__).resolve().parent / "fixtures" / "realworld" / "bmc_hsr_2014" / "article.pdf"
RESOLUTION = 72  # one pixel per point: page coordinates are pixel coordinates


def _outline_box(path: Path, page_height: float) -> tuple[int, int, int, int] | None:
    """Bounding box of the table-region outline colour on the page part of the image."""
    image = Image.open(path).convert("RGB")
    colour = TABLE[1][:3]
    height = min(image.height, int(page_height) + 1)
    xs, ys = [], []
    pixels = image.load()
    for y in range(height):
        for x in range(image.width):
            if pixels[x, y] == colour:
                xs.append(x)
                ys.append(y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    out = tmp_path_factory.mktemp("inspect")
    return inspect_pages(BMC, "3-5", out, resolution=RESOLUTION), out


def test_one_png_per_page_with_chunks_counted(images):
    results, out = images
    assert [r.page for r in results] == [3, 4, 5]
    assert sorted(p.name for p in out.glob("*.png")) == ["page-003.png", "page-004.png", "page-005.png"]
    assert [r.tables for r in results] == [[], ["1"], ["2"]]  # printed table labels


@pytest.mark.parametrize("page, cell", [(4, "Opportunity"), (5, "Existence")])
def test_table_outline_drawn_around_the_tables_cells(images, page, cell):
    """Page 5 is a landscape page (/Rotate 90): the outline must still surround the printed cell."""
    results, _ = images
    result = next(r for r in results if r.page == page)
    with pdfplumber.open(BMC) as pdf:
        plumber_page = pdf.pages[page - 1]
        hit = plumber_page.search(cell)[0]
        page_height = plumber_page.height
        page_width = plumber_page.width
    box = _outline_box(result.path, page_height)
    assert box is not None, "no table outline drawn"
    x0, top, x1, bottom = box
    slack = 2  # pixels: rounding to the pixel grid, and the outline's width
    assert (x0 - slack <= hit["x0"] and hit["x1"] <= x1 + slack and top - slack <= hit["top"]
            and hit["bottom"] <= bottom + slack), (box, hit)
    # The outline is the table's, not a page-sized frame.
    assert (x1 - x0) * (bottom - top) < 0.8 * page_width * page_height


def test_page_without_table_has_no_outline(images):
    results, _ = images
    page3 = next(r for r in results if r.page == 3)
    with pdfplumber.open(BMC) as pdf:
        height = pdf.pages[2].height
    assert page3.chunks == 0 and _outline_box(page3.path, height) is None


@pytest.mark.parametrize("spec, count, expected", [("3,4", 10, [3, 4]), ("2-4,2", 10, [2, 3, 4]), (" 1 ", 1, [1])])
def test_parse_pages(spec, count, expected):
    assert parse_pages(spec, count) == expected


@pytest.mark.parametrize("spec", ["0", "11", "a", "4-2", "3,,4"])
def test_parse_pages_rejects(spec):
    with pytest.raises(ValueError):
        parse_pages(spec, 10)


def test_cli_errors(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "pipeline.cli", "inspect", *args],
                              capture_output=True, text=True)

    missing = run(str(tmp_path / "nope.pdf"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad_pages = run(str(BMC), "--pages", "12", "--out", str(tmp_path / "o"))
    assert bad_pages.returncode == 2 and "page 12 does not exist" in bad_pages.stderr
    assert not list((tmp_path).glob("o/*.png"))


def test_table_drawn_in_place_on_page_with_rotated_text_matrix(tmp_path):
    """A landscape table drawn with a rotated text matrix on an upright page: the loader turns
    the text upright, the image shows the page as printed; the outline must surround the
    table's (sideways) glyphs on the image."""
    from tests.layouts import generate

    pdf = generate.build(generate.STYLES["landscape_matrix"], tmp_path / "matrix.pdf")
    results = inspect_pages(pdf, None, tmp_path / "out", resolution=RESOLUTION)
    checked = 0
    with pdfplumber.open(pdf) as doc:
        for result in results:
            page = doc.pages[result.page - 1]
            sideways = [c for c in page.chars if abs(c["matrix"][1]) > abs(c["matrix"][0]) and c["text"].strip()]
            if not result.chunks or len(sideways) < 50:
                continue
            box = _outline_box(result.path, page.height)
            assert box is not None
            x0, top, x1, bottom = box
            inside = sum(1 for c in sideways
                         if x0 <= (c["x0"] + c["x1"]) / 2 <= x1 and top <= (c["top"] + c["bottom"]) / 2 <= bottom)
            # The table holds sideways glyphs (caption and footnote hold others), and its
            # outline lies within the sideways text (a box turned the wrong way would not).
            assert inside >= 20, (result.page, box, inside, len(sideways))
            slack = 10  # the region runs to the rules, a little past the glyphs
            assert (min(c["x0"] for c in sideways) - slack <= x0 and x1 <= max(c["x1"] for c in sideways) + slack
                    and min(c["top"] for c in sideways) - slack <= top
                    and bottom <= max(c["bottom"] for c in sideways) + slack), (result.page, box)
            checked += 1
    assert checked >= 1
