"""The tokenizer shipped inside ``models/ner_bio``.

The public IOB corpora (BC5CDR, BC2GM, NCBI-disease from MTL-Bioinformatics-2016) are
tokenised as ``[A-Za-z0-9]+|[^A-Za-z0-9\\s]``: every punctuation character is its own
token (``Parkinson ' s``, ``Selegiline - induced``, ``0 . 5``). We reproduce that exactly
with spaCy's rule-based :class:`~spacy.tokenizer.Tokenizer` built from three regexes and
no special cases, so that

* raw text at inference time is tokenised the way the training data was, and
* gold mentions from character offsets (PubTator) align with token boundaries.

Only regex *patterns* are used, so the tokenizer serialises into the pipeline directory
and ``spacy.load`` restores it without importing this module.
"""

from __future__ import annotations

import re

from spacy.tokenizer import Tokenizer
from spacy.util import registry

# One "punctuation" character: anything that is neither whitespace nor a letter/digit.
# ``\w`` includes ``_``, which the corpora treat as punctuation, hence the alternation.
_PUNCT = r"(?:[^\w\s]|_)"
PREFIX_PATTERN = rf"^{_PUNCT}"
SUFFIX_PATTERN = rf"{_PUNCT}$"
INFIX_PATTERN = _PUNCT
# A pattern that never matches: overrides the default URL matcher, which would keep
# ``http://...`` whole (and, being absent from the serialised data, survive a reload).
NEVER_MATCH = r"(?!x)x"

_TOKEN_RE = re.compile(r"[^\W_]+|(?:[^\w\s]|_)")


def make_bio_tokenizer(vocab) -> Tokenizer:
    """Return a spaCy tokenizer that splits off every punctuation character."""
    return Tokenizer(
        vocab,
        rules={},
        prefix_search=re.compile(PREFIX_PATTERN).search,
        suffix_search=re.compile(SUFFIX_PATTERN).search,
        infix_finditer=re.compile(INFIX_PATTERN).finditer,
        token_match=re.compile(NEVER_MATCH).match,
        url_match=re.compile(NEVER_MATCH).match,
    )


def reference_tokens(text: str) -> list[str]:
    """Tokens of ``text`` by the plain regex the tokenizer should reproduce (for tests)."""
    return _TOKEN_RE.findall(text)


@registry.callbacks("review_extract.bio_tokenizer.v1")
def create_bio_tokenizer_callback():
    """``[initialize.before_init]`` callback: swap in the punctuation-splitting tokenizer."""

    def before_init(nlp):
        nlp.tokenizer = make_bio_tokenizer(nlp.vocab)
        return nlp

    return before_init
