"""Merge table rows and narrative into one :class:`TrialRecord` per registry id.

Every value any source states for a trial becomes an :class:`Observation` (with table, row,
column, page and bbox, or block, page and sentence). Per trial and field the observations are
compared after normalisation and resolved by these rules, in order:

``agree``
    all sources state the same normalised value ("USA" = "US", "Not Recruiting" = "Not
    recruiting", "Orvace" = "Orva-cel"); no conflict is recorded.
``stated-over-NA``
    one table prints a value and another prints NA: the stated value is kept (resolved).
``table-over-narrative``
    tables state one value and the narrative another (e.g. GC012F ORR 93.1 / 100 in the tables,
    "90% ORR" in the text): the table value is kept (resolved). Tables are the review's per-trial
    summary; narrative numbers are often pooled over several trials or rounded. Narrative
    numbers equal to a table value after rounding to the narrative's precision agree.
``primary-table``
    tables disagree and the field has a primary column (cell source: Strategy/Source): the
    value printed in that column is kept (resolved).
``narrative-tie-break``
    tables disagree and a single-trial narrative statement matches exactly one of the table
    values: that value is kept (resolved).
``trial-specific-over-pooled``
    no table value; single-trial narrative statements agree and a pooled statement (one sentence
    about several trials) differs: the single-trial value is kept (resolved).
``unresolved``
    anything else (e.g. NCT04097301 enrolls 8 in Table 2 but 58 in Table 3): the field is left
    null, every value stays in the conflicts table, the field is listed in
    ``unresolved_fields``.

Pooled narrative statements never fill a field on their own (they are compared, not used).
Set-valued fields (products, strategies, combination, citations) are unions, not conflicts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from pipeline.entities.lexicon import compact
from pipeline.reconcile import normalize as nz
from pipeline.reconcile.cells import NOT_REACHED, ParsedCell, parse_cell
from pipeline.reconcile.model import (
    ConflictEntry,
    Observation,
    TrialDataset,
    TrialRecord,
    value_text,
)
from pipeline.reconcile.narrative import (
    Mention,
    attr,
    find_mentions,
    sentence_claims,
    sentence_countries,
    sentence_products,
    sentence_targets,
)
from pipeline.records import Table
from pipeline.registry_ids import registries
from pipeline.tables.vocabulary import ColumnSpec, load_vocabulary

# Scalar fields compared across sources, in output order.
SCALAR_FIELDS = (
    "targets", "cell_source", "costimulatory_domain", "binding_domain", "binding_domain_origin",
    "binding_domain_format", "phase", "study_name", "status", "disease", "setting", "line_of_therapy",
    "prior_lines_median", "enrollment", "evaluable", "dose", "crs_grade3_pct", "icans_grade3_pct", "orr_pct",
    "median_pfs_months", "cr_rate_pct", "vgpr_pct", "mrd_neg_pct", "median_os_months", "median_dor_months",
    "pfs_hr", "os_hr", "crs_any_pct", "icans_any_pct", "follow_up_months", "country", "sponsor",
)
# Medians: value ("months", x) or ("not reached",); field -> (not-reached flag, CI field prefix).
MEDIAN_FIELDS = {"median_pfs_months": ("pfs_not_reached", "median_pfs"),
                 "median_os_months": ("os_not_reached", "median_os"),
                 "median_dor_months": ("dor_not_reached", "median_dor")}
RATIO_FIELDS = {"pfs_hr", "os_hr"}  # with a CI: <field>_ci_low / _ci_high
INTEGER_FIELDS = {"enrollment", "evaluable"}
NUMERIC_FIELDS = {"prior_lines_median", "enrollment", "evaluable", "crs_grade3_pct", "icans_grade3_pct", "orr_pct",
                  "cr_rate_pct", "vgpr_pct", "mrd_neg_pct", "pfs_hr", "os_hr", "crs_any_pct", "icans_any_pct",
                  "follow_up_months"}
TEXT_FIELDS = {"study_name", "country", "costimulatory_domain", "binding_domain", "disease", "setting",
               "line_of_therapy", "dose", "sponsor"}
REGISTRY_CELL_SHARE = 0.6  # a column is the registry column when this share of its cells hold a registry id

# TextFact.metric -> trial field (metrics not listed stay in text_facts only).
METRIC_FIELDS = {
    "orr": "orr_pct", "cr_rate": "cr_rate_pct", "median_pfs": "median_pfs_months", "median_os": "median_os_months",
    "response_duration": "median_dor_months", "pfs_hr": "pfs_hr", "os_hr": "os_hr",
    "crs_any": "crs_any_pct", "crs_grade3": "crs_grade3_pct", "icans_any": "icans_any_pct",
    "icans_grade3": "icans_grade3_pct",
}


def reconcile(tables: list[Table], entities=None, facts=None, blocks=None) -> TrialDataset:
    """One :class:`TrialRecord` per trial printed in the tables or the narrative.

    A trial is identified by its registry id; a table row without one by its study acronym
    (linked to a registry id when another row or a sentence prints both, "KarMMa-3
    (NCT03651128)"; several candidate ids are flagged, never guessed), else by product and
    citation. *entities*: the entity helper's entities (``.type``, ``.text``, ``.norm``,
    ``.page``, ``.start``, ``.end``, ``.source``) or its whole ``EntityResult`` (then its
    ``.facts`` are used when *facts* is None). *facts*: ``TextFact``-like objects
    (``.registry_ids``, ``.subject``, ``.metric``, ``.value``, ``.unit``, ``.ci_low``,
    ``.ci_high``, ``.qualifier``, ``.page``, ``.sentence``). *blocks*: the text layer's blocks
    (narrative ids are found in them when no REGISTRY_ID entities are passed, and sentences are
    read from them).
    """
    if entities is not None and hasattr(entities, "entities"):
        if facts is None:
            facts = getattr(entities, "facts", None)
        entities = entities.entities
    entities = list(entities or [])
    facts = list(facts or [])
    warnings: list[str] = []

    # --- narrative ids and mentions -------------------------------------------------------
    entity_ids = _registry_entities(entities)
    all_mentions = find_mentions(blocks) if blocks else []
    mentions = all_mentions
    if entity_ids is not None:
        narrative_ids = list(entity_ids)
        mentions = [m for m in mentions if m.registry_id in set(narrative_ids)]
        have = {m.registry_id for m in mentions}
        for ent in entities:
            rid = _entity_registry_id(ent)
            if rid and rid not in have:
                mentions.append(Mention(registry_id=rid, block=str(_block_of(ent) or ""),
                                        page=int(attr(ent, "page", default=0) or 0), block_type="",
                                        start=int(attr(ent, "start", default=0) or 0),
                                        end=int(attr(ent, "end", default=0) or 0),
                                        sentence=str(attr(ent, "sentence", default="") or ""),
                                        ids_in_sentence=[rid], printed=str(attr(ent, "text", default=rid))))
                have.add(rid)
    else:
        narrative_ids = nz.unique(m.registry_id for m in mentions)
    by_id_mentions: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_id_mentions[m.registry_id].append(m)

    obs: dict[str, list[Observation]] = defaultdict(list)
    unions: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    parsed = [_parse_table(t) for t in tables]
    _identify(parsed, all_mentions, warnings)
    table_rows = _table_observations(parsed, obs, unions, warnings)
    columns: dict[str, str] = {}
    mappings: list[dict] = []
    for pt in parsed:
        for col in pt.columns:
            columns.setdefault(col.key, col.label)
            mappings.append({"table": pt.table.number, "label": col.label, "key": col.key,
                             "fields": list(col.spec.fields) if col.spec else [],
                             "parser": col.spec.parser if col.spec else None,
                             "by_cells": col.by_cells})
    table_ids = list(unions.keys())

    fact_ids = [rid for f in facts for rid in _fact_ids(f)]
    all_ids = nz.unique([*table_ids, *narrative_ids, *fact_ids])

    # --- narrative observations: sentence claims ------------------------------------------
    for rid in all_ids:
        for m in by_id_mentions.get(rid, []):
            for claim in sentence_claims(m):
                obs[rid].append(Observation(
                    trial_id=rid, field=claim.field, value=claim.value, raw=claim.raw, source="narrative",
                    page=m.page, block=m.block, sentence=m.sentence, pooled=False, extractor="sentence"))
        if not unions.get(rid, {}).get("sources"):
            _narrative_only(rid, by_id_mentions.get(rid, []), entities, obs, unions)

    # --- narrative observations: facts ----------------------------------------------------
    product_index = _product_index(unions)
    study_index = _study_index(obs)
    fact_links: list[list[str]] = []
    fact_methods: list[str] = []
    n_facts: dict[str, int] = defaultdict(int)
    for fact in facts:
        linked, method = _link_fact(fact, product_index, study_index)
        fact_links.append(linked)
        fact_methods.append(method)
        for rid in linked:
            n_facts[rid] += 1
            ob = _fact_observation(fact, rid, pooled=len(linked) > 1)
            if ob is not None:
                obs[rid].append(ob)

    # --- resolve ---------------------------------------------------------------------------
    trials: list[TrialRecord] = []
    conflicts: list[ConflictEntry] = []
    evidence: list[Observation] = []
    n_conflicts = 0
    for tid in all_ids:
        u = unions.get(tid, {})
        ids = nz.unique([*([tid] if registries().is_valid(tid) else []), *u.get("registry_ids", [])])
        rec = TrialRecord(trial_id=tid, registry_id=ids[0] if ids else None,
                          registry=nz.registry_name(ids[0]) if ids else None, registry_ids=ids,
                          identified_by=(u.get("identified_by") or ["registry_id"])[0])
        rec.sources = list(u.get("sources", []))
        rec.in_tables = bool(rec.sources)
        rec.tables = sorted({int(s[1:].split("r")[0]) for s in rec.sources})
        rec.products = nz.unique(u.get("products", []))
        rec.product_aliases_seen = nz.unique(u.get("aliases", []))
        rec.construct_notes = nz.unique(u.get("notes", []))
        rec.targets_incomplete = bool(u.get("incomplete"))
        rec.strategies = nz.unique(u.get("strategies", []))
        rec.combination = [{"agent": a, "drug_class": c} for a, c in nz.unique(u.get("combination", []))]
        rec.citations = sorted(set(u.get("citations", [])))
        rec.references = nz.unique(u.get("references", []))
        rec.extras = list(u.get("extras", []))
        ms = by_id_mentions.get(tid, [])
        rec.narrative_mentions = [m.to_dict() for m in ms]
        rec.n_narrative_mentions = len(ms)
        rec.in_text = bool(ms)
        rec.n_text_facts = n_facts.get(tid, 0)
        field_obs: dict[str, list[Observation]] = defaultdict(list)
        for ob in obs.get(tid, []):
            field_obs[ob.field].append(ob)
            evidence.append(ob)
        for name in SCALAR_FIELDS:
            items = field_obs.get(name)
            if not items:
                continue
            value, chosen, rule, resolved, show = resolve_field(name, items)
            for ob in chosen:
                ob.chosen = True
            _apply(rec, name, value, chosen)
            if show:
                n_conflicts += 1
                cid = n_conflicts
                rec.conflict_fields.append(name)
                if not resolved:
                    rec.unresolved_fields.append(name)
                for ob in show:
                    conflicts.append(_conflict_entry(cid, ob, ob.chosen, resolved, rule, value, rec.registry_id))
        rec.n_targets = len(rec.targets) if rec.targets else None
        trials.append(rec)

    return TrialDataset(trials=trials, conflicts=conflicts, evidence=evidence, table_rows=table_rows,
                        table_columns=columns, column_mappings=mappings, entities=entities, facts=facts,
                        fact_links=fact_links, fact_link_methods=fact_methods, warnings=warnings)


# --- tables ----------------------------------------------------------------------------------

@dataclass(slots=True)
class ParsedColumn:
    key: str
    label: str
    spec: ColumnSpec | None  # None: unmapped (its cells become extras)
    by_cells: bool = False  # the registry column, recognised by its cells rather than its label


@dataclass(slots=True)
class ParsedRow:
    row: object  # TableRow
    cells: dict[str, ParsedCell] = field(default_factory=dict)
    registry_ids: list[str] = field(default_factory=list)
    study: str | None = None
    products: list[str] = field(default_factory=list)
    citation: str | None = None
    trial_id: str | None = None
    identified_by: str = "registry_id"


@dataclass(slots=True)
class ParsedTable:
    table: Table
    columns: list[ParsedColumn]
    rows: list[ParsedRow]


def _table_columns(table: Table) -> list[ParsedColumn]:
    """Each printed column with its role: the vocabulary's spec of its key; a column whose cells
    are mostly registry ids is the registry column, whatever its label."""
    vocab = load_vocabulary()
    printed = [k for k in table.columns if k != "ref"]
    labels = table.labels if len(table.labels) == len(printed) else printed
    out = []
    for key, label in zip(printed, labels):
        spec = vocab.by_key(key)
        by_cells = False
        if spec is None or spec.parser != "registry_id":
            texts = [row.cells[key].text for row in table.rows if key in row.cells and row.cells[key].text.strip()]
            hits = sum(1 for t in texts if registries().valid_ids(t))
            if texts and hits >= REGISTRY_CELL_SHARE * len(texts):
                registry = next(s for s in vocab.columns if s.parser == "registry_id")
                if spec is None or spec.parser in ("text", "study_name"):
                    spec, by_cells = registry, True
        out.append(ParsedColumn(key, label, spec, by_cells))
    if "ref" in table.columns:
        out.append(ParsedColumn("ref", "citation", vocab.by_key("ref")))
    return out


def _parse_table(table: Table) -> ParsedTable:
    columns = _table_columns(table)
    rows = []
    for row in table.rows:
        pr = ParsedRow(row)
        for col in columns:
            cell = row.cells.get(col.key)
            if cell is None or col.spec is None:
                continue
            text = "\n".join(cell.lines) if col.spec.multi_item else cell.text
            parsed = parse_cell(col.spec.parser, text, col.spec.fields, col.spec.unit, col.label)
            pr.cells[col.key] = parsed
            pr.registry_ids.extend(parsed.registry_ids)
            pr.products.extend(canonical for canonical, _ in parsed.products)
            for v in parsed.values:
                if v.field == "study_name" and v.value and pr.study is None:
                    pr.study = v.value
            if col.spec.parser == "citation" and text.strip() and pr.citation is None:
                pr.citation = nz.clean(text)
        pr.registry_ids = nz.unique(pr.registry_ids)
        rows.append(pr)
    return ParsedTable(table, columns, rows)


def _identify(parsed: list[ParsedTable], mentions: list[Mention], warnings: list[str]) -> None:
    """Give every row its trial id: registry id; else study acronym (linked to the one registry
    id that another table row or a sentence prints with it); else product + citation."""
    study_ids: dict[str, list[str]] = defaultdict(list)
    for pt in parsed:
        for pr in pt.rows:
            if pr.study and pr.registry_ids:
                for rid in pr.registry_ids:
                    if rid not in study_ids[compact(pr.study)]:
                        study_ids[compact(pr.study)].append(rid)
    for pt in parsed:
        table = pt.table
        for pr in pt.rows:
            if pr.registry_ids:
                pr.trial_id = pr.registry_ids[0]
                continue
            if pr.study:
                linked = nz.unique([*study_ids.get(compact(pr.study), []), *_narrative_links(pr.study, mentions)])
                if len(linked) == 1:
                    pr.trial_id, pr.identified_by = linked[0], "study_name"
                    pr.registry_ids = linked
                    continue
                if len(linked) > 1:
                    warnings.append(f"Table {table.number} row {pr.row.row}: study {pr.study!r} is printed with "
                                    f"several registry ids ({', '.join(linked)}); not linked to any")
                pr.trial_id, pr.identified_by = f"study:{pr.study}", "study_name"
                continue
            if pr.products:
                # no printed citation: the row itself (two uncited rows of one product are two trials)
                citation = pr.citation or f"Table {table.number} row {pr.row.row}"
                pr.trial_id = f"product:{'+'.join(nz.unique(pr.products))}|ref:{citation}"
                pr.identified_by = "product+citation"
                continue
            invalid = [pr.row.cells[c.key].text for c in pt.columns
                       if c.spec is not None and c.spec.parser == "registry_id" and c.key in pr.row.cells
                       and pr.row.cells[c.key].text.strip()]
            for text in invalid:
                warnings.append(f"Table {table.number} row {pr.row.row}: {text!r} is not a valid "
                                "registry id; no trial record for this row")
        if pt.rows and not any(pr.trial_id for pr in pt.rows):
            unmapped = [c.label for c in pt.columns if c.spec is None]
            warnings.append(f"Table {table.number}: {len(pt.rows)} rows but no trial (no registry id, study name or "
                            f"product column); unmapped columns: {', '.join(unmapped) or 'none'}")


def _narrative_links(study: str, mentions: list[Mention]) -> list[str]:
    """Registry ids a sentence prints right next to the study name: "KarMMa-3 (NCT03651128)",
    "the ZUMA-1 trial (NCT02348216)", "NCT03651128 (KarMMa-3)"."""
    words = r"\s+".join(map(re.escape, study.split()))
    before = re.compile(rf"(?<![\w-]){words}(?:\s+(?:trial|study))?\s*[(\[]\s*(?:[\w/-]+\s*[,;]\s*)*$")
    after = re.compile(rf"^\s*[(\[]\s*(?:the\s+)?{words}(?![\w-])")
    return nz.unique(m.registry_id for m in mentions
                     if before.search(m.sentence[:m.sentence_start])
                     or after.match(m.sentence[m.sentence_start + len(m.printed):]))


def _table_observations(parsed: list[ParsedTable], obs, unions, warnings) -> list[dict]:
    rows_out: list[dict] = []
    for pt in parsed:
        for pr in pt.rows:
            rows_out.append(_row_dict(pt.table, pr))
            if pr.trial_id:
                _row_observations(pt, pr, obs[pr.trial_id], unions[pr.trial_id])
    return rows_out


def _row_dict(table: Table, pr: ParsedRow) -> dict:
    row = pr.row
    x0, top, x1, bottom = (round(v, 2) for v in row.bbox)
    out = {"table": table.number, "row": row.row, "block": row.block, "page": row.page,
           "x0": x0, "top": top, "x1": x1, "bottom": bottom,
           "registry_id": pr.registry_ids[0] if pr.registry_ids else None, "trial_id": pr.trial_id}
    for k in table.columns:
        cell = row.cells.get(k)
        if k in table.multi_item_columns:
            out[k] = [line for line in (cell.lines if cell else []) if line.strip()]
        else:
            out[k] = cell.text if cell else None
    return out


def _extra(table: Table, row, col: ParsedColumn, reason: str) -> dict:
    cell = row.cells[col.key]
    x0, top, x1, bottom = (round(v, 2) for v in (cell.bbox or row.bbox))
    return {"label": col.label, "column": col.key, "value": cell.text, "table": table.number, "row": row.row,
            "page": cell.page or row.page, "x0": x0, "top": top, "x1": x1, "bottom": bottom, "reason": reason}


def _row_observations(pt: ParsedTable, pr: ParsedRow, out: list[Observation], u: dict[str, list]) -> None:
    table, row, tid = pt.table, pr.row, pr.trial_id
    where = f"T{table.number}r{row.row}"
    if where not in u["sources"]:
        u["sources"].append(where)
    u["registry_ids"].extend(pr.registry_ids)
    u["identified_by"].append(pr.identified_by)
    printed_fields = {v.field for cell in pr.cells.values() for v in cell.values if not v.derived}
    for col in pt.columns:
        cell = row.cells.get(col.key)
        if cell is None or not cell.text.strip():
            continue
        if col.spec is None:
            u["extras"].append(_extra(table, row, col, "unmapped column"))
            continue
        parsed = pr.cells.get(col.key)
        if parsed is None:
            continue
        if parsed.unread:
            u["extras"].append(_extra(table, row, col, f"{col.spec.parser} cell not read"))
        for v in parsed.values:
            if v.derived and v.field in printed_fields:
                continue
            out.append(Observation(
                trial_id=tid, field=v.field, value=v.value, raw=cell.text, source="table", table=table.number,
                row=row.row, column=col.key, page=cell.page or row.page, bbox=cell.bbox or row.bbox,
                extractor="table", extra={**v.extra, "parser": col.spec.parser}))
        for canonical, printed in parsed.products:
            u["products"].append(canonical)
            u["aliases"].append(printed)
        u["notes"].extend(parsed.notes)
        if parsed.incomplete:
            u["incomplete"].append(True)
        u["strategies"].extend(parsed.strategies)
        u["combination"].extend(parsed.combination)
        u["citations"].extend(parsed.citations)
        u["references"].extend(parsed.references)
    _pair_combination(pt, pr, out, u)


def _pair_combination(pt: ParsedTable, pr: ParsedRow, out: list[Observation], u: dict[str, list]) -> None:
    """Mechanism (class) and regimen (agent) items of a row, paired across their two columns."""
    row = pr.row
    by_parser = {c.spec.parser: c for c in pt.columns if c.spec is not None
                 and c.spec.parser in ("combination_class", "combination_agent") and c.key in row.cells}
    if not by_parser:
        return
    classes, agents = by_parser.get("combination_class"), by_parser.get("combination_agent")
    pairing = nz.pair_items(row.cells[classes.key].lines if classes else [],
                            row.cells[agents.key].lines if agents else [])
    u["combination"].extend(pairing.combination)
    for value, col, name in ((pairing.binding_origin, classes, "binding_domain_origin"),
                             (pairing.binding_format, agents, "binding_domain_format")):
        if value and col is not None:
            cell = row.cells[col.key]
            out.append(Observation(
                trial_id=pr.trial_id, field=name, value=value, raw=cell.text, source="table", table=pt.table.number,
                row=row.row, column=col.key, page=cell.page or row.page, bbox=cell.bbox or row.bbox, extractor="table"))


# --- narrative -------------------------------------------------------------------------------

def _registry_entities(entities) -> list[str] | None:
    """Registry ids of REGISTRY_ID entities found in the narrative (None if none were passed)."""
    ids = []
    for ent in entities:
        rid = _entity_registry_id(ent)
        if rid:
            ids.append(rid)
    return nz.unique(ids) if ids else None


def _entity_registry_id(ent) -> str | None:
    etype = str(attr(ent, "type", "label", default="")).upper()
    if etype != "REGISTRY_ID":
        return None
    source = str(attr(ent, "source", default="") or "").lower()
    if source.startswith("table"):
        return None
    rid = nz.normalize_registry_id(str(attr(ent, "norm", "text", default="")))
    return rid


def _block_of(obj) -> str | None:
    """Text block id of an entity or fact: ``block_id``/``block``, or ``source`` "text:<block id>"."""
    value = attr(obj, "block_id", "block")
    if value is None:
        source = attr(obj, "source")
        if isinstance(source, str):
            m = re.fullmatch(r"(?:text:)?(b\d+)", source)
            if m:
                value = m.group(1)
    return str(value) if value is not None else None


def _narrative_only(rid: str, mentions: list[Mention], entities, obs, unions) -> None:
    """Products, targets and country of a trial the tables do not list, from its sentences."""
    u = unions[rid]
    ent_by_block: dict[str, list] = defaultdict(list)
    for ent in entities:
        block = _block_of(ent)
        if block:
            ent_by_block[block].append(ent)
    for m in mentions:
        sent = m.sentence
        found_products = sentence_products(sent)
        found_targets = sentence_targets(sent)
        # entities of the helper inside this sentence's block (offsets are not compared: a
        # sentence can span two blocks; the sentence text must contain the entity's text)
        for ent in ent_by_block.get(m.block, []):
            etype = str(attr(ent, "type", default="")).upper()
            text = str(attr(ent, "text", default=""))
            if not text or text not in sent:
                continue
            if etype == "PRODUCT":
                found_products.append((nz.canonical_product(str(attr(ent, "norm", default=text) or text)), text))
            elif etype == "TARGET":
                t = nz.canonical_target(str(attr(ent, "norm", default=text) or text))
                if t:
                    found_targets.append(t)
        for canonical, printed in found_products:
            u["products"].append(canonical)
            u["aliases"].append(printed)
        if found_targets:
            obs[rid].append(Observation(trial_id=rid, field="targets", value=tuple(nz.unique(found_targets)),
                                        raw=", ".join(nz.unique(found_targets)), source="narrative", page=m.page,
                                        block=m.block, sentence=sent, pooled=False,
                                        extractor="sentence"))
        countries = sentence_countries(sent)
        if len(countries) == 1:
            obs[rid].append(Observation(trial_id=rid, field="country", value=countries[0][0],
                                        raw=countries[0][0], source="narrative", page=m.page, block=m.block,
                                        sentence=sent, pooled=False, extractor="sentence"))


def _fact_ids(fact) -> list[str]:
    ids = attr(fact, "registry_ids", default=None) or []
    if isinstance(ids, str):
        ids = re.split(r"[;,\s]+", ids)
    out = []
    for raw in ids:
        rid = nz.normalize_registry_id(str(raw))
        if rid:
            out.append(rid)
    return nz.unique(out)


def _product_index(unions) -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for rid, u in unions.items():
        for name in [*u.get("products", []), *u.get("aliases", [])]:
            if rid not in index[compact(name)]:
                index[compact(name)].append(rid)
    return index


def _study_index(obs) -> dict[str, list[str]]:
    index: dict[str, list[str]] = defaultdict(list)
    for rid, items in obs.items():
        for ob in items:
            if ob.field == "study_name" and ob.value and rid not in index[compact(str(ob.value))]:
                index[compact(str(ob.value))].append(rid)
    return index


def _link_fact(fact, product_index, study_index) -> tuple[list[str], str]:
    """Registry ids a fact is about: its own ids, else its subject if that names one trial only."""
    ids = _fact_ids(fact)
    if ids:
        return ids, "registry_id"
    subject = attr(fact, "subject", default=None)
    if subject:
        k = compact(nz.canonical_product(str(subject)))
        for index, method in ((product_index, "subject:product"), (study_index, "subject:study")):
            hits = index.get(k) or index.get(compact(str(subject))) or []
            if len(hits) == 1:
                return list(hits), method
            if len(hits) > 1:
                return [], "ambiguous-subject"
    return [], "unlinked"


def _fact_observation(fact, rid: str, pooled: bool) -> Observation | None:
    metric = str(attr(fact, "metric", default="") or "")
    field = METRIC_FIELDS.get(metric)
    if field is None:
        return None
    value = attr(fact, "value", default=None)
    unit = attr(fact, "unit", default=None)
    qualifier = str(attr(fact, "qualifier", default="") or "")
    number = _as_float(value)
    if field in MEDIAN_FIELDS:
        if number is None and nz.NOT_REACHED_RE.search(f"{qualifier} {value or ''}"):
            norm = NOT_REACHED
        elif number is not None:
            norm = ("months", nz.to_months(number, unit))
        else:
            return None
    else:
        norm = number
        if norm is not None and str(unit or "").strip() in {"fraction", "proportion"}:
            norm = round(norm * 100, 2)
    if norm is None:
        return None
    shown = _num(value) if isinstance(value, float) else value
    raw = f"{shown}{unit or ''}" if unit in {"%", None} else f"{shown} {unit}"
    if qualifier:
        raw = f"{qualifier} {raw}"
    return Observation(
        trial_id=rid, field=field, value=norm, raw=raw, source="narrative",
        page=int(attr(fact, "page", default=0) or 0) or None, block=_block_of(fact),
        sentence=str(attr(fact, "sentence", default="") or ""), pooled=pooled, extractor="fact",
        extra={"metric": metric, "ci_low": _as_float(attr(fact, "ci_low")),
               "ci_high": _as_float(attr(fact, "ci_high")), "p_value": attr(fact, "p_value"),
               "qualifier": qualifier or None})


def _as_float(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return nz.parse_number(str(value))


# --- resolution ------------------------------------------------------------------------------

def _same(field: str, a: Observation, b: Observation) -> bool:
    va, vb = a.value, b.value
    if field == "targets":
        return frozenset(va) == frozenset(vb)
    if field in TEXT_FIELDS:
        return compact(str(va)) == compact(str(vb))
    if field in MEDIAN_FIELDS or field in NUMERIC_FIELDS:
        if isinstance(va, tuple) and isinstance(vb, tuple):
            if va[0] != vb[0]:
                return False
            if va[0] == "not reached":
                return True
            va, vb = va[1], vb[1]
        elif isinstance(va, tuple) or isinstance(vb, tuple):
            return False
        if va == vb:
            return True
        if a.source == "narrative" or b.source == "narrative":
            narrative = a if a.source == "narrative" else b
            digits = _decimals(narrative.raw)
            return round(float(va), digits) == round(float(vb), digits)
        return False
    return va == vb


def _decimals(raw: str) -> int:
    m = re.search(r"\d+(?:\.(\d+))?", raw or "")
    return len(m.group(1)) if m and m.group(1) else 0


def _groups(field: str, items: list[Observation]) -> list[list[Observation]]:
    groups: list[list[Observation]] = []
    for ob in items:
        for group in groups:
            if _same(field, group[0], ob):
                group.append(ob)
                break
        else:
            groups.append([ob])
    return groups


def resolve_field(field: str, items: list[Observation]):
    """(value, chosen observations, rule, resolved, observations to list as a conflict or [])."""
    stated = [o for o in items if not o.missing]
    missing_tables = [o for o in items if o.missing and o.source == "table"]
    table_groups = _groups(field, [o for o in stated if o.source == "table"])
    single = [o for o in stated if o.source == "narrative" and not o.pooled]
    pooled = [o for o in stated if o.source == "narrative" and o.pooled]
    narrative_groups = _groups(field, single + pooled)

    if len(table_groups) == 1:
        chosen = table_groups[0]
        others = [o for o in single + pooled if not _same(field, chosen[0], o)]
        if others:
            return chosen[0].value, chosen, "table-over-narrative", True, stated
        missing_rows = {(o.table, o.row) for o in missing_tables} - {(o.table, o.row) for o in chosen}
        if missing_rows:
            show = chosen + [o for o in missing_tables if (o.table, o.row) in missing_rows]
            return chosen[0].value, chosen, "stated-over-NA", True, show
        return chosen[0].value, chosen, "agree", True, []
    if len(table_groups) > 1:
        primary = [s.key for s in load_vocabulary().columns if field in s.primary_for]
        if primary:
            prim = [g for g in table_groups if any(o.column in primary for o in g)]
            if len(prim) == 1:
                return prim[0][0].value, prim[0], "primary-table", True, stated
        single_groups = _groups(field, single)
        if len(single_groups) == 1:
            matching = [g for g in table_groups if _same(field, g[0], single_groups[0][0])]
            if len(matching) == 1:
                return matching[0][0].value, matching[0], "narrative-tie-break", True, stated
        return None, [], "unresolved", False, stated + missing_tables
    # no table value: narrative only
    if not stated:
        return None, [], "agree", True, []
    single_groups = _groups(field, single)
    if len(single_groups) == 1:
        chosen = single_groups[0]
        if len(narrative_groups) > 1:
            return chosen[0].value, chosen, "trial-specific-over-pooled", True, stated
        return chosen[0].value, chosen, "agree", True, []
    if not single:
        if len(narrative_groups) == 1:
            # pooled statements only: compared, never used to fill a field
            return None, [], "agree", True, []
        return None, [], "unresolved", False, stated
    return None, [], "unresolved", False, stated


def _apply(rec: TrialRecord, field: str, value, chosen: list[Observation]) -> None:
    if value is None:
        return
    if field == "targets":
        rec.targets = list(value)
    elif field in MEDIAN_FIELDS:
        flag, ci = MEDIAN_FIELDS[field]
        reached = value[0] != "not reached"
        setattr(rec, field, float(value[1]) if reached else None)
        setattr(rec, flag, not reached)
        _apply_ci(rec, ci, chosen)
    elif field == "country":
        rec.country, rec.country_code = nz.normalize_country(value)
    elif field in INTEGER_FIELDS:
        setattr(rec, field, int(value))
    elif field in RATIO_FIELDS:
        setattr(rec, field, float(value))
        _apply_ci(rec, field, chosen)
    elif field in NUMERIC_FIELDS:
        setattr(rec, field, float(value))
    else:
        setattr(rec, field, value)


def _apply_ci(rec: TrialRecord, prefix: str, chosen: list[Observation]) -> None:
    """The CI printed with the kept value (the first chosen source that prints one)."""
    for ob in chosen:
        if ob.extra.get("ci_low") is not None or ob.extra.get("ci_high") is not None:
            setattr(rec, f"{prefix}_ci_low", ob.extra.get("ci_low"))
            setattr(rec, f"{prefix}_ci_high", ob.extra.get("ci_high"))
            return


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _conflict_entry(cid: int, ob: Observation, chosen: bool, resolved: bool, rule: str, value,
                    registry_id: str | None) -> ConflictEntry:
    bbox = tuple(round(v, 2) for v in ob.bbox) if ob.bbox else (None, None, None, None)
    return ConflictEntry(
        conflict_id=cid, trial_id=ob.trial_id, registry_id=registry_id, field=ob.field,
        value=value_text(ob.value) if not ob.missing else None, raw=ob.raw, source=ob.source,
        table=ob.table, row=ob.row, column=ob.column, page=ob.page,
        x0=bbox[0], top=bbox[1], x1=bbox[2], bottom=bbox[3], block=ob.block, sentence=ob.sentence,
        pooled=ob.pooled, chosen=chosen, resolved=resolved, rule=rule, resolution=value_text(value))




__all__ = ["reconcile", "SCALAR_FIELDS", "METRIC_FIELDS", "value_text"]
