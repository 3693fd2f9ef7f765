"""Small typed records that flow between the pipeline's stages.

Data flows one way: PDF -> :class:`PageLayout` (words, rules, fills) ->
:class:`TextBlock` + :class:`Table` -> entities/facts -> trial records -> exports.
Every record that holds extracted text also holds where it came from.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields

BBox = tuple[float, float, float, float]
"""(x0, top, x1, bottom) in PDF points, origin at the page's top-left corner."""


def _pickled_as_constructor_call(cls):
    """Pickle instances of *cls*, a slots dataclass, as a call of its constructor.

    A page travels from its reader process to the main process pickled: tens of thousands of
    words per review. The dataclass default for slots (__getstate__/__setstate__) looks the
    fields up again for every object and sets them one by one, about three times slower each way.
    """
    values = operator.attrgetter(*(f.name for f in fields(cls)))
    cls.__reduce__ = lambda self: (cls, values(self))
    return cls


@_pickled_as_constructor_call
@dataclass(frozen=True, slots=True)
class Word:
    """One word of a page's text layer, with its font and position."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    fontname: str  # without the subset tag
    size: float
    page: int
    # Judged by pipeline.fonts from the font actually used (outlines, descriptor), relative
    # to the document's body font; set by the loader.
    bold: bool = False
    italic: bool = False

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)


@_pickled_as_constructor_call
@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal or vertical ruling line (drawn as a line or a thin rectangle)."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def horizontal(self) -> bool:
        return (self.x1 - self.x0) >= (self.bottom - self.top)


@_pickled_as_constructor_call
@dataclass(frozen=True, slots=True)
class Fill:
    """A filled rectangle that is not a rule: row shading, figure panels, boxes."""

    x0: float
    top: float
    x1: float
    bottom: float
    stroked: bool = False
    filled: bool = True

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)


@dataclass(slots=True)
class PageLayout:
    """Everything later stages need from one page, read from the PDF exactly once."""

    number: int  # 1-based
    width: float
    height: float
    rotation: int
    words: list[Word]
    rules: list[Rule] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    graphics: list[BBox] = field(default_factory=list)  # curves and images (figure art)


@dataclass(slots=True)
class Line:
    """Words on one baseline that belong together (one column of text).

    Its box is worked out once, when it is made: the table and text stages ask a line for its
    edges over and over (hundreds of thousands of times per review), and its words never change.
    """

    words: list[Word]
    x0: float = field(init=False, repr=False, compare=False)
    top: float = field(init=False, repr=False, compare=False)
    x1: float = field(init=False, repr=False, compare=False)
    bottom: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = self.words
        self.x0 = min([w.x0 for w in words])
        self.top = min([w.top for w in words])
        self.x1 = max([w.x1 for w in words])
        self.bottom = max([w.bottom for w in words])

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def size(self) -> float:
        return max(w.size for w in self.words)

    @property
    def page(self) -> int:
        return self.words[0].page

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)


BLOCK_TYPES = (
    "title",
    "heading",
    "paragraph",
    "caption",
    "footnote",
    "reference",
    "abbreviation",
    "figure_text",
    "front_matter",
)


@dataclass(slots=True)
class TextBlock:
    """A block of narrative (or other non-table) text with its page, box and type."""

    id: str
    page: int
    bbox: BBox
    type: str
    text: str
    column: int = 0  # 0 = full width, 1 = left, 2 = right
    continues: str | None = None  # id of the block this paragraph continues (column/page break)
    # Its printed lines: (offset in text where the line starts, the line's box). A sentence
    # of the block is traced to the lines it was printed on (the report's highlights).
    lines: list[tuple[int, BBox]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "page": self.page,
            "bbox": [round(v, 2) for v in self.bbox],
            "type": self.type,
            "column": self.column,
            "continues": self.continues,
            "text": self.text,
            "lines": [[start, *(round(v, 2) for v in box)] for start, box in self.lines],
        }


@dataclass(slots=True)
class Cell:
    """One table cell: its text lines (one item per printed line) and where it was printed."""

    column: str
    lines: list[str]
    page: int
    bbox: BBox | None
    derived_from: str | None = None  # e.g. "fill-down" or "split:nct"

    @property
    def text(self) -> str:
        return join_cell_lines(self.lines)


def join_cell_lines(lines: list[str]) -> str:
    """Join wrapped lines of one cell with single spaces, keeping line-end hyphens as printed.

    Table cells are reproduced as printed, so no dehyphenation happens here: a curator
    compares them with the page, and "Staffing- related" is what the page shows.
    """
    return " ".join(line.strip() for line in lines if line.strip())


@dataclass(slots=True)
class TableRow:
    table: int
    row: int  # 1-based across the whole table
    block: int  # 1-based chunk (page) the row was printed in
    cells: dict[str, Cell]
    page: int
    bbox: BBox


@dataclass(slots=True)
class Table:
    number: int  # position in the document, 1-based (the printed label may be "6.1", "S2" or none)
    caption: str  # the caption's title ("" for a table printed without a caption)
    columns: list[str]  # output column keys, in order (after table,row,block)
    labels: list[str]  # printed column labels, group header prefixed ("group: label")
    footnote: str
    pages: list[int]
    rows: list[TableRow]
    multi_item_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    label: str | None = None  # printed label: "2", "6.1", "A.3", "S1", "IV"; None when uncaptioned
    groups: list[str] = field(default_factory=list)  # group header printed over each column ("" when none)
    # per column: a label with no group that starts level with the group headers (spans both rows)
    labels_level_with_groups: list[bool] = field(default_factory=list)
