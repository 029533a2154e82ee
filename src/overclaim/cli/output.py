"""Writing command output: files and stdout that cannot be written are one line, exit 2.

A full disk, a read-only place, a missing folder or a folder where a file was meant all
raise :class:`~overclaim.errors.OutputError` (printed by ``main()`` in one line, exit 2),
never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from overclaim.errors import OutputError


def os_reason(exc: OSError) -> str:
    """The OS's reason for ``exc`` ("No space left on device"), without the errno and path."""
    return exc.strerror or str(exc) or type(exc).__name__


@contextlib.contextmanager
def writing(target: str | Path) -> Iterator[None]:
    """Turn an ``OSError`` while writing ``target`` (a path, or "stdout") into a one-line :class:`OutputError`.

    ``target`` names the output in the message; the OS's reason follows (no such folder, is a
    folder, read-only, no space left on the device).
    """
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write: {os_reason(exc)}", source=str(target)) from exc


def check_output_path(path: Path) -> None:
    """Refuse, before any work, an output file that cannot be written: a folder, or a missing folder.

    Raises:
        OutputError: naming the path.
    """
    if path.is_dir():
        raise OutputError("is a folder; give a file name", source=str(path))
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write: the folder {parent} does not exist", source=str(path))
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError("cannot write: permission denied (a read-only place)", source=str(path))


def write_output(path: Path, text: str) -> None:
    """Write ``text`` to the file ``path`` (UTF-8); any OS error is one :class:`OutputError` line."""
    check_output_path(path)
    with writing(path), open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush it, so a full disk or closed pipe is reported here, in one line."""
    with writing("stdout"):
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError:
            _drop_stdout()
            raise


def _drop_stdout() -> None:
    """Point stdout at the null device, so Python's flush at exit does not fail (and print) again."""
    with contextlib.suppress(OSError, ValueError):  # stdout without a file descriptor (captured)
        fd = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


def flush_or_drop_stdout() -> None:
    """Flush stdout; if that fails (a full disk), drop what is buffered rather than fail again at exit."""
    try:
        sys.stdout.flush()
    except OSError:
        _drop_stdout()
