"""Reconcile step: trial records, normalisation, conflicts, schema validation, exports."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import SchemaValidationError
from pipeline.reconcile import normalize as nz
from pipeline.reconcile import reconcile, write_dataset
from pipeline.reconcile.schema import TRIAL_FIELDS, TRIALS_SCHEMA, dataset_frames, validate

GOLD = Path(__file__).resolve().parent / "gold"
GC012F_IDS = ["NCT04236011", "NCT04182581", "NCT04617704", "NCT04935580", "NCT05850234", "ChiCTR2100047061"]


@dataclass
class Fact:
    """Hand-built stand-in for the entity helper's TextFact (duck-typed by reconcile)."""

    metric: str
    value: float | None
    registry_ids: list[str] = field(default_factory=list)
    subject: str | None = None
    unit: str | None = "%"
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: str | None = None
    qualifier: str | None = None
    page: int = 15
    sentence: str = ""
    block_id: str | None = None


@dataclass
class Entity:
    type: str
    text: str
    norm: str
    page: int
    start: int = 0
    end: int = 0
    score: float = 1.0
    source: str = "rule"


GC012F_FACT = Fact(
    metric="orr", value=90.0, registry_ids=list(GC012F_IDS), subject="GC012F", page=15, block_id="b0161",
    sentence="Additionally, BCMA/CD19 CAR T-cell (GC012F) trials (NCT04236011, NCT04182581, NCT04617704, "
             "NCT04935580, NCT05850234, ChiCTR2100047061) achieved a higher 90% ORR [32, 48, 49, 214].")


@pytest.fixture(scope="module")
def inputs(review_pdf):
    from pipeline.document import table_regions
    from pipeline.pdf_loader import load_pdf
    from pipeline.tables import extract_tables
    from pipeline.text_layer import build_text_blocks

    doc = load_pdf(review_pdf)
    tables, chunks = extract_tables(doc)
    blocks = build_text_blocks(doc.pages, table_regions(chunks))
    return tables, blocks


@pytest.fixture(scope="module")
def dataset(inputs):
    tables, blocks = inputs
    return reconcile(tables, blocks=blocks)


@pytest.fixture(scope="module")
def dataset_with_facts(inputs):
    tables, blocks = inputs
    facts = [
        GC012F_FACT,
        Fact(metric="orr", value=90.0, registry_ids=["NCT04720313"], page=15,
             sentence="BCMA CAR T-cell therapy NXC-201 (formerly HBI0101) (NCT04720313) demonstrated a 90% ORR"),
        Fact(metric="orr", value=55.0, subject="bb21217", page=2,
             sentence="The clinical pursuit of bb21217 showed an overall response rate (ORR) of 55%"),
        Fact(metric="orr", value=88.0, registry_ids=["NCT03090659"], page=12, sentence="an ORR of 88%"),
        Fact(metric="pfs_hr", value=0.49, unit="ratio", ci_low=0.38, ci_high=0.65, p_value="<0.001",
             registry_ids=["NCT03651128"], page=6, sentence="a hazard ratio for PFS of 0.49 for ide-cel"),
        Fact(metric="median_os", value=24.8, unit="months", registry_ids=["NCT03361748"], page=6,
             sentence="a median overall survival (OS) of 24.8 months"),
        Fact(metric="orr", value=70.0, subject="ide-cel", page=6, sentence="ide-cel ... ORR 70%"),
    ]
    return reconcile(tables, facts=facts, blocks=blocks)


@pytest.fixture(scope="module")
def written(dataset_with_facts, tmp_path_factory):
    out = tmp_path_factory.mktemp("reconcile") / "dataset"
    write_dataset(dataset_with_facts, out)
    return out


def _gold_ids() -> dict[str, dict]:
    with open(GOLD / "registry_ids.csv", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


# --- trial records ----------------------------------------------------------------------------

def test_one_record_per_registry_id(dataset):
    gold = _gold_ids()
    ids = [t.registry_id for t in dataset.trials]
    assert len(ids) == len(set(ids)) == len(gold) == 131
    assert set(ids) == set(gold)


def test_table_and_text_flags_match_gold(dataset):
    gold = _gold_ids()
    for trial in dataset.trials:
        row = gold[trial.registry_id]
        expected_tables = [int(t) for t in row["in_tables"].split(";") if t]
        assert trial.tables == expected_tables, trial.registry_id
        assert trial.in_tables == bool(expected_tables)
        assert trial.in_text == (row["in_text"] == "true"), trial.registry_id
    narrative_only = sorted(t.registry_id for t in dataset.trials if not t.in_tables)
    assert narrative_only == ["ChiCTR2100047061", "NCT04136756", "NCT04314843", "NCT04720313"]


def test_lower_case_narrative_id_is_found(dataset):
    trial = dataset.trial("NCT03287804")
    assert any("nct03287804" in m["sentence"] for m in trial.narrative_mentions)


def test_record_merged_from_three_tables(dataset):
    trial = dataset.trial("NCT03455972")
    assert trial.sources == ["T2r11", "T3r18", "T4r21"]
    assert trial.targets == ["BCMA", "CD19"] and trial.n_targets == 2
    assert trial.construct_notes == ["Cocktail"]
    assert {"agent": "cetuximab", "drug_class": "EGFRt (suicide gene)"} in trial.combination
    assert trial.phase == "Phase 1/2" and trial.status == "RECRUITING" and trial.enrollment == 15
    assert trial.crs_grade3_pct == 0 and trial.icans_grade3_pct == 0 and trial.orr_pct == 100
    assert trial.country == "China" and trial.country_code == "CN"
    assert trial.citations == [82]
    assert trial.conflict_fields == []


def test_table1_fields(dataset):
    evolve = dataset.trial("NCT03430011")
    assert evolve.products == ["orva-cel"]
    assert evolve.product_aliases_seen == ["Orvace", "JCARH125", "Orva-cel"]
    assert evolve.phase == "Phase 1/2" and evolve.study_name == "EVOLVE"
    assert (evolve.crs_grade3_pct, evolve.icans_grade3_pct) == (2, 4)
    assert evolve.binding_domain_origin == "human" and evolve.binding_domain_format == "scFv"
    assert {"agent": "anakinra", "drug_class": "IL-1RA"} in evolve.combination
    assert dataset.trial("NCT04960579").cell_source == "allogeneic"
    assert dataset.trial("NCT05182073").cell_source == "iPSC-derived NK"
    assert dataset.trial("NCT05008536").cell_source == "cord blood NK"
    assert dataset.trial("NCT05652530").cell_source == "allogeneic NK"
    assert dataset.trial("NCT06045091").cell_source == "NK"  # T1 "NK" and T3 "BCMA (CAR-NK)"
    assert dataset.trial("NCT04318327").strategies == ["T-Charge"]
    assert dataset.trial("NCT04935580").pfs_not_reached is True
    gc = dataset.trial("NCT04182581")
    assert gc.median_pfs_months == 38 and gc.pfs_not_reached is False and gc.orr_pct == 93.1


def test_open_target_list_and_binding_domains(dataset):
    assert dataset.trial("NCT03196414").targets_incomplete is True
    assert dataset.trial("NCT03196414").targets == ["BCMA", "CD19", "CD138"]
    assert len(dataset.trial("NCT03638206").targets) == 10
    nanobody = dataset.trial("NCT03661554")
    assert (nanobody.binding_domain_origin, nanobody.binding_domain_format) == ("nanobody", "VHH")
    assert dataset.trial("NCT04155749").binding_domain_origin == "peptide"
    assert dataset.trial("NCT03602612").binding_domain_format == "VH"
    assert dataset.trial("NCT04670055").combination == []  # Humanized/scFv is a binding domain, not a drug


def test_combination_pairs_by_line_and_keeps_unpaired_items(dataset):
    assert dataset.trial("NCT04133636").combination == [
        {"agent": "lenalidomide", "drug_class": "Immunomodulator"},
        {"agent": "bortezomib", "drug_class": "Proteasome inhibitor"},
        {"agent": "daratumumab", "drug_class": "Anti-CD38 Ab"},
        {"agent": "dexamethasone", "drug_class": "Corticosteroid"},
    ]
    # CURATION.md count mismatches: the extra item keeps a null partner
    assert {"agent": "ASCT", "drug_class": None} in dataset.trial("NCT05257083").combination
    karmma3 = dataset.trial("NCT03651128").combination
    assert len(karmma3) == 7 and {"agent": "carfilzomib", "drug_class": None} in karmma3
    assert {"agent": "elotuzumab", "drug_class": "Anti-SLAMF7 mAb"} in karmma3
    karmma4 = dataset.trial("NCT04196491").combination
    assert {"agent": "fludarabine", "drug_class": "Chemotherapeutic"} in karmma4  # printed "Fludaurine"
    assert sum(1 for c in karmma4 if c["drug_class"] is None) == 1
    mcarh171 = dataset.trial("NCT03070327").combination
    assert {"agent": None, "drug_class": "Radiation Therapy"} in mcarh171
    assert {"agent": "lenalidomide", "drug_class": "Immunomodulator"} in mcarh171
    assert dataset.trial("NCT05191472").combination == [
        {"agent": "pembrolizumab", "drug_class": "Immune checkpoint inhibitor"}]


def test_narrative_only_records_say_what_the_text_says(dataset):
    chictr = dataset.trial("ChiCTR2100047061")
    assert chictr.registry == "Chinese Clinical Trial Registry" and not chictr.in_tables
    assert chictr.products == ["GC012F"] and chictr.targets == ["BCMA", "CD19"]
    assert chictr.phase == "Phase 1" and chictr.country == "China"
    nxc = dataset.trial("NCT04720313")
    assert nxc.products == ["NXC-201"] and nxc.targets == ["BCMA"]
    assert nxc.phase == "Phase 1" and nxc.study_name == "NEXICART-1"
    assert dataset.trial("NCT04314843").study_name == "ZUMA-19"
    assert all(t.sources == [] and t.n_narrative_mentions >= 1 for t in dataset.trials if not t.in_tables)


def test_narrative_fills_gaps_but_not_over_tables(dataset):
    oricar = dataset.trial("NCT05016778")
    assert oricar.study_name == "POLARIS" and oricar.cell_source == "autologous"  # from the text
    assert oricar.phase == "Early Phase 1"  # table "Early I" wins over the text's "phase I"
    assert "phase" in oricar.conflict_fields and oricar.unresolved_fields == []


# --- normalisation -----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("I/II (EVOLVE)", ("Phase 1/2", "EVOLVE")),
    ("I/II CARTITUDE-1", ("Phase 1/2", "CARTITUDE-1")),
    ("III (KarMMa-3)", ("Phase 3", "KarMMa-3")),
    ("Early I", ("Early Phase 1", None)),
    ("Early II", ("Phase 2", None)),
    ("I (MM)", ("Phase 1", None)),
    ("II", ("Phase 2", None)),
    ("I/II (LUMMICAR STUDY 1)", ("Phase 1/2", "LUMMICAR STUDY 1")),
    ("NA", (None, None)),
    ("Phase Ib/II", ("Phase 1/2", None)),
    ("phase Ia/Ib", ("Phase 1", None)),
    ("phase 3", ("Phase 3", None)),
])
def test_phase(raw, expected):
    assert nz.normalize_phase(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("Recruiting", "RECRUITING"), ("Not recruiting", "ACTIVE_NOT_RECRUITING"),
    ("Not Recruiting", "ACTIVE_NOT_RECRUITING"), ("Not yet recruiting", "NOT_YET_RECRUITING"),
    ("Completed", "COMPLETED"), ("Terminated", "TERMINATED"), ("Suspended", "SUSPENDED"),
    ("Unknown", "UNKNOWN"), ("NA", None),
])
def test_status(raw, expected):
    assert nz.normalize_status(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("USA", ("United States", "US")), ("US", ("United States", "US")), ("UK", ("United Kingdom", "GB")),
    ("China", ("China", "CN")), ("Italy", ("Italy", "IT")), ("Japan", ("Japan", "JP")),
    ("Germany", ("Germany", "DE")), ("NA", (None, None)),
])
def test_country(raw, expected):
    assert nz.normalize_country(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("2/4", (2.0, 4.0)), ("6.5/1.6", (6.5, 1.6)), ("31/NA", (31.0, None)), ("2/NA", (2.0, None)),
    ("0/0", (0.0, 0.0)), ("NA", (None, None)), ("", (None, None)),
])
def test_crs_icans_split(raw, expected):
    assert nz.split_grade3(raw) == expected


def test_median_and_numbers():
    assert nz.parse_median("Not yet reached") == (None, True)
    assert nz.parse_median("11.37") == (11.37, False)
    assert nz.parse_median("NA") == (None, None)
    assert nz.parse_number("93.1") == 93.1 and nz.parse_number("NA") is None
    assert nz.parse_int("165") == 165 and nz.parse_int("NA") is None
    assert nz.normalize_registry_id("nct03287804") == "NCT03287804"
    assert nz.normalize_registry_id("chictr2100047061") == "ChiCTR2100047061"


def test_usa_and_us_normalise_to_one_country(dataset):
    assert dataset.trial("NCT03549442").country_code == "US"  # printed "USA"
    assert {t.country for t in dataset.trials if t.country_code == "US"} == {"United States"}


def test_target_cell_parsing():
    cell = nz.parse_target_cell("BCMA (Orvace; JCARH125)")
    assert cell.targets == ["BCMA"] and {c for c, _ in cell.products} == {"orva-cel"}
    assert nz.parse_target_cell("NIK2D (CYAD-01)").targets == ["NKG2D"]
    assert nz.parse_target_cell("SLAMF7 (UCA RTCS1A)").products == [("UCARTCS1A", "UCA RTCS1A")]
    assert nz.parse_target_cell("CD19 and/or BCMA").targets == ["CD19", "BCMA"]
    assert nz.parse_target_cell("BCMA (CAR-NK)").cell_source == "NK"
    april = nz.parse_target_cell("BCMA/TACI (APRIL)")
    assert april.targets == ["BCMA", "TACI"] and april.products == [("APRIL-CAR", "APRIL")]


def test_reconcile_normalises_through_the_project_lexicon():
    """No names of its own: the printed misprints resolve through models/lexicons (typo tolerance)."""
    from pipeline.reconcile import lexicon

    assert nz.canonical_agent("Fludaurine") == "fludarabine"
    assert nz.canonical_agent("Ibrdomide (CC-220)") == "iberdomide"  # name (code), both one agent
    assert nz.canonical_agent("LY3039478(JSMD194)") == "crenigacestat"
    assert nz.canonical_product("MCRH171") == "MCARH171" and nz.canonical_product("OICAR-017") == "OriCAR-017"
    assert nz.canonical_target("NIK2D") == "NKG2D"
    assert nz.canonical_class("GPRC5D-directed BITE") == "GPRC5D-directed BiTE"
    assert nz.canonical_agent("Pomalidomide (CC-220)") == "Pomalidomide (CC-220)"  # parts disagree
    assert lexicon.canonical("product", "APRIL") is None  # the ligand, a TARGET
    assert lexicon.agent_class("crenigacestat") == "Gamma secretase inhibitor"
    assert lexicon.agent_class("ASCT") == "Auto-Stem Cell Transplant"
    assert ("Abecma", "ide-cel") in lexicon.names("product")


def test_missing_lexicon_files_are_an_error(monkeypatch, tmp_path):
    from pipeline.reconcile import lexicon

    monkeypatch.setattr(lexicon, "LEXICON_DIR", tmp_path)
    lexicon.shared_lexicon.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="products.json"):
            lexicon.shared_lexicon()
    finally:
        lexicon.shared_lexicon.cache_clear()


# --- conflicts ----------------------------------------------------------------------------------

def _by_source(entries):
    return {(e.source, e.table, e.row): e for e in entries}


def test_enrollment_conflict_keeps_both_provenances(dataset):
    entries = dataset.conflicts_for("NCT04097301", "enrollment")
    by = _by_source(entries)
    t2, t3 = by[("table", 2, 51)], by[("table", 3, 12)]
    assert (t2.value, t3.value) == ("8", "58")
    for e in (t2, t3):
        assert e.column == "n_patients" and e.page and None not in (e.x0, e.top, e.x1, e.bottom)
        assert e.rule == "unresolved" and not e.resolved and not e.chosen
    assert t2.page != t3.page
    trial = dataset.trial("NCT04097301")
    assert trial.enrollment is None and trial.unresolved_fields == ["enrollment"]


def test_other_cross_table_conflicts(dataset):
    phase = _by_source(dataset.conflicts_for("NCT06045091", "phase"))
    assert phase[("table", 1, 31)].value == "Early Phase 1" and phase[("table", 3, 33)].value == "Phase 1"
    assert dataset.trial("NCT06045091").phase is None
    pfs = dataset.conflicts_for("NCT05201118", "median_pfs_months")
    assert {(e.table, e.raw) for e in pfs} == {(3, "NA"), (4, "Not yet reached")}
    assert all(e.rule == "stated-over-NA" and e.resolved for e in pfs)
    assert dataset.trial("NCT05201118").pfs_not_reached is True


def test_disagreements_that_vanish_after_normalisation(dataset):
    # CURATION.md raw-string disagreements that are one value after normalisation
    for rid in ("NCT03018405", "NCT03070327", "NCT03125577", "NCT03430011", "NCT03455972",
                "NCT04142619", "NCT04196491", "NCT04603872"):
        assert dataset.conflicts_for(rid, "targets") == [], rid
    assert dataset.trial("NCT03070327").products == ["MCARH171"]
    assert set(dataset.trial("NCT03070327").product_aliases_seen) == {"MCARH171", "MCRH171"}
    assert dataset.trial("NCT04142619").products == ["UCARTCS1A"]
    assert dataset.trial("NCT03018405").targets == ["NKG2D"]
    assert dataset.conflicts_for("NCT06045091", "cell_source") == []


def test_narrative_phase_conflict_resolved_by_table(dataset):
    entries = dataset.conflicts_for("NCT04935580", "phase")
    narrative = [e for e in entries if e.source == "narrative"]
    assert narrative and narrative[0].value == "Phase 1" and narrative[0].page == 3
    assert "NCT04935580" in narrative[0].sentence and narrative[0].block
    assert {e.rule for e in entries} == {"table-over-narrative"} and all(e.resolved for e in entries)
    assert dataset.trial("NCT04935580").phase == "Phase 1/2"


def test_gc012f_orr_conflict(dataset_with_facts):
    ds = dataset_with_facts
    for rid, table_value in (("NCT04182581", "93.1"), ("NCT04236011", "93.1"), ("NCT04935580", "100")):
        entries = ds.conflicts_for(rid, "orr_pct")
        tables = [e for e in entries if e.source == "table"]
        narrative = [e for e in entries if e.source == "narrative"]
        assert {e.table for e in tables} == {1, 2} and {e.value for e in tables} == {table_value}
        assert all(e.chosen and e.page and e.x0 is not None for e in tables)
        assert len(narrative) == 1 and narrative[0].value == "90" and narrative[0].pooled
        assert narrative[0].page == 15 and "90% ORR" in narrative[0].sentence and not narrative[0].chosen
        assert {e.rule for e in entries} == {"table-over-narrative"}
        assert ds.trial(rid).orr_pct == float(table_value)
    # a pooled statement never fills a field the tables leave NA
    assert ds.trial("NCT04617704").orr_pct is None and ds.conflicts_for("NCT04617704", "orr_pct") == []
    assert ds.trial("ChiCTR2100047061").orr_pct is None


def test_facts_link_and_fill(dataset_with_facts):
    ds = dataset_with_facts
    assert ds.trial("NCT04720313").orr_pct == 90  # single-trial statement, no table value
    assert ds.trial("NCT03274219").n_text_facts == 1  # linked by subject "bb21217" (agrees with the tables)
    assert ds.conflicts_for("NCT03274219") == []
    assert ds.conflicts_for("NCT03090659", "orr_pct") == []  # 88% agrees with 87.8 after rounding
    karmma3 = ds.trial("NCT03651128")
    assert (karmma3.pfs_hr, karmma3.pfs_hr_ci_low, karmma3.pfs_hr_ci_high) == (0.49, 0.38, 0.65)
    assert ds.trial("NCT03361748").median_os_months == 24.8
    methods = dict(zip([f.subject or ",".join(f.registry_ids) for f in ds.facts], ds.fact_link_methods))
    assert methods["bb21217"] == "subject:product"
    assert methods["ide-cel"] == "ambiguous-subject"


def test_entities_registry_ids_define_narrative_ids(inputs):
    tables, blocks = inputs
    entities = [Entity("REGISTRY_ID", "NCT04720313", "NCT04720313", 15),
                Entity("REGISTRY_ID", "NCT99999999", "NCT99999999", 3),
                Entity("PRODUCT", "NXC-201", "NXC-201", 15)]
    ds = reconcile(tables, entities=entities, blocks=blocks)
    ids = {t.registry_id for t in ds.trials}
    assert "NCT04720313" in ids and "NCT99999999" in ids
    assert "ChiCTR2100047061" not in ids and "NCT04136756" not in ids
    assert len(ids) == 127 + 2
    assert ds.trial("NCT99999999").narrative_mentions[0]["page"] == 3


def test_tables_only(inputs):
    tables, _ = inputs
    ds = reconcile(tables)
    assert len(ds.trials) == 127
    assert not any(t.in_text or t.narrative_mentions for t in ds.trials)
    assert ds.trial("NCT04097301").unresolved_fields == ["enrollment"]


# --- schema validation -----------------------------------------------------------------------

def test_schema_accepts_the_dataset(dataset_with_facts):
    frames = dataset_frames(dataset_with_facts)
    validate("trials", frames["trials"], TRIALS_SCHEMA)


@pytest.mark.parametrize("column, value", [
    ("orr_pct", 150.0), ("phase", "Phase I"), ("status", "Recruiting"), ("registry_id", "NCT123"),
    ("country_code", "USA"), ("enrollment", -3),
])
def test_schema_rejects_corrupted_frame(dataset, column, value):
    df = dataset_frames(dataset)["trials"].copy()
    df.loc[0, column] = value
    with pytest.raises(SchemaValidationError) as exc:
        validate("trials", df, TRIALS_SCHEMA)
    assert column in str(exc.value)


def test_schema_rejects_duplicate_ids_and_bad_lists(dataset):
    df = dataset_frames(dataset)["trials"]
    with pytest.raises(SchemaValidationError):
        validate("trials", pd.concat([df, df.iloc[[0]]], ignore_index=True), TRIALS_SCHEMA)
    bad = df.copy()
    bad.at[0, "targets"] = "BCMA"  # a string, not a list
    with pytest.raises(SchemaValidationError):
        validate("trials", bad, TRIALS_SCHEMA)


def test_write_stops_on_schema_failure(dataset, tmp_path):
    broken = replace(dataset, trials=[replace(t) for t in dataset.trials])
    broken.trials[0].status = "Recruiting"  # not ClinicalTrials.gov vocabulary
    out = tmp_path / "dataset"
    with pytest.raises(SchemaValidationError):
        write_dataset(broken, out)
    assert not out.exists()
    with pytest.raises(SchemaValidationError):
        write_dataset(dataset, out, extra={"text_facts": pd.DataFrame({"metric": [None], "page": [1]})})
    assert not out.exists()


# --- exports and round trips -----------------------------------------------------------------

def _expected_rows(ds):
    return [t.to_dict() for t in ds.trials]


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _assert_rows_equal(rows, expected):
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected):
        for name in want:
            assert _same(got[name], want[name]), (want["registry_id"], name, got[name], want[name])


def test_files_written(written):
    names = {p.name for p in written.iterdir()}
    assert {"trials.parquet", "trials.csv", "trials.jsonl", "conflicts.csv", "evidence.csv",
            "review.duckdb", "datapackage.json"} <= names


def test_parquet_round_trip(written, dataset_with_facts):
    import duckdb

    con = duckdb.connect()
    cur = con.execute(f"SELECT * FROM read_parquet('{written / 'trials.parquet'}')")
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    assert cols == [f.name for f in TRIAL_FIELDS]
    _assert_rows_equal(rows, _expected_rows(dataset_with_facts))


def test_duckdb_round_trip_and_query(written, dataset_with_facts):
    import duckdb

    con = duckdb.connect(str(written / "review.duckdb"), read_only=True)
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"trials", "table_rows", "entities", "text_facts", "conflicts"} <= tables
    cur = con.execute("SELECT * FROM trials")
    cols = [d[0] for d in cur.description]
    _assert_rows_equal([dict(zip(cols, r)) for r in cur.fetchall()], _expected_rows(dataset_with_facts))
    assert con.execute("SELECT count(*) FROM table_rows").fetchone()[0] == 157
    assert con.execute("SELECT count(DISTINCT conflict_id) FROM conflicts").fetchone()[0] == dataset_with_facts.n_conflicts
    assert con.execute("SELECT count(*) FROM text_facts").fetchone()[0] == 7
    hits = con.execute("""
        SELECT registry_id FROM trials
        WHERE status = 'RECRUITING' AND list_contains(targets, 'BCMA') AND orr_pct >= 90
        ORDER BY registry_id""").fetchall()
    hits = [h[0] for h in hits]
    expected = sorted(t.registry_id for t in dataset_with_facts.trials
                      if t.status == "RECRUITING" and "BCMA" in t.targets and (t.orr_pct or 0) >= 90)
    assert hits == expected and "NCT04935580" in hits


def test_jsonl_and_csv(written, dataset_with_facts):
    lines = (written / "trials.jsonl").read_text(encoding="utf-8").splitlines()
    _assert_rows_equal([json.loads(line) for line in lines], _expected_rows(dataset_with_facts))
    with open(written / "trials.csv", encoding="utf-8") as handle:
        rows = {r["registry_id"]: r for r in csv.DictReader(handle)}
    assert len(rows) == 131
    row = rows["NCT03455972"]
    assert row["sources"] == "T2r11; T3r18; T4r21" and row["targets"] == "BCMA; CD19"
    assert row["tables"] == "2; 3; 4" and row["in_tables"] == "true"
    assert "ASCT (Auto-Stem Cell Transplant)" in row["combination"]
    assert rows["NCT04097301"]["enrollment"] == "" and rows["NCT03430011"]["enrollment"] == "165"
    with open(written / "conflicts.csv", encoding="utf-8") as handle:
        conflicts = list(csv.DictReader(handle))
    assert {(c["table"], c["row"], c["value"]) for c in conflicts
            if c["registry_id"] == "NCT04097301"} == {("2", "51", "8"), ("3", "12", "58")}


def test_datapackage_describes_every_field(written):
    package = json.loads((written / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    for name, resource in resources.items():
        assert (written / resource["path"]).exists(), name
    fields = resources["trials"]["schema"]["fields"]
    assert [f["name"] for f in fields] == [f.name for f in TRIAL_FIELDS]
    assert all(f.get("type") and f.get("description") for f in fields)
    by_name = {f["name"]: f for f in fields}
    assert by_name["orr_pct"]["unit"] and by_name["median_pfs_months"]["unit"] == "months"
    assert by_name["targets"]["type"] == "list" and by_name["targets"]["delimiter"] == "; "
    assert "RECRUITING" in by_name["status"]["constraints"]["enum"]
    assert resources["conflicts"]["schema"]["fields"]


# --- integration with the entity helper --------------------------------------------------------

def test_with_real_entities(inputs, tmp_path):
    from pipeline.entities import extract_entities as extract

    tables, blocks = inputs
    result = extract(blocks, tables)
    ds = reconcile(tables, entities=result, blocks=blocks)  # an EntityResult: entities and facts
    assert {t.registry_id for t in ds.trials} == set(_gold_ids())
    assert len(ds.facts) == len(result.facts) and any(ds.fact_links)
    write_dataset(ds, tmp_path / "dataset")
    for rid in ("NCT04182581", "NCT04236011", "NCT04935580"):  # GC012F: tables 93.1/100, text "90% ORR"
        orr = ds.conflicts_for(rid, "orr_pct")
        assert any(e.source == "narrative" and e.value == "90" and e.page for e in orr), rid
        assert any(e.source == "table" and e.chosen for e in orr), rid
    assert ds.trial("NCT04182581").orr_pct == 93.1


def test_invalid_registry_cell_is_kept_and_warned_not_fatal(tmp_path):
    """A damaged id cell ("NCT1E308") must not make the schema fail the whole run."""
    from pipeline.reconcile import reconcile, write_dataset
    from pipeline.records import Cell, Table, TableRow

    def row(n, nct):
        cells = {"target_car_t": Cell("target_car_t", ["BCMA"], 4, (10, 10, 50, 20)),
                 "nct": Cell("nct", [nct], 4, (60, 10, 100, 20))}
        return TableRow(table=1, row=n, block=1, cells=cells, page=4, bbox=(10, 10, 100, 20))

    table = Table(number=1, caption="c", columns=["target_car_t", "nct", "ref"], labels=["Target", "NCT"],
                  footnote="", pages=[4], rows=[row(1, "NCT03430011"), row(2, "NCT1E308")])
    ds = reconcile([table])
    assert [t.registry_id for t in ds.trials] == ["NCT03430011"]
    assert any("NCT1E308" in w for w in ds.warnings)
    write_dataset(ds, tmp_path / "dataset")
    assert (tmp_path / "dataset" / "trials.csv").exists()
    assert len(ds.table_rows) == 2  # the damaged row is still exported


def test_record_dict_equals_asdict_and_copies_containers():
    """record_dict skips asdict's deep copy of scalars only: nested records, named tuples and
    containers come out exactly as asdict gives them, and as copies."""
    from collections import namedtuple
    from dataclasses import asdict

    from pipeline.reconcile.model import record_dict

    Point = namedtuple("Point", "x y")

    @dataclass
    class Inner:
        label: str
        values: list[float] = field(default_factory=list)

    @dataclass
    class Outer:
        name: str
        count: int | None
        score: float
        flag: bool
        inner: Inner
        items: list[dict]
        pair: tuple
        point: Point
        tags: set[str]

    record = Outer("a", None, 1.5, True, Inner("b", [1.0, 2.0]), [{"k": Inner("c")}, {"n": [1, (2, 3)]}],
                   (Inner("d"), "e"), Point(Inner("f"), 2), {"x"})
    got = record_dict(record)
    assert got == asdict(record)
    assert type(got["pair"]) is tuple and type(got["point"]) is Point
    got["items"][1]["n"].append(9)
    got["inner"]["values"].append(3.0)
    got["tags"].add("y")
    assert record.items[1]["n"] == [1, (2, 3)] and record.inner.values == [1.0, 2.0] and record.tags == {"x"}
