"""Column roles for tables this project has never seen: printed label -> trial field, cell forms,
trials without registry ids, extras. Labels and cells are the kinds other reviews print."""

from __future__ import annotations

import pytest

from pipeline.reconcile import reconcile, write_dataset
from pipeline.reconcile.cells import NOT_REACHED, parse_cell
from pipeline.records import Cell, Table, TableRow, TextBlock
from pipeline.tables.vocabulary import load_vocabulary, map_columns


def fields_of(label: str, group: str = "") -> tuple[str, ...]:
    spec = load_vocabulary().match(label, group)
    return spec.fields if spec else ()


@pytest.mark.parametrize("label, fields", [
    ("Intervention", ("products", "targets")),
    ("Registration number", ("registry_id",)),
    ("ClinicalTrials.gov ID", ("registry_id",)),
    ("Study phase", ("phase", "study_name")),
    ("Recruitment", ("status",)),
    ("Trial status", ("status",)),
    ("Enrollment", ("enrollment",)),
    ("Participants", ("enrollment",)),
    ("Patients, n", ("enrollment",)),
    ("Objective response", ("orr_pct",)),
    ("Response rate (%)", ("orr_pct",)),
    ("ORR, %", ("orr_pct",)),
    ("CR/sCR, %", ("cr_rate_pct",)),
    ("Countries", ("country",)),
    ("Agent", ("products", "targets")),
    ("Costimulatory domain", ("costimulatory_domain",)),
    ("Prior lines, median (range)", ("prior_lines_median",)),
    ("mPFS (95% CI), mo", ("median_pfs_months",)),
    ("mOS", ("median_os_months",)),
    ("CRS, any/grade ≥3, %", ("crs_any_pct", "crs_grade3_pct")),
    ("Any-grade CRS, %", ("crs_any_pct",)),
    ("Grade ≥3 CRS/ICANS%", ("crs_grade3_pct", "icans_grade3_pct")),
    ("Follow-up", ("follow_up_months",)),
    ("Sponsor", ("sponsor",)),
    ("Ref.", ("citations",)),
    ("PFS HR", ("pfs_hr",)),
    ("12-mo PFS", ()),  # a landmark rate is not a median: unmapped, kept as an extra
    ("EFS HR (95% CI)", ()),
])
def test_printed_label_maps_to_its_field(label, fields):
    assert fields_of(label) == fields


def test_group_header_completes_a_short_label():
    assert fields_of("Grade ≥3", "CRS") == ("crs_grade3_pct",)
    assert fields_of("Any grade", "ICANS") == ("icans_any_pct",)
    assert fields_of("HR (95% CI)", "OS") == ("os_hr",)
    assert fields_of("ORR, %", "Efficacy") == ("orr_pct",)


def test_near_miss_labels_by_fuzzy_matching():
    found = load_vocabulary().read("Progresion-free survival")
    assert found.method == "fuzzy" and found.spec.fields == ("median_pfs_months",)
    assert load_vocabulary().read("Colour of the vial").spec is None


def test_columns_are_matched_one_by_one_not_all_or_nothing():
    labels = ["Intervention", "Registration number", "Funding body", "Tumour stage at entry", "Objective response"]
    keys = [key for key, _ in map_columns(labels)]
    assert keys == ["product", "nct", "funding_body", "tumour_stage_at_entry", "orr"]


@pytest.mark.parametrize("parser, text, fields, want", [
    ("percent", "73 (65–81)", ("orr_pct",), [("orr_pct", 73.0, {"ci_low": 65.0, "ci_high": 81.0})]),
    ("percent", "45/62 (73%)", ("orr_pct",), [("orr_pct", 73.0, {"n": 45, "of": 62})]),
    ("percent", "45/60", ("orr_pct",), [("orr_pct", 75.0, {"n": 45, "of": 60})]),
    ("percent", "≥3: 5%", ("crs_grade3_pct",), [("crs_grade3_pct", 5.0, {})]),
    ("percent", "NA", ("orr_pct",), [("orr_pct", None, {})]),
    ("percent", "—", ("orr_pct",), [("orr_pct", None, {})]),
    ("percent_pair", "2/4", ("crs_grade3_pct", "icans_grade3_pct"),
     [("crs_grade3_pct", 2.0, {}), ("icans_grade3_pct", 4.0, {})]),
    ("any_grade3_pair", "85 (9)", ("crs_any_pct", "crs_grade3_pct"),
     [("crs_any_pct", 85.0, {}), ("crs_grade3_pct", 9.0, {})]),
    ("median_time", "8.6 mo", ("median_pfs_months",), [("median_pfs_months", ("months", 8.6), {"unit_printed": "month"})]),
    ("median_time", "NR", ("median_pfs_months",), [("median_pfs_months", NOT_REACHED, {})]),
    ("median_time", "NE", ("median_pfs_months",), [("median_pfs_months", None, {})]),
    ("median_time", "18.4 (14.9–NE)", ("median_dor_months",),
     [("median_dor_months", ("months", 18.4), {"ci_low": 14.9, "unit_printed": "month"})]),
    ("ratio", "0.49 (0.38–0.65)", ("pfs_hr",), [("pfs_hr", 0.49, {"ci_low": 0.38, "ci_high": 0.65})]),
    ("duration", "4 weeks", ("follow_up_months",), [("follow_up_months", 0.92, {"unit_printed": "week"})]),
])
def test_cell_forms(parser, text, fields, want):
    got = [(v.field, v.value, v.extra) for v in parse_cell(parser, text, fields).values]
    assert got == want


def test_unit_in_the_label_converts_the_median():
    value = parse_cell("median_time", "26", ("median_pfs_months",), "months", label="PFS, weeks").values[0].value
    assert value == ("months", round(26 * 12 / 52.1775, 2))


def _row(table: int, n: int, **cells) -> TableRow:
    return TableRow(table=table, row=n, block=1, page=3, bbox=(10, 100 + 10 * n, 500, 108 + 10 * n),
                    cells={k: Cell(k, [v], 3, (10, 100 + 10 * n, 60, 108 + 10 * n)) for k, v in cells.items()})


def _table(number: int, labels: list[str], rows: list[list[str]]) -> Table:
    keys = [key for key, _ in map_columns(labels)]
    return Table(number=number, caption="c", columns=keys, labels=labels, footnote="", pages=[3],
                 rows=[_row(number, i, **dict(zip(keys, r))) for i, r in enumerate(rows, start=1)])


def test_registry_column_found_by_its_cells_and_other_registries_kept():
    table = _table(1, ["Product", "Identifier code", "ORR, %"], [
        ["Ide-cel", "NCT03361748", "73"], ["X-cel", "ISRCTN12345678", "50"],
        ["Y-cel", "ACTRN12618000123456", "40"], ["Z-cel", "jRCT2031210051", "30"]])
    table.columns = ["product", "code", "orr"]  # an unknown label: the cells say it is the registry column
    for row in table.rows:
        row.cells["code"] = row.cells.pop("identifier_code", None) or row.cells.pop("nct")
        row.cells["code"].column = "code"
    ds = reconcile([table])
    assert [t.trial_id for t in ds.trials] == ["NCT03361748", "ISRCTN12345678", "ACTRN12618000123456", "jRCT2031210051"]
    assert ds.trial("ISRCTN12345678").orr_pct == 50.0
    assert any(m["by_cells"] for m in ds.column_mappings)


def test_trials_without_registry_ids_by_acronym_and_by_product_and_citation():
    table = _table(1, ["Trial", "Product", "ORR, %", "Ref."], [
        ["KarMMa-3", "Ide-cel", "71", "[12]"], ["ZUMA-5", "Axi-cel", "92", "[5]"], ["—", "CART-meso", "0", "Beatty 2018"]])
    blocks = [TextBlock("b1", 2, (0, 0, 1, 1), "paragraph", "In KarMMa-3 (NCT03651128), ide-cel improved PFS."),
              TextBlock("b2", 2, (0, 0, 1, 1), "paragraph", "Follicular lymphoma: NCT03105938 (ZUMA-5) is ongoing.")]
    ds = reconcile([table], blocks=blocks)
    by_id = {t.trial_id: t for t in ds.trials}
    assert set(by_id) == {"NCT03651128", "NCT03105938", "product:CART-meso|ref:Beatty 2018"}
    assert by_id["NCT03651128"].identified_by == "study_name" and by_id["NCT03651128"].orr_pct == 71.0
    assert by_id["NCT03105938"].study_name == "ZUMA-5" and by_id["NCT03105938"].orr_pct == 92.0
    assert by_id["product:CART-meso|ref:Beatty 2018"].references == ["Beatty 2018"]


def test_an_acronym_without_any_id_keys_the_trial():
    ds = reconcile([_table(1, ["Trial", "ORR, %"], [["ZUMA-5", "92"]])])
    assert [(t.trial_id, t.registry_id, t.orr_pct) for t in ds.trials] == [("study:ZUMA-5", None, 92.0)]


def test_an_acronym_printed_with_two_ids_is_flagged_not_guessed():
    table = _table(1, ["Trial", "ORR, %"], [["ALPHA-1", "50"]])
    blocks = [TextBlock("b1", 2, (0, 0, 1, 1), "paragraph",
                        "ALPHA-1 (NCT01000001) enrolled adults. A later cohort, ALPHA-1 (NCT01000002), enrolled children.")]
    ds = reconcile([table], blocks=blocks)
    assert ds.trial("study:ALPHA-1") is not None and ds.trial("study:ALPHA-1").registry_id is None
    assert any("ALPHA-1" in w and "NCT01000001" in w and "NCT01000002" in w for w in ds.warnings)


def test_a_table_with_rows_but_no_trial_warns_with_its_unmapped_columns():
    table = _table(1, ["Centre", "Patients, n"], [["Alpha Clinic", "24"], ["Beta Hospital", "31"]])
    ds = reconcile([table])
    assert ds.trials == []
    assert any("no trial" in w and "Centre" in w for w in ds.warnings)


def test_unmapped_and_unreadable_cells_become_extras_with_provenance(tmp_path):
    table = _table(1, ["Registration number", "12-mo PFS", "Patients, n"], [["NCT03361748", "62%", "about forty"]])
    ds = reconcile([table])
    extras = ds.trial("NCT03361748").extras
    assert [(e["label"], e["value"], e["reason"]) for e in extras] == [
        ("12-mo PFS", "62%", "unmapped column"), ("Patients, n", "about forty", "int cell not read")]
    assert all(e["page"] == 3 and e["table"] == 1 and e["row"] == 1 and e["x1"] > e["x0"] for e in extras)
    assert ds.trial("NCT03361748").median_pfs_months is None
    write_dataset(ds, tmp_path / "dataset")
    assert "12-mo PFS: 62%" in (tmp_path / "dataset" / "trials.csv").read_text("utf-8")


def test_any_grade_crs_is_not_stored_as_grade_3():
    table = _table(1, ["NCT", "Any-grade CRS, %"], [["NCT03361748", "84"]])
    trial = reconcile([table]).trial("NCT03361748")
    assert (trial.crs_any_pct, trial.crs_grade3_pct) == (84.0, None)


def test_schema_documentation_lists_every_field_and_column_role():
    from pathlib import Path

    from pipeline.reconcile.schema import TRIAL_FIELDS, TRIAL_SCHEMA_VERSION

    doc = (Path(__file__).resolve().parents[1] / "models" / "trial_schema" / "README.md").read_text("utf-8")
    assert f"version {TRIAL_SCHEMA_VERSION}" in doc
    missing = [f.name for f in TRIAL_FIELDS if f"`{f.name}`" not in doc]
    missing += [s.key for s in load_vocabulary().columns if f"`{s.key}`" not in doc]
    assert not missing


def test_cells_are_tagged_by_column_role_not_by_key_literal():
    from pipeline.entities.table_links import names_products, study_names_of_cell, tagged_column

    agent = map_columns(["Agent"])[0][0]
    assert tagged_column(agent) and names_products(agent)  # a "Drug"/"Agent" column is tagged
    assert not tagged_column(map_columns(["ORR, %"])[0][0])
    assert tagged_column("an_unmapped_column")  # unknown content: tagged, nothing assumed
    assert study_names_of_cell(map_columns(["Trial"])[0][0], "KarMMa-3") == ["KarMMa-3"]
    assert study_names_of_cell(map_columns(["Phase"])[0][0], "III (KarMMa-3)") == ["KarMMa-3"]


def test_uncited_rows_of_one_product_stay_two_trials():
    ds = reconcile([_table(2, ["Product", "ORR, %"], [["LCAR-B38M", "88"], ["LCAR-B38M", "80"]])])
    assert [(t.trial_id, t.orr_pct) for t in ds.trials] == [
        ("product:cilta-cel|ref:Table 2 row 1", 88.0), ("product:cilta-cel|ref:Table 2 row 2", 80.0)]
