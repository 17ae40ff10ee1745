"""``instructmine train``: supervised fine-tuning (LoRA, QLoRA or full) of a causal LM on a pool."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Sets, out_option

Config = Annotated[Path | None, typer.Argument(help="YAML training config (optional).")]
OldConfig = Annotated[
    Path | None, typer.Option("--config", "-c", hidden=True, help="Old place of CONFIG.")
]
Data = Annotated[Path, typer.Option("--data", "-d", help="Pool Parquet to train on.")]
Out = Annotated[Path, out_option("Run directory to write.")]
Model = Annotated[
    str | None, typer.Option("--model", "-m", help="Offline alias, local folder or hub id.")
]
Method = Annotated[str | None, typer.Option(help="lora (default), qlora or full.")]
EvalData = Annotated[
    Path | None, typer.Option("--eval-data", help="Held-out pool whose response loss is measured.")
]
Overwrite = Annotated[
    bool, typer.Option(help="Replace a finished run with a different config in --out.")
]


@app.command()
def train(
    config: Config = None,
    data: Data = ...,
    out: Out = ...,
    model: Model = None,
    old_config: OldConfig = None,
    sets: Sets = None,
    method: Method = None,
    eval_data: EvalData = None,
    overwrite: Overwrite = False,
    as_json: AsJson = False,
) -> None:
    """Fine-tune MODEL on the pool DATA; write adapter, config, manifest and metrics to OUT.

    Settings come from defaults, then CONFIG, then --model/--method/--eval-data, then --set.
    Unknown settings are errors. A finished run with the same config and data is not redone.
    """
    from dataclasses import asdict

    from rich.console import Console

    from instructmine.cli.interrupt import on_interrupt
    from instructmine.cli.output import print_json
    from instructmine.train import command
    from instructmine.train import train as run_train

    cfg = command.train_settings(config or old_config, sets, model=model, method=method,
                                 eval_data=eval_data)  # fmt: skip
    with on_interrupt(lambda: command.kept_after_interrupt(out)):
        result = run_train(data, out, cfg, overwrite=overwrite, console=Console(stderr=True))
    print_json(asdict(result)) if as_json else command.render_train(result)
