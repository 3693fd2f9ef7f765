"""Characters for glyphs the text layer does not name, recovered from the font itself.

pdfminer names a glyph from the font's ToUnicode map, else from the glyph names of its
encoding (base encoding + Differences). When neither names it, the text layer says "(cid:3)";
when ToUnicode maps it into the private use area, it says "\\ue103". Both are printed glyphs
whose character the PDF still holds in other ways, tried here in order (as PDF.js and MuPDF do):

1. the glyph's name in the embedded program (its built-in encoding, or its charset via the
   code), read by the Adobe glyph list rules ("asteriskmath", "uni00B1", "f_i");
2. the program's own Unicode cmap (TrueType/OpenType): the character that maps to the glyph;
3. the glyph's outline, compared with reference outlines (``pipeline/glyph_shapes.py``),
   accepted only when clearly one character.

Whatever is recovered is reported with its source (the loader's warnings name the font, the
code and the way); a glyph none of these names keeps its "(cid:N)" or private-use text, so the
table self-check still flags it. Font programs are read once per font and only for fonts whose
glyphs came out unnamed.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from dataclasses import dataclass, field

from pdfminer.encodingdb import name2unicode
from pdfminer.pdftypes import PDFStream, resolve1

from pipeline.fonts import font_refs, pdf_name
from pipeline.glyph_shapes import LOOKALIKES, name_by_shape, outline_contours, shape_of

log = logging.getLogger(__name__)

# A star matched by its outline is written as the keyboard's "*" (the asterisk operator "∗"
# and the text asterisk differ only in height); other look-alikes keep the closest character.
_WRITTEN_AS = {"∗": "*", "⁎": "*"}


def unnamed(text: str) -> bool:
    """A glyph's text that names no character: a "(cid:N)" code, U+FFFD or a private-use point."""
    if text.startswith("(cid:"):
        return True
    return len(text) == 1 and (text == "\ufffd" or unicodedata.category(text) == "Co")


def _usable(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c)[0] not in "C" for c in text)


def _load_type1(data: bytes):
    """A Type 1 program's font dictionary with decrypted charstrings (fontTools' T1Font.parse,
    lenient about a Private dictionary without Subrs, as TeX fonts have)."""
    from fontTools.misc import eexec, psCharStrings, psLib

    font = psLib.suckfont(data, "ascii")
    private = font["Private"]
    len_iv = private.get("lenIV", 4)
    subrs = private.get("Subrs", [])
    charstrings = font["CharStrings"]
    for name, code in charstrings.items():
        plain, _ = eexec.decrypt(code, 4330)
        charstrings[name] = psCharStrings.T1CharString(plain[len_iv:], subrs=subrs)
    for i, code in enumerate(subrs):
        plain, _ = eexec.decrypt(code, 4330)
        subrs[i] = psCharStrings.T1CharString(plain[len_iv:], subrs=subrs)
    return font


@dataclass
class FontProgram:
    """What the embedded program tells about one code: its glyph, that glyph's outline and
    name, and the program's own Unicode map."""

    glyphs: object  # a fontTools glyph set: name -> glyph with draw(pen)
    units_per_em: float
    code_to_glyph: dict[int, str] = field(default_factory=dict)  # the program's built-in encoding
    glyph_order: list[str] = field(default_factory=list)  # glyph id -> name
    cid_keyed: bool = False  # a CID-keyed CFF: glyph of CID n is "cid%05d"
    glyph_unicode: dict[str, str] = field(default_factory=dict)  # from a Unicode cmap


def _read_program(descriptor: dict) -> FontProgram | None:
    for key in ("FontFile", "FontFile2", "FontFile3"):
        stream = resolve1(descriptor.get(key))
        if not isinstance(stream, PDFStream):
            continue
        data = stream.get_data()
        if key == "FontFile2" or data[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
            from fontTools.ttLib import TTFont

            tt = TTFont(io.BytesIO(data), lazy=True)
            program = FontProgram(tt.getGlyphSet(), float(tt["head"].unitsPerEm), glyph_order=tt.getGlyphOrder())
            for table in tt["cmap"].tables if "cmap" in tt else []:
                if table.isUnicode():
                    for point, glyph in table.cmap.items():
                        program.glyph_unicode.setdefault(glyph, chr(point))
                elif table.platformID in (1, 3):  # byte codes (Mac Roman, or symbol at 0xF000+code)
                    for point, glyph in table.cmap.items():
                        program.code_to_glyph.setdefault(point & 0xFF if point >= 0xF000 else point, glyph)
            return program
        if key == "FontFile3":
            from fontTools.cffLib import CFFFontSet

            cff = CFFFontSet()
            cff.decompile(io.BytesIO(data), None)
            top = cff[cff.fontNames[0]]
            program = FontProgram(top.CharStrings, 1.0 / (getattr(top, "FontMatrix", None) or [0.001])[0],
                                  glyph_order=list(top.charset), cid_keyed=hasattr(top, "ROS"))
            encoding = getattr(top, "Encoding", None)
            if isinstance(encoding, list):
                program.code_to_glyph = {i: n for i, n in enumerate(encoding) if n and n != ".notdef"}
            return program
        font = _load_type1(data)
        encoding = font.get("Encoding")
        program = FontProgram(font["CharStrings"], 1.0 / (font.get("FontMatrix") or [0.001])[0])
        if isinstance(encoding, list):
            program.code_to_glyph = {i: n for i, n in enumerate(encoding) if n and n != ".notdef"}
        return program
    return None


@dataclass
class FontRecovery:
    """The recovered characters of one font, keyed by the text pdfminer gave its glyphs."""

    fontname: str
    spec: dict
    _program: FontProgram | None = None
    _program_read: bool = False
    _pdf_font: object = None
    found: dict[str, tuple[str, str, int] | None] = field(default_factory=dict)  # text -> (char, source, code)

    def program(self) -> FontProgram | None:
        if not self._program_read:
            self._program_read = True
            try:
                font = self.spec
                if pdf_name(font.get("Subtype")) == "Type0":
                    font = resolve1((resolve1(font.get("DescendantFonts")) or [None])[0]) or {}
                descriptor = resolve1(font.get("FontDescriptor"))
                if isinstance(descriptor, dict):
                    self._program = _read_program(descriptor)
            except Exception as exc:  # a program fontTools cannot read: nothing recovered from it
                log.debug("font program of %s not read: %s", self.fontname, exc)
        return self._program

    def codes_for(self, text: str) -> list[int]:
        """The codes whose glyphs pdfminer gave as *text*."""
        if text.startswith("(cid:"):
            return [int(text[5:-1])]
        if self._pdf_font is None:
            from pdfminer.pdfinterp import PDFResourceManager

            self._pdf_font = PDFResourceManager(caching=False).get_font(None, self.spec)
        umap = getattr(self._pdf_font, "unicode_map", None)
        return [code for code, t in (umap.cid2unichr.items() if umap else ()) if t == text]

    def glyph_name(self, code: int) -> str | None:
        """The name, in the program, of the glyph *code* draws."""
        program = self.program()
        if pdf_name(self.spec.get("Subtype")) == "Type0":
            if program is None:
                return None
            if program.cid_keyed:
                return f"cid{code:05d}"
            gid = self._cid_to_gid(code)
            return program.glyph_order[gid] if gid is not None and gid < len(program.glyph_order) else None
        encoding = resolve1(self.spec.get("Encoding"))
        if isinstance(encoding, dict):
            current = None
            for item in resolve1(encoding.get("Differences")) or []:
                item = resolve1(item)
                if isinstance(item, int):
                    current = item
                elif current is not None:
                    if current == code:
                        return pdf_name(item)
                    current += 1
        if program is not None:
            return program.code_to_glyph.get(code)
        return None

    def _cid_to_gid(self, cid: int) -> int | None:
        descendant = resolve1((resolve1(self.spec.get("DescendantFonts")) or [None])[0]) or {}
        mapping = resolve1(descendant.get("CIDToGIDMap"))
        if isinstance(mapping, PDFStream):
            data = mapping.get_data()
            return int.from_bytes(data[2 * cid:2 * cid + 2], "big") if 2 * cid + 2 <= len(data) else None
        return cid  # Identity (or absent)

    def recover(self, text: str) -> tuple[str, str, int] | None:
        if text not in self.found:
            self.found[text] = self._recover(text)
        return self.found[text]

    def _recover(self, text: str) -> tuple[str, str, int] | None:
        for code in self.codes_for(text):
            glyph = self.glyph_name(code)
            if not glyph:
                continue
            try:
                named = name2unicode(glyph)
            except Exception:  # not a name the Adobe glyph list rules know
                named = ""
            if _usable(named) and not unnamed(named):
                return named, f"glyph name {glyph!r}", code
            program = self.program()
            if program is None:
                continue
            mapped = program.glyph_unicode.get(glyph, "")
            if _usable(mapped) and not unnamed(mapped):
                return mapped, f"font cmap of glyph {glyph!r}", code
            try:
                shape = shape_of(outline_contours(program.glyphs, glyph), program.units_per_em)
            except Exception as exc:  # a glyph fontTools cannot draw
                log.debug("glyph %s of %s not drawn: %s", glyph, self.fontname, exc)
                continue
            match = name_by_shape(shape) if shape is not None else None
            # Outlines name symbols only: a letter or digit taken for another would change a
            # value without a trace, and fonts that leave glyphs unnamed are symbol fonts.
            if match is not None and not match[0].isalnum():
                char = _WRITTEN_AS.get(match[0], match[0])
                return char, f"outline of glyph {glyph!r} (distance {match[1]:.2f})", code
        return None


def page_fonts(page) -> dict[str, dict]:
    """The font dictionaries a pdfplumber page (and its forms) uses, by pdfminer font name."""
    out: dict[str, dict] = {}
    try:
        for ref in font_refs(resolve1(page.page_obj.resources)):
            spec = resolve1(ref)
            if not isinstance(spec, dict):
                continue
            font = spec
            if pdf_name(spec.get("Subtype")) == "Type0":
                font = resolve1((resolve1(spec.get("DescendantFonts")) or [None])[0]) or {}
            descriptor = resolve1(font.get("FontDescriptor")) if isinstance(font, dict) else None
            name = pdf_name(descriptor.get("FontName")) if isinstance(descriptor, dict) else ""
            out.setdefault(name or pdf_name(spec.get("BaseFont")) or "unknown", spec)
    except Exception as exc:  # a damaged resource dictionary: nothing to recover from
        log.debug("fonts of page %s not listed: %s", page.page_number, exc)
    return out


class GlyphRecovery:
    """Recovers unnamed glyphs across the pages of one document read together; each font is
    examined once, and what was recovered is kept for the document's warnings."""

    def __init__(self) -> None:
        self._fonts: dict[int, FontRecovery] = {}  # by id of the font dictionary (held by the value)
        self._recovered: dict[tuple[str, int, str, str], list[int]] = {}  # (font, code, text, source) -> pages

    def fix_page(self, page, chars: list[dict]) -> None:
        """Give the glyphs of *chars* that the text layer leaves unnamed the character their
        font names, where it does."""
        todo = [c for c in chars if unnamed(c["text"])]
        if not todo:
            return
        fonts = page_fonts(page)
        for char in todo:
            spec = fonts.get(char["fontname"])
            if spec is None:
                continue
            recovery = self._fonts.get(id(spec))
            if recovery is None:
                recovery = self._fonts[id(spec)] = FontRecovery(char["fontname"], spec)
            found = recovery.recover(char["text"])
            if found is None:
                continue
            text, source, code = found
            char["text"] = text
            pages = self._recovered.setdefault((char["fontname"], code, text, source), [])
            if not pages or pages[-1] != page.page_number:
                pages.append(page.page_number)

    def notes(self) -> list[str]:
        """One line per font and code recovered: what it was read as, how, and on which pages."""
        out = []
        for (font, code, text, source), pages in self._recovered.items():
            listed = ", ".join(map(str, pages[:10])) + (" …" if len(pages) > 10 else "")
            out.append(f"page(s) {listed}: glyph code {code} of font {font} has no character in the text "
                       f"layer; read as {text!r} from its {source}")
        return out
