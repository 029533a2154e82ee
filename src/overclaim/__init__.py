"""overclaim: show, with evidence, where a headline says more than its article does.

>>> import overclaim
>>> report = overclaim.check("Air strikes will soon begin", "Officials are evaluating plans ...")
>>> report.verdict.label
'overstated'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overclaim.version import __version__

if TYPE_CHECKING:
    from overclaim.pipeline import Checker
    from overclaim.report import Post, Report

__all__ = ["Checker", "Post", "Report", "check", "__version__"]

_default_checker: Checker | None = None


def check(headline: str, body: str, **meta: Any) -> Report:
    """Check one post with a shared default :class:`Checker` (models load once).

    ``meta`` may hold ``id``, ``url``, ``outlet`` and ``published``.
    """
    global _default_checker
    if _default_checker is None:
        from overclaim.pipeline import Checker

        _default_checker = Checker()
    return _default_checker.check(headline, body, **meta)


def __getattr__(name: str) -> Any:
    if name == "Checker":
        from overclaim.pipeline import Checker

        return Checker
    if name in ("Report", "Post"):
        import overclaim.report

        return getattr(overclaim.report, name)
    raise AttributeError(name)
