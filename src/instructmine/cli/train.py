"""``instructmine train``: supervised fine-tuning (LoRA, QLoRA or full) of a causal LM on a pool."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", "-d", help="Pool Parquet to train on.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run directory to write.")],
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Offline alias, local folder or hub id."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML training config.")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a setting, dotted keys: --set lora.r=8 --set sft.learning_rate=1e-4",
        ),
    ] = None,
    method: Annotated[str | None, typer.Option(help="lora (default), qlora or full.")] = None,
    eval_data: Annotated[
        Path | None,
        typer.Option("--eval-data", help="Held-out pool whose response loss is measured."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace a finished run with a different config in --out.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's metrics as JSON (all of stdout).")
    ] = False,
) -> None:
    """Fine-tune MODEL on the pool DATA; write adapter, config, manifest and metrics to OUT.

    Settings come from defaults, then --config, then --model/--method/--eval-data, then --set.
    Unknown settings are errors. A finished run with the same config and data is not redone.
    """
    from pydantic import ValidationError
    from rich.console import Console
    from rich.table import Table

    from instructmine.cli.interrupt import on_interrupt
    from instructmine.cli.output import fail
    from instructmine.cli.quiet import error_lines
    from instructmine.train import RunDirError, load_config
    from instructmine.train import train as run_train

    err = Console(stderr=True)
    try:
        cfg = load_config(config, overrides, model=model, method=method, eval_data=eval_data)
    except (ValidationError, ValueError) as e:
        raise fail(f"invalid training config: {error_lines(e)}", 2) from None

    def kept() -> str:
        return (
            f"the unfinished run was not kept ({out} is as it was); re-run the same command "
            "to train again from the start"
        )

    with on_interrupt(kept):
        try:
            result = run_train(data, out, cfg, overwrite=overwrite, console=err)
        except (RunDirError, RuntimeError, ValueError, FileNotFoundError) as e:
            raise fail(e) from None

    if as_json:
        import json
        from dataclasses import asdict

        typer.echo(json.dumps(asdict(result), default=str, ensure_ascii=False))
        return
    table = Table(title=f"training run {result.run_dir}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("model", result.provenance)
    table.add_row("method", result.method)
    table.add_row("records", str(result.n_records))
    table.add_row("steps", str(result.steps))
    table.add_row("final train loss", f"{result.final_loss:.4f}")
    if result.eval_loss_before is not None:
        table.add_row("eval loss before", f"{result.eval_loss_before:.4f}")
        table.add_row("eval loss after", f"{result.eval_loss_after:.4f}")
    table.add_row("tokens/s", f"{result.tokens_per_second:.1f}")
    table.add_row("train time (s)", f"{result.train_seconds:.1f}")
    table.add_row("wall time (s)", f"{result.wall_seconds:.1f}")
    Console().print(table)
