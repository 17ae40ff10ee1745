"""``instructmine scorer``: distil judge labels into a fast quality scorer (docs/scorer.md)."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson

scorer_app = typer.Typer(
    help="Train and evaluate a fast quality scorer from judge labels.", no_args_is_help=True
)
app.add_typer(scorer_app, name="scorer")


def _print(data: dict, as_json: bool) -> None:
    """``--json``: the whole document; otherwise one ``key: value`` line per top-level entry."""
    import json

    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        shown = value if isinstance(value, str | int | float) else json.dumps(value)
        print(f"{key}: {shown}")


def _run(fn, *args, **kwargs):
    """Call library code; bad input becomes a one-line error (exit 1)."""
    from instructmine.cli.output import fail

    try:
        return fn(*args, **kwargs)
    except (ValueError, FileNotFoundError, KeyError) as e:
        raise fail(e) from None


@scorer_app.command("pool")
def pool_cmd(
    folder: Annotated[
        Path, typer.Argument(help="Folder of AlpacaEval annotation *.json.gz files.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Labelled pool parquet to write.")],
    as_json: AsJson = False,
) -> None:
    """Turn AlpacaEval judgement files into a labelled pool (prompt, response, model, label)."""
    import pyarrow as pa

    from instructmine.atomic import write_table
    from instructmine.scorer.pool import load_alpaca_eval

    df = _run(load_alpaca_eval, folder)
    write_table(pa.Table.from_pandas(df, preserve_index=False), out)
    _print({"rows": len(df), "models": int(df["model"].nunique()), "out": str(out)}, as_json)


@scorer_app.command("train")
def train_cmd(
    pool: Annotated[Path, typer.Argument(help="Labelled pool parquet.")],
    label: Annotated[str, typer.Option("--label", help="Label column (higher = better).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Scorer folder to write.")],
    heldout_model: Annotated[
        list[str],
        typer.Option("--heldout-model", help="Model whose answers are held out (repeat)."),
    ] = [],  # noqa: B006
    heldout_default: Annotated[
        bool, typer.Option("--heldout-default", help="Hold out the documented AlpacaEval families.")
    ] = False,
    encoder: Annotated[
        str, typer.Option(help="Sentence encoder, or 'none' for cheap indicators only.")
    ] = "none",
    head: Annotated[str, typer.Option(help="ridge or hgb.")] = "ridge",
    label_transform: Annotated[str, typer.Option(help="logit, raw or rank.")] = "logit",
    negatives: Annotated[
        int, typer.Option(help="Synthetic bad answers per instruction (off-topic, noise); 0: none.")
    ] = 1,
    judge: Annotated[str | None, typer.Option(help="Who produced the labels (provenance).")] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the CIs.")] = 1000,
    as_json: AsJson = False,
) -> None:
    """Train a scorer within instruction; with held-out models, report agreement on them."""
    from instructmine.indicators.quality_features import FeatureConfig
    from instructmine.indicators.quality_model import HeadConfig
    from instructmine.scorer.evaluate import HELDOUT_MODELS
    from instructmine.scorer.train import train

    held = list(heldout_model) + (list(HELDOUT_MODELS) if heldout_default else [])
    meta = _run(
        train,
        pool,
        label,
        out,
        FeatureConfig(encoder=None if encoder == "none" else encoder),
        HeadConfig(kind=head, label_transform=label_transform),
        heldout_models=held or None,
        judge=judge,
        n_boot=n_boot,
    )
    _print(
        {
            "out": str(out),
            **{k: meta[k] for k in ("train_labels", "train_models")},
            "heldout_metrics": meta.get("heldout_metrics"),
        },
        as_json,
    )


@scorer_app.command("eval")
def eval_cmd(
    scorer: Annotated[Path, typer.Argument(help="Scorer folder.")],
    pool: Annotated[Path, typer.Argument(help="Labelled pool parquet.")],
    label: Annotated[str, typer.Option("--label", help="Label column.")],
    n_boot: Annotated[int, typer.Option(help="Bootstrap resamples for the CIs.")] = 1000,
    as_json: AsJson = False,
) -> None:
    """Agreement with the labels on answers of models the scorer never saw (and length's own)."""
    from instructmine.scorer.train import evaluate_folder

    _print(_run(evaluate_folder, scorer, pool, label, n_boot=n_boot), as_json)


@scorer_app.command("sample")
def sample_cmd(
    pool: Annotated[Path, typer.Argument(help="Pool parquet (with indicator columns).")],
    n: Annotated[int, typer.Option("-n", help="Records to send to the judge.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet of the chosen records.")],
    stratify: Annotated[list[str], typer.Option(help="Column to stratify by (repeat).")] = [],  # noqa: B006
    quantiles: Annotated[
        list[str], typer.Option(help="Indicator binned in quartiles (repeat).")
    ] = [],  # noqa: B006
    price_in: Annotated[float, typer.Option(help="Judge price per million input tokens.")] = 0.0,
    price_out: Annotated[float, typer.Option(help="Judge price per million output tokens.")] = 0.0,
    seed: int = 0,
    as_json: AsJson = False,
) -> None:
    """Pick records to label, spread over strata, and print the judge cost estimate."""
    from instructmine.scorer.train import label_sample

    _print(
        _run(
            label_sample, pool, n, out, list(stratify), list(quantiles), price_in, price_out, seed
        ),
        as_json,
    )
