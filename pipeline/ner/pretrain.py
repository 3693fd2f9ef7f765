"""Pretrain the CNN tok2vec of a NER component on raw (unlabelled) text.

spaCy's ``pretrain`` command cannot reach the tok2vec here: each component owns its
tok2vec inside ``TransitionBasedParser`` (``model.get_ref("tok2vec")`` is
``chain(Tok2Vec, list2array, Linear)``), so this module does the same thing on the inner
``Tok2Vec``: the vectors-free character cloze objective of ``spacy.PretrainCharacters.v1``
(mask 15 % of the words, predict the first and last ``nr_char`` UTF-8 bytes of each word).
The weights are written with ``Tok2Vec.to_bytes()`` and loaded by
:func:`load_pretrained_tok2vec` right after ``init_nlp`` in :mod:`pipeline.ner.train`.

Text: the titles + abstracts of the BC5CDR PubTator train and devel files (never the test
file), tokenised by the shipped tokenizer (the DocBins written by ``train.convert``).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy
from spacy import util
from spacy.ml.models.multi_task import build_cloze_characters_multi_task_model
from spacy.tokens import DocBin
from spacy.training.initialize import init_nlp
from thinc.api import Adam, fix_random_seed, set_dropout_rate

from . import tokenization  # noqa: F401  (registers the tokenizer callback)

# settings of the pretraining run (as spacy.PretrainCharacters.v1 defaults, except epochs)
PRETRAIN = {
    "texts": ["bc5cdr_train", "bc5cdr_devel"],
    "epochs": 8,
    "batch_words": 3000,
    "learn_rate": 0.001,
    "dropout": 0.2,
    "hidden_size": 300,
    "maxout_pieces": 3,
    "nr_char": 4,
    "seed": 0,
}


def inner_tok2vec(nlp, pipe_name: str = "ner"):
    """The component's own ``Tok2Vec`` (embed >> encode), without the parser's projection."""
    return nlp.get_pipe(pipe_name).model.get_ref("tok2vec").layers[0]


def _batches(docs, batch_words: int):
    batch, n = [], 0
    for d in docs:
        batch.append(d)
        n += len(d)
        if n >= batch_words:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


def pretrain_tok2vec(config_path: Path, work_dir: Path, out_path: Path, settings: dict | None = None,
                     max_seconds: float | None = None, log=print) -> dict:
    S = dict(PRETRAIN, **(settings or {}))
    fix_random_seed(S["seed"])
    corpus = work_dir / "corpus"
    config = util.load_config(config_path, overrides={
        "paths.train": str(corpus / f"{S['texts'][0]}.spacy"),
        "paths.dev": str(corpus / f"{S['texts'][0]}.spacy"),
    }, interpolate=False)
    nlp = init_nlp(config, use_gpu=-1)
    docs = []
    for name in S["texts"]:
        docs.extend(DocBin().from_disk(corpus / f"{name}.spacy").get_docs(nlp.vocab))
    n_words = sum(len(d) for d in docs)
    tok2vec = inner_tok2vec(nlp)
    model = build_cloze_characters_multi_task_model(
        nlp.vocab, tok2vec, maxout_pieces=S["maxout_pieces"], hidden_size=S["hidden_size"],
        nr_char=S["nr_char"])
    model.initialize(X=docs[:10])
    set_dropout_rate(model, S["dropout"])
    loss_fn = _characters_loss(S["nr_char"])
    optimizer = Adam(S["learn_rate"])
    rng = random.Random(S["seed"])
    t0 = time.time()
    history = []
    stopped = "epochs"
    for epoch in range(S["epochs"]):
        rng.shuffle(docs)
        total = 0.0
        for batch in _batches(docs, S["batch_words"]):
            pred, backprop = model.begin_update(batch)
            loss, d_pred = loss_fn(model.ops, batch, pred)
            backprop(d_pred)
            model.finish_update(optimizer)
            total += float(loss)
        rec = {"epoch": epoch + 1, "loss_per_word": round(total / n_words, 4),
               "seconds": round(time.time() - t0, 1)}
        history.append(rec)
        log(f"[pretrain] {rec}")
        if max_seconds is not None and time.time() - t0 > max_seconds:
            stopped = "time_limit"
            break
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(tok2vec.to_bytes())
    summary = {"settings": S, "words": n_words, "docs": len(docs), "stopped_by": stopped,
               "history": history}
    out_path.with_suffix(".json").write_text(json.dumps(summary, indent=2))
    return summary


def _characters_loss(nr_char: int):
    from thinc.api import to_categorical

    def loss_fn(ops, docs, prediction):
        target_ids = numpy.vstack([doc.to_utf8_array(nr_char=nr_char) for doc in docs]).reshape((-1,))
        target = ops.asarray(to_categorical(target_ids, n_classes=256), dtype="f")
        target = target.reshape((-1, 256 * nr_char))
        diff = prediction - target
        return (diff ** 2).sum(), diff / float(prediction.shape[0])

    return loss_fn


def load_pretrained_tok2vec(nlp, path: Path, pipe_name: str = "ner") -> None:
    inner_tok2vec(nlp, pipe_name).from_bytes(Path(path).read_bytes())
