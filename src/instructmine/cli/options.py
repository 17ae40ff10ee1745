"""Options every verb shares, defined once: ``--json``, ``--set``, ``-o/--out``, ``--overwrite``
and the config argument. A verb imports the ones it takes, so they read and behave the same
everywhere (``instructmine VERB --help`` shows them where they apply)."""

from __future__ import annotations

from typing import Annotated

import typer

AsJson = Annotated[
    bool, typer.Option("--json", help="Print the summary as one JSON document (all of stdout).")
]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a setting of the config, dotted keys: --set KEY=VALUE (repeatable).",
    ),
]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing output instructmine did not write.")
]
IndicatorSets = Annotated[
    list[str] | None,
    typer.Option("--set", help="INDICATOR.PARAM=VALUE, e.g. reward.model=/path (repeatable)."),
]
Progress = Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")]


def out_option(help: str, *, default_help: str = "") -> typer.models.OptionInfo:
    """``-o/--out``: where the verb writes (``help`` says what)."""
    return typer.Option("--out", "-o", help=help + default_help)


def config_argument(what: str) -> typer.models.ArgumentInfo:
    """The verb's config file, its first argument."""
    return typer.Argument(help=f"{what} config (YAML).")
