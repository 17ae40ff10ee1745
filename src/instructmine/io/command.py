"""What ``instructmine ingest`` does between parsing and printing: source tags, the run with a
spinner, the Ctrl-C line, and the exit status the summary calls for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructmine.io.summary import IngestSummary


def source_specs(sources: list[str], names: list[str] | None) -> list[Any]:
    """One :class:`SourceSpec` per source; ``names`` given once apply to every source."""
    from instructmine.config_errors import SettingError
    from instructmine.io import SourceSpec

    names = names or []
    if len(names) not in (0, 1, len(sources)):
        raise SettingError(
            f"--source: give it once (for all) or once per SRC ({len(sources)}), not {len(names)}"
        )
    tags = names * len(sources) if len(names) == 1 else names or [None] * len(sources)
    return [SourceSpec(path=p, name=n) for p, n in zip(sources, tags, strict=True)]


def ingest_with_spinner(specs: list[Any], out: Path, **options: Any) -> IngestSummary:
    """``io.ingest`` with a running count of records read on stderr (none when piped). An
    option value out of range is a :class:`SettingError` naming the option."""
    from pydantic import ValidationError
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    from instructmine.config_errors import SettingError, describe_validation
    from instructmine.io import IngestOptions
    from instructmine.io import ingest as run_ingest
    from instructmine.progress import progress_bars

    try:
        opts = IngestOptions(**options)
    except ValidationError as e:
        raise SettingError(describe_validation(e, options=True)) from e
    columns = (SpinnerColumn(), TextColumn("ingesting: {task.completed:,} records read"),
               TimeElapsedColumn())  # fmt: skip
    with progress_bars(*columns, transient=True) as bar:
        task = bar.add_task("ingest", total=None)
        return run_ingest(specs, out, opts, progress=lambda n: bar.update(task, completed=n))


def kept_after_interrupt(out: Path) -> str:
    """What an interrupted ``ingest`` kept."""
    return f"nothing was written ({out} is as it was); re-run the same command to ingest again"


def ingest_status(summary: IngestSummary, allow_partial: bool) -> tuple[int, str]:
    """The exit status and its one-line reason: 1 when no record was kept, 3 when a file could
    not be read whole (unless ``allow_partial``), else 0."""
    if summary.rows == 0:
        if summary.file_errors and not summary.rejected:  # nothing could be read at all
            return 1, f"no records were kept: {summary.file_errors[0].error}"
        return 1, f"no records were kept; see {summary.rejects} for the reasons"
    if summary.file_errors and not allow_partial:
        return 3, (
            f"{len(summary.file_errors)} file(s) could not be read whole (listed above); the pool "
            "holds the rest. Exit status 3; pass --allow-partial to accept this"
        )
    return 0, ""


def render_export(s: Any) -> None:
    """How many records were written where, and how many were skipped (reasons beside)."""
    from rich.console import Console

    Console().print(f"wrote {s.written:,} records to {s.out} ({s.format})", highlight=False)
    if s.skipped:
        Console(stderr=True).print(
            f"[yellow]skipped {s.skipped:,} records[/] (reasons in {s.skipped_path})",
            highlight=False,
        )
