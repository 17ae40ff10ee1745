"""``instructmine ingest``: read instruction data in any supported format into one pool."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, out_option

Sources = Annotated[
    list[str],
    typer.Argument(help="Files, folders, datasets save_to_disk folders or hub dataset ids."),
]
Out = Annotated[Path, out_option("Pool Parquet file to write.")]
Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="alpaca, dolly, sharegpt, messages, prompt_completion, self_instruct, mt_bench "
        "(default: detected per file).",
    ),
]
Strict = Annotated[
    bool,
    typer.Option(
        help="Stop at the first bad record or unreadable file (exit code 1, no pool written)."
    ),
]
Source = Annotated[
    list[str] | None,
    typer.Option(help="Source tag: once for all SRC, or once per SRC (default: file name)."),
]
Category = Annotated[
    str | None,
    typer.Option(help="Category tag for records that carry none (e.g. chat, code, nlp)."),
]
ForceCategory = Annotated[
    bool, typer.Option(help="Apply --category to every record, over the record's own category.")
]
KeepExtra = Annotated[bool, typer.Option(help="Keep unmapped fields as JSON in 'meta'.")]
MaxRecordMb = Annotated[float, typer.Option(help="Reject records larger than this.")]
EncodingErrors = Annotated[
    str,
    typer.Option(
        help="Bytes that are not UTF-8: strict rejects the record holding them (the others are "
        "kept); replace keeps it with U+FFFD in their place."
    ),
]
Turns = Annotated[
    str,
    typer.Option(
        help="ShareGPT/messages turns that do not alternate user/assistant (two in a row, "
        "starting with the assistant, empty): reject the record, or repair it (merge same-role "
        "turns, drop empty and leading assistant turns; counted in the summary)."
    ),
]
AllowPartial = Annotated[
    bool,
    typer.Option(
        help="Exit 0 even when a whole file could not be read (default: exit 3, pool kept)."
    ),
]
References = Annotated[
    Path | None, typer.Option(help="FastChat reference-answer JSONL joined to MT-Bench questions.")
]
Split = Annotated[str | None, typer.Option(help="Split of hub datasets / DatasetDict folders.")]
HubConfig = Annotated[str | None, typer.Option("--config", help="Hub dataset configuration name.")]


@app.command()
def ingest(
    sources: Sources,
    out: Out,
    fmt: Format = None,
    strict: Strict = False,
    source: Source = None,
    category: Category = None,
    force_category: ForceCategory = False,
    keep_extra: KeepExtra = False,
    max_record_mb: MaxRecordMb = 16.0,
    encoding_errors: EncodingErrors = "strict",
    turns: Turns = "reject",
    allow_partial: AllowPartial = False,
    as_json: AsJson = False,
    references: References = None,
    split: Split = None,
    config: HubConfig = None,
    overwrite: Overwrite = False,
) -> None:
    """Ingest SOURCES into one canonical pool (id, source, category, messages).

    Bad records go to POOL.rejects.jsonl with file, line/index and reason; the summary shows
    read = kept + rejected for every file.
    """
    from instructmine.cli.interrupt import on_interrupt
    from instructmine.cli.output import fail, print_json
    from instructmine.io import command, print_summary

    options = dict(format=fmt, strict=strict, category=category, force_category=force_category,
                   keep_extra=keep_extra, max_record_mb=max_record_mb, allow_partial=allow_partial,
                   encoding_errors=encoding_errors, turns=turns, references=references,
                   split=split, config=config, overwrite=overwrite)  # fmt: skip
    specs = command.source_specs(sources, source)
    with on_interrupt(lambda: command.kept_after_interrupt(out)):
        summary = command.ingest_with_spinner(specs, out, **options)
    print_json(summary.to_dict()) if as_json else print_summary(summary)
    code, reason = command.ingest_status(summary, allow_partial)
    if code:
        raise fail(reason, code, label="error" if code == 1 else "partial input")
