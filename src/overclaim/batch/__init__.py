"""Batch runs: check every record of big JSONL / CSV / Parquet inputs, locally or on Dask.

    summary = run_batch("posts.jsonl", "reports.jsonl", workers=4)
    summary = run_batch("crawl/", "reports.parquet", resume=True)
    summary = run_batch("posts.csv", "out.jsonl", mapping={"headline": "title", "body": "text"},
                        scheduler="tcp://scheduler:8786")

Input: a JSONL (``.jsonl``/``.ndjson``), CSV (``.csv``, header row, columns
mapped with ``mapping``) or Parquet (``.parquet``) file, or a folder of them
(read in name order, sub-folders included). Files are streamed: memory stays
flat whatever their size.

Output: one record per input record, in input order, keyed by ``source`` (the
file, relative to the input folder), ``line`` (JSONL/CSV line, Parquet row,
from 1) and ``id`` (the input's id, else ``source:line``). A checked record has
``status: "ok"``, ``verdict``, ``score`` and the full ``report`` (or only the
report fields named in ``fields``, as dotted paths); a record that cannot be
checked has ``status: "error"`` and ``error`` (code, message naming the
file/line/field). Blank JSONL lines are not records and give no output. With
``keep_input_columns``, the input columns the post is not read from (a gold
label) ride along: an ``input`` object in JSONL, ``input.<name>`` columns in CSV
and Parquet.

The output's name says its format (:func:`output_format_for`):

- JSONL (``.jsonl``, or any other name) is appended and flushed chunk by chunk.
  ``resume=True`` cuts a trailing half-written line and skips the records already
  in the output.
- CSV (``.csv``): a header row, then one row per record, UTF-8, RFC 4180 quoting:
  the envelope, ``error_code``/``error_message``/``error_field``, one column per
  field named by its dotted path (or ``report``, the report's JSON), then the kept
  input columns. A list or object field is JSON text; null is an empty cell.
  Written and flushed a chunk at a time; ``resume`` cuts a half-written last row.
- Parquet (``.parquet``) is a folder of part files (``part-00000.parquet`` ...), each
  written to a temporary name and renamed when complete, so a killed run never
  leaves a broken part; ``pyarrow.dataset`` / ``pandas.read_parquet`` read the
  folder as one table. Columns are typed like the report's fields (a label is a
  string column, a score a double one); lists, objects and the ``report`` are JSON
  text (named in the schema's ``overclaim.json_columns`` metadata).
- Ctrl-C (SIGINT) waits while a chunk is being written, so every record in the
  output is whole; :class:`BatchInterrupted` then carries the summary.
  A resumed run's summary counts the whole output (:meth:`BatchSummary.totals`).
- An output inside the input folder is not read as input; an output that is an
  input (by name or through a link) is refused before anything is written.
- With a report store, reports are stored just before their records reach the
  output, so a record in the output has its report stored.
- A file that cannot be read (a broken Parquet file, a damaged row group) gives
  error records, like a bad JSONL line, and the run goes on.

Work is spread over processes (``workers``; one :class:`~overclaim.Checker` per
process, models loaded once when it starts) or over the workers of a Dask
distributed cluster (``scheduler``: one Checker per worker process). At most a
few chunks per worker are in flight, so the reader never runs ahead of the
checkers.

The package, in the order a record goes through it:

- :mod:`~overclaim.batch.job`: what a run asks for (:class:`Job`: output format, report
  fields and their column kinds, kept input columns), sent with every chunk;
- :mod:`~overclaim.batch.records`: the input files and their raw records, streamed and
  read through :mod:`overclaim.readers` (its suffix table, CSV rows and JSONL line rule);
- :mod:`~overclaim.batch.worker`: raw records to output records in a worker process, each
  encoded there by its output's writer;
- :mod:`~overclaim.batch.pool`: this process, a local process pool or a Dask cluster;
- :mod:`~overclaim.batch.writers`: one writer per output format, each owning its encoding;
  :func:`read_output`;
- :mod:`~overclaim.batch.run`: :func:`run_batch`, resume, Ctrl-C, the report store and the
  :class:`BatchSummary`.
"""

from overclaim.batch.job import Job, field_kind, validate_fields
from overclaim.batch.records import (
    MAX_LINE_BYTES,
    InputFile,
    RawRecord,
    input_columns,
    input_files,
    iter_raw_records,
)
from overclaim.batch.run import DEFAULT_CHUNK_SIZE, BatchInterrupted, BatchSummary, run_batch
from overclaim.batch.worker import Result, check_chunk, check_raw
from overclaim.batch.writers import (
    CsvWriter,
    JsonlWriter,
    OutputRecord,
    ParquetWriter,
    output_format_for,
    read_output,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_LINE_BYTES",
    "BatchInterrupted",
    "BatchSummary",
    "CsvWriter",
    "InputFile",
    "Job",
    "JsonlWriter",
    "OutputRecord",
    "ParquetWriter",
    "RawRecord",
    "Result",
    "check_chunk",
    "check_raw",
    "field_kind",
    "input_columns",
    "input_files",
    "iter_raw_records",
    "output_format_for",
    "read_output",
    "run_batch",
    "validate_fields",
]
