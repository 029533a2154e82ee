"""Options shared by several commands (one definition, the same help everywhere)."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any

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


def existing_factchecks_store(value: str | None) -> str | None:
    """A ``--factchecks`` store must exist: a missing file would be created empty and match nothing.

    A database URL (``postgresql://...``) is taken as given; ``overclaim factchecks import`` creates
    a new SQLite store.
    """
    from pathlib import Path

    from overclaim.errors import FileNotFound

    if value is not None and "://" not in value and not Path(value).exists():
        raise FileNotFound(
            "the fact-check store does not exist; create it with `overclaim factchecks import`",
            source=value,
            field="--factchecks",
        )
    return value


FactchecksOption = Annotated[
    str | None,
    typer.Option(
        "--factchecks",
        help="Fact-check store (an existing SQLite file or a database URL).",
        callback=existing_factchecks_store,
    ),
]


# --------------------------------------------------------------------------- one name per store
# --factchecks is the fact-check store and --store the report store in every command. A command
# that named one differently keeps its old spelling as a hidden option that warns (one line).


def _warn_deprecated(old: str, new: str) -> Callable[[Any], Any]:
    def warn(value: Any) -> Any:
        if value is not None:
            typer.echo(f"overclaim: warning: {old} is deprecated; use {new}", err=True)
        return value

    return warn


def deprecated_spelling(old: str, new: str) -> Any:
    """A hidden option ``old``: the old spelling of ``new``, still read, with a one-line warning on stderr."""
    return typer.Option(old, hidden=True, callback=_warn_deprecated(old, new), help=f"Deprecated: use {new}.")


def one_spelling(value: str | None, old_value: str | None, new: str) -> str | None:
    """The value given as ``new`` or under its old spelling.

    Raises:
        UsageError: both were given, with different values.
    """
    from overclaim.errors import UsageError

    if old_value is not None and value is not None and old_value != value:
        raise UsageError(f"given twice, under its old name too; give it once, as {new}", field=new)
    return value if old_value is None else old_value


OldStoreOption = Annotated[str | None, deprecated_spelling("--store", "--factchecks")]


# Fact-check filters (overclaim.store.factchecks.FactCheckFilter), for `match` and `check`.
LanguageOption = Annotated[
    list[str] | None,
    typer.Option(
        "--language",
        help="Show only fact-checks in this language (a code: en takes en-GB too); repeat for several. "
        "Fact-checks with no language stored are left out.",
    ),
]
MaxAgeOption = Annotated[
    int | None,
    typer.Option(
        "--max-age-days",
        min=0,
        help="Show only fact-checks reviewed (else claimed) at most this many days ago; undated ones are left out.",
    ),
]
PublisherOption = Annotated[
    list[str] | None,
    typer.Option(
        "--publisher",
        help="Show only fact-checks by this publisher: part of its name (afp) or its site (politifact.com); "
        "repeat for several.",
    ),
]
