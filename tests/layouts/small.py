"""Small generated PDFs for the bad-input tests: long, without tables, image-only, a broken row."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas as rl_canvas

from tests.layouts.generate import PARAGRAPHS, font_names, wrap


def long_pdf(path: Path, pages: int = 300) -> Path:
    """A long document: *pages* pages of narrative text (a running head and a folio on each)."""
    regular, bold = font_names("serif")
    c = rl_canvas.Canvas(str(path), pagesize=A4, pageCompression=1)
    w, h = A4
    for n in range(1, pages + 1):
        c.setFont(regular, 8)
        c.drawString(50, h - 30, "Long Document Test (2024)")
        c.drawRightString(w - 50, h - 30, f"Page {n} of {pages}")
        c.setFont(bold, 12)
        c.drawString(50, h - 70, f"Section {n}")
        c.setFont(regular, 10)
        y = h - 95
        for line in wrap(PARAGRAPHS[n % len(PARAGRAPHS)], regular, 10, w - 100):
            c.drawString(50, y, line)
            y -= 12.5
        c.showPage()
    c.save()
    return path


def no_tables_pdf(path: Path) -> Path:
    return long_pdf(path, pages=2)


def image_only_pdf(path: Path, pages: int = 2) -> Path:
    """A "scanned" document: every page is one image, no text layer."""
    from PIL import Image, ImageDraw

    img_path = path.with_suffix(".png")
    img = Image.new("L", (620, 860), 255)
    draw = ImageDraw.Draw(img)
    for k in range(30):
        draw.rectangle((40, 40 + 26 * k, 560 - (k % 5) * 40, 52 + 26 * k), fill=40)
    img.save(img_path)
    c = rl_canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        c.drawImage(str(img_path), 0, 0, A4[0], A4[1])
        c.showPage()
    c.save()
    img_path.unlink()
    return path


def ruled_table(c, fonts: tuple[str, str], y: float, caption: str, xs: list[float],
                 labels: list[str] | None, rows: list[list[str] | None]) -> float:
    """Draw "Table 1 <caption>" and a three-rule table at *y*; a None row spans all columns.

    Returns the y of the bottom rule.
    """
    regular, bold = fonts
    w = A4[0]
    c.setFont(bold, 8.5)
    c.drawString(50, y, "Table 1")
    c.setFont(regular, 8.5)
    c.drawString(81, y, caption)
    y -= 8
    c.setLineWidth(0.8)
    c.line(50, y, w - 50, y)
    c.setFont(regular, 7)
    if labels:
        for x, lbl in zip(xs, labels):
            c.drawString(x, y - 10, lbl)
        y -= 15
        c.line(50, y, w - 50, y)
    for row in rows:
        y -= 12
        if row is None:
            c.drawString(50, y, "Sites below joined the trial after the interim analysis in 2021 and report early data")
        else:
            for x, val in zip(xs, row):
                c.drawString(x, y, val)
    y -= 6
    c.line(50, y, w - 50, y)
    return y


def _paragraph(c, font: str, text: str, top: float) -> None:
    for k, line in enumerate(wrap(text, font, 10, A4[0] - 100)):
        c.setFont(font, 10)
        c.drawString(50, top - 12.5 * k, line)


def broken_row_pdf(path: Path) -> Path:
    """A ruled table with one body row printed across all its columns (cannot be split)."""
    fonts = font_names("sans")
    c = rl_canvas.Canvas(str(path), pagesize=A4)
    h = A4[1]
    _paragraph(c, fonts[0], PARAGRAPHS[0], h - 80)
    rows = [["Alpha Clinic", "France", "24", "61", "NCT01000001"],
            ["Beta Hospital", "Spain", "31", "58", "NCT01000002"],
            ["Gamma Centre", "Italy", "18", "72", "NCT01000003"],
            ["Delta Institute", "Greece", "40", "49", "NCT01000004"],
            None,  # the broken row
            ["Epsilon Clinic", "Norway", "12", "66", "NCT01000005"],
            ["Zeta Hospital", "Poland", "27", "55", "NCT01000006"]]
    y = ruled_table(c, fonts, h - 180, "Enrolment by site", [50, 140, 230, 320, 410],
                     ["Site", "Country", "Patients", "ORR %", "Trial"], rows)
    _paragraph(c, fonts[0], PARAGRAPHS[1], y - 40)
    c.showPage()
    c.save()
    return path


def encrypt(src: Path, dst: Path, password: str) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(src))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-256")
    with open(dst, "wb") as handle:
        writer.write(handle)
    return dst


def suspicious_table_pdf(path: Path) -> Path:
    """A ruled two-page table with cells a sanity check must flag.

    Page 1: a malformed registry id, text in a numeric column, a percentage over 100 and a
    duplicated row. Page 2 ("Table 1 (continued)"): its columns do not line up with page 1's.
    """
    fonts = font_names("sans")
    c = rl_canvas.Canvas(str(path), pagesize=A4)
    h = A4[1]
    _paragraph(c, fonts[0], PARAGRAPHS[0], h - 80)
    ruled_table(c, fonts, h - 180, "Trial sites", [50, 160, 250, 340, 430],
                 ["Site", "Patients", "ORR %", "Status", "Trial"], [
                     ["Alpha Clinic", "24", "61", "Recruiting", "NCT01000001"],
                     ["Beta Hospital", "31", "58", "Completed", "NCT0100002"],
                     ["Gamma Centre", "eighteen", "72", "Completed", "NCT01000003"],
                     ["Delta Institute", "40", "112", "Recruiting", "NCT01000004"],
                     ["Epsilon Clinic", "12", "66", "Unknown", "NCT01000005"],
                     ["Epsilon Clinic", "12", "66", "Unknown", "NCT01000005"],
                     ["Zeta Hospital", "27", "55", "Completed", "NCT01000006"],
                 ])
    c.showPage()
    ruled_table(c, fonts, h - 60, "(continued)", [50, 205, 300], None, [
        ["Eta Hospital 21", "Completed NCT01000007", "59"],
        ["Theta Clinic 33", "Recruiting NCT01000008", "62"],
    ])
    _paragraph(c, fonts[0], PARAGRAPHS[1], h - 200)
    c.showPage()
    c.save()
    return path


def mixed_scan_pdf(path: Path) -> Path:
    """Two text pages with a scanned (image-only) page between them."""
    from pypdf import PdfReader, PdfWriter

    text = long_pdf(path.with_name(path.stem + "-text.pdf"), pages=2)
    scan = image_only_pdf(path.with_name(path.stem + "-scan.pdf"), pages=1)
    writer = PdfWriter()
    t, sc = PdfReader(str(text)), PdfReader(str(scan))
    for page in (t.pages[0], sc.pages[0], t.pages[1]):
        writer.add_page(page)
    with open(path, "wb") as handle:
        writer.write(handle)
    return path
