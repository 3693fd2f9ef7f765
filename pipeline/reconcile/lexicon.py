"""The reconcile step's view of the project lexicon (``models/lexicons/*.json``).

There is one lexicon: :mod:`pipeline.entities.lexicon` reads it and matches names (layout-tolerant
exact match on compact keys, then guarded typo tolerance, so the review's misprints "Orvace",
"MCRH171", "NIK2D", "Fludaurine" resolve without being listed). This module loads it once and
answers what reconcile asks: the canonical product / target / agent / class of a printed string,
the names to scan sentences for, and an agent's class. Trial fields and entity norms therefore
always agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.entities.lexicon import LEXICON_DIR, LEXICON_FILES, Lexicon, load_lexicon

KINDS = {"product": "PRODUCT", "target": "TARGET", "drug": "DRUG", "drug_class": "DRUG_CLASS"}

# "Ibrdomide (CC-220)", "LY3039478(JSMD194)": a name followed by its code, both naming one thing.
_NAME_CODE_RE = re.compile(r"(?P<name>[^()]+?)\s*\((?P<code>[^()]+)\)")


@lru_cache(maxsize=1)
def shared_lexicon() -> Lexicon:
    """The project lexicon, loaded once. The files ship with the repository: missing is an error."""
    missing = [name for name in (*LEXICON_FILES.values(), "stoplist.json") if not (LEXICON_DIR / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"lexicon file(s) missing from {LEXICON_DIR}: {', '.join(missing)} "
            "(they are part of the repository: restore them, e.g. `git checkout -- models/lexicons`)")
    return load_lexicon(LEXICON_DIR)


def canonical(kind: str, text: str) -> str | None:
    """Canonical name of *text* as a ``kind`` ("product", "target", "drug", "drug_class"), or None.

    An exact (compact-key) name of another kind is never turned into this kind by typo tolerance.
    """
    type_ = KINDS[kind]
    lex = shared_lexicon()
    match = lex.exact(text, frozenset({type_}))
    if match is not None:
        return match.norm
    if lex.exact(text) is None:
        match = lex.fuzzy(text)
        if match is not None and match.type == type_:
            return match.norm
    m = _NAME_CODE_RE.fullmatch(text.strip())
    if m:
        found = {canonical(kind, m.group("name")), canonical(kind, m.group("code"))}
        if len(found) == 1 and None not in found:
            return found.pop()
    return None


@lru_cache(maxsize=len(KINDS))
def names(kind: str) -> tuple[tuple[str, str], ...]:
    """(surface form, canonical) of every name of a kind, longest first (for scanning sentences)."""
    type_ = KINDS[kind]
    out: dict[str, str] = {}
    for entry in shared_lexicon().entries:
        if entry.type == type_:
            for name in (entry.norm, *entry.aliases):
                out.setdefault(name, entry.norm)
    return tuple(sorted(out.items(), key=lambda kv: -len(kv[0])))


@lru_cache(maxsize=256)
def agent_class(agent: str) -> str | None:
    """Class of a canonical agent (the lexicon's ``class``); an item that names an intervention
    class itself ("ASCT" in a regimen column) is its own class."""
    entry = shared_lexicon().entry("DRUG", agent)
    if entry is None:
        return canonical("drug_class", agent)
    cls = entry.attr("class")
    return canonical("drug_class", cls) or cls if cls else None
