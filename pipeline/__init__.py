"""review-extract: biomedical review PDF -> traceable, structured clinical-trial dataset."""

__version__ = "0.1.0"
