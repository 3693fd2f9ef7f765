"""Narrative side of the reconcile step: registry-id mentions, their sentences, and the few
trial attributes a sentence states next to an id (phase, study name, cell source).

Text blocks are duck-typed (``id``, ``page``, ``type``, ``text``; dicts from ``text.jsonl``
work too). Paragraph blocks that end mid-sentence (column and page breaks) are joined with the
next paragraph block into one passage so a sentence is never cut in two; offsets are mapped
back to the block they came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.reconcile import lexicon
from pipeline.reconcile.normalize import (
    COUNTRY_WORD_RE,
    REGISTRY_RE,
    normalize_country,
    normalize_phase,
    normalize_registry_id,
    unique,
)

CLOSING_TYPES = {"heading", "title"}
_TERMINAL_RE = re.compile(r"[.!?:][\"'”’)\]]*\s*$")
_ABBREV_RE = re.compile(r"(?:\bet al|\be\.g|\bi\.e|\bvs|\bFigs?|\bNo|\bapprox|\bca|\bcf|\bDr|\bRef)\.$", re.IGNORECASE)
_BOUNDARY_RE = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[A-Z0-9(\[“\"])")


def attr(obj, *names, default=None):
    """First present attribute (or dict key) of *obj* among *names*."""
    for name in names:
        if isinstance(obj, dict):
            if name in obj and obj[name] is not None:
                return obj[name]
        else:
            value = getattr(obj, name, None)
            if value is not None:
                return value
    return default


@dataclass(slots=True)
class Segment:
    block: str
    page: int
    type: str
    start: int  # offset of the block's text inside the passage
    text: str


@dataclass(slots=True)
class Passage:
    segments: list[Segment]
    text: str

    def locate(self, offset: int) -> tuple[Segment, int]:
        seg = self.segments[0]
        for candidate in self.segments:
            if candidate.start <= offset:
                seg = candidate
        return seg, offset - seg.start


@dataclass(slots=True)
class Sentence:
    passage: Passage
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.passage.text[self.start:self.end]


@dataclass(slots=True)
class Mention:
    registry_id: str
    block: str
    page: int
    block_type: str
    start: int  # character offsets inside the block's text
    end: int
    sentence: str
    ids_in_sentence: list[str] = field(default_factory=list)
    sentence_start: int = 0  # offset of the id inside the sentence
    printed: str = ""

    def to_dict(self) -> dict:
        return {"block": self.block, "page": self.page, "block_type": self.block_type,
                "start": self.start, "end": self.end, "sentence": self.sentence}


def build_passages(blocks) -> list[Passage]:
    passages: list[Passage] = []
    open_para: list[Segment] | None = None

    def close():
        nonlocal open_para
        if open_para:
            passages.append(_passage(open_para))
        open_para = None

    for block in blocks or []:
        text = attr(block, "text", default="") or ""
        btype = attr(block, "type", default="paragraph")
        seg = Segment(block=str(attr(block, "id", default="")), page=int(attr(block, "page", default=0) or 0),
                      type=btype, start=0, text=text)
        if btype == "paragraph":
            if open_para is not None and not _TERMINAL_RE.search(open_para[-1].text):
                open_para.append(seg)
            else:
                close()
                open_para = [seg]
            continue
        if btype in CLOSING_TYPES:
            close()
        passages.append(_passage([seg]))
    close()
    return passages


def _passage(segments: list[Segment]) -> Passage:
    parts, pos = [], 0
    for seg in segments:
        seg.start = pos
        parts.append(seg.text)
        pos += len(seg.text) + 1
    return Passage(segments=segments, text=" ".join(parts))


def sentences(passage: Passage) -> list[Sentence]:
    out, start = [], 0
    for m in _BOUNDARY_RE.finditer(passage.text):
        if _ABBREV_RE.search(passage.text[max(0, m.start() - 8):m.start() + 1]):
            continue
        out.append(Sentence(passage, start, _rstrip_end(passage.text, start, m.end())))
        start = m.end()
    if start < len(passage.text):
        out.append(Sentence(passage, start, len(passage.text.rstrip())))
    return [s for s in out if s.text.strip()]


def _rstrip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def find_mentions(blocks, only_ids: set[str] | None = None) -> list[Mention]:
    """Every registry id printed in the blocks, with its sentence (ids case-insensitive)."""
    mentions: list[Mention] = []
    for passage in build_passages(blocks):
        for sent in sentences(passage):
            found = [(m, rid) for m in REGISTRY_RE.finditer(sent.text) if (rid := normalize_registry_id(m.group(1)))]
            ids = unique(rid for _, rid in found)
            for m, rid in found:
                if only_ids is not None and rid not in only_ids:
                    continue
                seg, offset = passage.locate(sent.start + m.start(1))
                mentions.append(Mention(
                    registry_id=rid, block=seg.block, page=seg.page, block_type=seg.type,
                    start=offset, end=offset + len(m.group(1)), sentence=sent.text.strip(),
                    ids_in_sentence=ids, sentence_start=m.start(1), printed=m.group(1)))
    return mentions




# --- attributes a sentence states about the ids it names --------------------------------------

PHASE_PHRASE_RE = re.compile(
    r"\b(?:early\s+)?phases?\s+(?:iv|i{1,3}|[1-4])[ab]?"
    r"(?:\s*(?:/|–|-|and)\s*(?:phase\s+)?(?:iv|i{1,3}|[1-4])[ab]?)?(?![a-z0-9])",
    re.IGNORECASE,
)
STUDY_TRIAL_RE = re.compile(r"\b([A-Z][A-Za-z]*[A-Z][A-Za-z]*(?:-\d+[A-Za-z]?)?)\s+(?:trial|study)\b")
TRIAL_STUDY_RE = re.compile(r"\b(?:trial|study)\s+([A-Z][A-Za-z]*[A-Z][A-Za-z]*(?:-\d+[A-Za-z]?)?)(?=\s*\()")
_ID_GROUP_GAP_RE = re.compile(r"^[\s,;()\[\]]*(?:and)?[\s,;()\[\]]*$")


def _reaches(sent: str, phrase_end: int, id_start: int) -> bool:
    """Does a phase phrase ending at *phrase_end* describe the id at *id_start*?

    It describes the first group of ids after it ("Phase I trial (NCT1, NCT2)") and later groups
    joined by a short link ("phase 3 trials, CARTITUDE-4 (NCT1) and KarMMa-3 (NCT2)": at most
    three words between the groups), not an id after a longer clause.
    """
    ids = [m for m in REGISTRY_RE.finditer(sent) if phrase_end <= m.start() <= id_start]
    if not ids:
        return False
    for prev, nxt in zip(ids, ids[1:]):
        gap = sent[prev.end():nxt.start()]
        if _ID_GROUP_GAP_RE.match(gap):
            continue
        if len(re.findall(r"[A-Za-z][\w-]*", gap)) > 3:
            return False
    return True
_NOT_STUDY = {"CAR", "MM", "RRMM", "FDA", "BCMA", "CRS", "ICANS", "ORR", "PFS", "OS", "II", "III", "IV"}
CELL_SOURCE_WORDS = {"autologous": "autologous", "allogeneic": "allogeneic", "allogenic": "allogeneic"}


@dataclass(slots=True)
class SentenceClaim:
    field: str
    value: object
    raw: str
    mention: Mention


def sentence_claims(mention: Mention) -> list[SentenceClaim]:
    """Phase, study name and cell source the mention's sentence states for this id."""
    claims: list[SentenceClaim] = []
    sent = mention.sentence
    single = len(mention.ids_in_sentence) == 1
    # phase: the nearest phase phrase before the id; in a one-id sentence also one after it.
    phrases = list(PHASE_PHRASE_RE.finditer(sent))
    before = [p for p in phrases if p.end() <= mention.sentence_start]
    chosen = None
    if before and _reaches(sent, before[-1].end(), mention.sentence_start):
        chosen = before[-1]
    elif single and phrases and len({normalize_phase(p.group(0))[0] for p in phrases}) == 1:
        chosen = phrases[0]
    if chosen is not None:
        phase, _ = normalize_phase(chosen.group(0))
        if phase:
            claims.append(SentenceClaim("phase", phase, chosen.group(0), mention))
    # study name: "NAME trial (NCT…)" or "trial NAME (NCT…)" directly before the id, or the only
    # "NAME trial" of a one-id sentence.
    names = [m for rx in (STUDY_TRIAL_RE, TRIAL_STUDY_RE) for m in rx.finditer(sent)
             if m.group(1).upper() not in _NOT_STUDY and lexicon.canonical("product", m.group(1)) is None]
    study = None
    for m in names:
        gap = sent[m.end():mention.sentence_start]
        if re.fullmatch(r"\s*\(\s*(?:[A-Za-z0-9]+\s*,\s*)*", gap):
            study = m
    if study is None and single and len({m.group(1) for m in names}) == 1:
        study = names[0]
    if study is not None:
        claims.append(SentenceClaim("study_name", study.group(1), study.group(0), mention))
    if single:
        words = {CELL_SOURCE_WORDS[w.casefold()] for w in re.findall(r"\b(autologous|allogen(?:e)?ic)\b", sent, re.I)}
        if len(words) == 1:
            value = words.pop()
            claims.append(SentenceClaim("cell_source", value, value, mention))
    return claims


def _scan(kind: str, sentence: str) -> list[tuple[str, str]]:
    """(canonical, printed) of every lexicon name in a sentence, longest names first, no overlaps."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str, str]] = []
    for name, canonical in lexicon.names(kind):
        if len(name) < 3:
            continue
        flags = 0 if (name.isupper() and len(name) <= 5) else re.IGNORECASE
        for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", sentence, flags):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append((m.start(), canonical, m.group(0)))
    out: list[tuple[str, str]] = []
    for _, canonical, printed in sorted(found):
        if canonical not in [c for c, _ in out]:
            out.append((canonical, printed))
    return out


def sentence_products(sentence: str) -> list[tuple[str, str]]:
    """(canonical, printed) for every product the lexicon knows, in sentence order."""
    return _scan("product", sentence)


def sentence_targets(sentence: str) -> list[str]:
    return [canonical for canonical, _ in _scan("target", sentence)]


def sentence_countries(sentence: str) -> list[tuple[str, str | None]]:
    return unique(normalize_country(m.group(1)) for m in COUNTRY_WORD_RE.finditer(sentence))
