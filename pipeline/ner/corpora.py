"""Readers for the biomedical NER corpora in ``data/corpora`` and conversion to spaCy docs.

* IOB files (``token<TAB>tag``, blank line between sentences): BC5CDR, BC2GM, NCBI-disease.
  Docs are built on the gold tokens (``spaces`` left unknown so spaCy's corpus reader keeps
  the gold tokenisation instead of re-tokenising).
* PubTator files (BC5CDR raw title + abstract with character offsets): tokenised with the
  shipped tokenizer, mentions attached with ``Doc.char_span``.

Corpus labels are mapped to the pipeline's labels ``CHEMICAL``, ``DISEASE``,
``GENE_OR_PROTEIN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from spacy.tokens import Doc, Span

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPORA_DIR = REPO_ROOT / "data" / "corpora"

LABEL_MAP = {
    "Chemical": "CHEMICAL",
    "Disease": "DISEASE",
    "GENE": "GENE_OR_PROTEIN",
}
LABELS = ("CHEMICAL", "DISEASE", "GENE_OR_PROTEIN")

# name -> (relative folder, labels it annotates)
IOB_CORPORA = {
    "bc5cdr": ("bc5cdr/iob", ("CHEMICAL", "DISEASE")),
    "bc2gm": ("bc2gm", ("GENE_OR_PROTEIN",)),
    "ncbi_disease": ("ncbi_disease", ("DISEASE",)),
}
PUBTATOR_FILES = {
    "train": "CDR_TrainingSet.PubTator.txt",
    "devel": "CDR_DevelopmentSet.PubTator.txt",
    "test": "CDR_TestSet.PubTator.txt",
}


def iob_path(corpus: str, split: str, root: Path = CORPORA_DIR) -> Path:
    return root / IOB_CORPORA[corpus][0] / f"{split}.tsv"


def read_iob(path: Path) -> Iterator[tuple[list[str], list[str]]]:
    """Yield ``(tokens, iob_tags)`` per sentence; tag types are mapped to pipeline labels."""
    tokens: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if tokens:
                    yield tokens, tags
                tokens, tags = [], []
                continue
            tok, tag = line.split("\t")
            if tag != "O":
                prefix, typ = tag.split("-", 1)
                tag = f"{prefix}-{LABEL_MAP[typ]}"
            tokens.append(tok)
            tags.append(tag)
    if tokens:
        yield tokens, tags


def iob_to_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """IOB2 tags -> ``(start_token, end_token_exclusive, label)``."""
    spans = []
    start = label = None
    for i, tag in enumerate(tags + ["O"]):
        if tag == "O" or tag.startswith("B-") or (label is not None and tag[2:] != label):
            if start is not None:
                spans.append((start, i, label))
            start = label = None
        if tag.startswith("B-") or (tag.startswith("I-") and start is None):
            start, label = i, tag[2:]
    return spans


def iob_docs(vocab, path: Path, limit: int | None = None) -> list[Doc]:
    """Docs on the gold tokens with gold entities (unknown spaces)."""
    docs = []
    for n, (tokens, tags) in enumerate(read_iob(path)):
        if limit is not None and n >= limit:
            break
        doc = Doc(vocab, words=tokens)
        doc.ents = [Span(doc, s, e, label=lab) for s, e, lab in iob_to_spans(tags)]
        docs.append(doc)
    return docs


@dataclass
class PubtatorDoc:
    pmid: str
    text: str
    # (start_char, end_char, label)
    mentions: list[tuple[int, int, str]] = field(default_factory=list)


def read_pubtator(path: Path) -> list[PubtatorDoc]:
    """Parse a PubTator file (title + " " + abstract, 0-based end-exclusive offsets)."""
    docs: list[PubtatorDoc] = []
    title = abstract = None
    current: PubtatorDoc | None = None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                current = None
                continue
            if "|t|" in line[:20] and line.split("|", 2)[1] == "t":
                pmid, _, title = line.split("|", 2)
                current = None
                continue
            if "|a|" in line[:20] and line.split("|", 2)[1] == "a":
                pmid, _, abstract = line.split("|", 2)
                current = PubtatorDoc(pmid, f"{title} {abstract}")
                docs.append(current)
                continue
            cols = line.split("\t")
            if len(cols) >= 6 and current is not None and cols[1] != "CID":
                start, end, typ = int(cols[1]), int(cols[2]), cols[4]
                assert current.text[start:end] == cols[3], (current.pmid, cols)
                current.mentions.append((start, end, LABEL_MAP[typ]))
    return docs


def pubtator_docs(nlp, path: Path, stats: dict | None = None) -> list[Doc]:
    """Tokenise PubTator abstracts with ``nlp``'s tokenizer and attach gold mentions.

    Mentions that do not fall on token boundaries are attached with
    ``alignment_mode="expand"`` (counted in ``stats['expanded']``).
    """
    out = []
    n_total = n_expanded = n_dropped = 0
    for pdoc in read_pubtator(path):
        doc = nlp.make_doc(pdoc.text)
        spans = []
        for start, end, label in sorted(pdoc.mentions):
            n_total += 1
            span = doc.char_span(start, end, label=label)
            if span is None:
                span = doc.char_span(start, end, label=label, alignment_mode="expand")
                n_expanded += 1
            if span is None or (spans and span.start < spans[-1].end):
                n_dropped += 1
                continue
            spans.append(span)
        doc.ents = spans
        doc.user_data["pmid"] = pdoc.pmid
        out.append(doc)
    if stats is not None:
        stats.update(total=n_total, expanded=n_expanded, dropped=n_dropped)
    return out
