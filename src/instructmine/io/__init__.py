"""Reading instruction data into canonical pools, and writing pools back out.

Public API for the other stages:

- :func:`ingest` (sources -> pool Parquet, returns :class:`IngestSummary`),
  :func:`print_summary`;
- :func:`open_pool` (the one opener: checks the file is a canonical pool, raises
  :class:`PoolError`), :func:`read_pool` (Arrow table), :func:`iter_pool` (streamed record
  batches), :func:`pool_rows`, :func:`pool_ids` (checked unique), :func:`write_subset`
  (the records of some ids, streamed into a new pool);
- :func:`export_pool` (pool -> alpaca / sharegpt JSON or messages JSONL);
- :func:`sample_data_dir`, :func:`sample_sources` (the bundled demo sample).

Only light modules are imported here; heavy libraries (``datasets``) load inside functions.
"""

from instructmine.io.errors import IngestError, PoolError, RecordError, Reject
from instructmine.io.export import EXPORT_FORMATS, ExportSummary, export_pool
from instructmine.io.formats import FORMATS
from instructmine.io.ingest import IngestOptions, SourceSpec, ingest
from instructmine.io.pool import (
    iter_pool,
    open_pool,
    pool_ids,
    pool_rows,
    read_pool,
    write_subset,
)
from instructmine.io.sample import (
    sample_data_dir,
    sample_eval_dir,
    sample_eval_path,
    sample_sources,
)
from instructmine.io.summary import IngestSummary, PartSummary, print_summary

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ExportSummary",
    "IngestError",
    "IngestOptions",
    "IngestSummary",
    "PoolError",
    "PartSummary",
    "RecordError",
    "Reject",
    "SourceSpec",
    "export_pool",
    "ingest",
    "iter_pool",
    "open_pool",
    "pool_ids",
    "pool_rows",
    "print_summary",
    "read_pool",
    "sample_data_dir",
    "sample_eval_dir",
    "sample_eval_path",
    "sample_sources",
    "write_subset",
]
