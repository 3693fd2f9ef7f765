"""Load (once per process) the entity stage's spaCy pipeline from ``models/nlp``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pipeline import MODELS_DIR

NLP_DIR = MODELS_DIR / "nlp"
CONFIG_PATH = Path(__file__).resolve().with_name("nlp.cfg")


@lru_cache(maxsize=4)
def load_nlp(path: str | None = None):
    """``spacy.load`` of the pipeline directory (default ``models/nlp``), cached per path."""
    import spacy

    from pipeline.entities import components  # noqa: F401  (registers the factories)

    model_dir = Path(path) if path else NLP_DIR
    if not (model_dir / "config.cfg").is_file():
        raise FileNotFoundError(
            f"No entity pipeline at {model_dir}: build it with `python -m pipeline.entities.build_nlp`.")
    return spacy.load(model_dir)
