"""Debugging images: what the table engine saw on a page, drawn over the page itself.

`review-extract inspect PDF --pages 3,4 --out DIR` writes one PNG per page with every
table chunk's region, caption, header, column and row separators and footnote drawn in
colour, and a legend below the page, so a user can see why a table came out as it did
(the role pdfplumber's debugging images play for its users).

The chunks are the ones :func:`pipeline.tables.extract_tables` returns for the whole
document (a continued table needs the pages before it); pieces a chunk does not have (no
caption, no header rule, columns not parsed) are simply not drawn.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.records import BBox

RESOLUTION = 100  # dpi of the page images

# (label, RGBA outline, RGBA fill) of each kind of mark; outlines are opaque so they read
# on any page (and can be found again in the image).
TABLE = ("table region", (0, 90, 255, 255), (0, 90, 255, 28))
CAPTION = ("caption", (0, 160, 60, 255), (0, 160, 60, 40))
HEADER = ("header (to the header rule)", (255, 140, 0, 255), (255, 140, 0, 45))
COLUMN = ("column separator", (200, 0, 200, 255), None)
ROW = ("row separator", (230, 0, 0, 255), None)
FOOTNOTE = ("table footnote", (110, 110, 110, 255), (110, 110, 110, 40))
LEGEND = (TABLE, CAPTION, HEADER, COLUMN, ROW, FOOTNOTE)


@dataclass(slots=True)
class PageImageResult:
    page: int
    path: Path
    chunks: int  # table chunks drawn on the page
    tables: list[str] = field(default_factory=list)  # the tables drawn: printed label, or a key for an uncaptioned one


def parse_pages(spec: str, page_count: int) -> list[int]:
    """"3,4" / "2-5" / "1,3-4" -> sorted page numbers; ValueError with a readable message."""
    pages: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not m:
            raise ValueError(f"{part!r} is not a page number or range (use e.g. 3,4 or 2-5)")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if first < 1 or last < first:
            raise ValueError(f"{part!r} is not a valid page range")
        if last > page_count:
            raise ValueError(f"page {last} does not exist: the PDF has {page_count} page(s)")
        pages.update(range(first, last + 1))
    if not pages:
        raise ValueError("no pages given")
    return sorted(pages)


def inspect_pages(pdf: str | Path, pages: str | None, out: str | Path, password: str | None = None,
                  resolution: int = RESOLUTION,
                  progress: Callable[[str], None] | None = None) -> list[PageImageResult]:
    """Write OUT/page-NNN.png for the chosen pages (all pages when *pages* is None).

    Input problems raise the pipeline's errors (missing file, not a PDF, ...); a bad page
    list raises ValueError.
    """
    import pdfplumber

    from pipeline.pdf_loader import load_pdf, to_page_frame
    from pipeline.tables import extract_tables

    doc = load_pdf(pdf, password=password)
    numbers = parse_pages(pages, doc.page_count) if pages else list(range(1, doc.page_count + 1))
    if progress:
        progress(f"read {doc.page_count} page(s); finding tables")
    _, chunks = extract_tables(doc)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with pdfplumber.open(str(pdf), password=password or "") as plumber:
        for number in numbers:
            layout = doc.pages[number - 1]
            page_chunks = [c for c in chunks if c.page == number]
            image = plumber.pages[number - 1].to_image(resolution=resolution)
            back = to_page_frame(layout)
            for chunk in page_chunks:
                _draw_chunk(image, chunk, back)
            path = out / f"page-{number:03d}.png"
            _with_legend(image.annotated, resolution).save(path)
            tables = sorted({c.number for c in page_chunks if getattr(c, "number", None) is not None})
            results.append(PageImageResult(page=number, path=path, chunks=len(page_chunks), tables=tables))
            if progress:
                listed = ", ".join(f"Table {t}" for t in tables) or "no table"
                progress(f"page {number}: {len(page_chunks)} table chunk(s) ({listed}) -> {path}")
    return results


def _valid(box) -> bool:
    return box is not None and len(box) == 4 and box[2] > box[0] and box[3] > box[1]


def _rect(image, box: BBox, style) -> None:
    _, outline, fill = style
    image.draw_rect(box, fill=fill or (0, 0, 0, 0), stroke=outline, stroke_width=2)


def _segment(image, back: Callable[[BBox], BBox], x0: float, top: float, x1: float, bottom: float, style) -> None:
    """An axis-aligned segment of the turned page, drawn where it lies on the displayed page."""
    b = back((x0, top, x1, bottom))
    image.draw_line([(b[0], b[1]), (b[2], b[3])], stroke=style[1], stroke_width=2)


def _draw_chunk(image, chunk, back: Callable[[BBox], BBox]) -> None:
    table_box = getattr(chunk, "table_box", None)
    if not _valid(table_box):
        table_box = getattr(chunk, "bbox", None)
    if not _valid(table_box):
        return
    x0, top, x1, bottom = table_box
    _rect(image, back(table_box), TABLE)
    caption = getattr(chunk, "caption", None)
    caption_lines = getattr(caption, "lines", None) if caption is not None else None
    if caption_lines:
        _rect(image, back(caption.bbox), CAPTION)
    header_bottom = getattr(chunk, "header_bottom", None)
    if header_bottom is not None and top < header_bottom <= bottom:
        _rect(image, back((x0, top, x1, header_bottom)), HEADER)
    columns = sorted(getattr(chunk, "columns", None) or [])
    for (_, left_end), (right_start, _) in zip(columns, columns[1:]):
        x = (left_end + right_start) / 2
        _segment(image, back, x, top, x, bottom, COLUMN)
    for separator in getattr(chunk, "row_separators", None) or []:
        y, sx0, sx1 = separator
        _segment(image, back, max(sx0, x0), y, min(sx1, x1), y, ROW)
    for line in getattr(chunk, "footnote_lines", None) or []:
        _rect(image, back(line.bbox), FOOTNOTE)


def _with_legend(page_image, resolution: int):
    """The annotated page with a legend strip below it (the page itself stays uncovered)."""
    from PIL import Image, ImageDraw

    scale = resolution / 72
    row = int(14 * scale)
    strip = row * (len(LEGEND) + 1)
    canvas = Image.new("RGB", (page_image.width, page_image.height + strip), "white")
    canvas.paste(page_image, (0, 0))
    draw = ImageDraw.Draw(canvas, "RGBA")
    y = page_image.height + row // 2
    draw.line([(0, page_image.height), (page_image.width, page_image.height)], fill=(0, 0, 0), width=1)
    for label, outline, fill in LEGEND:
        x = int(10 * scale)
        if fill is None:
            draw.line([(x, y + row // 3), (x + 2 * row, y + row // 3)], fill=outline, width=2)
        else:
            draw.rectangle([x, y, x + 2 * row, y + row * 2 // 3], fill=fill, outline=outline, width=2)
        draw.text((x + 3 * row, y), label, fill=(0, 0, 0))
        y += row
    return canvas
