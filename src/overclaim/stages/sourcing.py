"""Sourcing: PLACEHOLDER, to be replaced by its issue's implementation."""

from __future__ import annotations

from typing import Any

from overclaim.config import Config
from overclaim.pipeline import Context


class SourceFinder:
    """Placeholder stage: adds nothing yet."""

    name = "sourcing"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config

    def __call__(self, ctx: Context) -> None:
        """Add nothing."""
