"""Sourcing: who the body says its statements come from, and whether they are named.

Rule-based, with precompiled regexes over each body sentence (no model, ~0.1 ms a post):

- cues: the reporting verbs of ``lexicons/reporting_verbs.txt`` (said, says, told,
  claimed, warned ...), "according to" and "citing";
- speaker: for "according to X" / "citing X" the noun phrase after the cue; for a verb,
  the noun phrase before it back to the nearest clause boundary (sentence start, comma,
  quote, an earlier reporting verb, so nested "X said Y told them" gives both), with
  auxiliaries ("have said") and relative clauses ("officials who served ... have
  warned") cut off; when nothing stands before the verb but a comma or a quote, the
  phrase after it (``"...," said a White House statement``), or the name before an
  apposition (``John Smith, a spokesman, said``);
- content: the reported clause after the cue ("said that ...") or, failing that, the
  part of the sentence before the attribution (the quote);
- kind: ``outlet`` (news organisations), ``document`` (statements, reports, filings),
  ``anonymous`` (an unnamed source: "a U.S. official", "people familiar with the
  matter", "sources"; ``lexicons/anonymous_sources.txt``), ``named_organization``,
  ``named_person``.

Counts: ``named`` is every non-anonymous attribution; an evidence sentence rests on
anonymous sources when it has an anonymous attribution and no named one;
``evidence_anonymous_share`` weighs those by relevance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from overclaim.config import Config
from overclaim.pipeline import Context
from overclaim.report import Attribution, Sourcing
from overclaim.resources import lexicon

# Longest speaker phrase kept, in words ("a senior U.S. official familiar with the talks" is 8).
MAX_SPEAKER_WORDS = 14
PRONOUNS = {"he": "named_person", "she": "named_person", "i": "named_person", "they": "named_person",
            "it": "named_organization", "we": "named_organization"}
OUTLET_RE = re.compile(
    r"^(?:the\s+)?(?:Reuters|AP|AFP|Associated Press|Agence France-Presse|Bloomberg(?: News)?|CNN|BBC(?: News)?|"
    r"NBC(?: News)?|CBS(?: News)?|ABC(?: News)?|Fox News|NPR|Axios|Politico|Post|Times|Journal|Guardian|"
    r"(?:Washington|New York|Jerusalem|Denver) Post|New York Times|Financial Times|Los Angeles Times|"
    r"Wall Street Journal|Daily Mail|Telegraph|Economist|Al Jazeera|newspaper|paper|outlet|network|broadcaster|"
    r"magazine|news agency|wire service)$",
    re.I,
)
DOCUMENT_HEADS = frozenset(
    "statement statements report reports filing filings document documents memo memos study survey letter "
    "release records data papers complaint indictment poll analysis transcript email emails post tweet "
    "website announcement notice order ruling lawsuit affidavit assessment estimates figures".split()
)
ORG_WORDS = frozenset(
    "company firm ministry government department agency office commission council committee bureau institute "
    "university police administration military army navy embassy group board club team court party association "
    "foundation bank corporation organization organisation union authority authorities regime campaign "
    "inc inc. corp corp. co co. ltd ltd. llc plc intelligence house pentagon kremlin congress senate parliament "
    "state network agencies prosecutors prosecution".split()
)
AUX_TAIL = re.compile(
    r"(?:\s+(?:has|have|had|also|previously|repeatedly|publicly|privately|recently|later|earlier|once|already|then|"
    r"would|will|was|were|is|are|been|not|never|reportedly|allegedly|separately|initially|first|last\s+week|"
    r"on\s+\w+day|in\s+a\s+statement|in\s+an\s+interview))+$",
    re.I,
)
TIME_TAIL = re.compile(
    r"\s+(?:(?:on|in|last|this|earlier|late|early)\s+(?:\w+day|January|February|March|April|May|June|July|August|"
    r"September|October|November|December|week|month|year|this\s+\w+|last\s+\w+)|yesterday|today|tonight|"
    r"in\s+a\s+\w+(?:\s+\w+)?|in\s+an\s+\w+|on\s+(?:X|Twitter|Facebook|television|TV|\w+day)|"
    r"to\s+(?:reporters|the\s+\w+|[A-Z]\w+(?:\s+[A-Z]\w+)*))(?:\b.*)?$",
)
LEAD_TRIM = re.compile(r"^(?:and|but|while|as|because|so|however|meanwhile|though|although|yet|or)\s+", re.I)
RELATIVE = re.compile(r"\s+(?:who|which|whom|whose)\s+|\s*,\s*(?:who|which)\s+", re.I)
PREPOSITION = re.compile(r"\s+(?:of|for|at|with|from|in|on|to|close|familiar|briefed|who|inside|within)\s", re.I)
MEDIA_RE = re.compile(r"^(?:the\s+)?(?:[A-Z][\w.-]+\s+)?(?:state\s+)?(?:media|television|TV|radio|news agency)$", re.I)
SPOKES = frozenset({"spokesman", "spokeswoman", "spokesperson", "representative", "spokespeople"})
NOT_VERB_BEFORE = frozenset(
    "the a an his her its their these those our my this that to be been being was were is are am".split()
)
APPOSITIVE_START = re.compile(
    r"^\s*(?:(?:who|which|a|an|the|his|her|its|their|our)\s|(?:\w+ed|seen|written|shown|given)\s+(?:by|to)\s)", re.I
)
AGE = re.compile(r"^\s*\d{1,3}\s*$")
# An inverted speaker ("...,” said X") is a short noun phrase, never a clause with its own subject or auxiliary.
CLAUSE_WORDS = re.compile(r"\s(?:he|she|they|it|we|i|would|will|had|has|have|was|were|is|are|be|could|should)\b", re.I)
IT_AFTER = re.compile(r"(?:\s+(?:on|in|last|this)\s+\w+)?(?:\s+that)?\s+it\s")
LISTENER_VERBS = frozenset({"told", "tells", "tell"})
STARTS_NP = re.compile(
    r"^(?:[A-Z0-9“\"']|(?:a|an|the|one|two|three|four|five|several|some|many|other|current|former|senior|"
    r"top|unnamed|anonymous|officials|sources|people|experts|analysts|critics|he|she|they|it|we|i|"
    r"his|her|their|its|police|government|administration)\b)"
)
RIGHT_END = re.compile(r"[,.;:!?“”\"—]|\s+(?:that|who|which|as|when|after|because|while)\s")
THAT = re.compile(r"^\s*(?:that\s+)?", re.I)


@dataclass
class Found:
    """An attribution in sentence coordinates."""

    speaker: tuple[int, int]
    cue: tuple[int, int]
    content: tuple[int, int] | None
    kind: str


@lru_cache(maxsize=1)
def cue_words() -> frozenset[str]:
    """Lower-cased words that can start an attribution cue: sentences without one are skipped."""
    return frozenset({v for v in lexicon("reporting_verbs") if " " not in v} | {"according", "citing"})


@lru_cache(maxsize=1)
def patterns() -> tuple[re.Pattern[str], frozenset[str], re.Pattern[str]]:
    """(reporting-cue regex, anonymous head nouns, anonymous phrases regex) from the lexicons."""
    verbs = sorted({v for v in lexicon("reporting_verbs") if " " not in v}, key=len, reverse=True)
    cue = re.compile(
        r"(?<![\w'’])(?:(?P<prep>[Aa]ccording\s+to|[Cc]iting)|(?P<verb>" + "|".join(verbs) + r"))(?![\w'’])"
    )
    anon = [e for e in lexicon("anonymous_sources")]
    heads = frozenset(e for e in anon if " " not in e and e not in ("familiar",))
    phrases = re.compile(
        r"(?i)\b(?:" + "|".join(r"\s+".join(map(re.escape, e.split())) for e in anon if " " in e) + r")\b"
    )
    return cue, heads, phrases


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\n,;:—–-“”\"'‘’(":
        start += 1
    while end > start and text[end - 1] in " \t\n,;:—–-“”\"'‘’).":
        end -= 1
    return start, end


def _head(phrase: str) -> str:
    """The head word of a noun phrase: the last word before its first preposition or clause."""
    m = PREPOSITION.search(phrase + " ")
    core = phrase[: m.start()] if m else phrase
    words = core.split()
    return re.sub(r"['’]s?$", "", words[-1].strip(".,")) if words else ""


def classify(speaker: str) -> str:
    """The kind of a speaker phrase: outlet, document, anonymous, named_organization or named_person."""
    _, anon_heads, anon_phrases = patterns()
    text = re.sub(r",\s*\d{1,3}$", "", " ".join(speaker.split()))  # "Brown, 34": the age is not the head
    lower = text.lower()
    if lower in PRONOUNS:
        return PRONOUNS[lower]
    if OUTLET_RE.match(text) or MEDIA_RE.match(text):
        return "outlet"
    if anon_phrases.search(text):
        return "anonymous"
    head = _head(text)
    if head.lower() in DOCUMENT_HEADS:
        return "document"
    first = text.split()[0]
    if head.lower() in anon_heads and (not head[:1].isupper() or head == first):
        return "anonymous"
    m = PREPOSITION.search(text + " ")
    core_words = (text[: m.start()] if m else text).split()
    core = {w.strip(".,’'").lower() for w in core_words}
    if first.lower() == "the" and head[:1].isupper():
        return "named_organization"
    if len(core_words) >= 2 and all(w[:1].isupper() and w.lower() not in ORG_WORDS for w in core_words[-2:]):
        return "named_person"  # a title and a name: "Senate Majority Leader Chuck Schumer"
    if core & ORG_WORDS or head.lower() in SPOKES or (head.isupper() and len(head) > 1):
        return "named_organization"
    if head[:1].isupper():
        return "named_organization" if first.lower() == "the" else "named_person"
    return "named_organization" if lower.startswith(("the ", "its ")) else "anonymous"


def _valid(text: str, loose: bool = False) -> bool:
    """Whether ``text`` can be a speaker; ``loose`` (after "according to") accepts any noun-phrase start."""
    words = text.split()
    if not 0 < len(words) <= MAX_SPEAKER_WORDS or text.lower().startswith(("that ", "this ", "there ", "what ")):
        return False
    _, anon_heads, _ = patterns()
    head = _head(text).lower()
    return loose or bool(STARTS_NP.match(text)) or head in anon_heads or head in ORG_WORDS or head in DOCUMENT_HEADS


def _speaker_left(text: str, lo: int, hi: int) -> tuple[int, int] | None:
    """The speaker phrase in ``text[lo:hi]`` that ends right before a verb."""
    seg = text[lo:hi]
    seg = AUX_TAIL.sub("", seg.rstrip())
    m = RELATIVE.search(seg)
    if m:
        seg = seg[: m.start()]
    lead = LEAD_TRIM.match(seg.lstrip())
    offset = len(seg) - len(seg.lstrip()) + (lead.end() if lead else 0)
    s, e = _strip(text, lo + offset, lo + len(seg))
    return (s, e) if e > s and _valid(text[s:e]) else None


def _speaker_right(text: str, pos: int, loose: bool = False) -> tuple[int, int] | None:
    """The speaker phrase that starts at ``pos`` (after "according to", "citing" or an inverted verb)."""
    m = RIGHT_END.search(text, pos)
    end = m.start() if m else len(text)
    seg = TIME_TAIL.sub("", text[pos:end].rstrip())
    s, e = _strip(text, pos, pos + len(seg))
    return (s, e) if e > s and _valid(text[s:e], loose) else None


def _apposition(text: str, lo: int, boundary: int) -> tuple[int, int] | None:
    """The speaker of "Jane Doe, a spokeswoman for X, said" / "Her lawyer, Tom Grant, said" (comma before verb)."""
    if lo == 0 or text[lo - 1] != ",":
        return None
    prev = text.rfind(",", boundary, lo - 1)
    if prev < 0:
        return None
    middle = text[prev + 1 : lo - 1]
    name_lo = max(boundary, text.rfind(",", 0, prev) + 1)
    if AGE.match(middle):  # "Brown, 34, told the court"
        name = _speaker_left(text, name_lo, prev)
        return (name[0], lo - 1) if name else None
    if APPOSITIVE_START.match(middle):
        return _speaker_left(text, name_lo, prev)
    inner = _speaker_left(text, prev + 1, lo - 1)
    if inner and classify(text[inner[0] : inner[1]]) == "named_person":
        return inner
    return None


def find_attributions(text: str) -> list[Found]:
    """Every attribution in one sentence, in text order (offsets into ``text``)."""
    cue_re, _, _ = patterns()
    out: list[Found] = []
    boundary = 0  # where the clause holding the next verb's subject may start
    for m in cue_re.finditer(text):
        cue = (m.start(), m.end())
        speaker: tuple[int, int] | None
        if m.group("prep"):
            speaker = _speaker_right(text, m.end(), loose=True)
            if speaker:
                before = _strip(text, 0, m.start())
                after = _strip(text, speaker[1], len(text))
                content = before if before[1] - before[0] > 10 else after
                out.append(Found(speaker, cue, content if content[1] > content[0] else None, ""))
                boundary = speaker[1]
            continue
        before_words = text[: m.start()].split()
        if before_words and before_words[-1].lower() in NOT_VERB_BEFORE:
            continue  # "the reports" (a noun), "was reported" (passive), "to confirm"
        lo = max(boundary, *(text.rfind(c, 0, m.start()) + 1 for c in ",;:“”\"—("))
        left = text[lo : m.start()]
        speaker = _speaker_left(text, lo, m.start()) if left.strip() else None
        inverted = False
        if speaker is None and not left.strip():
            speaker = _apposition(text, lo, boundary)
            if speaker is None and m.group("verb").lower() not in LISTENER_VERBS:
                speaker = _speaker_right(text, m.end())
                if speaker and CLAUSE_WORDS.search(text[speaker[0] : speaker[1]]):
                    speaker = None
                inverted = speaker is not None
        if speaker is None:
            continue
        if inverted:
            content = _strip(text, boundary, m.start())
        else:
            rest = m.end()
            if m.group("verb").lower() in ("told", "tells", "tell"):
                listener = _speaker_right(text, m.end())
                rest = listener[1] if listener else rest
            after = _strip(text, rest + THAT.match(text[rest:]).end(), len(text))  # type: ignore[union-attr]
            before = _strip(text, boundary, lo)
            trailing = text[rest:].lstrip().startswith(",") and before[1] - before[0] > 10
            content = after if len(text[after[0] : after[1]].split()) >= 3 and not trailing else before
        out.append(Found(speaker, cue, content if content[1] > content[0] else None, ""))
        boundary = m.end()
    for f in out:
        f.kind = classify(text[f.speaker[0] : f.speaker[1]])
        phrase = text[f.speaker[0] : f.speaker[1]]
        if f.kind == "named_person" and " " not in phrase and IT_AFTER.match(text[f.cue[1] :]):
            f.kind = "named_organization"  # "Microsoft said it would ...": an organisation
    return out


def score_attributions(cases: list[dict[str, Any]]) -> dict[str, float]:
    """Speaker precision/recall and named/anonymous precision/recall of :func:`find_attributions`.

    Args:
        cases: ``{"text": ..., "attributions": [{"speaker": ..., "kind": ...}]}`` records
            (the format of ``tests/fixtures/attributions.jsonl``). A speaker counts as found
            when the exact text is extracted; the class is compared on found speakers.
    """
    hits = {"tp": 0, "fp": 0, "fn": 0, "anon_tp": 0, "anon_fp": 0, "anon_fn": 0, "named_tp": 0}
    gold_total = 0
    for case in cases:
        text = case["text"]
        pred = {text[f.speaker[0] : f.speaker[1]]: f.kind for f in find_attributions(text)}
        gold = {a["speaker"]: a["kind"] for a in case["attributions"]}
        gold_total += len(gold)
        hits["tp"] += len(pred.keys() & gold.keys())
        hits["fp"] += len(pred.keys() - gold.keys())
        hits["fn"] += len(gold.keys() - pred.keys())
        for speaker in pred.keys() & gold.keys():
            p, g = pred[speaker] == "anonymous", gold[speaker] == "anonymous"
            hits["anon_tp"] += p and g
            hits["anon_fp"] += p and not g
            hits["anon_fn"] += g and not p
            hits["named_tp"] += not p and not g

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 1.0

    return {
        "attributions": gold_total,
        "speaker_precision": ratio(hits["tp"], hits["tp"] + hits["fp"]),
        "speaker_recall": ratio(hits["tp"], hits["tp"] + hits["fn"]),
        "anonymous_precision": ratio(hits["anon_tp"], hits["anon_tp"] + hits["anon_fp"]),
        "anonymous_recall": ratio(hits["anon_tp"], hits["anon_tp"] + hits["anon_fn"]),
        # a named speaker called anonymous is an anonymous false positive, and the reverse
        "named_precision": ratio(hits["named_tp"], hits["named_tp"] + hits["anon_fn"]),
        "named_recall": ratio(hits["named_tp"], hits["named_tp"] + hits["anon_fp"]),
    }


class SourceFinder:
    """Extract attributions from the body and count named and anonymous sources."""

    name = "sourcing"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config

    def __call__(self, ctx: Context) -> None:
        """Set ``ctx.sourcing`` and each evidence sentence's ``anonymous_source``."""
        attributions: list[Attribution] = []
        kinds_by_sentence: dict[int, set[str]] = {}
        words = cue_words()
        for sentence in ctx.sentences:
            if words.isdisjoint(sentence.words):
                continue
            for f in find_attributions(sentence.text):
                base = sentence.start
                attributions.append(
                    # Built without re-validation: the spans are already models, the kind one of classify()'s.
                    Attribution.model_construct(
                        speaker=ctx.body.span(base + f.speaker[0], base + f.speaker[1]),
                        cue=ctx.body.span(base + f.cue[0], base + f.cue[1]),
                        content=ctx.body.span(base + f.content[0], base + f.content[1]) if f.content else None,
                        kind=f.kind,  # type: ignore[arg-type]
                        sentence_index=sentence.index,
                    )
                )
                kinds_by_sentence.setdefault(sentence.index, set()).add(f.kind)
        anonymous = sum(1 for a in attributions if a.kind == "anonymous")
        named = len(attributions) - anonymous
        total = weight_anon = 0.0
        for e in ctx.evidence:
            kinds = kinds_by_sentence.get(e.index, set())
            e.anonymous_source = "anonymous" in kinds and kinds == {"anonymous"}
            w = max(e.relevance, 1e-6)
            total += w
            weight_anon += w if e.anonymous_source else 0.0
        ctx.sourcing = Sourcing(
            attributions=attributions,
            named=named,
            anonymous=anonymous,
            anonymous_share=round(anonymous / len(attributions), 4) if attributions else 0.0,
            evidence_anonymous_share=round(weight_anon / total, 4) if total else 0.0,
        )
