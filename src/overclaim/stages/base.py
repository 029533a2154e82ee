"""The one protocol every pipeline stage follows (after spaCy's components).

A stage reads from and adds to a post's :class:`~overclaim.context.Context`. The pipeline hands it
a group of posts (``batch``), a single check one post (``__call__``). A stage writes the one that
suits it, and this base class derives the other, once for all stages: per post for a stage that
works post by post, a group of one for a stage that scores a group in one model call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from overclaim.context import Context


class Stage:
    """Base of the pipeline's stages: override ``__call__`` (one post), ``batch`` (a group), or both."""

    name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__call__ is Stage.__call__ and cls.batch is Stage.batch:
            raise TypeError(f"stage {cls.__name__} must define __call__ (one post) or batch (a group of posts)")

    def __call__(self, ctx: Context) -> None:
        """Check one post: a group of one."""
        self.batch([ctx])

    def batch(self, contexts: Sequence[Context]) -> None:
        """Check a group of posts: each in turn, unless the stage scores the group together."""
        for ctx in contexts:
            self(ctx)
