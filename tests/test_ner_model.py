"""Tests for the trained biomedical NER pipeline in models/ner_bio (loaded from disk)."""

from __future__ import annotations

import pytest

from pipeline.ner import DEFAULT_MODEL_PATH, LABELS, load_ner_model
from pipeline.ner.corpora import iob_path
from pipeline.ner.evaluate import score_iob
from pipeline.ner.tokenization import reference_tokens

# Regression guard: entity F1 (CHEMICAL + DISEASE, exact match, gold tokens) of the
# committed models/ner_bio on the first SUBSET_SENTENCES sentences of the BC5CDR test
# split, as measured when the model was committed (see models/ner_bio/README.md).
SUBSET_SENTENCES = 1000
MEASURED_SUBSET_F1 = 0.8439  # CHEMICAL+DISEASE overall F1 measured on the committed model
TOLERANCE = 0.02

# Review-style sentences. The model was trained on 2015-era PubMed abstracts (BC5CDR) and
# BC2GM sentences, which contain no "cytokine release syndrome"; it recognises the term in
# these sentences but not in every context (see models/ner_bio/README.md, "Limitations").
SENTENCE = (
    "Patients with relapsed multiple myeloma received dexamethasone and cyclophosphamide "
    "before infusion of anti-BCMA CAR-T cells."
)
CRS_SENTENCE = "Patients with multiple myeloma developed cytokine release syndrome after CAR-T cell therapy."


@pytest.fixture(scope="module")
def nlp():
    return load_ner_model()


def _ents(doc):
    return {(e.text, e.label_) for e in doc.ents}


def test_model_is_on_disk_and_has_the_three_labels(nlp):
    assert (DEFAULT_MODEL_PATH / "config.cfg").is_file()
    labels = set()
    for name in nlp.pipe_names:
        labels.update(nlp.get_pipe(name).labels)
    assert labels == set(LABELS)


def test_missing_model_gives_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m pipeline.ner.train"):
        load_ner_model(tmp_path / "nope")


def test_shipped_tokenizer_splits_punctuation_like_the_corpora(nlp):
    text = "Selegiline-induced hypotension in Parkinson's disease (0.5 mg/kg; IL-6 ≥2)."
    assert [t.text for t in nlp.make_doc(text)] == reference_tokens(text)


def test_tags_drugs_diseases_and_genes_in_a_sentence(nlp):
    ents = _ents(nlp(SENTENCE))
    assert ("dexamethasone", "CHEMICAL") in ents
    assert ("cyclophosphamide", "CHEMICAL") in ents
    assert ("multiple myeloma", "DISEASE") in ents
    genes = {text for text, label in ents if label == "GENE_OR_PROTEIN"}
    assert any("BCMA" in g or "TNFRSF17" in g for g in genes), ents


def test_tags_cytokine_release_syndrome(nlp):
    ents = _ents(nlp(CRS_SENTENCE))
    assert ("cytokine release syndrome", "DISEASE") in ents
    assert ("multiple myeloma", "DISEASE") in ents


def test_tags_gene_symbols(nlp):
    doc = nlp("BCMA is expressed on plasma cells. Expression of TNFRSF17 was measured.")
    genes = {e.text for e in doc.ents if e.label_ == "GENE_OR_PROTEIN"}
    assert {"BCMA", "TNFRSF17"} <= genes, _ents(doc)


def test_bc5cdr_test_subset_f1_regression(nlp):
    res = score_iob(nlp, iob_path("bc5cdr", "test"), ("CHEMICAL", "DISEASE"), limit=SUBSET_SENTENCES)
    assert res["n_sentences"] == SUBSET_SENTENCES
    f1 = res["overall"]["f"]
    assert f1 >= MEASURED_SUBSET_F1 - TOLERANCE, res["overall"]
