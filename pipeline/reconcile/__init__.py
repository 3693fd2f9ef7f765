"""Reconcile the review's tables and narrative into one trial dataset, with conflicts.

Public API::

    reconcile(tables, entities=None, facts=None, blocks=None) -> TrialDataset
    write_dataset(dataset, out_dir, extra=None) -> None

``reconcile`` builds one :class:`TrialRecord` per registry id printed anywhere in the review
(tables or text), merged from every table row that carries the id and from the narrative
(sentences naming the id, and the entity helper's facts linked to it). Every value keeps its
provenance (:class:`Observation`); where sources disagree after normalisation, every value is
kept in ``dataset.conflicts`` with the rule that resolved it, or marked unresolved (rules:
:mod:`pipeline.reconcile.merge`).

``write_dataset`` validates each export with pandera (a failure raises
:class:`pipeline.errors.SchemaValidationError`, nothing is written) and writes trials.parquet,
trials.csv, trials.jsonl, conflicts.csv, evidence.csv, review.duckdb (tables trials,
table_rows, entities, text_facts, conflicts, evidence) and datapackage.json.
"""

from __future__ import annotations

from pipeline.reconcile.export import write_dataset
from pipeline.reconcile.merge import reconcile
from pipeline.reconcile.model import (
    ConflictEntry,
    Observation,
    TrialDataset,
    TrialRecord,
)

__all__ = ["reconcile", "write_dataset", "TrialDataset", "TrialRecord", "ConflictEntry", "Observation"]
