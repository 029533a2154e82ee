"""Options shared by several commands (one definition, the same help everywhere)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer


class Profile(str, Enum):
    """Which models run (``Config.profile``)."""

    default = "default"
    entailment = "entailment"
    fast = "fast"


ProfileOption = Annotated[
    Profile,
    typer.Option(
        "--profile",
        help="default: every stage but the entailment cross-encoder; entailment: with it (each evidence "
        "sentence read as entails / neutral / contradicts; experimental); fast: release 0.1's stages only, "
        "for triaging many posts.",
    ),
]
