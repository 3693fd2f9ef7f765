"""Write pipeline/glyph_shapes.json: reference outlines of the characters a glyph may be named as.

Usage: python scripts/build_glyph_shapes.py [FONT.ttf ...]

Each character is drawn from every given font that has it (default: the DejaVu and Liberation
fonts of a Debian/Ubuntu system, packages fonts-dejavu-core and fonts-liberation) into the
bitmap and proportions pipeline/glyph_shapes.py compares. Only these derived bitmaps are
stored, not the fonts. DejaVu: Bitstream Vera licence (free, derived works allowed);
Liberation: SIL Open Font License 1.1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fontTools.ttLib import TTFont

from pipeline.glyph_shapes import REFERENCE_FILE, outline_contours, shape_of

DEFAULT_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Italic.ttf",
]
# Letters and digits are references too, so a letter's outline is never taken for a symbol.
CHARACTERS = (
    "".join(chr(c) for c in range(0x21, 0x7F))
    + "¡¢£¥§¨©«¬®¯°±²³´µ¶·¸¹º»¼½¾¿×÷ÅØåø"
    + "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρστυφχψωϕϑϵ"
    + "‐–—‘’‚“”„†‡•…‰′″‹›⁄€™Ω℃←↑→↓↔⇒⇔"
    + "∀∂∃∅∆∇∈∉∋∏∑−∓∕∗∘∙√∝∞∠∧∨∩∪∫∴∼≃≅≈≠≡≤≥≪≫⊂⊃⊆⊇⊕⊗⊥⋅"
    + "■□▪▫▲△▶▷▼▽◀◁◆◇○◊●◦★☆✓✔✗✘"
    + "ﬀﬁﬂﬃﬄ"
)


def main(fonts: list[str]) -> int:
    glyphs: dict[str, list] = {c: [] for c in CHARACTERS}
    used = []
    for path in fonts:
        if not Path(path).exists():
            print(f"skipped (not found): {path}")
            continue
        font = TTFont(path)
        cmap = font.getBestCmap()
        glyph_set = font.getGlyphSet()
        em = font["head"].unitsPerEm
        used.append(Path(path).name)
        for char in CHARACTERS:
            name = cmap.get(ord(char))
            if name is None:
                continue
            shape = shape_of(outline_contours(glyph_set, name), em)
            if shape is not None:
                glyphs[char].append(shape.to_json())
    glyphs = {c: items for c, items in glyphs.items() if items}
    REFERENCE_FILE.write_text(json.dumps({"fonts": used, "glyphs": glyphs}, ensure_ascii=False, separators=(",", ":")),
                              "utf-8")
    print(f"{REFERENCE_FILE}: {len(glyphs)} characters from {len(used)} fonts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or DEFAULT_FONTS))
