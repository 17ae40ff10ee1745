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
    strict: bool = typer.Option(
        False,
        help="Stop at the first bad record or unreadable file (exit code 1, no pool written).",
    ),
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
    encoding_errors: str = typer.Option(
        "strict",
        help="Bytes that are not UTF-8: strict rejects the record holding them (the others are "
        "kept); replace keeps it with U+FFFD in their place.",
    ),
    turns: str = typer.Option(
        "reject",
        help="ShareGPT/messages turns that do not alternate user/assistant (two in a row, "
        "starting with the assistant, empty): reject the record, or repair it (merge same-role "
        "turns, drop empty and leading assistant turns; counted in the summary).",
    ),
    allow_partial: bool = typer.Option(
        False,
        help="Exit 0 even when a whole file could not be read (default: exit 3, pool kept).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    references: Annotated[
        Path | None,
        typer.Option(help="FastChat reference-answer JSONL joined to MT-Bench questions."),
    ] = None,
    split: str | None = typer.Option(None, help="Split of hub datasets / DatasetDict folders."),
    overwrite: bool = typer.Option(False, help="Replace an OUT that instructmine did not write."),
    config: str | None = typer.Option(None, help="Hub dataset configuration name."),
) -> None:
    """Ingest SOURCES into one canonical pool (id, source, category, messages).

    Bad records go to POOL.rejects.jsonl with file, line/index and reason; the summary shows
    read = kept + rejected for every file.
    """
    from pydantic import ValidationError
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    from instructmine.cli.interrupt import on_interrupt
    from instructmine.cli.output import fail
    from instructmine.io import IngestError, SourceSpec, print_summary
    from instructmine.io import ingest as run_ingest
    from instructmine.progress import progress_bars

    err = Console(stderr=True)
    source = source or []
    if len(source) not in (0, 1, len(sources)):
        raise typer.BadParameter(
            f"give --source once (for all) or once per SRC ({len(sources)}), not {len(source)}"
        )
    names = source * len(sources) if len(source) == 1 else source or [None] * len(sources)

    def kept() -> str:
        return f"nothing was written ({out} is as it was); re-run the same command to ingest again"

    with on_interrupt(kept):
        try:
            specs = [SourceSpec(path=p, name=n) for p, n in zip(sources, names, strict=True)]
            with progress_bars(
                SpinnerColumn(),
                TextColumn("ingesting: {task.completed:,} records read"),
                TimeElapsedColumn(),
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
                    encoding_errors=encoding_errors,
                    turns=turns,
                    allow_partial=allow_partial,
                    overwrite=overwrite,
                    references=references,
                    split=split,
                    config=config,
                )
        except ValidationError as e:  # an option value out of range: a usage error
            raise fail(e, 2) from None
        except (IngestError, ValueError) as e:
            raise fail(e) from None
    if as_json:
        import json

        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        print_summary(summary, Console())
    if summary.rows == 0:
        err.print(f"[red]error:[/] no records were kept; see {escape(summary.rejects)} for reasons")
        raise typer.Exit(1)
    if summary.file_errors and not allow_partial:
        n = len(summary.file_errors)
        err.print(
            f"[red]partial input:[/] {n} file(s) could not be read whole (listed above); the "
            "pool holds the rest. Exit status 3; pass --allow-partial to accept this",
            highlight=False,
        )
        raise typer.Exit(3)
