"""Normalisation lexicons of the reconcile step (products, targets, agents, classes).

The project's lexicon is the entity helper's ``models/lexicons/*.json`` (entries
``{"norm", "aliases", "case_sensitive"?, ...}``; aliases match after compaction, those listed
in ``case_sensitive`` only as written). When those files exist they are read and their ``norm``
is the canonical name, so trial fields and entity norms agree. The small tables below are the
fallback: they use the same canonical names, and add the misprints the review's tables contain
("Orvace", "MCRH171", "NIK2D", "Fludaurine", "Ibrdomide (CC-220)", "OICAR-017",
"LY3039478(JSMD194)"); a fallback hit is mapped through the external lexicon again.

Keys are compared after :func:`key` (NFKC, case-folded, spaces, hyphens, dashes, dots,
underscores and "™" removed).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parents[2] / "models" / "lexicons"


def key(text: str) -> str:
    """Comparison key: NFKC, case-folded, without spaces, hyphens, dashes, dots, underscores, ™."""
    text = unicodedata.normalize("NFKC", text).replace("™", "").casefold()
    return re.sub(r"[\s\-\u2010-\u2015._]+", "", text)


# --- fallback tables (canonical names follow models/lexicons) -----------------------------------
PRODUCTS: dict[str, list[str]] = {
    "ide-cel": ["idecabtagene vicleucel", "bb2121", "Abecma"],
    "cilta-cel": ["ciltacabtagene autoleucel", "LCAR-B38M", "JNJ-4528", "JNJ-68284528", "Carvykti"],
    "orva-cel": ["orvacabtagene autoleucel", "Orvace", "Orvasel", "JCARH125"],
    "zevor-cel": ["zevorcabtagene autoleucel", "CT053"],
    "eque-cel": ["equecabtagene autoleucel", "CT103A", "Fucaso"],
    "anito-cel": ["anitocabtagene autoleucel", "CART-ddBCMA", "ddBCMA CAR-T"],
    "arlo-cel": ["arlocabtagene autoleucel", "BMS-986393", "CC-95266"],
    "CC-98633": ["BMS-986354"],
    "bb21217": [], "GC012F": [], "PHE885": [], "P-BCMA-101": [], "P-BCMA-ALLO1": [], "PBCAR269A": [],
    "ALLO-605": [], "ALLO-715": [], "CTX120": [], "CB-011": [], "CYAD-01": [], "CYAD-211": [],
    "FT576": [], "Descartes-08": [], "Descartes-11": [], "FCARH143": [], "FHVH33": [],
    "MCARH171": ["MCRH171"], "MCARH109": [], "MCARH125": [],
    "UCARTCS1A": ["UCA RTCS1A", "UCARTCS1"],
    "C-CAR088": [], "HDS2698": [], "AR10002h": [], "AUTO2": [], "BCMA-UCART": [],
    "TriPRIL CAR": ["TriPRIL"], "APRIL-CAR": ["APRIL", "APRIL CAR"],
    "CART-138": [], "OriCAR-017": ["OICAR-017"], "SENL-819": [],
    "κ-CARTs": ["kappa CAR-T", "κ-CART"], "NXC-201": ["HBI0101"],
    "CAR-NK-92": ["CAR-NK 92"], "BCMA+PD1 CAR-T": ["BCMA+PD1"],
}

# Parenthesised words of a "Target/CAR-T Name" cell that describe the construct or cell source.
DESCRIPTORS: dict[str, tuple[str, str]] = {
    "carnk": ("cell_source", "NK"),
    "carnk92": ("cell_source", "NK-92 cell line"),
    "cocktail": ("note", "Cocktail"),
    "upenn": ("note", "UPenn"),
}

TARGETS: dict[str, list[str]] = {
    "BCMA": ["B-cell maturation antigen", "TNFRSF17"],
    "CD19": [], "CD20": [], "CD22": [], "CD30": [], "CD33": [], "CD38": [], "CD56": [],
    "CD70": [], "CD123": [], "CD138": ["syndecan-1"], "CD44v6": [],
    "SLAMF7": ["SLAMF-7", "CS1"], "GPRC5D": [], "TACI": [],
    "NKG2D": ["NIK2D"],  # "NIK2D (CYAD-01)": misprint in Table 2 (Table 1 prints NKG2D)
    "TnMUC1": [], "c-Met": ["cMet"], "DR5": [], "EGFR": [], "MSLN": ["mesothelin"], "NY-ESO-1": [],
    "integrin β7": ["Integrin beta7", "Integrin beta 7", "ITGB7"],
    "kappa light chain": ["Kappa-light chain", "κ light chain", "Igκ"],
    "MMG49": [],
}

AGENTS: dict[str, list[str]] = {
    "lenalidomide": [], "pomalidomide": [], "iberdomide": ["Ibrdomide (CC-220)", "Ibrdomide", "CC-220"],
    "bortezomib": [], "ixazomib": [], "carfilzomib": [], "daratumumab": [], "elotuzumab": [],
    "dexamethasone": [], "fludarabine": ["Fludaurine"], "cyclophosphamide": [], "talquetamab": [],
    "nirogacestat": [], "ALLO-647": [],
    "crenigacestat": ["LY3039478", "LY3039478(JSMD194)", "LY3039478 (JSMD194)", "JSMD194"],
    "clarithromycin": [], "selinexor": [], "belantamab mafodotin": ["Belantamab Mafo-dotin"],
    "tocilizumab": [], "siltuximab": [], "anakinra": [], "dasatinib": [], "ganciclovir": ["GCV"],
    "rimiducid": [], "cetuximab": [], "pembrolizumab": [], "nivolumab": [], "lenzilumab": [],
    "NKTR-255": [],
}

CLASSES: dict[str, list[str]] = {
    "Immunomodulator": [], "Proteasome inhibitor": [], "Corticosteroid": [],
    "Anti-CD38 Ab": ["Anti-CD38 mAb"], "Anti-SLAMF7 mAb": ["Anti-SLAMF7 Ab"],
    "anti-CD52 Ab": ["anti-CD52 mAb"], "GPRC5D-directed BiTE": ["GPRC5D-directed BITE"],
    "BCMA-targeted ADC": [], "Chemotherapeutic": [], "Gamma secretase inhibitor": [], "Antibiotic": [],
    "selective inhibitor of nuclear transport": [], "Auto-Stem Cell Transplant": [],
    "Radiation Therapy": [], "CART re-treatment": [], "IL-6RA": [], "IL-6A": [], "IL-1RA": [],
    "LCK inhibitor": [], "HSV-TK (suicide gene)": [], "iCasp9 (suicide gene)": [],
    "EGFRt (suicide gene)": ["EGFR/ suicide gene", "EGFR/suicide gene"],
    "Immune checkpoint inhibitor": [],
}

# Class of an agent: only used to align mechanism/regimen items whose counts differ.
AGENT_CLASS: dict[str, str] = {
    "lenalidomide": "Immunomodulator", "pomalidomide": "Immunomodulator", "iberdomide": "Immunomodulator",
    "bortezomib": "Proteasome inhibitor", "ixazomib": "Proteasome inhibitor", "carfilzomib": "Proteasome inhibitor",
    "daratumumab": "Anti-CD38 Ab", "elotuzumab": "Anti-SLAMF7 mAb", "dexamethasone": "Corticosteroid",
    "fludarabine": "Chemotherapeutic", "cyclophosphamide": "Chemotherapeutic",
    "talquetamab": "GPRC5D-directed BiTE", "nirogacestat": "Gamma secretase inhibitor",
    "crenigacestat": "Gamma secretase inhibitor", "ALLO-647": "anti-CD52 Ab", "clarithromycin": "Antibiotic",
    "selinexor": "selective inhibitor of nuclear transport", "belantamab mafodotin": "BCMA-targeted ADC",
    "pembrolizumab": "Immune checkpoint inhibitor", "nivolumab": "Immune checkpoint inhibitor",
    "ASCT": "Auto-Stem Cell Transplant",
}

# Table 3 stacks the CAR's binding domain into its mechanism/regimen cells.
BINDING_ORIGINS = {"human": "human", "humanized": "humanized", "humanised": "humanized",
                   "nanobody": "nanobody", "peptide": "peptide", "murine": "murine"}
BINDING_FORMATS = {"scfv": "scFv", "vh": "VH", "vhh": "VHH"}


class Lexicon:
    """alias -> canonical name for one entity kind (external lexicon first, then fallback)."""

    def __init__(self, fallback: dict[str, list[str]], external: list[dict] | None = None):
        self.exact: dict[str, str] = {}
        self.external: dict[str, str] = {}
        self.external_info: dict[str, dict] = {}
        for entry in external or []:
            norm = entry.get("norm")
            if not norm:
                continue
            self.external_info[norm] = entry
            sensitive = set(entry.get("case_sensitive") or [])
            for name in [norm, *(entry.get("aliases") or [])]:
                if name in sensitive:
                    self.exact.setdefault(name, norm)
                else:
                    self.external.setdefault(key(name), norm)
        self.fallback: dict[str, str] = {}
        self.fallback_aliases = fallback
        for canonical, aliases in fallback.items():
            for name in [canonical, *aliases]:
                self.fallback.setdefault(key(name), canonical)

    def lookup(self, text: str) -> str | None:
        """Canonical name of *text*, or None if neither lexicon knows it."""
        if text in self.exact:
            return self.exact[text]
        k = key(text)
        if k in self.external:
            return self.external[k]
        canonical = self.fallback.get(k)
        if canonical is None:
            return None
        for name in [canonical, *self.fallback_aliases.get(canonical, [])]:
            if name in self.exact:
                return self.exact[name]
            if key(name) in self.external:
                return self.external[key(name)]
        return canonical

    def __contains__(self, text: str) -> bool:
        return self.lookup(text) is not None

    def names(self) -> list[tuple[str, str]]:
        """(surface form, canonical) of every name, longest first (for scanning sentences)."""
        out: dict[str, str] = {}
        for norm, entry in self.external_info.items():
            for name in [norm, *(entry.get("aliases") or [])]:
                out.setdefault(name, norm)
        for canonical, aliases in self.fallback_aliases.items():
            for name in [canonical, *aliases]:
                out.setdefault(name, self.lookup(name) or canonical)
        return sorted(out.items(), key=lambda kv: -len(kv[0]))


@lru_cache(maxsize=4)
def _external(directory: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    folder = Path(directory)
    for kind, filename in (("product", "products.json"), ("target", "targets.json"),
                           ("drug", "drugs.json"), ("drug_class", "drug_classes.json")):
        path = folder / filename
        if not path.is_file():
            continue
        try:
            out[kind] = json.loads(path.read_text(encoding="utf-8")).get("entries", [])
        except (OSError, ValueError):
            continue
    return out


@lru_cache(maxsize=4)
def lexicons(directory: str | None = None) -> dict[str, Lexicon]:
    """The four lexicons (product, target, drug, drug_class), external files first if present."""
    ext = _external(str(directory or LEXICON_DIR))
    return {
        "product": Lexicon(PRODUCTS, ext.get("product")),
        "target": Lexicon(TARGETS, ext.get("target")),
        "drug": Lexicon(AGENTS, ext.get("drug")),
        "drug_class": Lexicon(CLASSES, ext.get("drug_class")),
    }


def external_lexicon_in_use(directory: str | None = None) -> bool:
    return bool(_external(str(directory or LEXICON_DIR)))


def agent_class(agent: str) -> str | None:
    """Known class of a canonical agent (external lexicon's ``class``, else the fallback table)."""
    lex = lexicons()
    info = lex["drug"].external_info.get(agent)
    if info and info.get("class"):
        return lex["drug_class"].lookup(info["class"]) or info["class"]
    cls = AGENT_CLASS.get(agent)
    if cls is None:
        for fallback_name, fallback_cls in AGENT_CLASS.items():
            if lex["drug"].lookup(fallback_name) == agent:
                cls = fallback_cls
                break
    return lex["drug_class"].lookup(cls) or cls if cls else None
