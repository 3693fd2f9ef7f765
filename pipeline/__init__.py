"""review-extract: biomedical review PDF -> traceable, structured clinical-trial dataset."""

from pathlib import Path

__version__ = "0.1.0"

# The trained pipelines and lexicons (models/ at the repository root; pipeline/models links
# to it, so a built wheel carries them as package data and an installed copy finds them here).
MODELS_DIR = Path(__file__).resolve().parent / "models"
