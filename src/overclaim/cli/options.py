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
        help="default: every model, the entailment cross-encoder included; fast: without it, "
        "for triaging many posts (about 4x the posts per second).",
    ),
]
