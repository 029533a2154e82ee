"""The verdict model's training posts: the shared data sets read into examples, and the rewrites.

Part of :mod:`overclaim.training.verdict_model` (its docstring lists each source and its labels):
:func:`build_examples` reads FNC-1 (held-out stories, with a refitted stance model), InSciOut,
Perspectrum dev and XNLI English dev, and makes the labelled rewrites (numbers, negations,
hedges, debunking bodies, causal claims).
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 13


@dataclass(frozen=True)
class Example:
    """One training post with its gold verdict."""

    headline: str
    body: str
    gold: str
    source: str
    group: str  # posts of one group go to the same side of the validation split


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def emergent_stances(path: Path) -> dict[str, str]:
    """Emergent article headline -> its stance toward the claim (for / against / observing)."""
    out: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out[" ".join(row["articleHeadline"].split()).lower()] = row["articleHeadlineStance"]
    return out


_NUMBER = re.compile(r"(?<![\w.,])(\d{2,}(?:,\d{3})*|\d+\.\d+|[2-9])(?![\w,.]\d)")


def _number_rewrite(headline: str, body: str) -> str | None:
    """The headline with its first number that the body also has tripled; None when there is none."""
    for m in _NUMBER.finditer(headline):
        token = m.group(1)
        if re.search(rf"(?<![\w.,]){re.escape(token)}(?![\w]|[.,]\d)", body):
            value = float(token.replace(",", ""))
            new = value * 3
            text = f"{int(new):,}" if "," in token else (f"{new:g}" if "." in token else str(int(new)))
            return headline[: m.start(1)] + text + headline[m.end(1) :]
    return None


# Auxiliaries after which "not" negates an English headline's main clause.
_AUXILIARY = re.compile(r"\b(is|are|was|were|will|has|have|had|can|could|would|should|does|did|do|must)\b(?!\s+not\b)",
                        re.I)
# Ways a headline only reports a claim (the Emergent "observing" stance), for the hedge rewrite.
_HEDGES = ("Report: {h}", "{h}, report says", "{h}, according to unconfirmed reports", "Claim: {h}")


def _negation_rewrite(headline: str) -> str | None:
    """The headline with "not" after its first auxiliary ("X has died" -> "X has not died"); None without one."""
    m = _AUXILIARY.search(headline)
    if not m:
        return None
    return headline[: m.end()] + " not" + headline[m.end() :]


_DEBUNKERS = ("a spokesperson", "police", "the ministry", "the company", "officials", "the agency",
              "independent fact-checkers", "the family")
_DEBUNK_LINES = (
    "Claims that {c} are false, {o} said.",
    "{O} denied reports that {c}.",
    "There is no evidence that {c}, according to {o}.",
    "The report that {c} is a hoax, {o} said in a statement.",
    "Fact-checkers found that the story that {c} was fabricated.",
    "{O} said the claim that {c} was not true.",
)
_DEBUNK_FILLER = (
    "The rumour spread quickly on social media this week.",
    "The post has been shared thousands of times.",
    "It was traced to a website known for satire.",
    "{O} asked people not to share it.",
    "The image in the post was taken years earlier, in another country.",
)


def _debunk_body(headline: str, rng: random.Random) -> str:
    """A short debunking article of the headline's claim (two refutations in other words, filler)."""
    from overclaim.models.stance_text import STOP

    claim = headline.strip().rstrip(" .!?")
    first = claim.split(" ", 1)[0]
    if first.lower() in STOP:  # "The ..." -> "the ...", but not "Apple ..."
        claim = claim[0].lower() + claim[1:]
    org = rng.choice(_DEBUNKERS)
    lines = rng.sample(_DEBUNK_LINES, 2) + rng.sample(_DEBUNK_FILLER, 2)
    rng.shuffle(lines)
    return " ".join(line.format(c=claim, o=org, O=org[0].upper() + org[1:]) for line in lines)


def _hedge_rewrite(headline: str, rng: random.Random) -> str:
    """The headline as a report of the claim ("Report: ...", "..., report says")."""
    return rng.choice(_HEDGES).format(h=headline.rstrip(" .!"))


_CORRELATIONAL = re.compile(
    r"\b(?:was|were|is|are)\s+(?:significantly\s+|independently\s+|positively\s+|strongly\s+)?"
    r"(?:associated|linked|correlated)\s+with\b",
    re.I,
)


def _causal_rewrite(sentence: str) -> str | None:
    """The sentence with its first "is associated with" / "linked to" made "causes"; None without one."""
    m = _CORRELATIONAL.search(sentence)
    if not m:
        return None
    plural = m.group(0).split()[0].lower() in ("were", "are")
    return sentence[: m.start()] + ("cause" if plural else "causes") + sentence[m.end() :]


def heldout_stance_model(data_dir: str | Path, *, seed: int = SEED, log: Callable[[str], Any] = print) -> Any:
    """The stance model fitted without the FNC-1 train stories that :func:`build_examples` uses."""
    from overclaim.training import fnc
    from overclaim.training.stance import body_split, fit_split

    data = fnc.load_split(Path(data_dir) / "fnc1", "train")
    tr, va = body_split(data, 0.2, seed)
    log(f"fnc-1: fitting the stance model on {len(tr)} pairs for the {len(va)} held-out ones")
    return fit_split(data, tr, va, seed=seed)[0]


def build_examples(data_dir: str | Path, *, seed: int = SEED, log: Callable[[str], Any] = print) -> list[Example]:
    """The training posts (see the module docstring)."""
    from overclaim.training import fnc
    from overclaim.training.stance import body_split

    root = Path(data_dir)
    rng = random.Random(seed)
    hedge_rng = random.Random(seed + 1)
    debunked: set[str] = set()
    out: list[Example] = []

    data = fnc.load_split(root / "fnc1", "train")
    _, va = body_split(data, 0.2, seed)
    emergent = emergent_stances(root / "emergent" / "emergent_train.csv")
    joined = Counter[str]()
    rewrites = 0
    for i in va:
        p = data.pairs[i]
        body = data.bodies[p.body_id]
        gold = {"agree": "supported", "disagree": "contradicted", "unrelated": "unrelated"}.get(str(p.stance))
        if p.stance == "discuss":
            stance = emergent.get(" ".join(p.headline.split()).lower())
            joined[str(stance)] += 1
            gold = "supported" if stance == "observing" else "overstated"
        assert gold is not None
        out.append(Example(p.headline, body, gold, "fnc", f"fnc:{p.body_id}"))
        group = f"fnc:{p.body_id}"
        if p.stance == "agree":
            changed = _number_rewrite(p.headline, body)
            if changed:
                rewrites += 1
                out.append(Example(changed, body, "overstated", "rewrite_number", group))
            negated = _negation_rewrite(p.headline)
            if negated:
                out.append(Example(negated, body, "contradicted", "rewrite_negation", group))
        if p.stance == "discuss" and gold == "overstated":
            out.append(Example(_hedge_rewrite(p.headline, hedge_rng), body, "supported", "rewrite_hedge", group))
        if p.stance in ("agree", "discuss") and p.headline not in debunked:
            debunked.add(p.headline)
            out.append(Example(p.headline, _debunk_body(p.headline, hedge_rng), "contradicted", "rewrite_debunk",
                               group))
    log(f"fnc-1 discuss pairs by Emergent headline stance: {dict(joined)}; number rewrites {rewrites}")

    for k, row in enumerate(_read_jsonl(root / "claim_strength" / "insciout_train.jsonl")):
        gold = "overstated" if row["exaggeration_label"] == "exaggerates" else "supported"
        out.append(Example(row["press_release_conclusion"], row["abstract_conclusion"], gold, "insciout",
                           f"insciout:{row.get('original_file_id', k)}"))

    persp = [r for r in _read_jsonl(root / "perspectrum" / "perspectrum_train_dev.jsonl") if r["split"] == "dev"]
    claims = sorted({r["claim_id"] for r in persp})
    by_claim: dict[Any, list[dict[str, Any]]] = {}
    for r in persp:
        by_claim.setdefault(r["claim_id"], []).append(r)
    for r in persp:
        gold = {"support": "supported", "undermine": "contradicted"}.get(r["label"])
        if gold:
            out.append(Example(r["claim"], r["perspective"], gold, "perspectrum", f"persp:{r['claim_id']}"))
    for cid in claims:  # one off-topic perspective per claim
        other = rng.choice([c for c in claims if c != cid])
        r = by_claim[cid][0]
        out.append(Example(r["claim"], rng.choice(by_claim[other])["perspective"], "unrelated", "perspectrum",
                           f"persp:{cid}"))

    xnli = [r for r in _read_jsonl(root / "nli" / "xnli" / "xnli_en.jsonl") if r["split"] == "dev"]
    nli_map = {"entailment": "supported", "contradiction": "contradicted", "neutral": "overstated"}
    for r in xnli:
        out.append(Example(r["hypothesis"], r["premise"], nli_map[r["label"]], "xnli", f"xnli:{r['premise'][:60]}"))

    with (root / "claim_strength" / "annotated_pubmed.csv").open(encoding="utf-8", newline="") as f:
        pubmed = [row for row in csv.DictReader(f) if row["label"] == "1"]
    causal = 0
    for k, row in enumerate(pubmed):
        changed = _causal_rewrite(row["sentence"])
        if changed:
            causal += 1
            out.append(Example(changed, row["sentence"], "overstated", "rewrite_causal", f"pubmed:{k}"))
            out.append(Example(row["sentence"], row["sentence"], "supported", "rewrite_causal", f"pubmed:{k}"))
    log(f"causal rewrites {causal}; examples {len(out)}: {dict(Counter((e.source, e.gold) for e in out))}")
    return out
