"""Statistical biomedical named-entity recognition (CHEMICAL, DISEASE, GENE_OR_PROTEIN).

The trained spaCy pipeline lives in ``models/ner_bio`` (see its README.md). Load it with
:func:`load_ner_model`; nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

from pipeline import MODELS_DIR

LABELS = ("CHEMICAL", "DISEASE", "GENE_OR_PROTEIN")
DEFAULT_MODEL_PATH = MODELS_DIR / "ner_bio"


def load_ner_model(path: str | Path | None = None, **kwargs):
    """Load the biomedical NER pipeline from disk and return a ``spacy.Language``.

    ``path`` defaults to the repository's ``models/ner_bio``. Extra keyword arguments are
    passed to :func:`spacy.load` (e.g. ``disable=["ner_gene"]``).
    """
    import spacy
    from thinc.api import use_ops

    model_dir = Path(path) if path is not None else DEFAULT_MODEL_PATH
    if not (model_dir / "config.cfg").is_file() or not (model_dir / "meta.json").is_file():
        raise FileNotFoundError(
            f"No trained NER pipeline at {model_dir} (expected config.cfg and meta.json). "
            "Train it with `python -m pipeline.ner.train --out models/ner_bio` "
            "or pass the path of an existing pipeline directory."
        )
    # The model's matrix products go through numpy's BLAS, not thinc's bundled BLIS: BLIS falls
    # back to its generic kernel on a CPU it does not identify (a virtual machine's "AMD EPYC":
    # about 3x slower), numpy's BLAS chooses its kernel at run time. The same products, to
    # float rounding; the parser's own C loop keeps its BLAS.
    with use_ops("numpy", use_blis=False):
        return spacy.load(model_dir, **kwargs)


__all__ = ["LABELS", "DEFAULT_MODEL_PATH", "load_ner_model"]
