"""overclaim's verdict as a schema.org ClaimReview draft (JSON-LD), for a fact-checker to edit and publish.

    overclaim check post.json --format claimreview > draft.jsonld

The draft reviews the post's headline (``claimReviewed``) *against its article*: the rating
says whether the article backs the headline, not whether the claim is true in the world,
and its name says so ("Contradicted by the article"). Rating scale (``ratingValue``, with
``worstRating`` 1 and ``bestRating`` 3):

========== ============ ===================================
verdict    ratingValue  alternateName
========== ============ ===================================
contradicted  1         Contradicted by the article
overstated    2         Overstated
supported     3         Supported by the article
unrelated     (none)    Unrelated to the article
cannot_judge  (none)    Cannot be judged from the article
========== ============ ===================================

``unrelated`` and ``cannot_judge`` are not points on that scale (the article neither backs
nor denies the headline), so they carry no ``ratingValue``, only their name.

``itemReviewed`` is a Claim whose ``appearance`` is the post's URL and whose ``author`` is
the outlet, when the post gives them (``datePublished``: the post's date). ``reviewBody``
holds the verdict's definition and every reason, ``datePublished`` the day of the check.
The draft is marked ``"creativeWorkStatus": "Draft"``; its ``author`` (the fact-checker's
organisation) and ``url`` (where the fact-check will be published) are left ``null`` for
the fact-checker to fill in (JSON-LD ignores a ``null`` value). ``isBasedOn`` names the
overclaim version that wrote it. A draft imports into the fact-check store like any ClaimReview.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from overclaim.report import Report, verdict_name

# The rating scale of the draft (see the module docstring): verdict -> (ratingValue, alternateName).
WORST_RATING = 1
BEST_RATING = 3
RATINGS: dict[str, tuple[int | None, str]] = {
    "contradicted": (1, "Contradicted by the article"),
    "overstated": (2, "Overstated"),
    "supported": (3, "Supported by the article"),
    "unrelated": (None, "Unrelated to the article"),
    "cannot_judge": (None, "Cannot be judged from the article"),
}


def review_body(report: Report) -> str:
    """The verdict in words: its name and score, what it means, then every reason, numbered."""
    verdict = report.verdict
    lines = [
        f"overclaim's verdict: {verdict_name(verdict.label)} (overclaim score {verdict.score:.2f}, "
        "0 = fully backed by the article, 1 = not backed). " + verdict.definition
    ]
    lines += [f"{i}. {reason.text}" for i, reason in enumerate(verdict.reasons, 1)]
    return "\n".join(lines)


def claimreview_draft(report: Report, today: datetime.date | None = None) -> dict[str, Any]:
    """The report's verdict as a ClaimReview draft (a JSON-LD object).

    Args:
        report: the report of one post.
        today: the review's date (``datePublished``); the current UTC day when None.
    """
    post = report.post
    item: dict[str, Any] = {"@type": "Claim"}
    if post.outlet:
        item["author"] = {"@type": "Organization", "name": post.outlet}
    if post.published:
        item["datePublished"] = post.published
    if post.url:
        item["appearance"] = {"@type": "CreativeWork", "url": post.url, "headline": post.headline}
    value, name = RATINGS[report.verdict.label]
    rating: dict[str, Any] = {"@type": "Rating"}
    if value is not None:
        rating.update(ratingValue=value, bestRating=BEST_RATING, worstRating=WORST_RATING)
    rating["alternateName"] = name
    day = today or datetime.datetime.now(datetime.timezone.utc).date()
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "creativeWorkStatus": "Draft",
        "claimReviewed": post.headline,
        "itemReviewed": item,
        "reviewRating": rating,
        "reviewBody": review_body(report),
        "datePublished": day.isoformat(),
        # For the fact-checker to fill in before publishing: who reviews, and where it will be published.
        "author": {"@type": "Organization", "name": None, "url": None},
        "url": None,
        "isBasedOn": {"@type": "SoftwareApplication", "name": "overclaim",
                      "softwareVersion": report.overclaim_version},
    }


def render_claimreview(report: Report) -> str:
    """One report's ClaimReview draft as JSON-LD text."""
    return json.dumps(claimreview_draft(report), indent=2, ensure_ascii=False)


def render_claimreviews(reports: Sequence[Report]) -> str:
    """Several reports' drafts as one JSON-LD array."""
    return json.dumps([claimreview_draft(r) for r in reports], indent=2, ensure_ascii=False)
