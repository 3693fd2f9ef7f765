"""Entity stage: biomedical entities and outcome facts from the narrative and the table cells.

Public API (used by the flow)::

    result = extract_entities(blocks, tables)      # -> EntityResult(.entities, .facts, ...)
    write_entity_outputs(result, out_dir)          # entities.jsonl, text_facts.csv

The spaCy pipeline in ``models/nlp`` (see ``pipeline/entities/nlp.cfg``; rebuild with
``python -m pipeline.entities.build_nlp``) tags registry ids, targets, products, drugs, drug
classes and metric mentions. This module re-joins split paragraphs, adds the document-level
abbreviation dictionary, tags table cells, and links each metric to its subject
(product/agent/target) and to the trial id(s) it belongs to.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.entities.abbreviations import (
    Abbreviation,
    dictionary,
    from_abbreviation_blocks,
    from_table_footnotes,
)
from pipeline.entities.passages import FACT_TYPES, Passage, build_passages
from pipeline.entities.table_links import TableLinks, names_products, study_names_of_cell, tagged_column
from pipeline.parallel import ForkedWorkers, worker_processes
from pipeline.records import Table, TextBlock

ENTITY_TYPES = ("REGISTRY_ID", "TARGET", "PRODUCT", "DRUG", "DRUG_CLASS", "CHEMICAL", "DISEASE",
                "GENE_OR_PROTEIN", "METRIC")
FACT_COLUMNS = ("registry_ids", "subject", "metric", "value", "unit", "ci_low", "ci_high", "p_value",
                "qualifier", "page", "sentence")
NER_LABELS = ("CHEMICAL", "DISEASE", "GENE_OR_PROTEIN")
SUBJECT_TYPES = ("PRODUCT", "DRUG")


@dataclass(slots=True)
class Entity:
    type: str
    text: str  # surface form as printed
    norm: str  # normalised name (registry id in canonical form, metric key for METRIC)
    score: float | None  # 0-100 similarity of the surface form to the matched name
    page: int
    start: int  # character span in the block text (narrative) or the cell text (tables)
    end: int
    source: str  # "text:<block id>" or "table:<N>:<row>:<column>"
    method: str = ""  # exact | compact | fuzzy | pattern | dictionary | abbreviation | model

    def to_dict(self) -> dict:
        return {"type": self.type, "text": self.text, "norm": self.norm, "score": self.score, "page": self.page,
                "start": self.start, "end": self.end, "source": self.source, "method": self.method}


@dataclass(slots=True)
class TextFact:
    registry_ids: list[str]
    subject: str
    metric: str
    value: str
    unit: str
    ci_low: str
    ci_high: str
    p_value: str
    qualifier: str
    page: int
    sentence: str
    source: str = ""  # "text:<block id>" of the sentence's first block
    subject_type: str = ""
    link: str = ""  # where the registry ids came from: sentence | paragraph | table

    def row(self) -> dict:
        return {"registry_ids": ";".join(self.registry_ids), "subject": self.subject, "metric": self.metric,
                "value": self.value, "unit": self.unit, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "p_value": self.p_value, "qualifier": self.qualifier, "page": self.page,
                "sentence": self.sentence}


@dataclass(slots=True)
class EntityResult:
    entities: list[Entity]
    facts: list[TextFact]
    abbreviations: list[Abbreviation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


_NLP_LOCK = threading.Lock()


# ---------------------------------------------------------------------------------------------
def extract_entities(blocks: list[TextBlock], tables: list[Table], *, nlp=None,
                     use_ner: bool | None = None, ner=None) -> EntityResult:
    """Entities of the narrative and the table cells, plus outcome facts of the narrative.

    ``nlp``: the entity pipeline (default: ``models/nlp``, loaded once per process).
    ``use_ner``: add CHEMICAL / DISEASE / GENE_OR_PROTEIN from the statistical model of
    ``pipeline.ner`` (``models/ner_bio``): None = when it is there, True = required, False = never.
    ``ner``: an already loaded model to use instead. Model entities never override lexicon ones.
    """
    # One shared spaCy pipeline: scispaCy's abbreviation detector and the matchers keep
    # per-call state, so documents processed in parallel threads take turns here.
    with _NLP_LOCK:
        return _extract_entities_unlocked(blocks, tables, nlp=nlp, use_ner=use_ner, ner=ner)


def _extract_entities_unlocked(blocks: list[TextBlock], tables: list[Table], *, nlp=None,
                               use_ner: bool | None = None, ner=None) -> EntityResult:
    from pipeline.entities.components import Hit
    from pipeline.entities.nlp import load_nlp

    start_time = time.perf_counter()
    nlp = nlp or load_nlp()
    warn: list[str] = []
    passages = build_passages(blocks)
    if ner is None and use_ner is not False:
        ner = load_ner(required=bool(use_ner))
    # The NER model reads the passages in other processes while this one tags them.
    model = (_model_entities_running(ner, [p.text for p in passages]) if ner is not None and use_ner is not False
             else contextlib.nullcontext())
    with model as model_found:
        return _entities_of(blocks, tables, nlp, passages, model_found, warn, start_time, Hit)


def _entities_of(blocks: list[TextBlock], tables: list[Table], nlp, passages: list[Passage], model_found,
                 warn: list[str], start_time: float, Hit) -> EntityResult:
    cells = [(t, r, key, cell) for t in tables for r in t.rows for key, cell in r.cells.items()
             if tagged_column(key) and cell.text.strip()]
    unique_cells = sorted({c[3].text for c in cells})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scispaCy's empty global matcher (W036)
        docs = list(nlp.pipe(_make_docs(nlp, [p.text for p in passages])))
        # the same cell text (a repeated strategy, "IL-6RA", "Tocilizumab") is tagged once
        tagged = dict(zip(unique_cells, nlp.pipe(
            _make_docs(nlp, unique_cells),
            disable=[n for n in ("sentencizer", "abbreviation_detector", "outcome_metrics") if n in nlp.pipe_names])))
    cell_docs = [tagged[c[3].text] for c in cells]

    # document-level abbreviations: Abbreviations section, table footnotes, definitions in the text
    abbreviations = from_abbreviation_blocks(blocks) + from_table_footnotes(tables)
    for passage, doc in zip(passages, docs):
        for short in getattr(doc._, "abbreviations", None) or []:
            long = short._.long_form
            if long is not None:
                block, _ = passage.locate(short.start_char)
                abbreviations.append(Abbreviation(short.text, long.text, f"text:{block.id}", block.page))
    abbrev_dict = dictionary(abbreviations)
    _link_abbreviations(nlp, abbrev_dict, docs + list(tagged.values()), Hit)

    if model_found is not None:
        _add_model_entities(model_found(), docs, Hit)

    entities: list[Entity] = []
    for passage, doc in zip(passages, docs):
        for hit in sorted(doc._.entity_hits or [], key=lambda h: (h.start, h.end)):
            block, local = passage.locate(hit.start)
            entities.append(Entity(hit.label, hit.text, hit.norm, hit.score, block.page, local,
                                   min(local + (hit.end - hit.start), len(block.text)), f"text:{block.id}",
                                   hit.method))
        for s, e, text in doc._.rejected_ids or []:
            block, local = passage.locate(s)
            warn.append(f"rejected registry-like id {text!r} (text:{block.id}, page {block.page})")
    links = TableLinks()
    row_hits: dict[tuple[int, int], dict[str, list]] = {}
    for (table, row, key, cell), doc in zip(cells, cell_docs):
        hits = sorted(doc._.entity_hits or [], key=lambda h: (h.start, h.end))
        row_hits.setdefault((table.number, row.row), {})[key] = hits
        for hit in hits:
            entities.append(Entity(hit.label, hit.text, hit.norm, hit.score, cell.page, hit.start, hit.end,
                                   f"table:{table.number}:{row.row}:{key}", hit.method))
        for s, e, text in doc._.rejected_ids or []:
            warn.append(f"rejected registry-like id {text!r} (table:{table.number}:{row.row}:{key})")
    for table in tables:
        for row in table.rows:
            hits = row_hits.get((table.number, row.row), {})
            ids = list(dict.fromkeys(h.norm for key_hits in hits.values() for h in key_hits
                                     if h.label == "REGISTRY_ID"))
            products = list(dict.fromkeys(h.norm for key, key_hits in hits.items() if names_products(key)
                                          for h in key_hits if h.label == "PRODUCT"))
            studies = [n for key, cell in row.cells.items() for n in study_names_of_cell(key, cell.text)]
            for nct in ids:
                links.add_row(nct, products, studies)

    facts: list[TextFact] = []
    for passage, doc in zip(passages, docs):
        if passage.kind in FACT_TYPES:
            facts.extend(_facts(passage, doc, links))
    return EntityResult(entities=entities, facts=facts, abbreviations=abbreviations, warnings=warn,
                        seconds=time.perf_counter() - start_time)


def write_entity_outputs(result: EntityResult, out_dir: Path) -> None:
    """Write ``entities.jsonl`` and ``text_facts.csv`` into *out_dir*."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "entities.jsonl", "w", encoding="utf-8") as handle:
        for e in result.entities:
            handle.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
    with open(out_dir / "text_facts.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(FACT_COLUMNS))
        writer.writeheader()
        for f in result.facts:
            writer.writerow(f.row())


# ---------------------------------------------------------------------------------------------
def _link_abbreviations(nlp, abbrev_dict: dict[str, list[Abbreviation]], docs, Hit) -> None:
    """Short forms the document defines by a known long form get that entity ("APRL" -> APRIL)."""
    linker = nlp.get_pipe("lexicon_linker") if "lexicon_linker" in nlp.pipe_names else None
    if linker is None:
        return
    lex = linker.lexicon
    mapping = {}
    for short, defs in abbrev_dict.items():
        if lex.exact(short) is not None or len(short) < 2:
            continue
        for d in defs:
            m = lex.exact(d.long)
            if m is not None:
                mapping[short] = m
                break
    if not mapping:
        return
    rx = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(mapping, key=len, reverse=True))) + r")(?![\w-])")
    for doc in docs:
        hits = doc._.entity_hits
        if hits is None:
            continue
        for m in rx.finditer(_doc_text(doc)):
            if any(h.start < m.end() and m.start() < h.end for h in hits):
                continue
            match = mapping[m.group(1)]
            hits.append(Hit(m.start(), m.end(), match.type, match.norm, 100.0, "abbreviation", m.group(1)))


def _make_docs(nlp, texts: list[str]):
    """Tokenised Docs that remember their text (spaCy rebuilds doc.text from the tokens)."""
    for text in texts:
        doc = nlp.make_doc(text)
        doc.user_data["review_extract.text"] = text
        yield doc


def _doc_text(doc) -> str:
    from pipeline.entities.components import doc_text

    return doc_text(doc)


_NER_MODELS: dict[str, object] = {}


def load_ner(required: bool = False):
    """The statistical NER model (``models/ner_bio``), loaded once per process.

    None when the model is not there and not *required*. A model that is there but does not
    load raises: it is never remembered as missing, so no later call silently goes without it.
    """
    from pipeline.ner import DEFAULT_MODEL_PATH, load_ner_model

    if "model" not in _NER_MODELS:
        if not required and not (DEFAULT_MODEL_PATH / "config.cfg").is_file():
            return None  # an optional model that is not installed
        try:
            _NER_MODELS["model"] = load_ner_model()
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise RuntimeError(f"the statistical NER model at {DEFAULT_MODEL_PATH} does not load "
                               f"({type(exc).__name__}: {exc})") from exc
    return _NER_MODELS["model"]


def load_models() -> None:
    """Load the entity pipeline and the NER model now (both are kept for the process)."""
    from pipeline.entities.nlp import load_nlp

    with _NLP_LOCK:
        load_nlp()
        load_ner()


NER_TEXTS_PER_TASK = 64  # passages per task of the NER workers (at most)


def _model_entities(ner, texts: list[str]) -> list[list[tuple[int, int, str, str]]]:
    """(start, end, label, text) of every model entity, per text."""
    return [[(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents]
            for doc in ner.pipe(texts, batch_size=NER_TEXTS_PER_TASK)]


def _ner_tasks(texts: list[str], processes: int) -> list[list[str]]:
    """Consecutive runs of *texts* of about equal length, a multiple of *processes* of them
    (each process gets the same share of the work), none over NER_TEXTS_PER_TASK texts."""
    count = -(-len(texts) // NER_TEXTS_PER_TASK)
    count = max(processes, -(-count // processes) * processes)
    share = sum(len(t) for t in texts) / count
    tasks: list[list[str]] = [[]]
    done = 0
    for text in texts:
        if tasks[-1] and (done >= share * len(tasks) or len(tasks[-1]) >= NER_TEXTS_PER_TASK):
            tasks.append([])
        tasks[-1].append(text)
        done += len(text)
    return tasks


@contextlib.contextmanager
def _model_entities_running(ner, texts: list[str]):
    """Start the NER model on *texts*; yields a function that returns its entities per text.

    The CNN is the stage's main cost: it runs in forked workers (returning plain tuples) while
    the caller goes on (from the main thread only, see worker_processes). The workers are ended
    on any exit (a time limit, an error in the caller).
    """
    processes = worker_processes()  # 1 off the main thread: forking there copies other threads' locks
    if processes < 2 or len(texts) <= NER_TEXTS_PER_TASK:
        yield lambda: _model_entities(ner, texts)
        return
    with ForkedWorkers(functools.partial(_model_entities, ner), _ner_tasks(texts, processes), processes,
                       "running the NER model") as workers:
        yield lambda: [ents for task in workers.results() for ents in task]


def _add_model_entities(found: list[list[tuple[int, int, str, str]]], docs, Hit) -> None:
    for doc, ents in zip(docs, found):
        hits = doc._.entity_hits
        for start, end, label, text in ents:
            if label not in NER_LABELS:
                continue
            if any(h.start < end and start < h.end for h in hits):
                continue
            hits.append(Hit(start, end, label, text, None, "model", text))


# ---------------------------------------------------------------------------------------------
def _facts(passage: Passage, doc, links: TableLinks) -> list[TextFact]:
    mentions = doc._.metric_mentions or []
    if not mentions:
        return []
    hits = sorted(doc._.entity_hits or [], key=lambda h: h.start)
    ids = [h for h in hits if h.label == "REGISTRY_ID"]
    subjects = [h for h in hits if h.label in SUBJECT_TYPES or h.label == "TARGET"]
    sents = list(doc.sents)
    text = _doc_text(doc)
    studies = links.studies_in(text)
    facts = []
    for m in mentions:
        sent_idx = next(i for i, s in enumerate(sents) if s.start_char <= m.start < s.end_char)
        sent = sents[sent_idx]
        subject = _subject(text, m, sent, subjects, mentions)
        registry, link = _registry_ids(m, sents, sent_idx, ids, studies, links, subject, subjects)
        block, _ = passage.locate(sent.start_char)
        facts.append(TextFact(
            registry_ids=registry, subject=subject.norm if subject else "", metric=m.metric, value=m.value,
            unit=m.unit, ci_low=m.ci_low, ci_high=m.ci_high, p_value=m.p_value, qualifier=m.qualifier,
            page=block.page, sentence=sent.text.strip(), source=f"text:{block.id}",
            subject_type=subject.label if subject else "", link=link))
    return facts


def _subject(text: str, m, sent, subjects, mentions):
    """The product/agent (target for antigen expression) a metric value belongs to."""
    types = ("TARGET",) if m.metric == "antigen_expression" else SUBJECT_TYPES
    in_sent = [h for h in subjects if sent.start_char <= h.start < sent.end_char and h.label in types]
    # "0.49 for ide-cel [...]": the subject named right after the value
    after = re.match(r"\s*(?:[\[(][^\])]*[\])]\s*)?for\s+(?:the\s+)?", text[m.end:m.end + 60])
    if after:
        pos = m.end + after.end()
        for h in in_sent:
            if h.start == pos:
                return h
    # "... ide-cel and cilta-cel ... 8.6 months and 34.9 months, respectively"
    if re.search(r"\brespectively\b", sent.text):
        names = []
        for h in in_sent:
            if h.start < m.start and h.norm not in [n.norm for n in names]:
                names.append(h)
        same = [x for x in mentions if x.trigger_start == m.trigger_start]
        if len(names) == len(same) and m.order < len(names):
            return names[m.order]
    before = [h for h in in_sent if h.end <= m.start]
    if before:
        return before[-1]
    after_hits = [h for h in in_sent if h.start >= m.end]
    if after_hits:
        return after_hits[0]
    earlier = [h for h in subjects if h.end <= sent.start_char and h.label in types]
    return earlier[-1] if earlier else None


def _registry_ids(m, sents, sent_idx, ids, studies, links: TableLinks, subject,
                  subject_hits) -> tuple[list[str], str]:
    def in_range(s, e):
        found: list[str] = []
        for h in ids:
            if s <= h.start < e and h.norm not in found:
                found.append(h.norm)
        for a, b, name in studies:
            if s <= a < e:
                for nct in sorted(links.trials_of_study(name)):
                    if nct not in found:
                        found.append(nct)
        return found

    sent = sents[sent_idx]
    product = subject.norm if subject is not None and subject.label == "PRODUCT" else None
    found, link = in_range(sent.start_char, sent.end_char), "sentence"
    if not found:
        # the nearest preceding sentence of the paragraph that names a trial - if it is about the
        # same subject (names it, or the tables link the subject to one of its trials)
        for i in range(sent_idx - 1, -1, -1):
            earlier = in_range(sents[i].start_char, sents[i].end_char)
            if not earlier:
                continue
            if subject is None or any(s.start_char <= h.start < s.end_char and h.norm == subject.norm
                                      for s in (sents[i],) for h in subject_hits) or (
                    product and any(product in links.trial_products.get(t, set()) for t in earlier)):
                found, link = earlier, "paragraph"
            break
    if found and product:
        own = [i for i in found if product in links.trial_products.get(i, set())]
        others_elsewhere = [i for i in found if i not in own and links.trial_products.get(i)]
        if own and others_elsewhere:
            found = own
    if not found and product and len(links.product_trials.get(product, ())) == 1:
        found, link = sorted(links.product_trials[product]), "table"
    return found, (link if found else "")


__all__ = ["Entity", "TextFact", "EntityResult", "extract_entities", "write_entity_outputs", "ENTITY_TYPES",
           "FACT_COLUMNS", "load_models", "load_ner"]
