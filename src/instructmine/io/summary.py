"""What an ingest did, per file: read = kept + rejected; and its rich table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from instructmine.stage import StageResult


@dataclass
class PartSummary:
    """Counts of one input file (or split / hub stream) of a source."""

    source: str
    path: str
    format: str | None = None
    file: str = ""  # short name for display: relative to the source folder, or the file name
    read: int = 0
    kept: int = 0
    rejected: int = 0
    rows: int = 0  # examples written; more than ``kept`` when a record holds several instances
    repaired: int = 0  # records kept after ``--turns repair`` merged or dropped turns
    error: str | None = None  # the file could not be read (or was read only in part)


@dataclass
class IngestSummary(StageResult):
    """Everything an ingest reports; also written next to the pool as ``POOL.ingest.json``
    (``skipped``: the stage manifest matched, nothing was re-read or rewritten)."""

    out: str
    rejects: str
    parts: list[PartSummary] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)  # non-data files found in folders

    @property
    def read(self) -> int:
        return sum(p.read for p in self.parts)

    @property
    def kept(self) -> int:
        return sum(p.kept for p in self.parts)

    @property
    def rejected(self) -> int:
        return sum(p.rejected for p in self.parts)

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.parts)

    @property
    def repaired(self) -> int:
        return sum(p.repaired for p in self.parts)

    @property
    def file_errors(self) -> list[PartSummary]:
        return [p for p in self.parts if p.error]

    def by_source(self) -> dict[str, dict[str, int]]:
        """Counts summed per source name."""
        out: dict[str, dict[str, int]] = {}
        for p in self.parts:
            c = out.setdefault(
                p.source, {"files": 0, "read": 0, "kept": 0, "rejected": 0, "rows": 0}
            )
            c["files"] += 1
            for k in ("read", "kept", "rejected", "rows"):
                c[k] += getattr(p, k)
        return out

    def to_dict(self) -> dict:
        """JSON-ready form."""
        d = asdict(self)
        d.update(
            read=self.read,
            kept=self.kept,
            rejected=self.rejected,
            rows=self.rows,
            repaired=self.repaired,
        )
        return d

    @classmethod
    def from_dict(cls, data: dict) -> IngestSummary:
        """Rebuild a summary from :meth:`to_dict`'s form (a stored ``POOL.ingest.json``)."""
        names = {f for f in PartSummary.__dataclass_fields__}
        parts = [PartSummary(**{k: v for k, v in p.items() if k in names}) for p in data["parts"]]
        return cls(
            out=data["out"],
            rejects=data["rejects"],
            parts=parts,
            skipped_files=list(data.get("skipped_files", data.get("skipped", []))),
        )


def print_summary(summary: IngestSummary, console=None) -> None:
    """Print the per-file table (read = kept + rejected), file errors and output paths."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="Ingest summary", show_footer=True)
    table.add_column("source", footer="total")
    table.add_column("file", overflow="fold")
    table.add_column("format")
    for name, total in (
        ("read", summary.read),
        ("kept", summary.kept),
        ("rejected", summary.rejected),
        ("examples", summary.rows),
    ):
        table.add_column(name, justify="right", footer=f"{total:,}")
    cwd = Path.cwd()
    for p in summary.parts:
        shown = p.file or _short(p.path, cwd)
        rej = f"[red]{p.rejected:,}[/]" if p.rejected else "0"
        table.add_row(
            p.source, shown, p.format or "-", f"{p.read:,}", f"{p.kept:,}", rej, f"{p.rows:,}"
        )
    console.print(table)
    for p in summary.file_errors:
        console.print(f"[red]file error[/] {p.error}")
    if summary.repaired:
        console.print(
            f"[yellow]repaired {summary.repaired:,} conversation(s)[/] whose turns did not "
            "alternate (--turns repair merged or dropped turns)"
        )
    if summary.skipped_files:
        shown = ", ".join(summary.skipped_files[:8])
        n = len(summary.skipped_files)
        console.print(f"[yellow]skipped {n} non-data file(s):[/] {shown}")
    if summary.skipped:
        console.print("[dim]unchanged since the last run (stage manifest matched): not re-read[/]")
    if summary.rows:
        console.print(f"pool: {summary.out} ({summary.rows:,} examples)")
    else:
        console.print(f"[red]no pool written[/] to {summary.out}: no record was kept")
    if summary.rejected or summary.file_errors:
        console.print(f"[red]rejects with reasons:[/] {summary.rejects}")


def _short(path: str, cwd: Path) -> str:
    p = Path(path)
    if p.is_absolute() and p.is_relative_to(cwd):
        return str(p.relative_to(cwd))
    return path if len(p.parts) <= 3 else str(Path("…", *p.parts[-2:]))
