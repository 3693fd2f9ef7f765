"""Cell-by-cell comparison of extracted table rows with gold rows (shared by the gold tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def normalise_cell(value: str) -> str:
    """Whitespace-normalised cell text; the newlines between stacked items are kept."""
    return "\n".join(" ".join(part.split()) for part in value.strip().split("\n"))


def compare_rows(got: Sequence[Mapping], want: Sequence[Mapping], *, ignore: frozenset = frozenset(),
                 where: str = "") -> tuple[int, int, list[str]]:
    """(cells compared, cells equal, mismatch descriptions); a missing row counts as wrong cells.

    Rows are matched by position; *ignore* names keys not compared (e.g. "block" when
    pagination differs). Positional rows can be passed as ``dict(enumerate(row))``.
    """
    total = equal = 0
    mismatches: list[str] = []
    for i, want_row in enumerate(want):
        have_row = got[i] if i < len(got) else {}
        for key, value in want_row.items():
            if key in ignore:
                continue
            total += 1
            have = have_row.get(key)
            if have is not None and normalise_cell(have) == normalise_cell(value):
                equal += 1
            else:
                mismatches.append(f"{where}row {i + 1} {key}: got {have!r}, want {value!r}")
    if len(got) > len(want):
        mismatches.append(f"{where}{len(got) - len(want)} extra rows")
    return total, equal, mismatches
