"""Passages: narrative blocks re-joined where a paragraph was split across columns or pages.

A paragraph block continues the previous paragraph block when the previous one stops mid-sentence
(no closing punctuation) or when it starts with a plain lower-case word ("relapsed/refractory MM
patients ..."). Floating blocks printed in between (figure captions, figure text, footnotes,
running front matter) are skipped over; a heading ends the paragraph. Every passage keeps the
offset of each of its blocks, so a character position maps back to (block, offset, page).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from pipeline.records import TextBlock

NARRATIVE_TYPES = ("title", "heading", "paragraph", "caption", "figure_text")
FACT_TYPES = ("paragraph", "caption")
FLOATING_TYPES = ("footnote", "caption", "figure_text", "front_matter")
_TERMINATED = re.compile(r"[.!?:;][\"'”’)\]]*$|[\])]$")
_PLAIN_LOWER = re.compile(r"^[a-z][a-z'’]*(?:[\s,.;:)]|$)")


@dataclass(slots=True)
class Passage:
    kind: str
    text: str = ""
    starts: list[int] = field(default_factory=list)  # offset of each block in text
    blocks: list[TextBlock] = field(default_factory=list)

    def add(self, block: TextBlock) -> None:
        if self.blocks:
            self.text += " "
        self.starts.append(len(self.text))
        self.blocks.append(block)
        self.text += block.text

    def locate(self, pos: int) -> tuple[TextBlock, int]:
        """The block holding character *pos* of the passage, and *pos* relative to that block."""
        i = max(0, bisect.bisect_right(self.starts, pos) - 1)
        return self.blocks[i], pos - self.starts[i]


def continues(previous: TextBlock, block: TextBlock) -> bool:
    """Does paragraph *block* continue paragraph *previous* (mid-sentence or lower-case start)?"""
    prev_text = previous.text.rstrip()
    text = block.text.lstrip()
    if not prev_text or not text:
        return False
    return not _TERMINATED.search(prev_text) or bool(_PLAIN_LOWER.match(text))


def build_passages(blocks: list[TextBlock], types: tuple[str, ...] = NARRATIVE_TYPES) -> list[Passage]:
    passages: list[Passage] = []
    open_paragraph: Passage | None = None
    for block in blocks:
        if block.type == "paragraph":
            if open_paragraph is not None and continues(open_paragraph.blocks[-1], block):
                open_paragraph.add(block)
                continue
            open_paragraph = Passage("paragraph")
            open_paragraph.add(block)
            passages.append(open_paragraph)
            continue
        if block.type not in FLOATING_TYPES:
            open_paragraph = None  # headings, references, abbreviations end a paragraph
        if block.type in types and block.text.strip():
            p = Passage(block.type)
            p.add(block)
            passages.append(p)
    return [p for p in passages if p.kind in types]
