"""Prefect flows: thin wiring of the pipeline's stages, with timing, retries and outputs."""
