"""``instructmine ingest``: read instruction data in any supported format into one pool."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def ingest(
    sources: Annotated[
        list[str],
        typer.Argument(help="Files, folders, datasets save_to_disk folders or hub dataset ids."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Pool Parquet file to write.")],
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="alpaca, dolly, sharegpt, messages, prompt_completion, self_instruct, mt_bench "
        "(default: detected per file).",
    ),
    strict: bool = typer.Option(False, help="Stop at the first bad record (exit code 1)."),
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", help="Source tag: once for all SRC, or once per SRC (default: file name)."
        ),
    ] = None,
    category: str | None = typer.Option(
        None, help="Category tag for records that carry none (e.g. chat, code, nlp)."
    ),
    force_category: bool = typer.Option(
        False, help="Apply --category to every record, over the record's own category."
    ),
    keep_extra: bool = typer.Option(False, help="Keep unmapped fields as JSON in 'meta'."),
    max_record_mb: float = typer.Option(16.0, help="Reject records larger than this."),
    references: Annotated[
        Path | None,
        typer.Option(help="FastChat reference-answer JSONL joined to MT-Bench questions."),
    ] = None,
    split: str | None = typer.Option(None, help="Split of hub datasets / DatasetDict folders."),
    config: str | None = typer.Option(None, help="Hub dataset configuration name."),
) -> None:
    """Ingest SOURCES into one canonical pool (id, source, category, messages).

    Bad records go to POOL.rejects.jsonl with file, line/index and reason; the summary shows
    read = kept + rejected for every file.
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from instructmine.io import IngestError, SourceSpec, print_summary
    from instructmine.io import ingest as run_ingest

    err = Console(stderr=True)
    source = source or []
    if len(source) not in (0, 1, len(sources)):
        raise typer.BadParameter(
            f"give --source once (for all) or once per SRC ({len(sources)}), not {len(source)}"
        )
    names = source * len(sources) if len(source) == 1 else source or [None] * len(sources)
    try:
        specs = [SourceSpec(path=p, name=n) for p, n in zip(sources, names, strict=True)]
        with Progress(
            SpinnerColumn(),
            TextColumn("ingesting: {task.completed:,} records read"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("ingest", total=None)
            summary = run_ingest(
                specs,
                out,
                progress=lambda n: bar.update(task, completed=n),
                format=fmt,
                strict=strict,
                category=category,
                force_category=force_category,
                keep_extra=keep_extra,
                max_record_mb=max_record_mb,
                references=references,
                split=split,
                config=config,
            )
    except (IngestError, ValueError) as e:
        err.print(f"[red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    print_summary(summary, Console())
    if summary.rows == 0:
        err.print("[red]error:[/] no records were kept; see the rejects file for reasons")
        raise typer.Exit(1)
