"""Train the biomedical NER pipeline ``models/ner_bio``.

    python -m pipeline.ner.train --out models/ner_bio [--max-minutes N]

Steps (all offline, CPU only):

1. convert  -- corpora in ``data/corpora`` -> spaCy ``DocBin`` files in a work directory.
   BC5CDR is built from the PubTator raw text tokenised by the shipped tokenizer
   (:mod:`pipeline.ner.tokenization`); BC2GM from its IOB tokens (same tokenisation).
2. chemdis  -- component ``ner`` (CHEMICAL, DISEASE) on BC5CDR, config
   ``pipeline/ner/configs/chemdis.cfg``. Optional (``--pretrain``, an experiment that was
   not shipped, see models/ner_bio/README.md "Experiments"): its tok2vec is first
   pretrained with a character cloze objective on the raw BC5CDR train + devel abstracts
   (:mod:`pipeline.ner.pretrain`, about 5.5 min single-threaded).
3. gene     -- component ``ner_gene`` (GENE_OR_PROTEIN) on BC2GM, config
   ``pipeline/ner/configs/gene.cfg``.
4. assemble -- both components sourced into one pipeline (each has its own tok2vec, so no
   listeners need replacing), meta/README data written to ``--out``.
5. evaluate -- :mod:`pipeline.ner.evaluate` on the official test splits.

Hyper-parameters (architecture, dropout, number of steps) live in the config files.
Which data each component is trained on, and whether the best-on-devel or the last
checkpoint is kept, is the ``RECIPE`` below. The shipped model trains each component on
train + devel for the fixed number of steps in its config; those step counts were chosen
in model-selection runs on train only, scored on devel::

    python -m pipeline.ner.train --select --components chemdis --set training.max_steps 8000
    python -m pipeline.ner.train --select --components gene --set training.max_steps 9000

Training is single-threaded (OMP/BLAS threads are set to 1). ``--max-minutes`` is only a
safety limit; without it the runs are fixed-step and seeded (``[system] seed``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import spacy
from spacy import util
from spacy.schemas import ConfigSchemaTraining
from spacy.tokens import DocBin
from spacy.training.initialize import init_nlp
from spacy.training.loop import (
    create_evaluation_callback,
    create_train_batches,
    train_while_improving,
    update_meta,
)
from thinc.api import fix_random_seed

from pipeline.parallel import settle_process

from . import tokenization  # noqa: F401  (registers the tokenizer callback)
from .corpora import CORPORA_DIR, PUBTATOR_FILES, iob_docs, iob_path, pubtator_docs
from .pretrain import load_pretrained_tok2vec, pretrain_tok2vec
from .tokenization import make_bio_tokenizer

PKG_DIR = Path(__file__).resolve().parent
CONFIG_DIR = PKG_DIR / "configs"
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "review_extract_ner_work"

# component key -> how to train it.
#   train: DocBin sets used for training; dev: set used for evaluation during training;
#   keep: "best" (checkpoint with the best dev F1) or "last" (no held-out data left);
#   time_share: share of --max-minutes given to this component.
RECIPE = {
    "chemdis": {
        "config": "chemdis.cfg",
        "pipe_name": "ner",
        "train": ["bc5cdr_train", "bc5cdr_devel"],
        "dev": "bc5cdr_devel",
        "keep": "last",
        "time_share": 0.45,
        # None = random tok2vec initialisation (shipped). A dict (overrides of
        # pipeline.ner.pretrain.PRETRAIN; --pretrain sets {}) = tok2vec initialised by
        # character-cloze pretraining on the raw BC5CDR train + devel abstracts. Tried and
        # not shipped: see models/ner_bio/README.md, "Experiments".
        "pretrain": None,
    },
    "gene": {
        "config": "gene.cfg",
        "pipe_name": "ner_gene",
        "train": ["bc2gm_train", "bc2gm_devel"],
        "dev": "bc2gm_devel",
        "keep": "last",
        "time_share": 0.55,
        "pretrain": None,
    },
}
# Order of the components in the assembled pipeline. A later NER component keeps the
# entities set by an earlier one and can only predict around them, so the order decides
# who wins where the corpora disagree (e.g. "insulin": Chemical in BC5CDR, gene in BC2GM).
# Measured on the development sets (first 1000 sentences each, train-only models):
#   chemdis first: BC5CDR devel F1 83.4, BC2GM devel F1 71.8
#   gene first:    BC5CDR devel F1 82.0, BC2GM devel F1 76.3
# CHEMICAL/DISEASE (interventions, conditions) come first: they are the primary labels for
# trial extraction and BC5CDR is the benchmark; genes pay for it (see README.md).
PIPE_ORDER = ["chemdis", "gene"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- convert
def convert(work_dir: Path, corpora_dir: Path = CORPORA_DIR) -> dict:
    """Write one DocBin per corpus split into ``work_dir/corpus/<name>.spacy``."""
    out = work_dir / "corpus"
    out.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    nlp.tokenizer = make_bio_tokenizer(nlp.vocab)
    stats = {}
    for split, fname in PUBTATOR_FILES.items():
        st: dict = {}
        docs = pubtator_docs(nlp, corpora_dir / "bc5cdr" / "pubtator" / fname, st)
        DocBin(docs=docs).to_disk(out / f"bc5cdr_{split}.spacy")
        stats[f"bc5cdr_{split}"] = {"docs": len(docs), "ents": sum(len(d.ents) for d in docs), **st}
    for corpus in ("bc2gm", "ncbi_disease"):
        for split in ("train", "devel", "test"):
            docs = iob_docs(nlp.vocab, iob_path(corpus, split, corpora_dir))
            DocBin(docs=docs).to_disk(out / f"{corpus}_{split}.spacy")
            stats[f"{corpus}_{split}"] = {"docs": len(docs), "ents": sum(len(d.ents) for d in docs)}
    for name, st in stats.items():
        log(f"converted {name}: {st}")
    return stats


def _corpus_dir(work_dir: Path, names: list[str]) -> Path:
    """A directory holding exactly the given DocBins (spacy.Corpus reads a whole dir)."""
    d = work_dir / "sets" / "+".join(names)
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for n in names:
        shutil.copy(work_dir / "corpus" / f"{n}.spacy", d / f"{n}.spacy")
    return d


# -------------------------------------------------------------------------- pretrain
def pretrained_path(work_dir: Path, key: str) -> Path:
    return work_dir / "pretrain" / f"{key}_tok2vec.bin"


def pretrain_component(key: str, work_dir: Path, max_seconds: float | None = None) -> dict:
    spec = RECIPE[key]
    log(f"[{key}] pretraining tok2vec ({spec['config']})")
    return pretrain_tok2vec(CONFIG_DIR / spec["config"], work_dir, pretrained_path(work_dir, key),
                            spec["pretrain"], max_seconds=max_seconds, log=log)


# ----------------------------------------------------------------------------- train
def train_component(
    key: str,
    work_dir: Path,
    max_seconds: float | None,
    overrides: dict | None = None,
    recipe: dict | None = None,
    resume: bool = False,
) -> dict:
    """Train one component with spaCy's training loop plus a wall-clock limit.

    With ``resume`` the weights of the previous run's last checkpoint are loaded before
    training continues (fresh optimizer state, same data and config).
    """
    spec = dict(RECIPE[key], **(recipe or {}))
    train_dir = _corpus_dir(work_dir, spec["train"])
    dev_path = work_dir / "corpus" / f"{spec['dev']}.spacy"
    out_dir = work_dir / "train" / key
    previous = None
    if resume:
        prev_dir = work_dir / "train" / f"{key}.previous"
        if prev_dir.exists():
            shutil.rmtree(prev_dir)
        shutil.move(str(out_dir), str(prev_dir))
        previous = json.loads((prev_dir / "summary.json").read_text())
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    ov = {"paths.train": str(train_dir), "paths.dev": str(dev_path), **(overrides or {})}
    config = util.load_config(CONFIG_DIR / spec["config"], overrides=ov, interpolate=False)
    log(f"[{key}] initialising from {spec['config']} train={spec['train']} dev={spec['dev']}")
    nlp = init_nlp(config, use_gpu=-1)
    if spec.get("pretrain") is not None and previous is None:
        t2v = pretrained_path(work_dir, key)
        load_pretrained_tok2vec(nlp, t2v)
        log(f"[{key}] tok2vec initialised from {t2v}")
    if previous is not None:
        nlp.get_pipe("ner").from_disk(prev_dir / "model-last" / "ner")
        log(f"[{key}] resumed weights from {prev_dir / 'model-last'} (step {previous['steps']})")
    config = nlp.config.interpolate()
    T = util.registry.resolve(config["training"], schema=ConfigSchemaTraining)
    if T["seed"] is not None:
        fix_random_seed(T["seed"])
    train_corpus, dev_corpus = util.resolve_dot_names(config, [T["train_corpus"], T["dev_corpus"]])
    optimizer = T["optimizer"]
    steps = train_while_improving(
        nlp,
        optimizer,
        create_train_batches(nlp, train_corpus, T["batcher"], T["max_epochs"]),
        create_evaluation_callback(nlp, dev_corpus, T["score_weights"]),
        dropout=T["dropout"],
        accumulate_gradient=T["accumulate_gradient"],
        patience=T["patience"],
        max_steps=T["max_steps"],
        eval_frequency=T["eval_frequency"],
        exclude=T["frozen_components"],
        annotating_components=T["annotating_components"],
        before_update=T["before_update"],
    )
    history = []
    t0 = time.time()
    stopped_by = "max_steps"
    info: dict = {}

    def save(is_best: bool) -> None:
        with nlp.use_params(optimizer.averages):
            nlp.to_disk(out_dir / "model-last")
        if is_best:
            if (out_dir / "model-best").exists():
                shutil.rmtree(out_dir / "model-best")
            shutil.copytree(out_dir / "model-last", out_dir / "model-best")

    for batch, info, is_best in steps:
        if is_best is not None:
            update_meta(T, nlp, info)
            elapsed = time.time() - t0
            ents = info["other_scores"]
            rec = {
                "step": info["step"],
                "epoch": info["epoch"],
                "seconds": round(elapsed, 1),
                "loss": round(info["losses"].get("ner", 0.0), 2),
                "dev_p": round(ents.get("ents_p", 0.0), 4),
                "dev_r": round(ents.get("ents_r", 0.0), 4),
                "dev_f": round(ents.get("ents_f", 0.0), 4),
            }
            history.append(rec)
            log(f"[{key}] {rec}{'  *best*' if is_best else ''}")
            save(is_best)
        if max_seconds is not None and time.time() - t0 > max_seconds:
            stopped_by = "time_limit"
            log(f"[{key}] time limit reached at step {info.get('step')}")
            break
    save(False)
    seconds = time.time() - t0
    if previous is not None:
        # continue the step/time bookkeeping of the run we resumed from
        offset_steps, offset_secs = previous["steps"] or 0, previous["train_seconds"]
        for rec in history:
            rec["step"] += offset_steps
            rec["seconds"] = round(rec["seconds"] + offset_secs, 1)
        history = previous["history"] + history[1:]
        seconds += offset_secs
        info = dict(info, step=(info.get("step") or 0) + offset_steps)
        if previous.get("best_dev") and history and previous["best_dev"]["dev_f"] >= max(
            r["dev_f"] for r in history[len(previous["history"]):] or [{"dev_f": -1}]
        ) and spec["keep"] == "best":
            # the best checkpoint is still the earlier one
            if (out_dir / "model-best").exists():
                shutil.rmtree(out_dir / "model-best")
            shutil.copytree(prev_dir / "model-best", out_dir / "model-best")
    best = max(history, key=lambda r: r["dev_f"]) if history else None
    summary = {
        "component": key,
        "config": spec["config"],
        "train_sets": spec["train"],
        "dev_set": spec["dev"],
        "keep": spec["keep"],
        "steps": info.get("step"),
        "epochs": info.get("epoch"),
        "stopped_by": stopped_by,
        "train_seconds": round(seconds, 1),
        "best_dev": best,
        "history": history,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    log(f"[{key}] done in {seconds/60:.1f} min; best dev {best}")
    return summary


# -------------------------------------------------------------------------- assemble
def assemble(work_dir: Path, out: Path, summaries: dict, order: list[str] = PIPE_ORDER) -> spacy.Language:
    """Source the trained components into one pipeline directory at ``out``."""
    nlp = None
    for key in order:
        spec = RECIPE[key]
        src_dir = work_dir / "train" / key / f"model-{spec['keep']}"
        src = spacy.load(src_dir)
        if nlp is None:
            nlp = spacy.blank("en")
            nlp.tokenizer = make_bio_tokenizer(nlp.vocab)
        nlp.add_pipe("ner", name=spec["pipe_name"], source=src)
    assert nlp is not None
    nlp.meta.update(
        {
            "name": "ner_bio",
            "version": "0.1.0",
            "description": (
                "Biomedical NER (CHEMICAL, DISEASE from BC5CDR; GENE_OR_PROTEIN from BC2GM). "
                "CNN tok2vec with hashed word + character features, no word vectors, CPU."
            ),
            "author": "review-extract",
            "license": "see README.md (weights trained on BC5CDR and BC2GM; the corpora's terms apply)",
            "sources": [
                {"name": "BC5CDR (BioCreative V CDR)", "url": "https://doi.org/10.1093/database/baw068"},
                {"name": "BC2GM (BioCreative II GM)", "url": "https://doi.org/10.1186/gb-2008-9-s2-s2"},
            ],
            "training": {k: {kk: vv for kk, vv in v.items() if kk != "history"} for k, v in summaries.items()},
        }
    )
    if out.exists():
        # keep hand-written files (README.md) but replace everything spaCy writes
        for child in out.iterdir():
            if child.name in {"README.md"}:
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    nlp.to_disk(out)
    (out / "training_log.json").write_text(json.dumps(summaries, indent=2))
    log(f"assembled pipeline {nlp.pipe_names} -> {out}")
    return nlp


# ------------------------------------------------------------------------------- cli
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("models/ner_bio"))
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="wall-clock limit for all training, split between components")
    ap.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    ap.add_argument("--components", nargs="+", default=list(RECIPE), choices=list(RECIPE),
                    help="components to (re)train; others are reused from --work-dir")
    ap.add_argument("--skip-convert", action="store_true")
    ap.add_argument("--no-assemble", action="store_true")
    ap.add_argument("--assemble-only", action="store_true",
                    help="only assemble (and evaluate) the components already trained in --work-dir")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--set", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                    help="config override for the trained components, e.g. training.max_steps 2000")
    ap.add_argument("--pretrain", action="store_true",
                    help="experiment: pretrain the tok2vec of the trained components on the raw "
                         "BC5CDR train + devel abstracts first (tried for chemdis only)")
    ap.add_argument("--skip-pretrain", action="store_true",
                    help="reuse the pretrained tok2vec weights already in --work-dir")
    ap.add_argument("--pretrain-only", action="store_true", help="only run the --pretrain step")
    ap.add_argument("--resume", action="store_true",
                    help="continue from the weights of the last run in --work-dir")
    ap.add_argument("--select", action="store_true",
                    help="model selection run: train on the train split only, keep best on devel")
    args = ap.parse_args(argv)

    settle_process()
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    if not (args.skip_convert or args.assemble_only) or not (work / "corpus").exists():
        convert(work)
    overrides = {}
    for k, v in args.set:
        try:
            overrides[k] = json.loads(v)
        except json.JSONDecodeError:
            overrides[k] = v
    summaries = {}
    t_all = time.time()
    if args.pretrain or args.pretrain_only:
        for key in args.components:
            if RECIPE[key].get("pretrain") is None:
                RECIPE[key]["pretrain"] = {}
    for key in ([] if args.assemble_only else args.components):
        if RECIPE[key].get("pretrain") is None:
            continue
        if args.skip_pretrain and pretrained_path(work, key).exists():
            continue
        pretrain_component(key, work)
    if args.pretrain_only:
        return 0
    for key in ([] if args.assemble_only else args.components):
        budget = None
        if args.max_minutes is not None:
            budget = args.max_minutes * 60 * RECIPE[key]["time_share"]
        recipe = None
        if args.select:
            recipe = {"train": [RECIPE[key]["dev"].replace("devel", "train")], "keep": "best"}
        summaries[key] = train_component(key, work, budget, overrides, recipe, resume=args.resume)
    for key in RECIPE:
        if key not in summaries:
            f = work / "train" / key / "summary.json"
            if f.exists():
                summaries[key] = json.loads(f.read_text())
    log(f"training wall time {(time.time() - t_all)/60:.1f} min")
    if args.no_assemble or args.select:
        return 0
    assemble(work, args.out, summaries)
    if not args.no_eval:
        from .evaluate import main as eval_main

        eval_main(["--model", str(args.out)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
