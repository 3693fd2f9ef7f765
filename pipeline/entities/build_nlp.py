"""Regenerate ``models/nlp`` from ``pipeline/entities/nlp.cfg`` and ``models/lexicons``.

    python -m pipeline.entities.build_nlp [--out models/nlp] [--lexicons models/lexicons]

The general drug dictionary comes from the ``drug-named-entity-recognition`` package (a project
dependency); without it the pipeline is built with an empty dictionary and says so.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from pipeline.entities.nlp import CONFIG_PATH, NLP_DIR


def build(out: Path = NLP_DIR, lexicons: Path | None = None) -> Path:
    import spacy

    from pipeline import __version__
    from pipeline.entities import components  # noqa: F401

    config = spacy.util.load_config(CONFIG_PATH, interpolate=False)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    nlp.initialize()
    if lexicons is not None:  # re-initialise the data components from another lexicon folder
        for name in ("registry_ids", "lexicon_linker", "drug_dictionary", "outcome_metrics"):
            nlp.get_pipe(name).initialize(nlp=nlp, lexicon_dir=str(lexicons))
    linker = nlp.get_pipe("lexicon_linker")
    drugs = nlp.get_pipe("drug_dictionary")
    nlp.meta.update({
        "name": "review_extract_entities",
        "version": __version__,
        "description": "Rule/lexicon entity pipeline of review-extract: biomedical tokenizer, sentencizer, "
                       "scispaCy abbreviation detector, registry ids, curated lexicons with guarded fuzzy "
                       "normalisation, general drug dictionary, outcome metrics. No statistical model.",
        "sources": [{"name": "models/lexicons", "versions": linker.data.get("versions", {})},
                    {"name": "drug dictionary", **drugs.meta}],
    })
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".nlp-", dir=out.parent))
    try:
        nlp.to_disk(tmp)
        _sort_sentencizer(tmp / "sentencizer.json")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def _sort_sentencizer(path: Path) -> None:
    """spaCy writes the sentencizer's punctuation set in hash order: sort it (identical rebuilds)."""
    import srsly

    if path.is_file():
        cfg = srsly.read_json(path)
        cfg["punct_chars"] = sorted(cfg.get("punct_chars", []))
        srsly.write_json(path, cfg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=NLP_DIR)
    parser.add_argument("--lexicons", type=Path, default=None)
    args = parser.parse_args(argv)
    out = build(args.out, args.lexicons)
    import json

    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    drug = next((s for s in meta.get("sources", []) if s.get("name") == "drug dictionary"), {})
    print(f"wrote {out} (drug dictionary: {drug.get('variants', 0)} variants from {drug.get('source')})")
    if not drug.get("source"):
        print("warning: drug-named-entity-recognition is not installed; built without the drug dictionary",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
