"""Compare two extraction outputs: table rows added/removed/changed, trials, narrative.

Works on the output folders (`tables/table{N}.csv`, `tables/provenance.csv`,
`dataset/trials.jsonl`, `text.jsonl`), so any two extraction runs can be compared, old
or new. `changes.json` holds the row-level change list; `changes_detail.json` adds the
provenance of both sides, the trial-level diff and the narrative diff; `changes.md` is
the same for people.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.registry_ids import registries

ROW_META = ("table", "row", "block")


@dataclass(slots=True)
class TableSide:
    groups: dict[str, list[dict[str, str]]]  # trial key (registry id, else row text) -> its rows
    provenance: dict[tuple[str, str], dict[str, str]]  # (row number, column) -> provenance row


@dataclass(slots=True)
class Changes:
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    changed: list[dict] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)
    trials: dict = field(default_factory=dict)
    text: dict = field(default_factory=dict)

    def summary(self) -> dict:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}

    @property
    def empty(self) -> bool:
        return not (any(self.added.values()) or any(self.removed.values()) or self.changed
                    or self.trials.get("added") or self.trials.get("removed") or self.trials.get("changed"))


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _trial_key(row: dict[str, str]) -> str:
    for key, value in row.items():
        if key not in ROW_META and registries().normalize(value or "")[1]:
            return value.upper()
    return " | ".join(v for k, v in row.items() if k not in ROW_META)


def _cells(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items() if k not in ROW_META}


def _load_table(folder: Path, number: int) -> TableSide:
    groups: dict[str, list[dict[str, str]]] = {}
    for row in _read_csv(folder / "tables" / f"table{number}.csv"):
        groups.setdefault(_trial_key(row), []).append(row)
    prov = {(p["row"], p["column"]): p for p in _read_csv(folder / "tables" / "provenance.csv")
            if p["table"] == str(number)}
    return TableSide(groups, prov)


def _distinguishing(group: list[dict[str, str]]) -> list[str]:
    """Columns whose values differ between the rows of one trial (cohort, dose, arm, ...)."""
    columns = [c for c in _cells(group[0])]
    return [c for c in columns if len({r.get(c) for r in group}) > 1]


def _identity(key: str, row: dict[str, str], columns: list[str]) -> str:
    """A row's identity within its table: the trial, plus the cells that set it apart from the
    trial's other rows (its row number when nothing does)."""
    if not columns:
        return key
    return key + " | " + "; ".join(f"{c}={row.get(c)}" for c in columns)


def _pair_rows(old: list[dict[str, str]], new: list[dict[str, str]]):
    """Match one trial's rows across versions: most equal cells first, so a row whose value
    changed still meets its counterpart. Returns (pairs, unmatched old, unmatched new)."""
    if len(old) == 1 and len(new) == 1:
        return [(old[0], new[0])], [], []
    scored = sorted(((sum(o.get(c) == v for c, v in _cells(n).items()), i, j)
                     for i, o in enumerate(old) for j, n in enumerate(new)), key=lambda t: (-t[0], t[1], t[2]))
    used_old, used_new, pairs = set(), set(), []
    for score, i, j in scored:
        if i in used_old or j in used_new or score * 2 < len(_cells(new[j])):
            continue  # fewer than half the cells in common: another row, not this one changed
        used_old.add(i)
        used_new.add(j)
        pairs.append((old[i], new[j]))
    return (pairs, [o for i, o in enumerate(old) if i not in used_old],
            [n for j, n in enumerate(new) if j not in used_new])


def _table_numbers(folder: Path) -> set[int]:
    return {int(m.group(1)) for p in (folder / "tables").glob("table*.csv")
            if (m := re.fullmatch(r"table(\d+)\.csv", p.name))}


def _where(side: TableSide, row: dict[str, str], column: str) -> dict:
    prov = side.provenance.get((row["row"], column), {})
    return {"table": row["table"], "row": int(row["row"]), "column": column,
            "page": int(prov["page"]) if prov else None,
            "bbox": [float(prov[k]) for k in ("x0", "top", "x1", "bottom")] if prov else None}


def diff_tables(old_dir: Path, new_dir: Path, changes: Changes) -> None:
    """Rows added, removed and changed per table. Rows are matched by their identity within the
    table (trial plus distinguishing cells), so two cohorts of one trial stay two rows."""
    for number in sorted(_table_numbers(old_dir) | _table_numbers(new_dir)):
        name = f"table{number}"
        old, new = _load_table(old_dir, number), _load_table(new_dir, number)
        added, removed = [], []
        for key in sorted(set(old.groups) | set(new.groups)):
            old_rows, new_rows = old.groups.get(key, []), new.groups.get(key, [])
            pairs, gone, came = _pair_rows(old_rows, new_rows)
            removed += [_identity(key, r, _distinguishing(old_rows)) for r in gone]
            added += [_identity(key, r, _distinguishing(new_rows)) for r in came]
            for o, n in pairs:
                differing = [c for c in _cells(n) if o.get(c) != n[c]]
                stable = [c for c in _distinguishing(new_rows) if c not in differing]
                label = _identity(key, n, stable) if len(new_rows) > 1 else key
                for column in differing:
                    change = {"nct": label, "table": number, "field": column, "old": o.get(column), "new": n[column]}
                    changes.changed.append(change)
                    changes.details.append({**change, "old_source": _where(old, o, column),
                                            "new_source": _where(new, n, column)})
        changes.added[name] = sorted(added)
        changes.removed[name] = sorted(removed)


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def diff_trials(old_dir: Path, new_dir: Path, changes: Changes) -> None:
    """Trial-level diff over dataset/trials.jsonl (when both runs have a dataset)."""
    old = {t.get("trial_id") or t["registry_id"]: t for t in _read_jsonl(old_dir / "dataset" / "trials.jsonl")}
    new = {t.get("trial_id") or t["registry_id"]: t for t in _read_jsonl(new_dir / "dataset" / "trials.jsonl")}
    if not old or not new:
        changes.trials = {"compared": False}
        return
    changed = []
    for rid in sorted(set(old) & set(new)):
        for key in sorted(set(old[rid]) | set(new[rid])):
            if key in ("sources", "narrative_mentions"):
                continue  # positions move when rows are added; the values are what matter
            if old[rid].get(key) != new[rid].get(key):
                changed.append({"registry_id": rid, "field": key, "old": old[rid].get(key),
                                "new": new[rid].get(key), "old_sources": old[rid].get("sources"),
                                "new_sources": new[rid].get("sources")})
    changes.trials = {"compared": True, "added": sorted(set(new) - set(old)),
                      "removed": sorted(set(old) - set(new)), "changed": changed}


SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def narrative_sentences(folder: Path) -> dict[str, dict]:
    """Sentences of the narrative, independent of how paragraphs break across columns/pages."""
    sentences: dict[str, dict] = {}
    carry, carry_block = "", None
    for block in _read_jsonl(folder / "text.jsonl"):
        if block.get("type") != "paragraph":
            continue
        text = (carry + " " + block["text"]).strip() if carry else block["text"]
        parts = SENTENCE_END_RE.split(text)
        if carry_block is None:
            carry_block = block
        for sentence in parts[:-1]:
            sentences.setdefault(" ".join(sentence.split()), {"page": carry_block["page"], "block": carry_block["id"]})
            carry_block = block
        carry = parts[-1]
        if carry.rstrip().endswith((".", "!", "?")):
            sentences.setdefault(" ".join(carry.split()), {"page": block["page"], "block": block["id"]})
            carry, carry_block = "", None
    if carry:
        sentences.setdefault(" ".join(carry.split()), {"page": carry_block["page"], "block": carry_block["id"]})
    return sentences


def diff_text(old_dir: Path, new_dir: Path, changes: Changes) -> None:
    """Narrative sentences added or removed (whitespace-normalised, reflow-insensitive)."""
    old, new = narrative_sentences(old_dir), narrative_sentences(new_dir)
    changes.text = {
        "added": [{**new[t], "text": t} for t in new if t not in old],
        "removed": [{**old[t], "text": t} for t in old if t not in new],
    }


def diff_extractions(old_dir: Path, new_dir: Path) -> Changes:
    changes = Changes()
    diff_tables(Path(old_dir), Path(new_dir), changes)
    diff_trials(Path(old_dir), Path(new_dir), changes)
    diff_text(Path(old_dir), Path(new_dir), changes)
    return changes


def changes_markdown(changes: Changes, old_label: str, new_label: str) -> str:
    lines = [f"# Changes from `{old_label}` to `{new_label}`", ""]
    for number_name in sorted(set(changes.added) | set(changes.removed)):
        added, removed = changes.added.get(number_name, []), changes.removed.get(number_name, [])
        if added or removed:
            lines.append(f"## {number_name.capitalize()}")
            lines += [f"- added row: {k}" for k in added] + [f"- removed row: {k}" for k in removed]
            lines.append("")
    if changes.details:
        lines += ["## Changed values", "", "| trial | table | field | old | new | old page | new page |",
                  "|---|---|---|---|---|---|---|"]
        for d in changes.details:
            lines.append(f"| {d['nct']} | {d['table']} | {d['field']} | {d['old']} | {d['new']} | "
                         f"{d['old_source']['page']} | {d['new_source']['page']} |")
        lines.append("")
    if changes.trials.get("compared"):
        t = changes.trials
        lines += ["## Trials", "", f"- added: {', '.join(t['added']) or 'none'}",
                  f"- removed: {', '.join(t['removed']) or 'none'}",
                  f"- field changes: {len(t['changed'])}", ""]
        lines += [f"  - {c['registry_id']} {c['field']}: {c['old']!r} -> {c['new']!r}" for c in t["changed"]]
        lines.append("")
    if changes.text.get("added") or changes.text.get("removed"):
        lines += ["## Narrative", ""]
        lines += [f"- added (page {p['page']}): {p['text'][:200]}" for p in changes.text["added"]]
        lines += [f"- removed (page {p['page']}): {p['text'][:200]}" for p in changes.text["removed"]]
        lines.append("")
    if changes.empty and not changes.text.get("added") and not changes.text.get("removed"):
        lines.append("No changes.")
    return "\n".join(lines) + "\n"


def write_changes(changes: Changes, out: Path, old_label: str, new_label: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "changes.json").write_text(json.dumps(changes.summary(), indent=1, ensure_ascii=False) + "\n", "utf-8")
    detail = {"from": old_label, "to": new_label, "changed": changes.details, "trials": changes.trials,
              "text": changes.text}
    (out / "changes_detail.json").write_text(json.dumps(detail, indent=1, ensure_ascii=False) + "\n", "utf-8")
    (out / "changes.md").write_text(changes_markdown(changes, old_label, new_label), "utf-8")
