"""Entity stage on the bundled review: registry ids, normalisation, table cells, outcome facts.

Expected values come from the gold registry-id list (tests/gold/registry_ids.csv) and from the
review's printed sentences and tables, never from the stage's own output.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict

import pytest

from tests.conftest import GOLD, REVIEW_PDF

# scispaCy's abbreviation detector warns when a text defines no abbreviation
pytestmark = pytest.mark.filterwarnings("ignore:.*W036.*:UserWarning")


@pytest.fixture(scope="module")
def inputs():
    from pipeline.document import table_regions
    from pipeline.pdf_loader import load_pdf
    from pipeline.tables import extract_tables
    from pipeline.text_layer import build_text_blocks

    doc = load_pdf(str(REVIEW_PDF))
    tables, chunks = extract_tables(doc)
    blocks = build_text_blocks(doc.pages, table_regions(chunks))
    return blocks, tables


@pytest.fixture(scope="module")
def nlp():
    from pipeline.entities.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="module")
def result(inputs, nlp):
    from pipeline.entities import extract_entities

    blocks, tables = inputs
    return extract_entities(blocks, tables, use_ner=False)


@pytest.fixture(scope="module")
def gold_ids():
    with open(GOLD / "registry_ids.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _facts(result, metric, **where):
    out = [f for f in result.facts if f.metric == metric]
    for key, value in where.items():
        out = [f for f in out if getattr(f, key) == value]
    return out


# --- registry ids --------------------------------------------------------------------------------
def test_registry_ids_in_narrative_match_gold(result, gold_ids):
    expected = {g["id"] for g in gold_ids if g["in_text"] == "true"}
    found = {e.norm for e in result.entities if e.type == "REGISTRY_ID" and e.source.startswith("text:")}
    assert found - expected == set(), "precision: ids not in the gold list"
    assert expected - found == set(), "recall: gold ids missed in the narrative"


def test_registry_ids_in_tables_match_gold(result, gold_ids):
    expected = {g["id"]: {int(n) for n in g["in_tables"].split(";")} for g in gold_ids if g["in_tables"]}
    found: dict[str, set[int]] = defaultdict(set)
    for e in result.entities:
        if e.type == "REGISTRY_ID" and e.source.startswith("table:"):
            found[e.norm].add(int(e.source.split(":")[1]))
    assert dict(found) == expected


def test_lower_case_registry_id_is_found_and_normalised(result, inputs):
    blocks, _ = inputs
    by_id = {b.id: b for b in blocks}
    hits = [e for e in result.entities if e.type == "REGISTRY_ID" and e.text == "nct03287804"]
    assert len(hits) == 1
    hit = hits[0]
    assert hit.norm == "NCT03287804"
    assert by_id[hit.source.split(":", 1)[1]].text[hit.start:hit.end] == "nct03287804"


@pytest.mark.parametrize("surface, norm, valid", [
    ("NCT03361748", "NCT03361748", True),
    ("nct03361748", "NCT03361748", True),
    ("NCT 03361748", "NCT03361748", True),
    ("NCT0336174", "NCT0336174", False),  # 7 digits
    ("NCT033617480", "NCT033617480", False),  # 9 digits
    ("ChiCTR2100047061", "ChiCTR2100047061", True),
    ("chictr2100047061", "ChiCTR2100047061", True),
    ("ChiCTR-OIC-17011310", "ChiCTR-OIC-17011310", False),  # 8 digits after the type code
    ("ISRCTN12345678", "ISRCTN12345678", True),
    ("EudraCT 2019-001234-56", "EudraCT2019-001234-56", True),
])
def test_registry_id_normalisation_and_strict_validation(nlp, surface, norm, valid):
    matcher = nlp.get_pipe("registry_ids")
    assert matcher.normalize(surface) == (norm, valid)


def test_invalid_registry_ids_are_rejected_not_emitted(nlp):
    doc = nlp("Trials NCT0336174 and NCT033617480 were excluded; NCT03361748 was not.")
    ids = [h.norm for h in doc._.entity_hits if h.label == "REGISTRY_ID"]
    assert ids == ["NCT03361748"]
    assert sorted(t for _, _, t in doc._.rejected_ids) == ["NCT0336174", "NCT033617480"]


# --- normalisation -------------------------------------------------------------------------------
NORMALISATION_CASES = [
    ("Fludaurine", "DRUG", "fludarabine"),
    ("Ibrdomide", "DRUG", "iberdomide"),
    ("NIK2D", "TARGET", "NKG2D"),
    ("Orvace", "PRODUCT", "orva-cel"),
    ("Orvasel", "PRODUCT", "orva-cel"),
    ("Orva-cel", "PRODUCT", "orva-cel"),
    ("MCRH171", "PRODUCT", "MCARH171"),
    ("MCAH109", "PRODUCT", "MCARH109"),
    ("OICAR-017", "PRODUCT", "OriCAR-017"),
    ("Belantamab Mafo-dotin", "DRUG", "belantamab mafodotin"),
    ("UCA RTCS1A", "PRODUCT", "UCARTCS1A"),
    ("GPCR5D", "TARGET", "GPRC5D"),
]


@pytest.mark.parametrize("surface, type_, norm", NORMALISATION_CASES)
def test_normaliser_resolves_misprints(nlp, surface, type_, norm):
    match = nlp.get_pipe("lexicon_linker").lexicon.normalize(surface)
    assert match is not None and (match.type, match.norm) == (type_, norm)
    assert 75 <= match.score <= 100


@pytest.mark.parametrize("surface, type_, norm", NORMALISATION_CASES)
def test_misprints_are_normalised_where_the_review_prints_them(result, surface, type_, norm):
    found = [e for e in result.entities if e.text == surface]
    assert found, f"{surface!r} not tagged anywhere in the review"
    assert {(e.type, e.norm) for e in found} == {(type_, norm)}
    assert all(e.score is not None and e.score < 100 or e.text.lower() == norm.lower() for e in found)


NEGATIVES = ["Completed", "China", "CD4/CD8", "Allogeneic", "Recruiting", "Terminated", "Humanized",
             "Nanobody", "immunomodulation", "CD40", "CD4", "CD8", "Transposon", "US", "April"]


@pytest.mark.parametrize("surface", NEGATIVES)
def test_normaliser_does_not_invent_names(nlp, surface):
    assert nlp.get_pipe("lexicon_linker").lexicon.normalize(surface) is None


def test_table_vocabulary_never_becomes_a_drug_or_product(nlp, inputs):
    """Status, location, strategy and phase cells of the printed tables name no drug or product."""
    _, tables = inputs
    texts = sorted({r.cells[c].text for t in tables for r in t.rows
                    for c in ("status", "location", "strategy_source", "phase_study") if c in r.cells})
    assert {"Completed", "China", "CD4/CD8"} <= set(texts)
    bad = [(doc.text, h.label, h.norm) for doc in nlp.pipe(texts) for h in doc._.entity_hits
           if h.label in ("DRUG", "PRODUCT")]
    assert bad == []


def test_fuzzy_matching_keeps_digits():
    from pipeline.entities.lexicon import load_lexicon

    lex = load_lexicon()
    assert lex.normalize("MCARH117") is None  # not MCARH171: digits differ
    assert lex.normalize("CD191") is None
    assert lex.normalize("Decartes-08").norm == "Descartes-08"


# --- table cells ---------------------------------------------------------------------------------
def test_table_cells_are_tagged_by_column(result, inputs):
    _, tables = inputs
    by_source = defaultdict(set)
    for e in result.entities:
        if e.source.startswith("table:"):
            by_source[e.source].add((e.type, e.norm))
    t4 = next(t for t in tables if t.number == 4)
    row = next(r for r in t4.rows if r.cells["nct"].text == "NCT04181827")  # CARTITUDE-4
    key = f"table:4:{row.row}:"
    assert by_source[key + "target_car_t"] == {("TARGET", "BCMA"), ("PRODUCT", "cilta-cel")}
    assert by_source[key + "regimen"] == {("DRUG", "pomalidomide"), ("DRUG", "bortezomib"),
                                          ("DRUG", "daratumumab"), ("DRUG", "dexamethasone")}
    assert by_source[key + "mechanism"] == {("DRUG_CLASS", "Immunomodulator"), ("DRUG_CLASS", "Proteasome inhibitor"),
                                            ("DRUG_CLASS", "Anti-CD38 Ab"), ("DRUG_CLASS", "Corticosteroid")}


NOT_PRODUCTS = {"Cocktail", "APRIL", "UPenn", "CAR-NK"}  # parentheticals that name no product


def test_every_product_code_of_the_target_column_is_a_product(result, inputs):
    _, tables = inputs
    missing = []
    for t in tables:
        for r in t.rows:
            cell = r.cells.get("target_car_t")
            m = re.search(r"\((.+)\)", cell.text) if cell else None
            if not m or m.group(1) in NOT_PRODUCTS:
                continue
            source = f"table:{t.number}:{r.row}:target_car_t"
            if not any(e.type == "PRODUCT" and e.source == source and m.start(1) <= e.start < m.end(1)
                       for e in result.entities):
                missing.append((t.number, r.row, cell.text))
    assert missing == []


BINDING_DOMAIN_ITEMS = {"scFv", "ScFv", "VH", "VHH", "Human", "Humanized", "Nanobody", "Peptide"}


def test_every_regimen_and_mechanism_item_is_tagged(result, inputs):
    """Each printed item of Tables 3-4 (binding-domain words aside) carries a drug or class entity."""
    _, tables = inputs
    spans = defaultdict(list)
    for e in result.entities:
        if e.source.startswith("table:"):
            spans[e.source].append(e)
    missing = []
    for t in tables:
        for r in t.rows:
            for col, types in (("regimen", {"DRUG", "DRUG_CLASS"}), ("mechanism", {"DRUG_CLASS", "TARGET"})):
                cell = r.cells.get(col)
                if cell is None:
                    continue
                pos = 0
                for line in cell.lines:
                    start = cell.text.find(line, pos)
                    end = start + len(line)
                    pos = end
                    if line.strip() in BINDING_DOMAIN_ITEMS or not line.strip():
                        continue
                    ents = [e for e in spans[f"table:{t.number}:{r.row}:{col}"]
                            if e.start < end and start < e.end and e.type in types]
                    if not ents:
                        missing.append((t.number, r.row, col, line))
    assert missing == []


def test_spans_point_at_the_surface_form(result, inputs):
    blocks, tables = inputs
    block_text = {b.id: b.text for b in blocks}
    cell_text = {f"table:{t.number}:{r.row}:{k}": c.text for t in tables for r in t.rows for k, c in r.cells.items()}
    for e in result.entities:
        if e.source.startswith("text:"):
            text = block_text[e.source[5:]]
            if e.end - e.start == len(e.text):  # entities that do not straddle two blocks
                assert text[e.start:e.end] == e.text, e
        else:
            assert cell_text[e.source][e.start:e.end] == e.text, e


# --- outcome facts -------------------------------------------------------------------------------
def test_karmma_outcomes_linked_to_nct03361748(result):
    for metric, value, unit in (("orr", "73", "%"), ("median_pfs", "8.6", "months"), ("median_os", "24.8", "months")):
        facts = _facts(result, metric, value=value)
        assert len(facts) == 1, metric
        f = facts[0]
        assert (f.unit, f.subject, f.registry_ids) == (unit, "ide-cel", ["NCT03361748"])
        assert "KarMMa trial (NCT03361748)" in f.sentence and f.page == 6


def test_pfs_hazard_ratios_linked_to_phase3_trials_through_the_tables(result):
    ide = _facts(result, "pfs_hr", value="0.49")
    cilta = _facts(result, "pfs_hr", value="0.26")
    assert len(ide) == len(cilta) == 1
    assert (ide[0].subject, ide[0].registry_ids, ide[0].unit) == ("ide-cel", ["NCT03651128"], "ratio")
    assert (ide[0].ci_low, ide[0].ci_high, ide[0].p_value) == ("0.38", "0.65", "< 0.001")
    assert (cilta[0].subject, cilta[0].registry_ids) == ("cilta-cel", ["NCT04181827"])
    assert (cilta[0].ci_low, cilta[0].ci_high, cilta[0].p_value) == ("0.18", "0.38", "< 0.001")
    assert ide[0].link == cilta[0].link == "paragraph"


def test_severity_words_map_to_grade_3(result):
    got = {(f.subject, f.metric, f.value) for f in result.facts if f.metric.startswith(("crs", "icans"))}
    assert {("cilta-cel", "crs_any", "95"), ("cilta-cel", "crs_grade3", "4.1"),
            ("cilta-cel", "icans_any", "16.5"), ("cilta-cel", "icans_grade3", "2.1"),
            ("ide-cel", "crs_any", "84"), ("ide-cel", "crs_grade3", "5"),
            ("ide-cel", "icans_any", "17"), ("ide-cel", "icans_grade3", "3")} <= got
    assert ("ide-cel", "crs_any", "5") not in got


def test_ranges_stay_text_and_antigen_expression_has_its_target(result):
    got = {(f.subject, f.value) for f in _facts(result, "antigen_expression")}
    assert {("SLAMF7", "95"), ("CD138", "90-100"), ("CD38", "80-100"), ("CD56", "70-90"),
            ("kappa light chain", "35")} <= got


def test_respectively_pairs_values_with_subjects(result):
    got = {(f.subject, f.value, f.unit) for f in _facts(result, "response_duration")}
    assert got == {("ide-cel", "8.6", "months"), ("cilta-cel", "34.9", "months")}


def test_product_named_with_trial_elsewhere_in_its_paragraph(result):
    f = _facts(result, "orr", subject="bb21217")
    assert len(f) == 1 and f[0].value == "55" and f[0].registry_ids == ["NCT03274219"]


def _row(table, row, **cells):
    from pipeline.records import Cell, TableRow

    return TableRow(table=table, row=row, block=1, page=1, bbox=(0, 0, 1, 1),
                    cells={k: Cell(column=k, lines=[v], page=1, bbox=None) for k, v in cells.items()})


def test_trials_found_through_study_names_and_products_of_the_tables(nlp):
    """Sentences naming a study or a product but no registry id are linked through the tables."""
    from pipeline.entities import extract_entities
    from pipeline.records import Table, TextBlock

    table = Table(number=9, caption="", columns=["target_car_t", "phase_study", "nct"], labels=[], footnote="",
                  pages=[1], rows=[
                      _row(9, 1, target_car_t="BCMA (Ide-cel)", phase_study="III (KarMMa-3)", nct="NCT03651128"),
                      _row(9, 2, target_car_t="BCMA (Ide-cel)", phase_study="II (KarMMa)", nct="NCT03361748"),
                      _row(9, 3, target_car_t="GPRC5D (MCARH109)", phase_study="I", nct="NCT04555551")])
    blocks = [
        TextBlock("x1", 1, (0, 0, 1, 1), "paragraph", "In KarMMa-3, ide-cel gave a median PFS of 13.3 months."),
        TextBlock("x2", 2, (0, 0, 1, 1), "paragraph", "MCARH109 showed an ORR of 71% in heavily"),
        TextBlock("x3", 3, (0, 0, 1, 1), "paragraph", "treated patients; ide-cel had an ORR of 71% too."),
    ]
    res = extract_entities(blocks, [table], nlp=nlp, use_ner=False)
    got = {(f.subject, f.metric, f.value, tuple(f.registry_ids), f.link, f.page) for f in res.facts}
    assert got == {("ide-cel", "median_pfs", "13.3", ("NCT03651128",), "sentence", 1),
                   ("MCARH109", "orr", "71", ("NCT04555551",), "table", 2),
                   ("ide-cel", "orr", "71", (), "", 2)}


def test_paragraph_split_over_blocks_is_rejoined(result):
    facts = [f for f in _facts(result, "orr", subject="NXC-201")]
    assert sorted(f.value for f in facts) == ["100", "90"]
    assert all("relapsed/refractory MM patients and a 100% ORR" in f.sentence for f in facts)
    assert all(f.registry_ids == ["NCT04720313"] for f in facts)


def test_sentences_without_a_paired_value_give_no_fact(result):
    sentences = " ".join(f.sentence for f in result.facts)
    assert "1 to 7 days" not in sentences  # time of onset, not an outcome
    assert "13% of the severe cases" not in sentences  # no metric named in the sentence


def test_passages_keep_page_provenance_across_a_page_break(inputs):
    from pipeline.entities.passages import build_passages

    blocks, _ = inputs
    joined = [p for p in build_passages(blocks) if "expression in MM, is the most intensively studied" in p.text]
    assert len(joined) == 1
    p = joined[0]
    pos = p.text.index("the most intensively studied")
    assert p.locate(pos)[0].page == p.locate(0)[0].page + 1


def test_document_defined_short_forms_take_the_meaning_of_their_long_form(nlp):
    """A short form defined in the Abbreviations section or a table footnote by a known long form."""
    from pipeline.entities import extract_entities
    from pipeline.records import Table, TextBlock

    blocks = [TextBlock("a1", 9, (0, 0, 1, 1), "abbreviation", "XMA\tB-cell maturation antigen"),
              TextBlock("p1", 2, (0, 0, 1, 1), "paragraph", "XMA and QZR are both expressed on plasma cells.")]
    table = Table(number=1, caption="", columns=[], labels=[], pages=[3], rows=[],
                  footnote="Cluster of differentiation (CD), Signaling lymphocyte activation molecule family-7 (QZR)")
    res = extract_entities(blocks, [table], nlp=nlp, use_ner=False)
    got = {(e.text, e.type, e.norm, e.method, e.source) for e in res.entities}
    assert got == {("XMA", "TARGET", "BCMA", "abbreviation", "text:p1"),
                   ("QZR", "TARGET", "SLAMF7", "abbreviation", "text:p1")}


@pytest.mark.parametrize("previous, text, joined", [
    ("... to improve patient survival, CAR", "T-cell therapies have shown clinical benefits.", True),
    ("... demonstrated a 90% ORR in", "relapsed/refractory MM patients.", True),
    ("... has since been terminated [181] (Table 3).", "iCasp9 The other suicide gene ...", False),
    ("... published regarding the use of BCMA [70, 72]", "Furthermore, one primary process ...", False),
    ("It ended here.", "consequently, april car t-cells ...", True),
])
def test_paragraph_continuation_rule(previous, text, joined):
    from pipeline.entities.passages import continues
    from pipeline.records import TextBlock

    a = TextBlock("a", 1, (0, 0, 1, 1), "paragraph", previous)
    b = TextBlock("b", 2, (0, 0, 1, 1), "paragraph", text)
    assert continues(a, b) is joined


# --- metric rules on single sentences ------------------------------------------------------------
@pytest.fixture(scope="module")
def extractor():
    from pipeline.entities.lexicon import LEXICON_DIR
    from pipeline.entities.metrics import MetricExtractor

    return MetricExtractor(json.loads((LEXICON_DIR / "metrics.json").read_text(encoding="utf-8")))


def test_not_reached_is_a_qualifier(extractor):
    (m,) = extractor.extract("The median PFS was not reached after 20 months of follow-up.")
    assert (m.metric, m.value, m.qualifier) == ("median_pfs", "", "not reached")


def test_complete_response_and_os_hazard_ratio(extractor):
    got = {(m.metric, m.value, m.unit, m.ci_low, m.ci_high, m.p_value) for m in extractor.extract(
        "The CR rate was 33% and the hazard ratio for OS was 0.57 (95% CI 0.4-0.8; P = 0.02).")}
    assert got == {("cr_rate", "33", "%", "", "", ""), ("os_hr", "0.57", "ratio", "0.4", "0.8", "= 0.02")}


def test_statistical_ner_entities_are_added_without_overriding_lexicon_ones(inputs, nlp):
    """A stand-in model (entity ruler) shows how CHEMICAL/DISEASE/GENE_OR_PROTEIN are merged."""
    import spacy

    from pipeline.entities import extract_entities

    ner = spacy.blank("en")
    ruler = ner.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "DISEASE", "pattern": "multiple myeloma"},
                        {"label": "GENE_OR_PROTEIN", "pattern": "BCMA"},
                        {"label": "CHEMICAL", "pattern": "lenalidomide"}])
    blocks, tables = inputs
    res = extract_entities(blocks, tables, nlp=nlp, ner=ner)
    model = [e for e in res.entities if e.method == "model"]
    assert {e.type for e in model} == {"DISEASE"}  # BCMA is a TARGET, lenalidomide a DRUG already
    assert all(e.score is None and e.text.lower() == "multiple myeloma" for e in model)
    assert sum(e.type == "TARGET" and e.norm == "BCMA" for e in res.entities) == sum(
        e.type == "TARGET" and e.norm == "BCMA" for e in extract_entities(blocks, tables, nlp=nlp, use_ner=False).entities)


# --- outputs, pipeline, speed --------------------------------------------------------------------
def test_outputs_follow_the_contract(result, tmp_path):
    from pipeline.entities import ENTITY_TYPES, FACT_COLUMNS, write_entity_outputs

    write_entity_outputs(result, tmp_path)
    lines = (tmp_path / "entities.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(result.entities)
    for line in lines:
        item = json.loads(line)
        assert {"type", "text", "norm", "score", "page", "start", "end", "source"} <= set(item)
        assert item["type"] in ENTITY_TYPES
        assert item["source"].startswith(("text:", "table:"))
    with open(tmp_path / "text_facts.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == FACT_COLUMNS
    assert len(rows) == len(result.facts)
    assert any(r["registry_ids"] == "NCT03361748" and r["metric"] == "orr" for r in rows)


def test_abbreviation_dictionary_has_all_three_sources(result):
    by_source = {(a.short, a.long.lower(), a.source.split(":")[0]) for a in result.abbreviations}
    assert ("GSI", "gamma secretase inhibitor", "abbreviations") in by_source
    assert ("APRL", "a proliferation-inducing ligand", "table") in by_source
    assert any(s == "IMiDs" and src == "text" for s, _, src in by_source)


def test_pipeline_assembled_from_config(nlp):
    assert nlp.pipe_names == ["sentencizer", "abbreviation_detector", "registry_ids", "lexicon_linker",
                              "drug_dictionary", "outcome_metrics"]
    assert nlp.config["nlp"]["tokenizer"]["@tokenizers"] == "review_extract.biomed_tokenizer.v1"
    assert [t.text for t in nlp.tokenizer("P-BCMA-ALLO1 and BCMA/CD19 (ide-cel)")] == [
        "P-BCMA-ALLO1", "and", "BCMA", "/", "CD19", "(", "ide-cel", ")"]


def test_models_nlp_is_up_to_date_with_the_lexicons(tmp_path):
    from pipeline.entities.build_nlp import build
    from pipeline.entities.nlp import NLP_DIR

    out = build(tmp_path / "nlp")
    for rel in ("config.cfg", "lexicon_linker/lexicon.json", "registry_ids/registries.json",
                "outcome_metrics/metrics.json", "drug_dictionary/variants.json.gz"):
        assert (out / rel).read_bytes() == (NLP_DIR / rel).read_bytes(), f"models/nlp/{rel} is stale: rebuild it"


def test_a_model_that_does_not_load_fails_every_time(monkeypatch):
    import pipeline.entities as entities
    import pipeline.ner

    def broken(*args, **kwargs):
        raise ValueError("truncated weights")

    monkeypatch.setattr(entities, "_NER_MODELS", {})
    monkeypatch.setattr(pipeline.ner, "load_ner_model", broken)
    for _ in range(2):  # the failure is not remembered as "no model"
        with pytest.raises(RuntimeError, match="truncated weights"):
            entities.load_ner()


def test_ner_workers_find_what_one_process_finds(inputs, monkeypatch):
    from pipeline.entities import extract_entities

    blocks, tables = inputs
    found = {}
    for processes in ("1", "2"):
        monkeypatch.setenv("REVIEW_EXTRACT_PROCESSES", processes)
        result = extract_entities(blocks, tables, use_ner=True)
        found[processes] = [e.to_dict() for e in result.entities if e.method == "model"]
    assert found["2"] == found["1"]
    assert found["1"]  # the model found something to compare


@pytest.mark.parametrize("lengths", [[100] * 159, [5, 900, 40, 40, 3000, 7, 7, 60] * 30, [10] * 3, [50] * 64])
def test_ner_tasks_share_the_passages_evenly_and_in_order(lengths):
    from pipeline.entities import NER_TEXTS_PER_TASK, _ner_tasks

    texts = [f"{i:04d}" + "x" * n for i, n in enumerate(lengths)]
    tasks = _ner_tasks(texts, 2)
    assert [t for task in tasks for t in task] == texts  # every passage once, in order
    assert len(tasks) >= 2
    assert all(task and len(task) <= NER_TEXTS_PER_TASK for task in tasks)
    sizes = [sum(map(len, task)) for task in tasks]
    assert max(sizes) <= sum(sizes) / (len(tasks) // 2 * 2) + max(map(len, texts))  # about equal shares
