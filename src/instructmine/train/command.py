"""What ``instructmine train`` does between parsing and printing: the config (errors name the
file and the key), the Ctrl-C line, and the metrics table."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def train_settings(config: Path | None, sets: list[str] | None, **fields: Any) -> Any:
    """:func:`instructmine.train.load_config`, with an invalid setting raised as a
    :class:`SettingError` naming the config file (or the option), the key and the closest
    valid key."""
    from pydantic import ValidationError

    from instructmine.config_errors import SettingError, describe_validation
    from instructmine.overrides import OverrideError
    from instructmine.train import load_config

    where = config if config is not None else "training settings"
    try:
        return load_config(config, sets, **fields)
    except ValidationError as e:
        raise SettingError(describe_validation(e, where)) from e
    except OverrideError:
        raise
    except ValueError as e:
        if isinstance(e.__cause__, OSError):  # a config file that cannot be read: bad input
            raise FileNotFoundError(2, "cannot read the training config", str(config)) from None
        text = str(e)
        raise SettingError(text if text.startswith(str(where)) else f"{where}: {text}") from e


def kept_after_interrupt(out: Path) -> str:
    """What an interrupted ``train`` kept."""
    return (
        f"the unfinished run was not kept ({out} is as it was); re-run the same command "
        "to train again from the start"
    )


def render_train(result: Any) -> None:
    """The run's metrics as a table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"training run {result.run_dir}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("model", result.provenance),
        ("method", result.method),
        ("records", str(result.n_records)),
        ("steps", str(result.steps)),
        ("final train loss", f"{result.final_loss:.4f}"),
    ]
    if result.eval_loss_before is not None:
        rows += [
            ("eval loss before", f"{result.eval_loss_before:.4f}"),
            ("eval loss after", f"{result.eval_loss_after:.4f}"),
        ]
    rows += [
        ("tokens/s", f"{result.tokens_per_second:.1f}"),
        ("train time (s)", f"{result.train_seconds:.1f}"),
        ("wall time (s)", f"{result.wall_seconds:.1f}"),
    ]
    for row in rows:
        table.add_row(*row)
    Console().print(table)
