"""What a batch run asks for, shared by its reader, workers and writers: the output's columns and the job.

A :class:`Job` is small and sent with every chunk to a worker: the output format, the
report fields kept (dotted paths, checked against the Report model here) and how each is
typed in a CSV or Parquet output (:data:`ColumnKind`), the input mapping and kept input
columns, and what the workers' checker runs.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from overclaim.errors import InputError

OutputFormat = Literal["jsonl", "csv", "parquet"]
# How a column of a CSV or Parquet output is typed. A scalar report field keeps its type
# (Parquet: string, int64, double and bool columns; CSV: its text); a list or an object is
# JSON text in one column (CSV and Parquet alike; a JSONL output keeps it as JSON).
ColumnKind = Literal["string", "int", "float", "bool", "json"]
# Python types of scalar report fields and their column kind (bool before int: a bool is an int).
SCALAR_KINDS: tuple[tuple[type, ColumnKind], ...] = ((bool, "bool"), (int, "int"), (float, "float"), (str, "string"))

ENVELOPE_FIELDS = ("source", "line", "id", "status", "verdict", "score")
# The columns of a CSV or Parquet output, in order: the envelope, the error (empty for a
# checked record), then the chosen fields (or the whole report as JSON text), then the kept
# input columns, each named INPUT_PREFIX + its input name.
ENVELOPE_COLUMNS: tuple[tuple[str, ColumnKind], ...] = (
    ("source", "string"), ("line", "int"), ("id", "string"), ("status", "string"), ("verdict", "string"),
    ("score", "float"), ("error_code", "string"), ("error_message", "string"), ("error_field", "string"),
)
INPUT_PREFIX = "input."


@dataclass(frozen=True)
class Job:
    """What a worker needs to turn raw records into output records (small; sent with each chunk)."""

    output_format: OutputFormat = "jsonl"
    fields: tuple[str, ...] = ()
    field_kinds: tuple[ColumnKind, ...] = ()  # one per field (CSV / Parquet)
    mapping: tuple[tuple[str, str], ...] = ()
    keep_input: bool = False  # carry the input columns the post is not read from
    input_columns: tuple[tuple[str, ColumnKind], ...] = ()  # those columns, for CSV / Parquet output
    factchecks: str | None = None
    skip: tuple[str, ...] = ()
    want_reports: bool = False
    profile: str = "default"  # Config.profile of the workers' checker


def table_columns(job: Job) -> list[tuple[str, ColumnKind]]:
    """The columns of a CSV or Parquet output of ``job``, in order (see :data:`ENVELOPE_COLUMNS`)."""
    columns = list(ENVELOPE_COLUMNS)
    columns += list(zip(job.fields, job.field_kinds, strict=True)) if job.fields else [("report", "json")]
    columns += [(INPUT_PREFIX + name, kind) for name, kind in job.input_columns]
    return columns


def post_keys(mapping: Mapping[str, str] | None) -> set[str]:
    """The input keys a post is read from (``headline``, ``body``, ``id`` ... or their mapped columns)."""
    from overclaim.readers import POST_FIELDS

    mapping = mapping or {}
    return {mapping.get(name, name) for name in POST_FIELDS}


# --------------------------------------------------------------------------- report fields


def _field_annotation(path: str) -> Any:
    """The type annotation of the report field at a dotted ``path``.

    Raises:
        InputError: the path names no field of the report (lists are not descended into).
    """
    from pydantic import BaseModel

    from overclaim.report import Report

    model: Any = Report
    ann: Any = None
    for part in path.split("."):
        if model is None or part not in model.model_fields:
            raise InputError(f"no report field '{path}' (see `overclaim schema`)", field="fields")
        ann = model.model_fields[part].annotation
        # Descend into a model or an optional model, never into a list.
        candidates = [ann, *typing.get_args(ann)] if _is_union(ann) else [ann]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return ann


def _is_union(ann: Any) -> bool:
    return typing.get_origin(ann) in (typing.Union, types.UnionType)


def validate_fields(fields: Sequence[str]) -> list[str]:
    """Check dotted report field paths (``verdict.label``, ``certainty.gap``) against the Report model.

    Raises:
        InputError: a path names no field of the report.
    """
    reserved = {name for name, _ in ENVELOPE_COLUMNS} | {"report", "error", "input"}
    out = []
    for path in fields:
        path = path.strip()
        if path:
            _field_annotation(path)
            if path in reserved:
                raise InputError(f"'{path}' is also the name of an output column; name the fields inside it "
                                 "(see `overclaim schema`)", field="fields")
            out.append(path)
    return out


def _kind_of_annotation(ann: Any) -> ColumnKind:
    """The column kind of a report field's type: its scalar type, else ``json`` (lists, objects)."""
    if _is_union(ann):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        return _kind_of_annotation(args[0]) if len(args) == 1 else "json"
    if typing.get_origin(ann) is Literal:
        values = typing.get_args(ann)
        return "string" if all(isinstance(v, str) for v in values) else "json"
    for py_type, kind in SCALAR_KINDS:
        if isinstance(ann, type) and issubclass(ann, py_type):
            return kind
    return "json"


def field_kind(path: str) -> ColumnKind:
    """How the report field at ``path`` is typed in a CSV or Parquet output (see :data:`ColumnKind`)."""
    return _kind_of_annotation(_field_annotation(path))


def pick(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a dumped report, None where absent."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
