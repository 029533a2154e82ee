"""The error catalogue: every error overclaim raises on purpose.

Each error renders as one line that names the problem and where it is (file,
line, field). The CLI prints ``str(error)`` and exits with ``exit_code``; the
HTTP API answers ``http_status`` with ``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


class OverclaimError(Exception):
    """Base class: a problem the user can fix, reported in one line."""

    code = "error"
    exit_code = 2
    http_status = 400

    def __init__(
        self, message: str, *, source: str | None = None, line: int | None = None, field: str | None = None
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle by fields, so an error raised in a worker process arrives whole."""
        return (_rebuild, (type(self), self.message, self.source, self.line, self.field))

    def to_dict(self) -> dict[str, object]:
        """The JSON error body used by the API and error records in batch output."""
        out: dict[str, object] = {"code": self.code, "message": str(self)}
        if self.line is not None:
            out["line"] = self.line
        if self.field:
            out["field"] = self.field
        return out


def _rebuild(
    cls: type[OverclaimError], message: str, source: str | None, line: int | None, field: str | None
) -> OverclaimError:
    return cls(message, source=source, line=line, field=field)


class InputError(OverclaimError):
    """The input cannot be read as a post."""

    code = "bad_input"


class EmptyFieldError(InputError):
    """A required field (headline or body) is missing or blank."""

    code = "empty_field"
    http_status = 422


class WrongTypeError(InputError):
    """A field has the wrong type (e.g. a number where text is expected)."""

    code = "wrong_type"
    http_status = 422


class BinaryInputError(InputError):
    """The file is binary, not text."""

    code = "binary_input"
    http_status = 415


class EncodingError(InputError):
    """The file is not valid UTF-8."""

    code = "bad_encoding"
    http_status = 415


class UnknownFormatError(InputError):
    """The input format is not one overclaim reads."""

    code = "unknown_format"
    http_status = 415


class MalformedInputError(InputError):
    """The file is in a known format but cannot be parsed (bad JSON, bad CSV ...)."""

    code = "malformed"


class InputTooLargeError(InputError):
    """The input is over the size limit."""

    code = "too_large"
    http_status = 413


class FileNotFound(InputError):
    """The input file does not exist."""

    code = "not_found"
    http_status = 404


class ModelError(OverclaimError):
    """A trained model artifact is missing or unreadable; rebuild it with ``overclaim train``."""

    code = "model_error"
    exit_code = 3
    http_status = 500


class DataError(OverclaimError):
    """Training or evaluation data is missing or not in the documented format."""

    code = "bad_data"


class UsageError(OverclaimError):
    """A command's options do not fit together (two exclusive options, or neither of two required ones)."""

    code = "bad_usage"


class StoreError(OverclaimError):
    """The database (SQLite file or PostgreSQL URL) cannot be used."""

    code = "store_error"
    http_status = 503


class NotFoundError(OverclaimError):
    """A stored record (report, fact-check) does not exist."""

    code = "not_found"
    http_status = 404


class FetchError(OverclaimError):
    """A URL could not or may not be fetched (scheme, address, size, time)."""

    code = "fetch_refused"
    http_status = 400


class AuthError(OverclaimError):
    """The service requires an API key and the request has none or a wrong one."""

    code = "unauthorized"
    http_status = 401


class CrossSiteError(OverclaimError):
    """A browser sent this request from another site (refused: cross-site request forgery)."""

    code = "cross_site"
    http_status = 403


class RequestTimeoutError(OverclaimError):
    """The client did not send its request body within the service's time limit."""

    code = "request_timeout"
    http_status = 408


class CheckTimeoutError(OverclaimError):
    """A check took longer than the service's time limit."""

    code = "timeout"
    http_status = 504


class ServiceStoppingError(OverclaimError):
    """The service shut down before this post was checked; send it again."""

    code = "stopping"
    http_status = 503


class WorkerCrashError(OverclaimError):
    """A batch worker process died while checking this record (out of memory, a crash in a library)."""

    code = "worker_crash"
    http_status = 500


class InternalCheckError(OverclaimError):
    """An unexpected error inside the pipeline while checking one post (a bug to report)."""

    code = "internal"
    http_status = 500


class ExtraNotInstalledError(OverclaimError):
    """An optional feature was asked for whose extra (e.g. ``overclaim[embeddings]``) is not installed."""

    code = "extra_not_installed"
    http_status = 501


class OutputError(OverclaimError):
    """An output (file, folder or stdout) cannot be written: no such folder, a folder, read-only, disk full."""

    code = "output_error"
    http_status = 500


def _is_control_flow(exc: BaseException) -> bool:
    """A BaseException that steers the program (Ctrl-C, exit, a closed generator, a cancelled task).

    Never a post's fault, always passed on. asyncio is looked up, not imported: without it
    loaded there is no cancelled task (and the library's import stays 34 ms lighter).
    """
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return True
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


def is_library_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is a library's crash that derives from BaseException, not from Exception.

    Rust extensions built with pyo3 (sentencex, tokenizers ...) raise ``pyo3_runtime.PanicException``
    when they hit a bug on some input; it derives from BaseException, so ``except Exception`` misses it.
    Each extension has its own class of that name, so it is told by what it is not: neither an
    ``Exception`` nor one of the control-flow exceptions (Ctrl-C, exit, cancellation).
    """
    return not isinstance(exc, Exception) and not _is_control_flow(exc)


def reraise_control_flow(exc: BaseException) -> None:
    """Re-raise ``exc`` unless it is a per-post failure: an ``Exception`` or a library panic.

    For ``except BaseException`` clauses that turn one post's failure into its error record.
    """
    if not isinstance(exc, Exception) and not is_library_panic(exc):
        raise exc


@contextlib.contextmanager
def panics_as_errors(doing: str = "checking") -> Iterator[None]:
    """Turn a library panic (a BaseException, e.g. pyo3's ``PanicException``) into an :class:`InternalCheckError`.

    So that ``except Exception`` (and ``except OverclaimError``) in every caller treats it as
    the failure of the post being checked; Ctrl-C, exits and cancellations pass through.
    """
    try:
        yield
    except Exception:
        raise
    except BaseException as exc:
        if not is_library_panic(exc):
            raise
        raise library_panic_error(exc, doing) from exc


def library_panic_error(exc: BaseException, doing: str) -> InternalCheckError:
    """One post's error for a library panic raised while ``doing`` (e.g. "segmenting")."""
    detail = " ".join(str(exc).split())[:300]
    return InternalCheckError(
        f"a library crashed while {doing} this post ({type(exc).__name__}: {detail}); the post is skipped"
    )
