"""spaCy pipeline pieces registered by name, so ``models/nlp/config.cfg`` can assemble them.

Import this module before ``spacy.load("models/nlp")`` (``pipeline.entities.nlp.load_nlp`` does).

* ``review_extract.biomed_tokenizer.v1`` - scispaCy's rule tokenizer (keeps hyphenated product
  codes such as "P-BCMA-ALLO1", "JNJ-68284528", "ide-cel" whole and knows "Fig.", "et al.") plus
  two infixes: "/" and "(" between letters/digits ("BCMA/CD19", "LY3039478(JSMD194)").
* ``registry_id_matcher`` - registry ids by the patterns of ``models/lexicons/registry_ids.json``
  (case-insensitive, normalised to the registry's spelling, strictly validated).
* ``lexicon_entity_linker`` - TARGET / PRODUCT / DRUG / DRUG_CLASS from the curated lexicons:
  layout-tolerant exact matches over token windows, inside hyphen/slash compounds
  ("anti-BCMA"), re-joined split words ("UCA RTCS1A"), then guarded typo tolerance.
* ``drug_dictionary`` - remaining drug names from a general drug dictionary (exact lookups of
  1-3 token windows; built from the ``drug-named-entity-recognition`` package).
* ``outcome_metrics`` - metric mentions per sentence (:mod:`pipeline.entities.metrics`).

Every component appends :class:`Hit` records (exact character offsets) to ``doc._.entity_hits``
and mirrors those that align with tokens into ``doc.spans[spans_key]``.
"""

from __future__ import annotations

import gzip
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import scispacy.abbreviation  # noqa: F401  (registers the "abbreviation_detector" factory)
import spacy
from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, IS_STOP, LENGTH, LIKE_NUM
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from pipeline.entities.lexicon import LEXICON_DIR, Lexicon, compact, read_lexicon_files
from pipeline.entities.metrics import MetricExtractor
from pipeline.registry_ids import Registries

SPANS_KEY = "entities"


@dataclass(slots=True)
class Hit:
    start: int  # character offsets in doc.text
    end: int
    label: str
    norm: str
    score: float
    method: str  # exact | compact | fuzzy | pattern | dictionary | abbreviation | model
    text: str


Doc.set_extension("entity_hits", default=None, force=True)
Doc.set_extension("metric_mentions", default=None, force=True)
Doc.set_extension("rejected_ids", default=None, force=True)


def doc_text(doc: Doc) -> str:
    """doc.text, computed once per Doc (spaCy rebuilds it from the tokens on every access)."""
    text = doc.user_data.get("review_extract.text")
    if text is None:
        text = doc.user_data["review_extract.text"] = doc.text
    return text


@dataclass(slots=True)
class _TokenTable:
    texts: list[str]
    starts: list[int]
    ends: list[int]
    punct: list[int]
    space: list[int]
    like_num: list[int]
    stop: list[int]


def _tokens(doc: Doc) -> _TokenTable:
    """Token texts, offsets and flags as plain lists (one pass; Token objects are slow to make)."""
    table = doc.user_data.get("review_extract.tokens")
    if table is None:
        text = doc_text(doc)
        arr = doc.to_array([IDX, LENGTH, IS_PUNCT, IS_SPACE, LIKE_NUM, IS_STOP]).tolist() if len(doc) else []
        starts = [row[0] for row in arr]
        ends = [row[0] + row[1] for row in arr]
        table = _TokenTable([text[a:b] for a, b in zip(starts, ends)], starts, ends, [row[2] for row in arr],
                            [row[3] for row in arr], [row[4] for row in arr], [row[5] for row in arr])
        doc.user_data["review_extract.tokens"] = table
    return table


def _hits(doc: Doc) -> list[Hit]:
    if doc._.entity_hits is None:
        doc._.entity_hits = []
    return doc._.entity_hits


def _add_hit(doc: Doc, hit: Hit, spans_key: str) -> None:
    _hits(doc).append(hit)
    span = doc.char_span(hit.start, hit.end, label=hit.label)
    if span is not None:
        group = doc.spans[spans_key] if spans_key in doc.spans else None
        if group is None:
            doc.spans[spans_key] = [span]
        else:
            group.append(span)


def _covered(doc: Doc) -> bytearray:
    mask = bytearray(len(doc_text(doc)) + 1)
    for h in _hits(doc):
        mask[h.start:h.end] = b"\x01" * (h.end - h.start)
    return mask


def _free(mask: bytearray, start: int, end: int) -> bool:
    return not any(mask[start:end])


def _mark(mask: bytearray, start: int, end: int) -> None:
    mask[start:end] = b"\x01" * (end - start)


def _read_json(path: Path):
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return json.load(handle)
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: Path, data, compress: bool = False) -> None:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if compress:
        # mtime=0: byte-identical rebuilds
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write(text.encode("utf-8"))
    else:
        path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------
EXTRA_INFIXES = (
    r"(?<=[A-Za-z0-9\u0370-\u03ff+])/(?=[A-Za-z0-9\u0370-\u03ff])",  # BCMA/CD19, CRS/ICANS, CD4/CD8
    r"(?<=[A-Za-z0-9])\((?=[A-Za-z0-9])",  # LY3039478(JSMD194)
)


KEEP_EXCEPTION = re.compile(
    r"[A-Za-z]\.|(?:[A-Za-z]\.){2,}|[Ee]\.[Gg]\.|[Ii]\.[Ee]\.|vs\.|v\.s\.|etc\.|Dr\.|Prof\.|Ph\.D\.|St\.|Inc\.|"
    r"Ltd\.|Co\.|Corp\.|Jr\.|Mrs?\.|Ms\.|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.")


@spacy.registry.tokenizers("review_extract.biomed_tokenizer.v1")
def create_biomed_tokenizer():
    def make(nlp: Language):
        # scispaCy's builder reads nlp.tokenizer.token_match, which does not exist yet while the
        # Language is being created: hand it the language defaults instead.
        # Of spaCy's English exceptions only abbreviations ending in a period are kept (initials,
        # e.g., i.e., vs., Dr., months; scispaCy adds Fig., No., ...): contractions and emoticons do
        # not occur in reviews, and 1,300 special cases cost a second at every load.
        exceptions = {k: v for k, v in nlp.Defaults.tokenizer_exceptions.items() if KEEP_EXCEPTION.fullmatch(k)}
        defaults = SimpleNamespace(tokenizer_exceptions=exceptions)
        shim = SimpleNamespace(vocab=nlp.vocab, Defaults=defaults,
                               tokenizer=SimpleNamespace(token_match=nlp.Defaults.token_match))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # scispaCy's prefix regex ("set union")
            tokenizer = combined_rule_tokenizer(shim)
        pattern = tokenizer.infix_finditer.__self__.pattern
        tokenizer.infix_finditer = re.compile(pattern + "|" + "|".join(EXTRA_INFIXES)).finditer
        return tokenizer

    return make


# ---------------------------------------------------------------------------------------------
# Registry ids
# ---------------------------------------------------------------------------------------------
@Language.factory("registry_id_matcher", default_config={"spans_key": SPANS_KEY, "label": "REGISTRY_ID"})
def make_registry_id_matcher(nlp: Language, name: str, spans_key: str, label: str):
    return RegistryIdMatcher(name, spans_key, label)


class RegistryIdMatcher:
    def __init__(self, name: str, spans_key: str, label: str):
        self.name = name
        self.spans_key = spans_key
        self.label = label
        self.registries: list[dict] = []
        self._compile()

    def initialize(self, get_examples=None, *, nlp=None, lexicon_dir: str | None = None):
        path = Path(lexicon_dir) if lexicon_dir else LEXICON_DIR
        self.registries = _read_json(path / "registry_ids.json")["registries"]
        self._compile()

    def _compile(self) -> None:
        self._patterns = Registries(self.registries)

    def normalize(self, surface: str) -> tuple[str, bool]:
        """(normalised id, passes strict validation) for one candidate string."""
        return self._patterns.normalize(surface)

    def __call__(self, doc: Doc) -> Doc:
        _hits(doc)
        rejected = []
        for hit in self._patterns.find(doc_text(doc)):
            if hit.valid:
                _add_hit(doc, Hit(hit.start, hit.end, self.label, hit.norm, 100.0, "pattern", hit.printed),
                         self.spans_key)
            else:
                rejected.append((hit.start, hit.end, hit.printed))
        doc._.rejected_ids = rejected
        return doc

    def to_disk(self, path, exclude=tuple()):
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        _write_json(path / "registries.json", self.registries)

    def from_disk(self, path, exclude=tuple()):
        self.registries = _read_json(ensure_path(path) / "registries.json")
        self._compile()
        return self


# ---------------------------------------------------------------------------------------------
# Curated lexicons
# ---------------------------------------------------------------------------------------------
@Language.factory(
    "lexicon_entity_linker",
    default_config={
        "spans_key": SPANS_KEY,
        "fuzzy": True,
        "threshold": 85.0,
        "threshold_with_digits": 80.0,
        "threshold_lowercase": 90.0,
        "min_length": 5,
        "min_length_ratio": 0.75,
        "margin": 3.0,
        "max_window": 12,
    },
)
def make_lexicon_entity_linker(nlp: Language, name: str, spans_key: str, fuzzy: bool, threshold: float,
                               threshold_with_digits: float, threshold_lowercase: float, min_length: int,
                               min_length_ratio: float, margin: float, max_window: int):
    settings = dict(threshold=threshold, threshold_with_digits=threshold_with_digits,
                    threshold_lowercase=threshold_lowercase, min_length=min_length,
                    min_length_ratio=min_length_ratio, margin=margin)
    return LexiconEntityLinker(nlp, name, spans_key, fuzzy, settings, max_window)


_SPLIT = re.compile(r"[-/\u2010\u2011\u2013]")


class LexiconEntityLinker:
    def __init__(self, nlp: Language, name: str, spans_key: str, fuzzy: bool, settings: dict, max_window: int):
        self.nlp = nlp
        self.name = name
        self.spans_key = spans_key
        self.use_fuzzy = fuzzy
        self.settings = settings
        self.max_window = max_window
        self.data: dict = {"entries": [], "never_fuzzy": []}
        self._build()

    def initialize(self, get_examples=None, *, nlp=None, lexicon_dir: str | None = None):
        data = read_lexicon_files(Path(lexicon_dir) if lexicon_dir else LEXICON_DIR)
        self.data = {"entries": data["entries"], "never_fuzzy": data["never_fuzzy"],
                     "english_suffixes": data["english_suffixes"], "versions": data["versions"]}
        self._build()

    def _build(self) -> None:
        self.lexicon = Lexicon.from_data(self.data, **self.settings)
        # first token (compact) of every alias -> longest alias in tokens
        self.first: dict[str, int] = {}
        tokenizer = self.nlp.tokenizer
        for entry in self.lexicon.entries:
            for alias in (entry.norm, *entry.aliases):
                toks = [t.text for t in tokenizer(alias)]
                if toks:
                    key = compact(toks[0])
                    self.first[key] = max(self.first.get(key, 0), min(len(toks), self.max_window))

    def __call__(self, doc: Doc) -> Doc:
        mask = _covered(doc)
        lex = self.lexicon
        text = doc_text(doc)
        t = _tokens(doc)
        texts, starts, ends, punct = t.texts, t.starts, t.ends, t.punct
        n = len(texts)
        unmatched: list[int] = []
        i = 0
        while i < n:
            if punct[i] or t.space[i] or not _free(mask, starts[i], ends[i]):
                i += 1
                continue
            width = self.first.get(compact(texts[i]), 0)
            step = 0
            for w in range(min(width, n - i), 0, -1):
                j = i + w - 1
                start, end = starts[i], ends[j]
                if punct[j] and w > 1 or not _free(mask, start, end):
                    continue
                surface = text[start:end]
                if "\n" in surface:
                    continue
                m = lex.exact(surface)
                if m is not None:
                    _add_hit(doc, Hit(start, end, m.type, m.norm, m.score, m.method, surface), self.spans_key)
                    _mark(mask, start, end)
                    step = w
                    break
            if step:
                i += step
            else:
                unmatched.append(i)
                i += 1
        # hyphen/slash compounds: "anti-BCMA", "GPRC5D-directed", "CD3ζ-iCasp9"
        leftover: list[int] = []
        for i in unmatched:
            if _SPLIT.search(texts[i]) and self._subtokens(doc, texts[i], starts[i], mask):
                continue
            leftover.append(i)
        # words split by a line break or a stray space: "UCA RTCS1A"
        left_set = set(leftover)
        for i in leftover:
            if i + 1 in left_set and text[ends[i]:starts[i + 1]] == " " and not punct[i] and not punct[i + 1]:
                start, end = starts[i], ends[i + 1]
                if not _free(mask, start, end):
                    continue
                surface = text[start:end]
                m = lex.exact(surface)
                if m is not None and len(compact(surface)) >= 5:
                    _add_hit(doc, Hit(start, end, m.type, m.norm, m.score, m.method, surface), self.spans_key)
                    _mark(mask, start, end)
        if self.use_fuzzy:
            for i in leftover:
                word = texts[i]
                start, end = starts[i], ends[i]
                if len(word) < 4 or punct[i] or t.like_num[i] or t.stop[i] or not _free(mask, start, end):
                    continue
                if word.isalpha() and word.islower() and len(word) < 7:
                    continue  # short lower-case words are English, not mangled names
                m = lex.fuzzy(word)
                if m is not None:
                    _add_hit(doc, Hit(start, end, m.type, m.norm, m.score, m.method, word), self.spans_key)
                    _mark(mask, start, end)
        return doc

    def _subtokens(self, doc: Doc, text: str, offset: int, mask: bytearray) -> bool:
        bounds = [0] + [m.end() for m in _SPLIT.finditer(text)]
        ends = [m.start() for m in _SPLIT.finditer(text)] + [len(text)]
        parts = list(zip(bounds, ends))
        found = False
        k = 0
        while k < len(parts):
            for w in range(len(parts) - k, 0, -1):
                s, e = parts[k][0], parts[k + w - 1][1]
                if (k == 0 and w == len(parts)) or e <= s:
                    continue
                surface = text[s:e]
                m = self.lexicon.exact(surface)
                if m is not None and len(surface) >= 2:
                    start, end = offset + s, offset + e
                    _add_hit(doc, Hit(start, end, m.type, m.norm, m.score, m.method, surface), self.spans_key)
                    _mark(mask, start, end)
                    found = True
                    k += w - 1
                    break
            k += 1
        return found

    def to_disk(self, path, exclude=tuple()):
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        _write_json(path / "lexicon.json", self.data)

    def from_disk(self, path, exclude=tuple()):
        self.data = _read_json(ensure_path(path) / "lexicon.json")
        self._build()
        return self


# ---------------------------------------------------------------------------------------------
# General drug dictionary
# ---------------------------------------------------------------------------------------------
@Language.factory(
    "drug_dictionary",
    default_config={"spans_key": SPANS_KEY, "max_window": 3, "min_length": 4, "brands_capitalized": True},
)
def make_drug_dictionary(nlp: Language, name: str, spans_key: str, max_window: int, min_length: int,
                         brands_capitalized: bool):
    return DrugDictionary(name, spans_key, max_window, min_length, brands_capitalized)


PRODUCT_NAME = re.compile(r"(cabtagene|leucel|temcel)\b", re.I)


class DrugDictionary:
    """Exact lookups in a general drug dictionary: {variant (lower case): [canonical, is_brand]}."""

    def __init__(self, name: str, spans_key: str, max_window: int, min_length: int, brands_capitalized: bool):
        self.name = name
        self.spans_key = spans_key
        self.max_window = max_window
        self.min_length = min_length
        self.brands_capitalized = brands_capitalized
        self.variants: dict[str, list] = {}
        self.meta: dict = {}

    def initialize(self, get_examples=None, *, nlp=None, lexicon_dir: str | None = None):
        """Read the dictionary of the ``drug-named-entity-recognition`` package (if installed)."""
        stop = read_lexicon_files(Path(lexicon_dir) if lexicon_dir else LEXICON_DIR)
        exclude = {w.lower() for w in stop["drug_dictionary_exclude"]} | {w.lower() for w in stop["never_fuzzy"]}
        try:
            import importlib.metadata as md

            from drug_named_entity_recognition import (
                drugs_finder,  # slow import (~1.3 s): build time only
            )
        except ImportError:
            self.variants, self.meta = {}, {"source": None}
            return
        data = drugs_finder.d
        canon_data = data["drug_canonical_to_data"]
        variant_data = data["drug_variant_to_variant_data"]
        variants: dict[str, list] = {}
        for variant, canonicals in data["drug_variant_to_canonical"].items():
            if len(variant) < self.min_length or variant in exclude or len(variant.split()) > self.max_window:
                continue
            if not any(c.isalpha() for c in variant):
                continue
            canonical = canonicals[0]
            info = canon_data.get(canonical, {})
            # a drug has a DrugBank or MedlinePlus record; MeSH-only entries are classes and molecules
            if not (info.get("drugbank_id") or info.get("medline_plus_id")):
                continue
            name = info.get("name") or canonical
            brand = bool(variant_data.get(variant, {}).get("is_brand"))
            variants[variant] = [name.lower() if name[:1].isupper() and name[1:2].islower() else name, int(brand)]
        self.variants = variants
        self.meta = {"source": "drug-named-entity-recognition", "version": md.version("drug-named-entity-recognition"),
                     "variants": len(variants)}

    def __call__(self, doc: Doc) -> Doc:
        if not self.variants:
            return doc
        mask = _covered(doc)
        text = doc_text(doc)
        t = _tokens(doc)
        n = len(t.texts)
        i = 0
        while i < n:
            if t.punct[i] or t.space[i] or not t.texts[i][:1].isalnum():
                i += 1
                continue
            step = 0
            for w in range(min(self.max_window, n - i), 0, -1):
                start, end = t.starts[i], t.ends[i + w - 1]
                if not _free(mask, start, end):
                    continue
                surface = text[start:end]
                found = self.variants.get(surface.lower())
                if found is None:
                    continue
                canonical, brand = found
                if brand and self.brands_capitalized and not surface[:1].isupper():
                    continue
                label = "PRODUCT" if PRODUCT_NAME.search(canonical) else "DRUG"
                _add_hit(doc, Hit(start, end, label, canonical, 100.0, "dictionary", surface), self.spans_key)
                _mark(mask, start, end)
                step = w
                break
            i += step or 1
        return doc

    def to_disk(self, path, exclude=tuple()):
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        _write_json(path / "variants.json.gz", self.variants, compress=True)
        _write_json(path / "meta.json", self.meta)

    def from_disk(self, path, exclude=tuple()):
        path = ensure_path(path)
        self.variants = _read_json(path / "variants.json.gz")
        self.meta = _read_json(path / "meta.json")
        return self


# ---------------------------------------------------------------------------------------------
# Outcome metrics
# ---------------------------------------------------------------------------------------------
@Language.factory("outcome_metrics", default_config={"spans_key": SPANS_KEY, "label": "METRIC"})
def make_outcome_metrics(nlp: Language, name: str, spans_key: str, label: str):
    return OutcomeMetrics(name, spans_key, label)


class OutcomeMetrics:
    def __init__(self, name: str, spans_key: str, label: str):
        self.name = name
        self.spans_key = spans_key
        self.label = label
        self.vocab: dict | None = None
        self.extractor: MetricExtractor | None = None

    def initialize(self, get_examples=None, *, nlp=None, lexicon_dir: str | None = None):
        path = Path(lexicon_dir) if lexicon_dir else LEXICON_DIR
        self.vocab = _read_json(path / "metrics.json")
        self.extractor = MetricExtractor(self.vocab)

    def __call__(self, doc: Doc) -> Doc:
        mentions = []
        text = doc_text(doc)
        if self.extractor is not None:
            for sent in doc.sents:
                mentions.extend(self.extractor.extract(sent.text, offset=sent.start_char))
        doc._.metric_mentions = mentions
        for m in mentions:
            _add_hit(doc, Hit(m.start, m.end, self.label, m.metric, 100.0, "pattern", text[m.start:m.end]),
                     self.spans_key)
        return doc

    def to_disk(self, path, exclude=tuple()):
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        _write_json(path / "metrics.json", self.vocab)

    def from_disk(self, path, exclude=tuple()):
        self.vocab = _read_json(ensure_path(path) / "metrics.json")
        self.extractor = MetricExtractor(self.vocab)
        return self


__all__ = ["Hit", "SPANS_KEY", "Span"]
