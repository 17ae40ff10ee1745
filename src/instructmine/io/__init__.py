"""Reading instruction data into canonical pools, and writing pools back out.

Public API for the other stages:

- :func:`ingest` (sources -> pool Parquet, returns :class:`IngestSummary`),
  :func:`print_summary`;
- :func:`read_pool` (Arrow table), :func:`iter_pool` (streamed record batches),
  :func:`pool_rows`;
- :func:`export_pool` (pool -> alpaca / sharegpt JSON or messages JSONL);
- :func:`sample_data_dir`, :func:`sample_sources` (the bundled demo sample).

Only light modules are imported here; heavy libraries (``datasets``) load inside functions.
"""

from instructmine.io.errors import IngestError, RecordError, Reject
from instructmine.io.export import EXPORT_FORMATS, ExportSummary, export_pool
from instructmine.io.formats import FORMATS
from instructmine.io.ingest import IngestOptions, SourceSpec, ingest
from instructmine.io.pool import iter_pool, pool_rows, read_pool
from instructmine.io.sample import sample_data_dir, sample_eval_path, sample_sources
from instructmine.io.summary import IngestSummary, PartSummary, print_summary

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ExportSummary",
    "IngestError",
    "IngestOptions",
    "IngestSummary",
    "PartSummary",
    "RecordError",
    "Reject",
    "SourceSpec",
    "export_pool",
    "ingest",
    "iter_pool",
    "pool_rows",
    "print_summary",
    "read_pool",
    "sample_data_dir",
    "sample_eval_path",
    "sample_sources",
]
