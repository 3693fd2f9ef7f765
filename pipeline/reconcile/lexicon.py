"""Small normalisation lexicons for the reconcile step (products, targets, agents, classes).

These are deliberately small and specific to CAR-T trials in multiple myeloma: enough to map
the spellings the bundled review prints ("Orvace" / "Orva-cel" / "JCARH125", "MCRH171",
"UCA RTCS1A", "NIK2D", "SLAMF-7", "Fludaurine", ...) onto one canonical name. If the entity
helper's lexicon (``models/lexicons/``, read through ``pipeline.entities``) is installed,
:func:`external_normaliser` returns its normaliser and it is consulted first; these tables are
the fallback and stay the source for anything it does not know.

Keys are compared after :func:`key` (case-folded, spaces, hyphens, dots and "™" removed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable


def key(text: str) -> str:
    """Comparison key: NFKC, case-folded, without spaces, hyphens, dots, underscores and ™."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("™", "")
    return re.sub(r"[\s\-\u2010-\u2015._]+", "", text)


# --- CAR-T products -------------------------------------------------------------------------
# canonical name -> aliases (printed spellings, code names, typos seen in the review).
# INN names are used where the product has one; otherwise the sponsor's code name.
PRODUCTS: dict[str, list[str]] = {
    "idecabtagene vicleucel": ["ide-cel", "idecel", "bb2121", "Abecma"],
    "ciltacabtagene autoleucel": ["cilta-cel", "ciltacel", "LCAR-B38M", "JNJ-4528", "JNJ-68284528", "Carvykti"],
    "orvacabtagene autoleucel": ["orva-cel", "orvacel", "Orvace", "Orvasel", "JCARH125"],
    "zevorcabtagene autoleucel": ["zevor-cel", "zevorcel", "CT053"],
    "equecabtagene autoleucel": ["eque-cel", "equecel", "CT103A", "Fucaso"],
    "anitocabtagene autoleucel": ["anito-cel", "CART-ddBCMA", "ddBCMA CAR-T", "ddBCMA"],
    "arlocabtagene autoleucel": ["arlo-cel", "BMS-986393", "CC-95266"],
    "CC-98633": ["BMS-986354"],
    "bb21217": [],
    "GC012F": [],
    "PHE885": [],
    "P-BCMA-101": [],
    "P-BCMA-ALLO1": [],
    "PBCAR269A": [],
    "ALLO-605": [],
    "ALLO-715": [],
    "CTX120": [],
    "CB-011": [],
    "CYAD-01": [],
    "CYAD-211": [],
    "FT576": [],
    "Descartes-08": [],
    "Descartes-11": [],
    "FCARH143": [],
    "FHVH33": [],
    "MCARH171": ["MCRH171"],
    "MCARH109": [],
    "MCARH125": [],
    "UCARTCS1A": ["UCA RTCS1A", "UCARTCS1"],
    "C-CAR088": [],
    "HDS2698": [],
    "AR10002h": [],
    "AUTO2": [],
    "TriPRIL": [],
    "APRIL": [],
    "CART-138": [],
    "OriCAR-017": ["OICAR-017"],
    "SENL-819": [],
    "kappa CAR-T": ["κ-CARTs", "κ-CART", "kappa-CARTs"],
    "NXC-201": ["HBI0101"],
}

# Parenthesised words in a "Target/CAR-T Name" cell that are not products.
# value: (kind, canonical) with kind in {"cell_source", "note"}.
TARGET_CELL_DESCRIPTORS: dict[str, tuple[str, str]] = {
    "carnk": ("cell_source", "NK"),
    "carnk92": ("cell_source", "NK-92 cell line"),
    "cocktail": ("note", "Cocktail"),
    "upenn": ("note", "UPenn"),
    "bcma+pd1": ("note", "BCMA+PD1"),
}

# --- Targets (antigens) ----------------------------------------------------------------------
TARGETS: dict[str, list[str]] = {
    "BCMA": ["B-cell maturation antigen", "TNFRSF17"],
    "CD19": [], "CD20": [], "CD22": [], "CD30": [], "CD33": [], "CD38": [], "CD56": [],
    "CD70": [], "CD123": [], "CD138": ["syndecan-1"], "CD44v6": [],
    "SLAMF7": ["SLAMF-7", "CS1"],
    "GPRC5D": [],
    "TACI": [],
    "NKG2D": ["NIK2D"],  # "NIK2D (CYAD-01)" is a typo in Table 2 (Table 1 prints NKG2D)
    "TnMUC1": [],
    "c-Met": ["cMet"],
    "DR5": [],
    "EGFR": [],
    "MSLN": ["mesothelin"],
    "NY-ESO-1": [],
    "integrin β7": ["Integrin beta7", "Integrin beta 7", "ITGB7"],
    "kappa light chain": ["Kappa-light chain", "κ light chain", "Igκ"],
}
# Printed in the target column but naming a binder: MMG49 is the antibody that recognises the
# active conformer of integrin β7 (its CAR is "MMG49 CAR-T").
TARGET_BINDERS: dict[str, tuple[str, str]] = {"mmg49": ("integrin β7", "MMG49 CAR-T")}

# --- Combination agents and their classes --------------------------------------------------
AGENTS: dict[str, list[str]] = {
    "Lenalidomide": [], "Pomalidomide": [], "Iberdomide": ["Ibrdomide (CC-220)", "Ibrdomide", "CC-220"],
    "Bortezomib": [], "Ixazomib": [], "Carfilzomib": [], "Daratumumab": [], "Elotuzumab": [],
    "Dexamethasone": [], "Fludarabine": ["Fludaurine"], "Cyclophosphamide": [],
    "Talquetamab": [], "Nirogacestat": [], "ALLO-647": [],
    "LY3039478": ["LY3039478(JSMD194)", "LY3039478 (JSMD194)", "JSMD194"],
    "Clarithromycin": [], "Selinexor": [], "Belantamab mafodotin": ["Belantamab Mafo-dotin"],
    "Tocilizumab": [], "Siltuximab": [], "Anakinra": [], "Dasatinib": [],
    "Ganciclovir": ["GCV"], "Rimiducid": [], "Cetuximab": [], "ASCT": [],
    "Pembrolizumab": [], "Nivolumab": [], "Lenzilumab": [], "NKTR-255": [],
}

CLASSES: dict[str, list[str]] = {
    "Immunomodulator": [], "Proteasome inhibitor": [], "Corticosteroid": [],
    "Anti-CD38 mAb": ["Anti-CD38 Ab"], "Anti-SLAMF7 mAb": ["Anti-SLAMF7 Ab"],
    "Anti-CD52 mAb": ["anti-CD52 Ab"], "GPRC5D-directed BiTE": ["GPRC5D-directed BITE"],
    "BCMA-targeted ADC": [], "Chemotherapeutic": [], "Gamma secretase inhibitor": [],
    "Antibiotic": [], "Selective inhibitor of nuclear transport": [],
    "Auto-stem cell transplant": ["Auto-Stem Cell Transplant"],
    "Radiation therapy": ["Radiation Therapy"], "CAR-T re-treatment": ["CART re-treatment"],
    "IL-6RA": [], "IL-6A": [], "IL-1RA": [], "LCK inhibitor": [],
    "HSV-TK (suicide gene)": [], "iCasp9 (suicide gene)": [],
    "EGFRt (suicide gene)": ["EGFR/ suicide gene", "EGFR/suicide gene"],
    "Immune checkpoint inhibitor": [],
}

# Class of an agent, used only to align mechanism/regimen items whose counts differ.
AGENT_CLASS: dict[str, str] = {
    "Lenalidomide": "Immunomodulator", "Pomalidomide": "Immunomodulator", "Iberdomide": "Immunomodulator",
    "Bortezomib": "Proteasome inhibitor", "Ixazomib": "Proteasome inhibitor",
    "Carfilzomib": "Proteasome inhibitor", "Daratumumab": "Anti-CD38 mAb",
    "Elotuzumab": "Anti-SLAMF7 mAb", "Dexamethasone": "Corticosteroid",
    "Fludarabine": "Chemotherapeutic", "Cyclophosphamide": "Chemotherapeutic",
    "Talquetamab": "GPRC5D-directed BiTE", "Nirogacestat": "Gamma secretase inhibitor",
    "LY3039478": "Gamma secretase inhibitor", "ALLO-647": "Anti-CD52 mAb",
    "Clarithromycin": "Antibiotic", "Selinexor": "Selective inhibitor of nuclear transport",
    "Belantamab mafodotin": "BCMA-targeted ADC", "ASCT": "Auto-stem cell transplant",
    "Pembrolizumab": "Immune checkpoint inhibitor", "Nivolumab": "Immune checkpoint inhibitor",
}

# Table 3 stacks the CAR's binding domain into its mechanism/regimen cells.
BINDING_ORIGINS = {"human": "human", "humanized": "humanized", "humanised": "humanized",
                   "nanobody": "nanobody", "peptide": "peptide", "murine": "murine"}
BINDING_FORMATS = {"scfv": "scFv", "vh": "VH", "vhh": "VHH"}


def _index(table: dict[str, list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for canonical, aliases in table.items():
        for name in [canonical, *aliases]:
            out.setdefault(key(name), canonical)
    return out


PRODUCT_INDEX = _index(PRODUCTS)
TARGET_INDEX = _index(TARGETS)
AGENT_INDEX = _index(AGENTS)
CLASS_INDEX = _index(CLASSES)


def external_normaliser() -> Callable[[str, str], str | None] | None:
    """The entity helper's normaliser ``f(kind, text) -> canonical | None``, if installed.

    Looked up by duck typing so this package does not depend on the helper's timing: a
    ``normalize``/``normalise`` function in ``pipeline.entities.lexicon`` (or
    ``pipeline.entities``) taking ``(kind, text)``.
    """
    for module_name in ("pipeline.entities.lexicon", "pipeline.entities.lexicons", "pipeline.entities"):
        try:
            module = __import__(module_name, fromlist=["_"])
        except Exception:  # noqa: BLE001 - absent or broken helper: use the fallback
            continue
        for name in ("normalize", "normalise", "canonical"):
            fn = getattr(module, name, None)
            if callable(fn):
                return fn
    return None
