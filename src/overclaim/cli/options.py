"""Options shared by several commands (one definition, the same help everywhere)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Profile(str, Enum):
    """Which models run (``Config.profile``)."""

    default = "default"
    fast = "fast"


ProfileOption = Annotated[
    Profile,
    typer.Option(
        "--profile",
        help="default: every stage, the entailment cross-encoder included (each evidence sentence read as "
        "entails / neutral / contradicts); fast: without the cross-encoder, claim strength and numbers, "
        "for triaging many posts.",
    ),
]
