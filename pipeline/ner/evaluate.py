"""Evaluate the NER pipeline on the official test splits.

    python -m pipeline.ner.evaluate --model models/ner_bio

Exact-match entity scoring (start, end, label), micro-averaged:

* ``bc5cdr``       BC5CDR test, CHEMICAL + DISEASE, on the gold IOB tokens (the protocol of
                   scispaCy / BioBERT: the pipeline's tokenizer is bypassed).
* ``bc5cdr_raw``   BC5CDR test, CHEMICAL + DISEASE, from the raw PubTator abstracts: the
                   shipped tokenizer runs, predicted character spans are compared with the
                   gold character offsets (what the pipeline does on real text).
* ``bc2gm``        BC2GM test, GENE_OR_PROTEIN, gold IOB tokens, strict matching of the
                   ``GENE`` spans (no ALTGENE alternatives, as BioBERT/BLURB).
* ``ncbi_disease`` NCBI-disease test, DISEASE, gold IOB tokens (a corpus the model was
                   not trained on; its guidelines differ from BC5CDR's).
* ``*_only``       the same test sets with only one recogniser switched on, to show what
                   running the two recognisers in one pipeline costs each of them.

The full pipeline runs in every case; predicted entities of labels that a corpus does not
annotate are ignored for that corpus. Figures go to ``<model>/evaluation.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from . import load_ner_model
from .corpora import CORPORA_DIR, IOB_CORPORA, iob_path, iob_to_spans, read_iob, read_pubtator


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f": round(f, 4), "tp": tp, "fp": fp, "fn": fn,
            "n_gold": tp + fn}


def score_sets(gold: list[set], pred: list[set], labels) -> dict:
    """Per-label and overall (micro) scores from per-document sets of (start, end, label)."""
    counts = defaultdict(lambda: [0, 0, 0])
    for g, p in zip(gold, pred):
        g = {x for x in g if x[2] in labels}
        p = {x for x in p if x[2] in labels}
        for x in g & p:
            counts[x[2]][0] += 1
        for x in p - g:
            counts[x[2]][1] += 1
        for x in g - p:
            counts[x[2]][2] += 1
    out = {lab: prf(*counts[lab]) for lab in labels}
    out["overall"] = prf(*(sum(counts[lab][i] for lab in labels) for i in range(3)))
    return out


def score_iob(nlp: Language, path: Path, labels, limit: int | None = None, batch_size: int = 128) -> dict:
    """Run ``nlp`` on the gold tokens of an IOB file and score the given labels."""
    sents = list(read_iob(path))
    if limit is not None:
        sents = sents[:limit]
    docs = [Doc(nlp.vocab, words=toks) for toks, _ in sents]
    gold = [{(s, e, lab) for s, e, lab in iob_to_spans(tags)} for _, tags in sents]
    t0 = time.time()
    pred = [{(ent.start, ent.end, ent.label_) for ent in doc.ents}
            for doc in nlp.pipe(docs, batch_size=batch_size)]
    secs = time.time() - t0
    res = score_sets(gold, pred, labels)
    res["n_sentences"] = len(sents)
    res["n_tokens"] = sum(len(d) for d in docs)
    res["words_per_second"] = round(res["n_tokens"] / secs) if secs else None
    return res


def score_pubtator(nlp: Language, path: Path, labels) -> dict:
    """Run ``nlp`` (including its tokenizer) on raw abstracts; score character spans."""
    pdocs = read_pubtator(path)
    gold = [set(d.mentions) for d in pdocs]
    t0 = time.time()
    pred = [{(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents}
            for doc in nlp.pipe((d.text for d in pdocs), batch_size=32)]
    secs = time.time() - t0
    res = score_sets(gold, pred, labels)
    res["n_documents"] = len(pdocs)
    res["words_per_second"] = round(sum(len(nlp.make_doc(d.text)) for d in pdocs) / secs)
    return res


# key -> (description, labels scored, data set, components switched off)
EVALUATIONS = {
    "bc5cdr": ("BC5CDR test, gold IOB tokens", ("CHEMICAL", "DISEASE"), "bc5cdr", ()),
    "bc5cdr_raw": ("BC5CDR test, raw PubTator text with the shipped tokenizer",
                   ("CHEMICAL", "DISEASE"), "bc5cdr_raw", ()),
    "bc2gm": ("BC2GM test, gold IOB tokens, strict (no ALTGENE)", ("GENE_OR_PROTEIN",), "bc2gm", ()),
    "ncbi_disease": ("NCBI-disease test, gold IOB tokens (not trained on)", ("DISEASE",), "ncbi_disease", ()),
    # each recogniser alone (the other one disabled): shows what the combination costs
    "bc5cdr_ner_only": ("BC5CDR test, gold IOB tokens, component 'ner' alone",
                        ("CHEMICAL", "DISEASE"), "bc5cdr", ("ner_gene",)),
    "bc2gm_ner_gene_only": ("BC2GM test, gold IOB tokens, component 'ner_gene' alone",
                            ("GENE_OR_PROTEIN",), "bc2gm", ("ner",)),
}
MAIN_EVALUATIONS = ("bc5cdr", "bc5cdr_raw", "bc2gm", "ncbi_disease")


def evaluate(nlp: Language, split: str = "test", corpora_dir: Path = CORPORA_DIR,
             which=tuple(EVALUATIONS)) -> dict:
    results = {}
    for key in which:
        desc, labels, data, disable = EVALUATIONS[key]
        disable = [name for name in disable if name in nlp.pipe_names]
        with nlp.select_pipes(disable=disable):
            if data == "bc5cdr_raw":
                fname = {"test": "CDR_TestSet", "devel": "CDR_DevelopmentSet"}[split]
                res = score_pubtator(nlp, corpora_dir / "bc5cdr" / "pubtator" / f"{fname}.PubTator.txt",
                                     labels)
            else:
                res = score_iob(nlp, iob_path(data, split, corpora_dir), labels)
        res["description"] = desc
        res["split"] = split
        res["pipeline"] = [n for n in nlp.pipe_names if n not in disable]
        results[key] = res
    return results


def format_table(results: dict) -> str:
    lines = [f"{'evaluation':<20} {'label':<16} {'P':>7} {'R':>7} {'F1':>7} {'gold':>6}"]
    for key, res in results.items():
        labels = EVALUATIONS[key][1]
        for lab in (*labels, "overall"):
            s = res[lab]
            lines.append(f"{key:<20} {lab:<16} {100*s['p']:7.2f} {100*s['r']:7.2f} {100*s['f']:7.2f} "
                         f"{s['n_gold']:6d}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Evaluate the biomedical NER pipeline.")
    ap.add_argument("--model", type=Path, default=None, help="pipeline directory (default models/ner_bio)")
    ap.add_argument("--split", default="test", choices=["test", "devel"])
    ap.add_argument("--corpora", nargs="+", default=list(EVALUATIONS), choices=list(EVALUATIONS))
    ap.add_argument("--no-write", action="store_true", help="do not write evaluation.json")
    args = ap.parse_args(argv)
    nlp = load_ner_model(args.model)
    model_dir = Path(args.model) if args.model else None
    results = evaluate(nlp, args.split, which=args.corpora)
    print(f"model: {args.model or 'models/ner_bio'}  pipeline: {nlp.pipe_names}  split: {args.split}")
    print(format_table(results))
    if not args.no_write and args.split == "test":
        from . import DEFAULT_MODEL_PATH

        target = (model_dir or DEFAULT_MODEL_PATH) / "evaluation.json"
        payload = {
            "model": nlp.meta.get("name"),
            "version": nlp.meta.get("version"),
            "pipeline": nlp.pipe_names,
            "scoring": "exact entity span match (start, end, label), micro-averaged",
            "results": results,
        }
        target.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
