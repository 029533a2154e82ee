"""Speakers: whether a tagged phrase can be a speaker, its class, and the speaker a pronoun stands for.

Rules over the speaker phrase, not learned (see :mod:`overclaim.stages.sourcing`): :func:`classify`
gives ``named_person``, ``named_organization``, ``outlet``, ``document``, ``anonymous`` or
``pronoun``; :func:`resolve` finds a pronoun's antecedent; :func:`_valid_speaker` drops phrases that
cannot speak ("the", "63 percent of teens", "Discussions").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from overclaim.resources import lexicon

# Longest speaker phrase kept, in words: PolNeAR sources are at most a clause ("a senior official
# who spoke on condition of anonymity because he was not authorized to discuss the matter" is 16).
MAX_SPEAKER_WORDS = 20

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
    "state network agencies prosecutors prosecution international clinic center centre fund institution "
    "coalition alliance federation society ngo".split()
)
PREPOSITION = re.compile(r"\s+(?:of|for|at|with|from|in|on|to|by|close|familiar|briefed|who|inside|within)\s", re.I)
MEDIA_RE = re.compile(r"^(?:the\s+)?(?:[A-Z][\w.-]+\s+)?(?:state\s+)?(?:media|television|TV|radio|news agency)$", re.I)
SPOKES = frozenset({"spokesman", "spokeswoman", "spokesperson", "representative", "spokespeople"})

_LETTER = re.compile(r"[^\W\d_]")


# Not sources even when the tagger marks them: quantities ("63 percent of teens") and findings
# ("Our findings suggest", "The results show"), which PolNeAR-style tagging picks up from "suggest"/"show".
NOT_SOURCE = re.compile(r"^(?:(?:(?:about|around|nearly|almost|roughly|over|under|only|just|some|(?:more|less|fewer)"
                        r"\s+than)\s+)?\W*\d[\d.,%]*\s*(?:%|percent|per cent)?\b|"
                        r"(?:our|the|these|its|their|his|her)\s+(?:findings?|results?|evidence|numbers)$)", re.I)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without spaces and punctuation at its ends ("a White House statement in March,")."""
    while start < end and text[start] in " \t\n,;:—–-“”\"'‘’(":
        start += 1
    while end > start and text[end - 1] in " \t\n,;:—–-“”\"'‘’)":
        end -= 1
    return start, end


def _common_plural(word: str) -> bool:
    """A capitalised plural common noun opening a sentence ("Discussions have ranged"), not a surname."""
    from overclaim.resources import zipf

    low = word.lower()
    # zipf 4: the singular is an everyday word ("discussion" 4.5); surnames' singulars are rare
    # ("sander" 2.0, "jone" 1.6); "Williams"/"Adams" are the price.
    return low.endswith("s") and not low.endswith("ss") and zipf(low[:-1]) >= 4.0


# Words that cannot make a speaker alone ("the", "but", "in"): articles, conjunctions, prepositions.
# Pronouns, relative ones included ("who", "which": PolNeAR's sources), are not among them.
FUNCTION_WORDS = frozenset("the a an and but or nor so yet in on at for of to with from by as if when while because "
                           "about after before than then also not into over under".split())


def _valid_speaker(text: str, opens_sentence: bool = False) -> bool:
    """A speaker has a letter and a word other than a function word, is no bare title, and is not a clause.

    A clause: more than MAX_SPEAKER_WORDS words.
    """
    words = text.split()
    if not words or len(words) > MAX_SPEAKER_WORDS or not _LETTER.search(text) or NOT_SOURCE.match(text):
        return False
    if all(w.lower().strip(".,") in FUNCTION_WORDS for w in words):
        return False
    low = words[0].lower()
    if (opens_sentence and len(words) == 1 and low not in patterns()[0] and _singular(low) not in DOCUMENT_HEADS
            and _common_plural(words[0])):
        return False  # "Discussions have ranged"; "Officials said", "Polls suggest" are sources
    return not (len(words) == 1 and words[0].lower().strip(".") in TITLES)


# ---- speaker classes ----

PRONOUN_WORDS = frozenset(
    "he she i we they it you him her them us me this that these those who one someone".split()
)
# Person pronouns resolve to a named person, group pronouns to an organisation or a person.
PERSON_PRONOUNS = frozenset({"he", "she", "him", "her", "i", "me"})
# Definite back-references: "the researchers" names nobody by itself; resolved like "they".
BACKREF_HEADS = frozenset(
    "researchers scientists authors investigators team company firm group organization organisation agency "
    "campaign candidate senator congressman congresswoman governor mayor lawmaker nominee president "
    "researcher scientist author".split()
    # the common noun of a kind of organisation names none by itself ("the bank", "the ministry")
    + "bank ministry department office commission council committee bureau institute university board "
    "foundation corporation union association fund institution coalition alliance federation society".split()
)
PERSON_BACKREF = frozenset("candidate senator congressman congresswoman governor mayor lawmaker nominee president "
                           "researcher scientist author".split())
# Experts of a named institution are that institution speaking ("Mayo Clinic researchers"); unnamed
# officials of one are still unnamed ("Defense officials", "White House aides").
EXPERT_HEADS = frozenset("researchers scientists doctors physicians economists experts analysts investigators "
                         "team authors".split())
TITLES = frozenset("dr mr mrs ms prof sen rep gov gen lt col sgt capt st president senator".split())
DETERMINERS = frozenset("the a an this that these those its his her their our my".split())


@lru_cache(maxsize=1)
def patterns() -> tuple[frozenset[str], re.Pattern[str]]:
    """(anonymous head nouns, anonymous phrases regex) from ``lexicons/anonymous_sources.txt``."""
    anon = list(lexicon("anonymous_sources"))
    heads = frozenset(e for e in anon if " " not in e and e not in ("familiar",))
    phrases = re.compile(
        r"(?i)\b(?:" + "|".join(r"\s+".join(map(re.escape, e.split())) for e in anon if " " in e) + r")\b"
    )
    return heads, phrases


# A participle after the head starts a modifier: "a study published in The Lancet", "a poll released Monday".
PARTICIPLE = re.compile(r"\s+(?:published|released|issued|obtained|filed|seen|reviewed|conducted|led|posted|"
                        r"sent|made|shared|cited|commissioned|funded)\b", re.I)
QUANTIFIERS = frozenset("some many most several few other two three four five a an all both".split())


def _head(phrase: str) -> str:
    """The head word of a noun phrase: the last word before its first preposition, participle or clause."""
    cut = PARTICIPLE.search(phrase)
    if cut:
        phrase = phrase[: cut.start()]
    m = PREPOSITION.search(phrase + " ")
    core = phrase[: m.start()] if m else phrase
    words = core.split()
    return re.sub(r"['’]s?$", "", words[-1].strip(".,")) if words else ""


def classify(speaker: str) -> str:
    """The kind of a speaker phrase: pronoun, outlet, document, anonymous, named_organization or named_person."""
    anon_heads, anon_phrases = patterns()
    text = re.sub(r",\s*\d{1,3}$", "", " ".join(speaker.split()))  # "Brown, 34": the age is not the head
    if "," in text:  # an apposition: "Jane Doe, chief executive of Acme" is Jane Doe
        name = text.split(",", 1)[0].strip()
        if name and classify(name) == "named_person":
            return "named_person"
    lower = text.lower()
    words = lower.split()
    if lower in PRONOUN_WORDS:
        return "pronoun"
    if len(words) == 2 and words[0] == "the" and words[1] in BACKREF_HEADS:
        return "pronoun"
    if OUTLET_RE.match(text) or MEDIA_RE.match(text):
        return "outlet"
    if anon_phrases.search(text):
        return "anonymous"
    head = _head(text)
    hl = head.lower()
    if hl in DOCUMENT_HEADS or _singular(hl) in DOCUMENT_HEADS:
        return "document"
    m = PREPOSITION.search(text + " ")
    core_words = (text[: m.start()] if m else text).split()
    first = core_words[0] if core_words else text.split()[0]
    # proper-noun words before the head ("Mayo Clinic researchers", "U.S. officials"); a capitalised
    # quantifier opening a sentence ("Some doctors") names nothing
    named_mods = [w for w in core_words[:-1] if w[:1].isupper() and w.lower() not in DETERMINERS | QUANTIFIERS]
    # experts of a named institution, before or after the head ("researchers at the University of Tokyo")
    named_after = m is not None and any(w[:1].isupper() for w in text[m.end() :].split())
    if hl in EXPERT_HEADS and (named_mods or named_after):
        return "named_organization"
    if hl in anon_heads and (not head[:1].isupper() or head == first or first.lower() in QUANTIFIERS):
        return "anonymous"
    if hl in SPOKES and not (len(core_words) >= 2 and core_words[-1][:1].isupper()):
        return "anonymous"  # "a spokesperson", "a Boeing spokesman": nobody named
    core = {w.strip(".,’'").lower() for w in core_words}
    if first.lower() == "the" and head[:1].isupper():
        return "named_organization"
    if len(core_words) >= 2 and all(w[:1].isupper() and w.lower() not in ORG_WORDS for w in core_words[-2:]):
        return "named_person"  # a title and a name: "Senate Majority Leader Chuck Schumer"
    if core & ORG_WORDS or (head.isupper() and len(head) > 1):
        return "named_organization"
    if head[:1].isupper():
        return "named_organization" if first.lower() == "the" else "named_person"
    return "named_organization" if lower.startswith(("the ", "its ")) else "anonymous"


def _singular(word: str) -> str:
    """A plural noun's singular by its ending ("polls" -> "poll", "studies" -> "study"); other words as they are."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _name_key(text: str) -> str:
    """What identifies a named speaker: a person's surname, an organisation's name without article."""
    words = [w.strip(".,’'\"") for w in text.split()]
    words = [w for w in words if w]
    while words and words[0].lower() in DETERMINERS:
        words = words[1:]
    return " ".join(words).lower()


# A personal name in running text: two capitalised words, after an optional title ("Dr. Jane Smith").
NAME_RE = re.compile(r"\b(?:[A-Z][a-z]{1,3}\. )?[A-Z][a-z'’-]+ [A-Z][a-z'’-]+\b")
# How far back a person pronoun looks for a name (characters; about three news sentences).
NAME_WINDOW = 400
# How many earlier named speakers a pronoun looks back over (bounds the cost on long bodies).
MAX_ANTECEDENTS = 50


def _compatible(pronoun: str, kind: str) -> bool:
    words = pronoun.lower().split()
    person = words[-1] in PERSON_PRONOUNS or (len(words) == 2 and words[1] in PERSON_BACKREF)
    if person:
        return kind == "named_person"
    if words[-1] in ("it", "this", "that"):
        return kind in ("named_organization", "outlet", "document")
    return kind in ("named_organization", "named_person", "outlet")


def resolve(
    pronoun: str, before: Sequence[tuple[str, str, int, int]], text: str, end: int
) -> tuple[int, int] | None:
    """The antecedent of ``pronoun``: ``(index into before, -1)`` or ``(start, end)`` of a name in ``text[:end]``.

    The nearest compatible candidate wins: an earlier named speaker (he/she need a person, it an
    organisation or document, they/we/the researchers either), or for a person pronoun a personal
    name ("Jane Smith", "Dr. Jane Smith") in the last :data:`NAME_WINDOW` characters before it.

    Args:
        pronoun: the pronoun speaker phrase ("he", "the researchers").
        before: earlier named speakers as (text, kind, source index, clean end offset), in text order.
        text: the body's clean text.
        end: where the pronoun starts in ``text`` (only a window before it is read).
    """
    best: tuple[int, int] | None = None
    best_pos = -1
    for i in range(len(before) - 1, max(-1, len(before) - 1 - MAX_ANTECEDENTS), -1):
        if _compatible(pronoun, before[i][1]):
            best, best_pos = (i, -1), before[i][3]
            break
    if _compatible(pronoun, "named_person") and not _compatible(pronoun, "named_organization"):
        for m in NAME_RE.finditer(text, max(0, end - NAME_WINDOW), end):
            words = m.group().split()
            if m.end() > best_pos and words[0].lower().strip(".") not in DETERMINERS and not (
                {w.lower() for w in words} & ORG_WORDS
            ) and classify(m.group()) == "named_person":
                best, best_pos = (m.start(), m.end()), m.end()
    return best


# "Microsoft said it would", "Apple said on Monday that it": an organisation speaks of itself as "it".
IT_AFTER = re.compile(r"^(?:\s+(?:on|in|last|this)\s+\w+)?(?:\s+that)?\s+(?:it|its)\s")
ORG_AFTER = "(?:'s)?\\s+(?:spokes\\w+|officials?|executives?|shares|stock|employees|Inc|Corp|Co|Ltd)\\b"
# How much of the body is searched for "Boeing spokesman"-style evidence (characters each way).
ORG_EVIDENCE_WINDOW = 3000


def _single_name_kind(name: str, after_cue: str, body: str) -> str:
    """named_organization or named_person for a one-word name no earlier person has ("Microsoft", "Trump")."""
    if IT_AFTER.match(after_cue):
        return "named_organization"
    pos = body.find(name)
    lo, hi = max(0, pos - ORG_EVIDENCE_WINDOW), pos + ORG_EVIDENCE_WINDOW
    if re.compile(re.escape(name) + ORG_AFTER).search(body, lo, hi):
        return "named_organization"
    return "named_person"
