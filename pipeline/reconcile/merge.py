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

from pipeline.entities.lexicon import compact
from pipeline.reconcile import normalize as nz
from pipeline.reconcile.model import (
    ConflictEntry,
    Observation,
    TrialDataset,
    TrialRecord,
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

# Scalar fields compared across sources, in output order.
SCALAR_FIELDS = (
    "targets", "cell_source", "binding_domain_origin", "binding_domain_format", "phase", "study_name",
    "status", "enrollment", "crs_grade3_pct", "icans_grade3_pct", "orr_pct", "median_pfs",
    "cr_rate_pct", "median_os_months", "median_dor_months", "pfs_hr", "os_hr", "crs_any_pct",
    "icans_any_pct", "country",
)
NUMERIC_FIELDS = {"enrollment", "crs_grade3_pct", "icans_grade3_pct", "orr_pct", "cr_rate_pct",
                  "median_os_months", "median_dor_months", "pfs_hr", "os_hr", "crs_any_pct", "icans_any_pct"}
# Field -> the table column that is its primary source when tables disagree.
PRIMARY_COLUMN = {"cell_source": "strategy_source"}

# TextFact.metric -> trial field (metrics not listed stay in text_facts only).
METRIC_FIELDS = {
    "orr": "orr_pct", "cr_rate": "cr_rate_pct", "median_pfs": "median_pfs", "median_os": "median_os_months",
    "response_duration": "median_dor_months", "pfs_hr": "pfs_hr", "os_hr": "os_hr",
    "crs_any": "crs_any_pct", "crs_grade3": "crs_grade3_pct", "icans_any": "icans_any_pct",
    "icans_grade3": "icans_grade3_pct",
}
MONTH_FIELDS = {"median_pfs", "median_os_months", "median_dor_months"}


def reconcile(tables: list[Table], entities=None, facts=None, blocks=None) -> TrialDataset:
    """One :class:`TrialRecord` per registry id printed in the tables or the narrative.

    *entities*: the entity helper's entities (``.type``, ``.text``, ``.norm``, ``.page``,
    ``.start``, ``.end``, ``.source``) or its whole ``EntityResult`` (then its ``.facts`` are
    used when *facts* is None). *facts*: ``TextFact``-like objects (``.registry_ids``,
    ``.subject``, ``.metric``, ``.value``, ``.unit``, ``.ci_low``, ``.ci_high``,
    ``.qualifier``, ``.page``, ``.sentence``). *blocks*: the text layer's blocks (narrative ids
    are found in them when no REGISTRY_ID entities are passed, and sentences are read from them).
    """
    if entities is not None and hasattr(entities, "entities"):
        if facts is None:
            facts = getattr(entities, "facts", None)
        entities = entities.entities
    entities = list(entities or [])
    facts = list(facts or [])
    warnings: list[str] = []

    obs: dict[str, list[Observation]] = defaultdict(list)
    unions: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    table_rows, columns = _table_observations(tables, obs, unions, warnings)
    table_ids = list(unions.keys())

    # --- narrative ids and mentions -------------------------------------------------------
    entity_ids = _registry_entities(entities)
    mentions = find_mentions(blocks) if blocks else []
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

    fact_ids = [rid for f in facts for rid in _fact_ids(f)]
    all_ids = nz.unique([*table_ids, *narrative_ids, *fact_ids])

    # --- narrative observations: sentence claims ------------------------------------------
    for rid in all_ids:
        for m in by_id_mentions.get(rid, []):
            for claim in sentence_claims(m):
                obs[rid].append(Observation(
                    registry_id=rid, field=claim.field, value=claim.value, raw=claim.raw, source="narrative",
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
    for rid in all_ids:
        rec = TrialRecord(registry_id=rid, registry=nz.registry_name(rid))
        u = unions.get(rid, {})
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
        ms = by_id_mentions.get(rid, [])
        rec.narrative_mentions = [m.to_dict() for m in ms]
        rec.n_narrative_mentions = len(ms)
        rec.in_text = bool(ms)
        rec.n_text_facts = n_facts.get(rid, 0)
        field_obs: dict[str, list[Observation]] = defaultdict(list)
        for ob in obs.get(rid, []):
            field_obs[ob.field].append(ob)
            evidence.append(ob)
        for name in SCALAR_FIELDS:
            items = field_obs.get(name)
            if not items:
                continue
            value, chosen, rule, resolved, show = _resolve(name, items)
            for ob in chosen:
                ob.chosen = True
            _apply(rec, name, value, chosen)
            if show:
                n_conflicts += 1
                cid = n_conflicts
                rec.conflict_fields.append(_public_field(name))
                if not resolved:
                    rec.unresolved_fields.append(_public_field(name))
                for ob in show:
                    conflicts.append(_conflict_entry(cid, ob, ob.chosen, resolved, rule, value))
        rec.n_targets = len(rec.targets) if rec.targets else None
        trials.append(rec)

    return TrialDataset(trials=trials, conflicts=conflicts, evidence=evidence, table_rows=table_rows,
                        table_columns=columns, entities=entities, facts=facts, fact_links=fact_links,
                        fact_link_methods=fact_methods, warnings=warnings)


# --- tables ----------------------------------------------------------------------------------

def _table_observations(tables, obs, unions, warnings) -> tuple[list[dict], dict[str, str]]:
    rows_out: list[dict] = []
    columns: dict[str, str] = {}
    for table in tables:
        printed = [k for k in table.columns if k != "ref"]
        labels = table.labels if len(table.labels) == len(printed) else printed
        for k, label in zip(printed, labels):
            columns.setdefault(k, label)
        if "ref" in table.columns:
            columns.setdefault("ref", "citation")
        for row in table.rows:
            cell = row.cells.get("nct")
            rid = nz.normalize_registry_id(cell.text) if cell else None
            if not rid or not nz.REGISTRY_RE.fullmatch(rid):
                # The row stays in table_rows with its printed cell; it just founds no trial.
                rows_out.append(_row_dict(table, row, None))
                if cell is not None and cell.text.strip():
                    warnings.append(f"Table {table.number} row {row.row}: {cell.text!r} is not a valid "
                                    "registry id; no trial record for this row")
                continue
            rows_out.append(_row_dict(table, row, rid))
            _row_observations(table, row, rid, obs[rid], unions[rid])
    return rows_out, columns


def _row_dict(table: Table, row, rid: str | None) -> dict:
    x0, top, x1, bottom = (round(v, 2) for v in row.bbox)
    out = {"table": table.number, "row": row.row, "block": row.block, "page": row.page,
           "x0": x0, "top": top, "x1": x1, "bottom": bottom,
           "registry_id": rid}
    for k in table.columns:
        cell = row.cells.get(k)
        if k in table.multi_item_columns:
            out[k] = [line for line in (cell.lines if cell else []) if line.strip()]
        else:
            out[k] = cell.text if cell else None
    return out


def _row_observations(table: Table, row, rid: str, out: list[Observation], u: dict[str, list]) -> None:
    where = f"T{table.number}r{row.row}"
    if where not in u["sources"]:
        u["sources"].append(where)

    def ob(field: str, value, column: str, raw: str | None = None, **extra) -> None:
        cell = row.cells.get(column)
        out.append(Observation(
            registry_id=rid, field=field, value=value, raw=raw if raw is not None else (cell.text if cell else ""),
            source="table", table=table.number, row=row.row, column=column,
            page=cell.page if cell else row.page, bbox=(cell.bbox if cell and cell.bbox else row.bbox),
            extractor="table", extra=extra))

    def text(column: str) -> str | None:
        cell = row.cells.get(column)
        return cell.text if cell else None

    if (raw := text("target_car_t")) is not None:
        tc = nz.parse_target_cell(raw)
        if tc.targets:
            ob("targets", tuple(tc.targets), "target_car_t")
        for canonical, printed in tc.products:
            u["products"].append(canonical)
            u["aliases"].append(printed)
        u["notes"].extend(tc.notes)
        if tc.incomplete:
            u["incomplete"].append(True)
        if tc.cell_source:
            ob("cell_source", tc.cell_source, "target_car_t")
    if (raw := text("strategy_source")) is not None:
        items = nz.strategy_items(raw)
        u["strategies"].extend(items)
        source = nz.cell_source_of(items)
        if source:
            ob("cell_source", source, "strategy_source")
    if (raw := text("strategy")) is not None and not nz.is_missing(raw):
        u["strategies"].extend(nz.strategy_items(raw))
        pair = nz.strategy_combination(raw)
        if pair:
            u["combination"].append(pair)
    if "mechanism" in row.cells or "regimen" in row.cells:
        mech = row.cells.get("mechanism")
        reg = row.cells.get("regimen")
        pairing = nz.pair_items(mech.lines if mech else [], reg.lines if reg else [])
        u["combination"].extend(pairing.combination)
        if pairing.binding_origin:
            ob("binding_domain_origin", pairing.binding_origin, "mechanism")
        if pairing.binding_format:
            ob("binding_domain_format", pairing.binding_format, "regimen")
    if (raw := text("phase_study")) is not None:
        phase, study = nz.normalize_phase(raw)
        ob("phase", phase, "phase_study")
        if study:
            ob("study_name", study, "phase_study")
    if (raw := text("status")) is not None:
        ob("status", nz.normalize_status(raw), "status")
    if (raw := text("n_patients")) is not None:
        ob("enrollment", nz.parse_int(raw), "n_patients")
    if (raw := text("crs_icans")) is not None:
        crs, icans = nz.split_grade3(raw)
        ob("crs_grade3_pct", crs, "crs_icans")
        ob("icans_grade3_pct", icans, "crs_icans")
    if (raw := text("orr")) is not None:
        ob("orr_pct", nz.parse_number(raw), "orr")
    if (raw := text("median_pfs")) is not None:
        months, not_reached = nz.parse_median(raw)
        ob("median_pfs", _pfs_value(months, not_reached), "median_pfs")
    if (raw := text("location")) is not None:
        name, _code = nz.normalize_country(raw)
        ob("country", name, "location")
    if (raw := text("ref")) is not None:
        for number in re.findall(r"\d+", raw):
            u["citations"].append(int(number))


def _pfs_value(months: float | None, not_reached: bool | None):
    if not_reached:
        return ("not reached",)
    if months is None:
        return None
    return ("months", months)


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
    return rid if rid and nz.REGISTRY_RE.fullmatch(rid) else None


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
            obs[rid].append(Observation(registry_id=rid, field="targets", value=tuple(nz.unique(found_targets)),
                                        raw=", ".join(nz.unique(found_targets)), source="narrative", page=m.page,
                                        block=m.block, sentence=sent, pooled=False,
                                        extractor="sentence"))
        countries = sentence_countries(sent)
        if len(countries) == 1:
            obs[rid].append(Observation(registry_id=rid, field="country", value=countries[0][0],
                                        raw=countries[0][0], source="narrative", page=m.page, block=m.block,
                                        sentence=sent, pooled=False, extractor="sentence"))


def _fact_ids(fact) -> list[str]:
    ids = attr(fact, "registry_ids", default=None) or []
    if isinstance(ids, str):
        ids = re.split(r"[;,\s]+", ids)
    out = []
    for raw in ids:
        rid = nz.normalize_registry_id(str(raw))
        if rid and nz.REGISTRY_RE.fullmatch(rid):
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
    if field == "median_pfs":
        if number is None and nz.NOT_REACHED_RE.search(f"{qualifier} {value or ''}"):
            norm = ("not reached",)
        elif number is not None:
            norm = ("months", nz.to_months(number, unit))
        else:
            return None
    elif field in MONTH_FIELDS:
        norm = nz.to_months(number, unit)
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
        registry_id=rid, field=field, value=norm, raw=raw, source="narrative",
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
    if field in {"study_name", "country"}:
        return compact(str(va)) == compact(str(vb))
    if field == "median_pfs" or field in NUMERIC_FIELDS:
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


def _resolve(field: str, items: list[Observation]):
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
        primary = PRIMARY_COLUMN.get(field)
        if primary:
            prim = [g for g in table_groups if any(o.column == primary for o in g)]
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
        if field == "median_pfs":
            rec.median_pfs_months, rec.pfs_not_reached = None, None
        return
    if field == "targets":
        rec.targets = list(value)
    elif field == "median_pfs":
        if value[0] == "not reached":
            rec.median_pfs_months, rec.pfs_not_reached = None, True
        else:
            rec.median_pfs_months, rec.pfs_not_reached = float(value[1]), False
    elif field == "country":
        rec.country, rec.country_code = nz.normalize_country(value)
    elif field == "enrollment":
        rec.enrollment = int(value)
    elif field in {"pfs_hr", "os_hr"}:
        setattr(rec, field, float(value))
        for ob in chosen:
            if ob.extra.get("ci_low") is not None or ob.extra.get("ci_high") is not None:
                setattr(rec, f"{field}_ci_low", ob.extra.get("ci_low"))
                setattr(rec, f"{field}_ci_high", ob.extra.get("ci_high"))
                break
    elif field in NUMERIC_FIELDS:
        setattr(rec, field, float(value))
    else:
        setattr(rec, field, value)


def _public_field(field: str) -> str:
    return {"median_pfs": "median_pfs_months"}.get(field, field)


def value_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        if value and value[0] == "not reached":
            return "not reached"
        if len(value) == 2 and value[0] == "months":
            return _num(value[1])
        return "/".join(str(v) for v in value)
    if isinstance(value, float):
        return _num(value)
    return str(value)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _conflict_entry(cid: int, ob: Observation, chosen: bool, resolved: bool, rule: str, value) -> ConflictEntry:
    bbox = tuple(round(v, 2) for v in ob.bbox) if ob.bbox else (None, None, None, None)
    return ConflictEntry(
        conflict_id=cid, registry_id=ob.registry_id, field=_public_field(ob.field),
        value=value_text(ob.value) if not ob.missing else None, raw=ob.raw, source=ob.source,
        table=ob.table, row=ob.row, column=ob.column, page=ob.page,
        x0=bbox[0], top=bbox[1], x1=bbox[2], bottom=bbox[3], block=ob.block, sentence=ob.sentence,
        pooled=ob.pooled, chosen=chosen, resolved=resolved, rule=rule, resolution=value_text(value))




__all__ = ["reconcile", "SCALAR_FIELDS", "METRIC_FIELDS", "value_text"]
