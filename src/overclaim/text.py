"""Text views that keep every character traceable to the original input.

Normalization rewrites the text the analysis reads (``clean``), but the report
must point into the text the user gave (``original``). A :class:`TextView`
holds both and, for every clean character, the original range it came from.
Stages work in clean coordinates and call :meth:`TextView.span` to get a
:class:`~overclaim.report.Span` in original coordinates.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from overclaim.report import Field_, Span


@dataclass(frozen=True)
class Replacement:
    """Replace ``text[start:end]`` (in the view's clean coordinates) with ``text``.

    ``start == end`` inserts. ``kind`` and ``confidence`` go to the edit log.
    """

    start: int
    end: int
    text: str
    kind: str = "other"
    confidence: float = 1.0


@dataclass(frozen=True)
class AppliedEdit:
    """A replacement expressed in original coordinates, for the edit log."""

    start: int
    end: int
    original: str
    replacement: str
    kind: str
    confidence: float


_IDENTITY = array("q")


def _identity(n: int) -> array[int]:
    """``array("q", range(n))``, sliced from a shared one (built once, not per text)."""
    global _IDENTITY
    if len(_IDENTITY) < n:
        _IDENTITY = array("q", range(max(n, 2 * len(_IDENTITY), 1 << 16)))
    return _IDENTITY[:n]


class TextView:
    """An original text, its clean form, and the mapping between them.

    The mapping is two machine-integer arrays (clean position -> original start and end):
    an edit copies their unchanged runs with memcpy instead of boxing every position as a
    Python int (building and copying lists was most of the cost of an edit in a news body).
    """

    __slots__ = ("field", "original", "clean", "_starts", "_ends", "edits")

    def __init__(
        self,
        field: Field_,
        original: str,
        clean: str | None = None,
        starts: Sequence[int] | None = None,
        ends: Sequence[int] | None = None,
        edits: Sequence[AppliedEdit] = (),
    ) -> None:
        self.field: Field_ = field
        self.original = original
        self.clean = original if clean is None else clean
        # None means the identity mapping (no edits), the common case, built only when needed.
        self._starts: array[int] | None = None if starts is None else array("q", starts)
        self._ends: array[int] | None = None if ends is None else array("q", ends)
        self.edits: list[AppliedEdit] = list(edits)

    def _maps(self) -> tuple[array[int], array[int]]:
        if self._starts is None or self._ends is None:
            # Identity mapping; the extra sentinel entry stands for the end of the text.
            n = len(self.original)
            ident = _identity(n + 1)
            ends = ident[1:]
            ends.append(n)
            self._starts, self._ends = ident, ends
        return self._starts, self._ends

    def original_range(self, start: int, end: int) -> tuple[int, int]:
        """Map a clean range ``[start, end)`` to the original range it came from."""
        start = max(0, min(start, len(self.clean)))
        end = max(start, min(end, len(self.clean)))
        if self._starts is None:
            return start, end
        o_start = self._starts[start]
        if end == start:
            return o_start, o_start
        assert self._ends is not None
        return o_start, max(o_start, self._ends[end - 1])

    def span(self, start: int, end: int) -> Span:
        """A report span for the clean range ``[start, end)``, in original coordinates."""
        o_start, o_end = self.original_range(start, end)
        # Built without validation: the offsets are checked ints from original_range (a report
        # holds dozens of spans, and validating each was 2% of a check).
        return Span.model_construct(field=self.field, start=o_start, end=o_end, text=self.original[o_start:o_end])

    def apply(self, replacements: Iterable[Replacement]) -> TextView:
        """A new view with ``replacements`` (clean coordinates, non-overlapping) applied."""
        reps = sorted(replacements, key=lambda r: (r.start, r.end))
        if not reps:
            return self
        clean = self.clean
        old_starts, old_ends = self._maps()
        out: list[str] = []
        starts: array[int] = array("q")
        ends: array[int] = array("q")
        edits = list(self.edits)
        pos = 0
        for rep in reps:
            if rep.start < pos or rep.end < rep.start or rep.end > len(clean):
                raise ValueError(f"overlapping or out-of-range replacement {rep!r}")
            out.append(clean[pos : rep.start])
            starts.extend(old_starts[pos : rep.start])
            ends.extend(old_ends[pos : rep.start])
            o_start, o_end = self.original_range(rep.start, rep.end)
            out.append(rep.text)
            starts.extend([o_start] * len(rep.text))
            ends.extend([o_end] * len(rep.text))
            edits.append(AppliedEdit(o_start, o_end, self.original[o_start:o_end], rep.text, rep.kind, rep.confidence))
            pos = rep.end
        out.append(clean[pos:])
        starts.extend(old_starts[pos:])
        ends.extend(old_ends[pos:])
        new_clean = "".join(out)
        # Sentinel for the end of the text.
        del starts[len(new_clean) :], ends[len(new_clean) :]
        starts.append(len(self.original))
        ends.append(len(self.original))
        return TextView(self.field, self.original, new_clean, starts, ends, edits)
