"""Page crops for provenance: each page rendered once, regions cut out and shared by many values.

A value's highlight is not painted into the image: the report draws it over the shared crop, so one
crop of a table's region on a page serves every cell printed there (and one crop of a text block
serves every sentence in it). Crops are PNGs with a small adaptive palette: antialiased page text
on white compresses far better that way than as JPEG or WebP at the same legibility.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2  # imported here, not in the render workers: each forked worker would import it again
from PIL import Image

from pipeline.report.data import BBox, ReportData, Source

DEFAULT_DPI = 170  # 6-7 pt table text stays legible at 100 % zoom
PALETTE_COLORS = 32
PNG_COMPRESSION = 3  # zlib level: palette crops are barely larger than at 6, saved in half the time
TABLE_HEADER_ROOM = 90.0  # points above a table's first row on a page (column headers, caption)
MARGIN = 8.0


@dataclass(slots=True)
class Crop:
    id: str
    page: int
    region: BBox  # PDF points
    src: str = ""  # relative to the report folder
    width: int = 0  # pixels
    height: int = 0

    def percent(self, box: BBox) -> tuple[float, float, float, float]:
        """A box in PDF points -> (left, top, width, height) in % of this crop."""
        x0, top, x1, bottom = self.region
        w, h = (x1 - x0) or 1.0, (bottom - top) or 1.0
        return (round((box[0] - x0) / w * 100, 2), round((box[1] - top) / h * 100, 2),
                round((box[2] - box[0]) / w * 100, 2), round((box[3] - box[1]) / h * 100, 2))


@dataclass(slots=True)
class Link:
    """A value's way to its page: a crop and highlight boxes in % of the crop."""

    crop: Crop
    boxes: list[tuple[float, float, float, float]]
    label: str
    peek: dict | None = None  # static viewport (conflicts), set by the report
    band: tuple[float, float, float, float] | None = None  # the table row, in % of the crop

    @property
    def band_attr(self) -> str:
        return ",".join(f"{v:g}" for v in self.band) if self.band else ""

    @property
    def hl(self) -> str:
        return ";".join(",".join(f"{v:g}" for v in b) for b in self.boxes)


def _norm_chars(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[^0-9a-z]+", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())


@functools.lru_cache(maxsize=4096)
def _norm_char(char: str) -> str:
    """:func:`_norm_chars` of one character (page texts are normalised character by character)."""
    return _norm_chars(char)


def _union(boxes) -> BBox:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _grow(box: BBox, dx: float, dy: float, width: float, height: float) -> BBox:
    return (max(0.0, box[0] - dx), max(0.0, box[1] - dy), min(width, box[2] + dx), min(height, box[3] + dy))


@dataclass
class CropBook:
    """Collects crop regions and sentence lookups, then renders each needed page once."""

    pdf_path: Path | None
    img_dir: Path
    dpi: int = DEFAULT_DPI
    crops: dict[tuple, Crop] = field(default_factory=dict)
    page_sizes: dict[int, tuple[float, float]] = field(default_factory=dict)
    _pdf: object = None
    _streams: dict[int, tuple] = field(default_factory=dict)
    _located: dict[tuple[int, str], list[BBox]] = field(default_factory=dict)
    row_bands: dict[tuple[int, int, int], BBox] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.pdf_path is not None and Path(self.pdf_path).exists():
            import pdfplumber

            try:
                self._pdf = pdfplumber.open(str(self.pdf_path))
                for i, page in enumerate(self._pdf.pages, start=1):
                    self.page_sizes[i] = (float(page.width), float(page.height))
            except Exception as exc:  # noqa: BLE001 - encrypted, damaged: a report without crops
                self._pdf = None
                self.page_sizes.clear()
                self.warnings.append(f"source PDF could not be opened ({type(exc).__name__}): values have no page crops")
        else:
            self.warnings.append(f"source PDF not found ({self.pdf_path}): values have no page crops")

    @property
    def available(self) -> bool:
        return self._pdf is not None

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()

    # ---------------------------------------------------------------- regions

    def crop(self, page: int, region: BBox, key: tuple | None = None) -> Crop | None:
        if not self.available or page not in self.page_sizes:
            return None
        w, h = self.page_sizes[page]
        region = (max(0.0, region[0]), max(0.0, region[1]), min(w, region[2]), min(h, region[3]))
        key = key or (page, tuple(round(v, 1) for v in region))
        if key not in self.crops:
            self.crops[key] = Crop(id=f"c{len(self.crops) + 1}", page=page, region=region)
        return self.crops[key]

    def table_regions(self, data: ReportData) -> dict[tuple[int, int], BBox]:
        """(table, page) -> the region of the table printed on that page, header included."""
        regions: dict[tuple[int, int], BBox] = {}
        for table in data.tables:
            by_page: dict[int, list[BBox]] = {}
            by_row: dict[tuple[int, int, int], list[BBox]] = {}
            for (row, _col), src in table["cells"].items():
                if src.page and src.boxes:
                    by_page.setdefault(src.page, []).extend(src.boxes)
                    if src.derived_from != "fill-down":  # spanning cells reach into other rows
                        by_row.setdefault((table["table"], row, src.page), []).extend(src.boxes)
            for key, boxes in by_row.items():
                self.row_bands[key] = _union(boxes)
            for page, boxes in by_page.items():
                if page not in self.page_sizes:
                    continue
                x0, top, x1, bottom = _union(boxes)
                ceiling = top - TABLE_HEADER_ROOM
                for block in data.blocks:  # stop at narrative text printed above the table
                    if block.get("page") != page:
                        continue
                    bx0, btop, bx1, bbottom = block["bbox"]
                    if bbottom <= top - 2 and bx1 > x0 and bx0 < x1:
                        ceiling = max(ceiling, bbottom + 2)
                w, h = self.page_sizes[page]
                regions[(table["table"], page)] = (max(0.0, x0 - MARGIN), max(0.0, ceiling),
                                                   min(w, x1 + MARGIN), min(h, bottom + MARGIN))
        return regions

    def link_table_source(self, src: Source, regions: dict[tuple[int, int], BBox]) -> Link | None:
        region = regions.get((src.table, src.page)) if src.table is not None else None
        if region is None or not src.boxes:
            return None
        crop = self.crop(src.page, region, key=("table", src.table, src.page))
        if crop is None:
            return None
        link = Link(crop, [crop.percent(b) for b in src.boxes], src.describe())
        band = self.row_bands.get((src.table, src.row, src.page)) if src.row is not None else None
        if band is not None:
            band = (region[0] + 2, band[1] - 1, region[2] - 2, band[3] + 1)
            link.band = crop.percent(band)
        return link

    def link_text_source(self, src: Source, blocks: list[dict]) -> Link | None:
        """A narrative source: find its sentence (or use its boxes) and crop the text block(s)."""
        if not src.page or src.page not in self.page_sizes:
            return None
        boxes = list(src.boxes)
        if not boxes and src.sentence:
            boxes = self.locate_sentence(src.page, src.sentence, blocks)
            src.boxes = boxes
        w, h = self.page_sizes[src.page]
        page_blocks = [b for b in blocks if b.get("page") == src.page]
        if boxes:
            hits = [b for b in page_blocks if any(_overlaps(b["bbox"], box) for box in boxes)]
            if hits and all(b["bbox"][3] - b["bbox"][1] < 420 for b in hits):
                region = _grow(_union(b["bbox"] for b in hits), 14, 10, w, h)
                key = ("blocks", src.page, tuple(sorted(b.get("id", "") for b in hits)))
            else:
                region = _grow(_union(boxes), 40, 36, w, h)
                key = None
            crop = self.crop(src.page, region, key=key)
            return Link(crop, [crop.percent(b) for b in boxes], src.describe()) if crop else None
        crop = self.crop(src.page, (0.0, 0.0, w, h), key=("page", src.page))
        if crop is None:
            return None
        return Link(crop, [], src.describe() + " (sentence not located: whole page)")

    # ---------------------------------------------------------------- sentences

    def _stream(self, page: int, blocks: list[dict]):
        """The page's text blocks in reading order as one normalised string. Each of its
        characters is owned by the printed line it came from, (box, first, end offset of the line
        in its block's text), at its offset there; a block whose lines are not known (written
        before text blocks kept them) is one line, its box."""
        if page in self._streams:
            return self._streams[page]
        units: list[tuple[BBox, int, int]] = []
        stream: list[str] = []
        owner: list[int] = []
        offsets: list[int] = []
        for block in (b for b in blocks if b.get("page") == page):
            text = block.get("text") or ""
            lines = [(int(ln[0]), tuple(ln[1:5])) for ln in block.get("lines") or []] or [(0, tuple(block["bbox"]))]
            first = len(units)
            ends = [start for start, _ in lines[1:]] + [len(text)]
            units.extend((box, start, end) for (start, box), end in zip(lines, ends))
            line = 0
            for offset, char in enumerate(text):
                while line + 1 < len(lines) and offset >= lines[line + 1][0]:
                    line += 1
                norm = _norm_char(char)
                stream.append(norm)
                owner.extend([first + line] * len(norm))
                offsets.extend([offset] * len(norm))
        self._streams[page] = (units, owner, offsets, "".join(stream))
        return self._streams[page]

    def locate_sentence(self, page: int, sentence: str, blocks: list[dict]) -> list[BBox]:
        """Line rectangles of *sentence* on *page*, in reading order of the text blocks."""
        key = (page, sentence)
        if key not in self._located:
            self._located[key] = self._locate(page, sentence, blocks)
        return list(self._located[key])

    def _locate(self, page: int, sentence: str, blocks: list[dict]) -> list[BBox]:
        target = _norm_chars(sentence)
        if not target or not self.available:
            return []
        units, owner, offsets, text = self._stream(page, blocks)
        start = text.find(target)
        end = start + len(target) if start >= 0 else -1
        if start < 0:
            from rapidfuzz import fuzz

            al = fuzz.partial_ratio_alignment(target, text, score_cutoff=85)
            if al is not None:
                start, end = al.dest_start, al.dest_end
            else:  # a sentence continued on another page or column: find its head or its tail here
                head, tail = target[:60], target[-60:]
                if len(target) > 60 and text.find(head) >= 0:
                    start = text.find(head)
                    end = min(len(text), start + len(target))
                elif len(target) > 60 and text.find(tail) >= 0:
                    end = text.find(tail) + len(tail)
                    start = max(0, end - len(target))
                else:
                    return []
        if end <= start:
            return []
        hit = sorted(set(owner[start:end]))
        # The sentence's first and last lines are cut where it starts and ends, at its share of
        # the line's characters (the lines keep no word positions: near, not exact, in a
        # proportional font).
        return [_cut_line(*units[i], start=offsets[start] if i == hit[0] else None,
                          stop=offsets[end - 1] + 1 if i == hit[-1] else None) for i in hit]

    # ---------------------------------------------------------------- rendering

    def render(self, report_dir: Path) -> None:
        """Render every page that has crops once and save each crop as a palette PNG; the pages
        are shared between this process and worker processes (pipeline.parallel)."""
        from pipeline.parallel import ForkedWorkers, worker_processes

        if not self.available or not self.crops:
            return
        self.img_dir.mkdir(parents=True, exist_ok=True)
        by_page: dict[int, list[Crop]] = {}
        for crop in self.crops.values():
            by_page.setdefault(crop.page, []).append(crop)
        jobs = [(str(self.pdf_path), page_no, [(c.id, c.region) for c in crops], self.dpi, str(self.img_dir))
                for page_no, crops in sorted(by_page.items())]
        processes = min(worker_processes(), len(jobs))
        if processes > 1:
            with ForkedWorkers(_render_page, jobs, processes, "rendering report images", here=True) as workers:
                rendered = list(workers.results())
        else:
            rendered = [_render_page(job) for job in jobs]
        by_id = {c.id: c for c in self.crops.values()}
        for page_crops in rendered:
            for crop_id, name, width, height in page_crops:
                crop = by_id[crop_id]
                crop.src = f"{self.img_dir.relative_to(report_dir).as_posix()}/{name}"
                crop.width, crop.height = width, height


def _render_page(job: tuple) -> list[tuple[str, str, int, int]]:
    """Render one page (pdfium, as pdfplumber's Page.to_image(antialias=True) does) and save its
    crops: [(crop id, file name, width, height)]."""
    pdf_path, page_no, crops, dpi, img_dir = job
    scale = dpi / 72.0
    pdf = pypdfium2.PdfDocument(pdf_path)
    try:
        page = pdf[page_no - 1]
        # pixel boxes of the crops on the whole page's bitmap (pypdfium2's size: ceil(points * scale))
        width, height = math.ceil(page.get_width() * scale), math.ceil(page.get_height() * scale)
        if page.get_rotation() % 180:
            width, height = height, width
        boxes = []
        for crop_id, region in crops:
            x0, top, x1, bottom = (int(round(v * scale)) for v in region)
            boxes.append((crop_id, (x0, top, min(width, max(x1, x0 + 1)), min(height, max(bottom, top + 1)))))
        left, top = min(b[0] for _, b in boxes), min(b[1] for _, b in boxes)
        right, bottom = max(b[2] for _, b in boxes), max(b[3] for _, b in boxes)
        # Only the part of the page the crops cover is rendered: pdfium cuts whole pixels
        # (ceil(points * scale)) off each side, so the pixels are those of a whole-page render.
        # As RGB (pdfium's BGR with the bytes reversed) the bitmap is the image as it is.
        cut = tuple(max(0.0, px - 1e-6) / scale for px in (left, height - bottom, width - right, top))
        image = page.render(scale=scale, rev_byteorder=True, crop=cut).to_pil()
        page.close()
    finally:
        pdf.close()
    saved = []
    for crop_id, (x0, y0, x1, y1) in boxes:
        part = image.crop((x0 - left, y0 - top, x1 - left, y1 - top))
        part = part.quantize(colors=PALETTE_COLORS, method=Image.Quantize.FASTOCTREE)
        name = f"p{page_no:02d}-{crop_id}.png"
        part.save(Path(img_dir) / name, compress_level=PNG_COMPRESSION)
        saved.append((crop_id, name, part.width, part.height))
    return saved


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _cut_line(box: BBox, first: int, end: int, start: int | None = None, stop: int | None = None) -> BBox:
    """*box*, a printed line holding characters first..end of its block's text, narrowed to
    the characters from *start* and/or up to *stop*, at their share of the line's characters."""
    x0, top, x1, bottom = box
    length = max(1, end - first)
    left = x0 + (x1 - x0) * min(1.0, max(0.0, (start - first) / length)) if start is not None else x0
    right = x0 + (x1 - x0) * min(1.0, max(0.0, (stop - first) / length)) if stop is not None else x1
    return (left, top, max(right, left + 1.0), bottom)
