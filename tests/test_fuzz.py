"""Bounded fuzzing: mutated bytes of the reference PDF never crash the pipeline or hang it.

A slice of the bundled review (its first page and two table pages, cut with pypdf and
saved uncompressed so mutations hit content streams as well as the file structure) is
mutated with a fixed seed: bytes flipped, runs deleted or duplicated, numbers changed,
the file truncated. Each mutant runs the whole extraction with a per-file time limit (the limit must end it: a
run far past it is a hang); the only acceptable outcomes are a result or one of the documented
errors. A fixed number of mutants runs whatever the machine's load: no total time budget.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pypdf

from pipeline.errors import ReviewExtractError
from tests.conftest import REVIEW_PDF

SEED = 20240612
MUTANTS = 24
PER_FILE_SECONDS = 15.0


def _slice(path: Path, pages: list[int], out: Path) -> bytes:
    reader = pypdf.PdfReader(str(path))
    writer = pypdf.PdfWriter()
    for n in pages:
        writer.add_page(reader.pages[n - 1])
    for page in writer.pages:  # content streams written uncompressed: mutations hit operators
        page.replace_contents(page.get_contents())
    with open(out, "wb") as handle:
        writer.write(handle)
    return out.read_bytes()


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    kind = rng.choice(["flip", "flip", "delete", "duplicate", "numbers", "truncate", "tokens"])
    if kind == "flip":
        for _ in range(rng.randint(1, 64)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif kind == "delete":
        start = rng.randrange(len(buf))
        del buf[start:start + rng.randint(1, 4096)]
    elif kind == "duplicate":
        start = rng.randrange(len(buf))
        piece = buf[start:start + rng.randint(1, 4096)]
        at = rng.randrange(len(buf))
        buf[at:at] = piece
    elif kind == "numbers":
        text = buf.decode("latin-1")
        spots = [m.span() for m in re.finditer(rb"-?\d+(\.\d+)?".decode(), text)]
        for a, b in rng.sample(spots, min(len(spots), rng.randint(1, 40))):
            text = text[:a] + rng.choice(["0", "-1", "99999999", "1e308", "nan", "3.5", "-0.0001"]).ljust(b - a)[: max(b - a, 1)] + text[b:]
        buf = bytearray(text.encode("latin-1"))
    elif kind == "truncate":
        del buf[rng.randrange(len(buf) // 4, len(buf)):]
    else:  # structural tokens swapped
        text = buf.decode("latin-1")
        for token in rng.sample(["obj", "endobj", "stream", "endstream", "xref", "trailer", "/Length", "BT", "ET",
                                 "Tf", "Tj", "TJ", "re", "cm"], 3):
            text = text.replace(token, rng.choice(["", "obj", "<<", ">>", "[", "]", "(", "/X"]), rng.randint(1, 5))
        buf = bytearray(text.encode("latin-1"))
    return bytes(buf)


def test_mutated_reference_pdfs_fail_cleanly(tmp_path):
    from flows.extract import run_extraction

    base = _slice(REVIEW_PDF, [1, 8, 9], tmp_path / "slice.pdf")
    rng = random.Random(SEED)
    outcomes: dict[str, int] = {}
    crashes = []
    started = time.monotonic()
    slowest = 0.0
    for i in range(MUTANTS):
        pdf = tmp_path / f"mutant{i:02d}.pdf"
        pdf.write_bytes(mutate(base, rng))
        t0 = time.monotonic()
        try:
            run_extraction(str(pdf), str(tmp_path / f"out{i:02d}"), timeout=PER_FILE_SECONDS)
            outcome = "ok"
        except ReviewExtractError as exc:
            outcome = type(exc).__name__
            assert "\n" not in str(exc), "an error message must be one line"
            assert not (tmp_path / f"out{i:02d}").exists(), "a failed run left an output folder"
        except Exception as exc:  # anything else is a crash
            outcome = "CRASH"
            crashes.append(f"mutant {i}: {type(exc).__name__}: {exc}")
        elapsed = time.monotonic() - t0
        slowest = max(slowest, elapsed)
        assert elapsed < PER_FILE_SECONDS + 5, f"mutant {i} ran {elapsed:.1f} s past its time limit"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(f"fuzz outcomes: {outcomes}; slowest {slowest:.1f} s; total {time.monotonic() - started:.1f} s")
    assert not crashes, "\n".join(crashes)
